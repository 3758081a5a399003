using System.Globalization;
using SockOps.Emit.Runtime;

namespace SockOps.Cli.Tests;

/// <summary>
/// Exit codes and messages: usage errors 2, refused input 1, an unexpected exception 70 with its type and a --verbose
/// hint; bad program options and bad --seconds are refused before anything reaches the kernel.
/// </summary>
public sealed class ErrorAndValidationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sockops-cli-errors-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(new[] { "dump", "clamp", "--set", "port=70000" }, "sockops: clamp: port must be 1..65535, got 70000.")]
    [InlineData(new[] { "dump", "clamp", "--set", "port=-1" }, "sockops: clamp: port must be 1..65535, got -1.")]
    [InlineData(new[] { "dump", "rwnd", "--set", "initial-window=0" }, "sockops: rwnd: initial-window must be 1..65535, got 0.")]
    [InlineData(new[] { "dump", "sockmap-adder", "--set", "max-entries=-1" }, "sockops: sockmap-adder: max-entries must be an integer in 1..134217728, got '-1'.")]
    [InlineData(new[] { "dump", "sockmap-adder", "--set", "sock-map=true", "--set", "active-key=20" }, "sockops: sockmap-adder: active-key must be 0..19 (a sockmap index below max-entries), got 20.")]
    [InlineData(new[] { "dump", "cong", "--set", "algorithm=" }, "sockops: cong: algorithm must be 1..15 ASCII characters, got ''.")]
    [InlineData(new[] { "verify", "clamp", "--set", "port=0" }, "sockops: clamp: port must be 1..65535, got 0.")]
    [InlineData(new[] { "attach", "clamp", "--cgroup", "/nonexistent", "--set", "port=70000" }, "sockops: clamp: port must be 1..65535, got 70000.")]
    [InlineData(new[] { "exec", "clamp", "--set", "port=70000", "--", "/bin/true" }, "sockops: clamp: port must be 1..65535, got 70000.")]
    public void An_out_of_range_program_option_is_a_usage_error_naming_the_option_and_its_range(string[] args, string message)
    {
        var run = CliRun.Invoke(args);
        Assert.Equal(2, run.ExitCode);
        Assert.Equal(message, run.Error.Split('\n')[0]);
        Assert.Equal("", run.Out);
        Assert.Empty(OwnCgroups()); // exec refused before it created its temporary cgroup
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("-1")]
    [InlineData("0")]
    [InlineData("3600.5")]
    public void Demo_refuses_a_duration_outside_0_to_3600_before_creating_or_attaching_anything(string seconds)
    {
        var run = CliRun.Invoke(["demo", "--seconds", seconds]);
        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith($"sockops: --seconds must be in (0, 3600], got {double.Parse(seconds, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture)}.", run.Error, StringComparison.Ordinal);
        Assert.Empty(OwnCgroups());
    }

    [Fact]
    public void Conformance_of_a_directory_without_suite_files_is_an_error_not_a_green_run()
    {
        File.WriteAllText(Path.Combine(_dir, "README"), "not a suite file");
        var run = CliRun.Invoke(["conformance", _dir]);
        Assert.Equal(1, run.ExitCode);
        Assert.Equal($"sockops: {_dir}: no conformance-suite .data files (the suite's tests/ directory has them)\n", run.Error);
        Assert.DoesNotContain("passed", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void A_failed_write_is_an_internal_error_70_with_the_exception_type_and_a_verbose_hint()
    {
        // A real failure no verb anticipates: the output file cannot be written (/dev/full answers ENOSPC).
        string source = Path.Combine(_dir, "exit.s");
        File.WriteAllText(source, "r0 = 0\nexit\n");
        var run = CliRun.Invoke(["asm", source, "-o", "/dev/full"]);
        Assert.Equal(70, run.ExitCode);
        string[] lines = run.Error.TrimEnd('\n').Split('\n');
        Assert.Equal(["sockops: internal error: System.IO.IOException: No space left on device : '/dev/full'", "sockops: rerun with --verbose for the stack trace."], lines);

        var verbose = CliRun.Invoke(["asm", source, "-o", "/dev/full", "--verbose"]);
        Assert.Equal(70, verbose.ExitCode);
        Assert.StartsWith("sockops: internal error: System.IO.IOException: No space left on device", verbose.Error, StringComparison.Ordinal);
        Assert.Contains("   at System.IO.File.WriteAllBytes", verbose.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("rerun with --verbose", verbose.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Typed_input_errors_keep_exit_1_and_their_message_with_or_without_verbose()
    {
        string bytes = Path.Combine(_dir, "seven.bin");
        File.WriteAllBytes(bytes, [1, 2, 3, 4, 5, 6, 7]);
        foreach (string[] args in new[] { new[] { "disasm", bytes }, new[] { "disasm", bytes, "--verbose" } })
        {
            var run = CliRun.Invoke(args);
            Assert.Equal(1, run.ExitCode);
            Assert.StartsWith("sockops: Instruction 0 at slot 0", run.Error, StringComparison.Ordinal);
            Assert.DoesNotContain("internal error", run.Error, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", run.Error, StringComparison.Ordinal);
        }
        var missing = CliRun.Invoke(["disasm", Path.Combine(_dir, "nope.bin")]);
        Assert.Equal(1, missing.ExitCode);
        Assert.Equal($"sockops: {Path.Combine(_dir, "nope.bin")}: no such file\n", missing.Error);
    }

    [Fact]
    public void List_parameters_shows_each_option_s_range()
    {
        var run = CliRun.Invoke(["list", "--parameters"]);
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("--set port=<int>  (default 55601; 1..65535)", run.Out, StringComparison.Ordinal);
        Assert.Contains("--set printk=<bool>  (default false)\n", run.Out, StringComparison.Ordinal);
        Assert.Contains("--set max-sockets=<uint>  (default 4096; 1..134217728)", run.Out, StringComparison.Ordinal);
        // syn-rto, rwnd and base-rtt: the switch between the counted build and the sample's logic alone.
        Assert.Equal(3, run.Out.Split('\n').Count(l => l.Trim() == "--set counters=<bool>  (default true)"));
        var bad = CliRun.Invoke(["dump", "base-rtt", "--set", "counters=2"]);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("base-rtt: counters must be true or false, got '2'.", bad.Error, StringComparison.Ordinal);
    }

    /// <summary>Temporary cgroups this (test) process created through in-process runs of the verbs.</summary>
    private static string[] OwnCgroups()
    {
        string pid = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        string root;
        try
        {
            root = Cgroup.FindMountPoint();
        }
        catch (InvalidOperationException)
        {
            return []; // no cgroup v2 here: nothing can have been created
        }
        return [.. Directory.GetDirectories(root, $"sockops-demo-{pid}-*").Concat(Directory.GetDirectories(root, $"sockops-exec-{pid}-*"))];
    }
}
