namespace SockOps.Emit.Testing;

/// <summary>The kit's entry point: only <see cref="LoopbackHarness"/> runs this assembly, as its client process.</summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == LoopbackClient.Verb) return LoopbackClient.Run(args[1..]);
        Console.Error.WriteLine($"SockOps.Emit.Testing is a library; this entry point is the loopback harness's client ({LoopbackClient.Verb}).");
        return 2;
    }
}
