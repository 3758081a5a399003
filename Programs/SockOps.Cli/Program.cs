using System.CommandLine;

namespace SockOps.Cli;

internal static class Program
{
    private static int Main(string[] args) => CliApp.Run(args, CliConsole.System);
}

/// <summary>The sockops host, runnable in-process with any console (tests pass string writers).</summary>
internal static class CliApp
{
    /// <summary>Exit code for bad input (malformed file, kernel refusal, ...).</summary>
    public const int ExitBadInput = 1;

    /// <summary>Exit code for usage errors (unknown option, missing argument, incompatible options).</summary>
    public const int ExitUsage = 2;

    /// <summary>Exit code for an internal error: an exception no verb expects (sysexits.h EX_SOFTWARE).</summary>
    public const int ExitInternal = 70;

    /// <summary>Parses and runs one command line; returns the process exit code.</summary>
    public static int Run(string[] args, CliConsole console)
    {
        var verbose = new Option<bool>("--verbose") { Description = "On an internal error, also print the stack trace.", Recursive = true };
        var root = new RootCommand("sockops: assemble, disassemble, lint, load, attach and demo Linux sock_ops BPF programs.") { verbose };
        foreach (Command command in Commands.All(console))
            root.Subcommands.Add(command);

        ParseResult? parse = null;
        try
        {
            parse = root.Parse(args);
            if (parse.Errors.Count > 0)
            {
                foreach (var error in parse.Errors)
                    console.Error.WriteLine($"sockops: {error.Message}");
                console.Error.WriteLine("Run 'sockops --help' for usage.");
                return ExitUsage;
            }
            int code = parse.Invoke(new InvocationConfiguration { Output = console.Out, Error = console.Error, EnableDefaultExceptionHandler = false });
            console.Out.Flush(); // a failed write is the verb's failure, not a success
            return code;
        }
        catch (CliUsageException e)
        {
            console.Error.WriteLine($"sockops: {e.Message}");
            return ExitUsage;
        }
        catch (Exception e) when (IsInputError(e))
        {
            // Users get the message, never a stack trace; library exceptions carry their location.
            console.Error.WriteLine($"sockops: {e.Message}");
            return ExitBadInput;
        }
        catch (Exception e)
        {
            // Not a refusal of the input: a defect (or an environment no verb handles). Say which exception, where to look.
            console.Error.WriteLine($"sockops: internal error: {e.GetType().FullName}: {e.Message}");
            // Parsing itself may have failed: then --verbose is looked for among the raw arguments.
            if (parse is null ? args.Contains("--verbose") : parse.GetValue(verbose)) console.Error.WriteLine(e.ToString());
            else console.Error.WriteLine("sockops: rerun with --verbose for the stack trace.");
            return ExitInternal;
        }
        finally
        {
            try
            {
                console.Out.Flush();
            }
            catch (IOException)
            {
                // Reported above when it failed in the verb; the exit code says so.
            }
        }
    }

    /// <summary>
    /// The typed refusals of what the user gave: files and directories, text that does not assemble or decode, programs
    /// the emitter or the kernel refuses, missing privileges. Everything else is an internal error.
    /// </summary>
    internal static bool IsInputError(Exception e) => e is CliInputException
        or FileNotFoundException or DirectoryNotFoundException or InvalidDataException or UnauthorizedAccessException
        or SockOps.Emit.Assembler.AssemblerException or SockOps.Emit.Assembler.InvalidInstructionException
        or SockOps.Emit.Assembler.InstructionDecodeException or SockOps.Emit.Assembler.AsmSyntaxException
        or SockOps.Emit.EmitException or SockOps.Emit.Runtime.BpfException or SockOps.Emit.Runtime.FeatureNotSupportedException
        or SockOps.Emit.Hosting.ProgramRefusedException or SockOps.Emit.Hosting.KernelNotSupportedException
        or SockOps.Programs.ProgramParameterException
        or SockOps.Emit.Objects.ObjectFileException or SockOps.Emit.Btf.BtfFormatException;
}

/// <summary>Where a command reads and writes; <see cref="System"/> is the process console.</summary>
internal sealed class CliConsole(TextReader input, Func<Stream> openInputStream, TextWriter output, Func<Stream> openOutputStream, TextWriter error)
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
internal sealed class CliUsageException(string message) : Exception(message);

/// <summary>Input the verb refuses (a command that cannot start, an empty suite directory, ...): exit code 1 with the message.</summary>
internal class CliInputException(string message, Exception? inner = null) : Exception(message, inner);
