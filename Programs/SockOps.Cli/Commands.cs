using System.CommandLine;

namespace SockOps.Cli;

/// <summary>The verbs of the sockops host; each lives in its own file.</summary>
internal static partial class Commands
{
    public static IEnumerable<Command> All(CliConsole console)
    {
        yield return Asm(console);
        yield return Disasm(console);
        yield return Conformance(console);
        yield return Lint(console);
        yield return Ctx(console);
        yield return List(console);
        yield return Dump(console);
        yield return Verify(console);
        yield return Attach(console);
        yield return Exec(console);
        yield return Demo(console);
        yield return DemoTraffic(console);
    }

    /// <summary>A FILE argument; an unknown option (e.g. '--bogus') is a usage error, not a file name.</summary>
    private static Argument<string> FileArgument(string description)
    {
        var file = new Argument<string>("FILE") { Description = description };
        file.Validators.Add(result =>
        {
            string? value = result.Tokens.Count > 0 ? result.Tokens[0].Value : null;
            if (value is { Length: > 1 } && value[0] == '-' && !File.Exists(value))
                result.AddError($"Unrecognized option '{value}'.");
        });
        return file;
    }
}
