using System.CommandLine;

namespace SockOps.Cli;

internal static class Program
{
    private static int Main(string[] args) => CliApp.Run(args, CliConsole.System);
}

/// <summary>The sockops host, runnable in-process with any console (tests pass string writers).</summary>
public static class CliApp
{
    /// <summary>Exit code for bad input (malformed file, kernel refusal, ...).</summary>
    public const int ExitBadInput = 1;

    /// <summary>Exit code for usage errors (unknown option, missing argument, incompatible options).</summary>
    public const int ExitUsage = 2;

    /// <summary>Parses and runs one command line; returns the process exit code.</summary>
    public static int Run(string[] args, CliConsole console)
    {
        var root = new RootCommand("sockops: assemble, disassemble, lint, load, attach and demo Linux sock_ops BPF programs.");
        foreach (Command command in Commands.All(console))
            root.Subcommands.Add(command);

        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
                console.Error.WriteLine($"sockops: {error.Message}");
            console.Error.WriteLine("Run 'sockops --help' for usage.");
            return ExitUsage;
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration { Output = console.Out, Error = console.Error, EnableDefaultExceptionHandler = false });
        }
        catch (CliUsageException e)
        {
            console.Error.WriteLine($"sockops: {e.Message}");
            return ExitUsage;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Users get the message, never a stack trace; library exceptions carry their location.
            console.Error.WriteLine($"sockops: {e.Message}");
            return ExitBadInput;
        }
        finally
        {
            console.Out.Flush();
        }
    }
}

/// <summary>Where a command reads and writes; <see cref="System"/> is the process console.</summary>
public sealed class CliConsole(TextReader input, Func<Stream> openInputStream, TextWriter output, Func<Stream> openOutputStream, TextWriter error)
{
    /// <summary>The process's own stdin/stdout/stderr.</summary>
    public static CliConsole System { get; } = new(Console.In, Console.OpenStandardInput, Console.Out, Console.OpenStandardOutput, Console.Error);

    /// <summary>Text input ('-' file argument).</summary>
    public TextReader In { get; } = input;

    /// <summary>Binary input ('-' file argument of a binary reader).</summary>
    public Stream OpenInput() => openInputStream();

    /// <summary>Text output.</summary>
    public TextWriter Out { get; } = output;

    /// <summary>Binary output.</summary>
    public Stream OpenOutput() => openOutputStream();

    /// <summary>Diagnostics.</summary>
    public TextWriter Error { get; } = error;
}

/// <summary>A usage error detected after parsing (e.g. incompatible options): exit code 2.</summary>
public sealed class CliUsageException(string message) : Exception(message);
