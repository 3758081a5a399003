using System.Diagnostics;
using Xunit;

namespace SockOps.Emit.TestSupport;

/// <summary>
/// External programs used as oracles (readelf, llvm-objdump, bpftool, cc). A missing tool skips the test with a
/// reason; under SOCKOPS_REQUIRE_KERNEL=1 (CI, where .ci/run installs them) it fails instead.
/// </summary>
public static class ExternalTool
{
    /// <summary>The outcome of a run.</summary>
    /// <param name="ExitCode">The exit code.</param>
    /// <param name="Output">Standard output.</param>
    /// <param name="Error">Standard error.</param>
    public readonly record struct Result(int ExitCode, string Output, string Error);

    /// <summary>Skips (or, when kernel tests are required, fails) unless <paramref name="tool"/> is on PATH.</summary>
    public static void Require(string tool)
    {
        if (Find(tool) is not null) return;
        string reason = $"{tool} is not installed (it is the oracle of this test; .ci/run installs it)";
        if (KernelGate.Required) Assert.Fail("SOCKOPS_REQUIRE_KERNEL=1 but " + reason);
        Assert.Skip(reason);
    }

    /// <summary>The full path of <paramref name="tool"/> on PATH, or null.</summary>
    public static string? Find(string tool)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':'))
        {
            string candidate = Path.Combine(dir, tool);
            if (File.Exists(candidate)) return candidate;
        }
        foreach (string dir in new[] { "/usr/sbin", "/sbin", "/usr/local/sbin" })
        {
            string candidate = Path.Combine(dir, tool);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>Runs <paramref name="tool"/> (which must be installed: see <see cref="Require"/>) and waits up to a minute.</summary>
    public static Result Run(string tool, params string[] arguments)
    {
        Require(tool);
        var start = new ProcessStartInfo(Find(tool)!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{tool} did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(1)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{tool} {string.Join(' ', arguments)} did not finish within a minute");
        }
        return new Result(process.ExitCode, output.GetAwaiter().GetResult(), error.GetAwaiter().GetResult());
    }

    /// <summary>Runs <paramref name="tool"/> and returns its output; a non-zero exit fails the test with its error output.</summary>
    public static string Check(string tool, params string[] arguments)
    {
        var result = Run(tool, arguments);
        Assert.True(result.ExitCode == 0, $"{tool} {string.Join(' ', arguments)} exited with {result.ExitCode}: {result.Error}{result.Output}");
        return result.Output;
    }
}
