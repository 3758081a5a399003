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
    }
}
