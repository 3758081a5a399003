using SockOps.Emit.Runtime.Conformance;
using SockOps.Emit.TestSupport;

namespace SockOps.Emit.Runtime.Tests;

/// <summary>
/// The BPF ISA conformance suite, assembled by our text assembler, loaded by our loader and executed by the kernel,
/// compared test by test with the suite's own libbpf runner on the same kernel: golden/conformance-libbpf.tsv, written
/// by scripts/conformance-oracle/run.sh (which builds the suite's runner and libbpf plugin and runs them for cpu v3
/// and v4). Our outcomes in the runner's words: Passed = PASS, Skipped = SKIP, a program the kernel refused = ERROR
/// (the plugin could not load it), a wrong r0 or a program that does not assemble = FAIL.
/// </summary>
public sealed class ConformanceSuiteRunTests
{
    private static readonly Lazy<ConformanceOracle> LibbpfRunner = new(() => ConformanceOracle.Committed);

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    public void Every_test_has_the_verdict_of_the_suites_libbpf_runner(int cpuVersion)
    {
        KernelGate.Require();
        var oracle = LibbpfRunner.Value;
        // The oracle is a measurement of one kernel version: another one may verify or execute differently, and CI cannot
        // rebuild the suite's runner (its sources are not reachable there), so a different version must rerun the script.
        if (oracle.Version != RunningKernel.Version)
            KernelGate.Skip($"golden/conformance-libbpf.tsv was recorded on Linux {oracle.Version} ({oracle.Release}); this kernel is {RunningKernel.Version} ({RunningKernel.Release}): rerun scripts/conformance-oracle/run.sh");

        var expected = oracle.Verdicts.Where(v => v.Key.Cpu == cpuVersion).ToDictionary(v => v.Key.Test, v => v.Value, StringComparer.Ordinal);
        var results = ConformanceRunner.RunDirectory(SharedData.ConformanceTestsDirectory, cpuVersion).ToList();
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), results.Select(r => r.Name).Order(StringComparer.Ordinal));

        var differences = results.Where(r => Verdict(r) != expected[r.Name])
            .Select(r => $"{r.Name}: libbpf runner {expected[r.Name]}, ours {Verdict(r)} ({r.Detail})").ToList();
        Assert.True(differences.Count == 0, $"{differences.Count} of {results.Count} tests differ with cpu v{cpuVersion}:\n" + string.Join("\n", differences));
        // Not an empty comparison: the suite's runner passes most of the suite here.
        Assert.True(expected.Values.Count(v => v == "PASS") >= 200, $"the oracle has only {expected.Values.Count(v => v == "PASS")} PASS verdicts for cpu v{cpuVersion}");
    }

    [Fact]
    public void The_oracle_file_covers_every_suite_file_for_both_cpu_versions_and_names_its_kernel()
    {
        var oracle = LibbpfRunner.Value;
        string[] files = [.. Directory.GetFiles(SharedData.ConformanceTestsDirectory, "*.data").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];
        foreach (int cpu in new[] { 3, 4 })
            Assert.Equal(files, oracle.Verdicts.Keys.Where(k => k.Cpu == cpu).Select(k => k.Test).Order(StringComparer.Ordinal));
        Assert.True(oracle.Version.Major > 0, "no kernel release recorded");
        Assert.All(oracle.Verdicts.Values, v => Assert.Contains(v, new[] { "PASS", "FAIL", "SKIP", "ERROR", "UNKNOWN" }));
    }

    private static string Verdict(ConformanceResult result) => result.Outcome switch
    {
        ConformanceOutcome.Passed => "PASS",
        ConformanceOutcome.Skipped => "SKIP",
        ConformanceOutcome.Failed when result.KernelRefused => "ERROR",
        ConformanceOutcome.Failed => "FAIL",
        _ => "UNKNOWN (" + result.Outcome + ")",
    };
}
