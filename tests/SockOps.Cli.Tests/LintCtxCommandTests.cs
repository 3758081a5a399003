using SockOps.Emit.TestSupport;

namespace SockOps.Cli.Tests;

public sealed class LintCtxCommandTests
{
    private static string SuiteDirectory() => SharedData.ConformanceTestsDirectory;

    [Fact]
    public void Lint_flags_exactly_the_twelve_suite_programs_the_kernel_refuses_as_invalid_shifts()
    {
        // These twelve are the programs the 6.18 verifier refuses with "invalid shift"; the 300 others load and run.
        var flagged = new List<string>();
        foreach (string file in Directory.GetFiles(SuiteDirectory(), "*.data"))
        {
            var run = CliRun.Invoke(["lint", "--syntax", "conformance", file]);
            Assert.True(run.ExitCode is 0 or 1, $"{file}: {run.Error}");
            if (run.ExitCode == 1)
            {
                Assert.Contains("invalid-shift", run.Out, StringComparison.Ordinal);
                flagged.Add(Path.GetFileName(file));
            }
        }
        // The programs the suite's own libbpf runner could not load on this kernel (the committed oracle).
        var expected = ConformanceOracle.Committed.KernelRefused(4);
        Assert.Equal(12, expected.Count);
        Assert.Equal(expected, flagged.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Lint_prints_each_finding_with_its_instruction_index_and_source_line()
    {
        var run = CliRun.Invoke(["lint", "-"], "r0 = r2\nr10 = 1\nexit\n");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("<stdin>:1: insn 0: uninitialized-register", run.Out, StringComparison.Ordinal);
        Assert.Contains("insn 1:", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Lint_of_a_clean_program_prints_nothing_and_exits_0()
    {
        var run = CliRun.Invoke(["lint", "-"], "r0 = 1\nexit\n");
        Assert.Equal(0, run.ExitCode);
        Assert.Equal("", run.Out);
    }

    [Fact]
    public void Ctx_tsv_lists_every_bpf_sock_ops_member_with_offset_size_access_order_and_kernel()
    {
        var run = CliRun.Invoke(["ctx", "--format", "tsv"]);
        Assert.Equal(0, run.ExitCode);
        string[][] rows = [.. run.Out.TrimEnd('\n').Split('\n').Select(l => l.Split('\t'))];
        Assert.All(rows, r => Assert.Equal(6, r.Length));
        // Offsets and sizes are checked against the kernel's BTF in SockOps.Emit.Tests; here the CLI contract.
        Assert.Equal(["remote_port", "64", "4", "r", "network", "4.13"], rows.Single(r => r[0] == "remote_port"));
        Assert.Equal(["local_port", "68", "4", "r", "host", "4.13"], rows.Single(r => r[0] == "local_port"));
        Assert.Equal(["reply", "4", "4", "rw", "host", "4.13"], rows.Single(r => r[0] == "reply"));
        Assert.Equal(["sk_txhash", "164", "4", "rw", "host", "4.16"], rows.Single(r => r[0] == "sk_txhash"));
        Assert.Equal(["skb_hwtstamp", "216", "8", "r", "host", "6.2"], rows.Single(r => r[0] == "skb_hwtstamp"));
        Assert.Equal(new[] { "reply", "sk_txhash" }, rows.Where(r => r[3] == "rw").Select(r => r[0]));
    }
}
