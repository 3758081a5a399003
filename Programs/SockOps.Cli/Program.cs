using System.CommandLine;

namespace SockOps.Cli;

internal static class Program
{
    /// <summary>Exit code for bad input (malformed file, kernel refusal, ...).</summary>
    public const int ExitBadInput = 1;

    /// <summary>Exit code for usage errors (unknown option, missing argument).</summary>
    public const int ExitUsage = 2;

    private static int Main(string[] args)
    {
        var root = new RootCommand("sockops: assemble, disassemble, lint, load, attach and demo Linux sock_ops BPF programs.");
        foreach (Command command in Commands.All())
            root.Subcommands.Add(command);

        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
                Console.Error.WriteLine($"sockops: {error.Message}");
            Console.Error.WriteLine("Run 'sockops --help' for usage.");
            return ExitUsage;
        }
        try
        {
            return parse.Invoke();
        }
        catch (CliUsageException e)
        {
            Console.Error.WriteLine($"sockops: {e.Message}");
            return ExitUsage;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Users get the message, never a stack trace; every library exception carries its location.
            Console.Error.WriteLine($"sockops: {e.Message}");
            return ExitBadInput;
        }
    }
}

/// <summary>A usage error detected after parsing (e.g. incompatible options): exit code 2.</summary>
internal sealed class CliUsageException(string message) : Exception(message);
