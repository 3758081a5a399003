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

    /// <summary>A <c>--target</c> option (a kernel version such as 6.1 or 6.12); <paramref name="defaultText"/> names the default in help.</summary>
    private static Option<string?> TargetOption(string description, string? defaultText) => new("--target")
    {
        Description = defaultText is null ? description : $"{description} Default: {defaultText}.",
        HelpName = "X.Y",
    };

    /// <summary>The target kernel given on the command line, or null when none was; a malformed one is a usage error.</summary>
    private static SockOps.Emit.Assembler.KernelVersion? ParseTarget(string? text)
    {
        if (text is null) return null;
        if (!SockOps.Emit.Assembler.KernelVersion.TryParse(text, null, out var version) || version.Patch != 0 || text.Trim().Length != version.ToString().Length)
            throw new CliUsageException($"--target '{text}': expected a kernel version major.minor such as 6.1 or 6.12.");
        if (version < SockOps.Emit.KernelTargets.Oldest)
            throw new CliUsageException($"--target {version}: the oldest kernel the model describes is {SockOps.Emit.KernelTargets.Oldest}.");
        return version;
    }

    /// <summary>The target of a verb that loads into this kernel: --target, else the running kernel (its major.minor).</summary>
    private static SockOps.Emit.Assembler.KernelVersion LiveTarget(string? text) =>
        ParseTarget(text) ?? (SockOps.Emit.Runtime.RunningKernel.Version is { Major: > 0 } running ? running.MajorMinor : SockOps.Emit.KernelTargets.Default);

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
