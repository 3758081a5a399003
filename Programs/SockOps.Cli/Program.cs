using System.CommandLine;

namespace SockOps.Cli;

internal static class Program
{
    private static int Main(string[] args)
    {
        var root = new RootCommand("sockops: assemble, disassemble, lint, load, attach and demo Linux sock_ops BPF programs.");
        return root.Parse(args).Invoke();
    }
}
