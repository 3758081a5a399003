using System.Globalization;
using SockOps.Emit.Assembler;

namespace SockOps.KernelMatrix;

/// <summary>
/// <c>sockops-matrix fuzz|behaviour</c>: the kernel matrix's checks that need more than the sockops CLI. Exit codes:
/// 0 every check passed, 1 a check failed, 2 usage error.
/// </summary>
internal static class Program
{
    private const string Usage = """
        usage: sockops-matrix fuzz [--target X.Y] [--count N] [--seed N]
                 differential fuzz: every generated DSL program the DSL accepts for the target must load in this kernel
               sockops-matrix behaviour [--cgroup-parent DIR] [--only NAME]
                 clamp, sockmap-adder and rtt-metrics attached to a temporary child cgroup, with loopback TCP from
                 this process moved into it; one line per check: behaviour NAME: PASS|FAIL detail
        """;

    private static int Main(string[] args)
    {
        try
        {
            if (args.Length == 0) throw new UsageException("a verb is required");
            var options = Options.Parse(args.AsSpan(1));
            Func<int> run;
            switch (args[0])
            {
                case "fuzz":
                    var target = options.Target("--target");
                    int count = options.Int("--count", 500);
                    long seed = options.Long("--seed", 20251206);
                    run = () => FuzzCommand.Run(target, count, seed, Console.Out);
                    break;
                case "behaviour":
                    string? parent = options.String("--cgroup-parent"), only = options.String("--only");
                    run = () => BehaviourCommand.Run(parent, only, Console.Out);
                    break;
                case "-h" or "--help":
                    run = Help;
                    break;
                default:
                    throw new UsageException($"unknown verb '{args[0]}'");
            }
            options.ThrowIfUnused();
            int rc = run();
            return rc;
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"sockops-matrix: {e.Message}\n{Usage}");
            return 2;
        }
        finally
        {
            Console.Out.Flush();
        }
    }

    private static int Help()
    {
        Console.Out.WriteLine(Usage);
        return 0;
    }

    /// <summary>The running kernel's major.minor.</summary>
    internal static KernelVersion RunningKernel() => SockOps.Emit.Runtime.RunningKernel.Version.MajorMinor;
}

/// <summary>A command-line mistake: exit code 2 with the usage text.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary><c>--name value</c> pairs; each option may be read once, and unknown ones are refused.</summary>
internal sealed class Options
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public static Options Parse(ReadOnlySpan<string> args)
    {
        var options = new Options();
        for (int i = 0; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new UsageException($"unexpected argument '{args[i]}'");
            if (i + 1 >= args.Length) throw new UsageException($"{args[i]} needs a value");
            if (!options._values.TryAdd(args[i], args[i + 1])) throw new UsageException($"{args[i]} given twice");
        }
        return options;
    }

    public string? String(string name) => _values.Remove(name, out string? v) ? v : null;

    public int Int(string name, int fallback) => String(name) is { } v
        ? int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : throw new UsageException($"{name} must be a positive integer, not '{v}'")
        : fallback;

    public long Long(string name, long fallback) => String(name) is { } v
        ? long.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out long n) ? n : throw new UsageException($"{name} must be a non-negative integer, not '{v}'")
        : fallback;

    /// <summary>A kernel version (default: the running kernel's major.minor).</summary>
    public KernelVersion Target(string name) => String(name) is { } v
        ? KernelVersion.TryParse(v, CultureInfo.InvariantCulture, out var k) ? k.MajorMinor : throw new UsageException($"{name} must be a kernel version such as 6.1, not '{v}'")
        : Program.RunningKernel();

    public void ThrowIfUnused()
    {
        if (_values.Count > 0) throw new UsageException($"unknown option {_values.Keys.First()}");
    }
}
