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
}
