using System.Runtime.CompilerServices;
using SockOps.Emit.Assembler;
using SockOps.Emit.Lint;
using SockOps.Emit.TestSupport;
using SockOps.Emit.Tests.Kernel;
using static SockOps.Emit.Tests.Kernel.Insn;

namespace SockOps.Emit.Tests.Lint;

/// <summary>
/// The linter on the BPF ISA conformance suite: on Linux 6.18 the suite's runner loads 300 programs
/// and the verifier refuses exactly 12, as invalid shifts (conformance README). The linter must flag
/// exactly those 12, with the invalid-shift rule only, and nothing in the other 300.
/// </summary>
public class ConformanceLintTests
{
    private static readonly HashSet<string> RefusedByKernel =
        [.. from op in (string[])["arsh", "lsh", "rsh"] from width in (string[])["32", "64"] from kind in (string[])["high", "neg"]
            select $"{op}{width}-imm-{kind}.data"];

    // callx (opcode 0x8d) is unknown to Linux: the suite's runner skips it, so it is neither loaded nor refused as a shift.
    private const string NotRunByTheKernel = "callx.data";

    /// <summary>../shared/conformance beside the repository root, or SOCKOPS_CONFORMANCE_DIR.</summary>
    private static string SuiteDirectory([CallerFilePath] string callerFile = "")
    {
        string? configured = Environment.GetEnvironmentVariable("SOCKOPS_CONFORMANCE_DIR");
        if (!string.IsNullOrEmpty(configured)) return Path.Combine(configured, "tests");
        var directory = new DirectoryInfo(Path.GetDirectoryName(callerFile)!);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "SockOps.Emit.sln"))) directory = directory.Parent;
        string? path = directory?.Parent is null ? null : Path.Combine(directory.Parent.FullName, "shared", "conformance", "tests");
        return path is not null && Directory.Exists(path) ? path
            : throw new InvalidOperationException($"Conformance suite not found beside the repository ({path}); set SOCKOPS_CONFORMANCE_DIR.");
    }

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

    /// <summary>
    /// The split itself, proven on this kernel rather than taken from the README: each program is
    /// loaded the way the suite's Linux runner does it, as an XDP program that calls the test code
    /// as a bpf-to-bpf subprogram (after a bounds-checked r1 = data, r2 = size when it has memory).
    /// </summary>
    [Fact]
    public void Kernel_refuses_exactly_the_12_invalid_shift_programs()
    {
        KernelGate.Require();
        const int XdpProgramType = 6;
        var wrong = new List<string>();
        foreach (string file in FileNames())
        {
            var data = ConformanceDataFile.Load(Path.Combine(SuiteDirectory(), file));
            var test = data.AssembleProgram().Instructions;
            var wrapper = new List<Instruction>();
            int size = data.Memory.Count;
            if (data.HasMemory)
            {
                wrapper.Add(Ldx(4, 2, 1, 0));                 // r2 = xdp_md->data
                wrapper.Add(Ldx(4, 3, 1, 4));                 // r3 = xdp_md->data_end
                wrapper.Add(Mov64Reg(4, 2));
                wrapper.Add(Alu64(AluOperation.Add, 4, size));
                wrapper.Add(new Instruction(Opcode.Jump(true, JumpOperation.Jgt, OperandSource.Register), 4, 3, 3, 0)); // if r4 > r3 goto out
                wrapper.Add(Mov64Reg(1, 2));
                wrapper.Add(Mov64(2, size));
            }
            wrapper.Add(new Instruction(0x85, 0, 1, 0, 2));   // call the test code (two slots ahead)
            wrapper.Add(Mov64(0, 0));                         // out:
            wrapper.Add(Exit());
            wrapper.AddRange(test);
            var result = RawBpf.Load(wrapper, XdpProgramType, 0, "GPL", 1 << 20);
            bool expectRefusal = RefusedByKernel.Contains(file);
            if (result.Accepted == expectRefusal || (!result.Accepted && !result.Log.Contains("invalid shift", StringComparison.Ordinal)))
                wrong.Add($"{file}: {result}");
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }
}
