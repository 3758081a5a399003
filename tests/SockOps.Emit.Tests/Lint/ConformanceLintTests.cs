using SockOps.Emit.Assembler;
using SockOps.Emit.Lint;
using SockOps.Emit.TestSupport;
using SockOps.Emit.Tests.Kernel;
using static SockOps.Emit.Tests.Kernel.Insn;

namespace SockOps.Emit.Tests.Lint;

/// <summary>
/// The linter on the BPF ISA conformance suite: on Linux 6.18 the suite's runner loads 300 programs
/// and the verifier refuses exactly 12, as invalid shifts (golden/conformance-libbpf.tsv of the Runtime tests). The linter must flag
/// exactly those 12, with the invalid-shift rule only, and nothing in the other 300. The split itself
/// is the suite's own libbpf runner's (scripts/conformance-oracle/run.sh), and
/// SockOps.Emit.Runtime.Tests.ConformanceSuiteRunTests proves our loader gets the same verdict for every file.
/// </summary>
public class ConformanceLintTests
{
    // What the suite's own libbpf runner could not load on this kernel (the committed oracle, proven against our loader
    // by ConformanceSuiteRunTests): {arsh,lsh,rsh}{32,64}-imm-{high,neg}, the verifier's "invalid shift".
    private static readonly HashSet<string> RefusedByKernel = [.. ConformanceOracle.Committed.KernelRefused(4)];

    // callx (opcode 0x8d) is unknown to Linux: the suite's runner skips it, so it is neither loaded nor refused as a shift.
    private const string NotRunByTheKernel = "callx.data";

    private static string SuiteDirectory() => SharedData.ConformanceTestsDirectory;

    private static List<string> FileNames() =>
        [.. Directory.GetFiles(SuiteDirectory(), "*.data").Select(p => Path.GetFileName(p)).Where(f => f != NotRunByTheKernel).Order(StringComparer.Ordinal)];

    public static TheoryData<string> SuiteFiles() => [.. FileNames()];

    [Fact]
    public void The_suite_has_300_loadable_and_12_refused_programs()
    {
        var files = FileNames();
        Assert.Equal(312, files.Count);
        Assert.Equal(12, files.Count(RefusedByKernel.Contains));
    }

    [Theory]
    [MemberData(nameof(SuiteFiles))]
    public void Linter_flags_exactly_the_programs_the_kernel_refuses(string file)
    {
        var data = ConformanceDataFile.Load(Path.Combine(SuiteDirectory(), file));
        var program = data.AssembleProgram().Instructions;
        // The suite's runner calls each test as a bpf-to-bpf subprogram: r1-r5 come from the caller; no sock_ops rules.
        var findings = InstructionLinter.Lint(program, new LintOptions { ProgramType = LintProgramType.Generic, EntryRegisters = LintOptions.CalleeEntryRegisters });
        if (RefusedByKernel.Contains(file))
        {
            var finding = Assert.Single(findings);
            Assert.Equal(LintRules.InvalidShift, finding.Rule);
            Assert.StartsWith("invalid shift ", finding.Message, StringComparison.Ordinal);
        }
        else
        {
            Assert.True(findings.Count == 0, string.Join("\n", findings));
        }
    }
}
