using SockOps.Emit.Btf;
using SockOps.Emit.Runtime.Btf;
using SockOps.Emit.TestSupport;
using static SockOps.Emit.Runtime.Tests.Asm;

namespace SockOps.Emit.Runtime.Tests;

public class BtfProgramInfoTests
{
    private static (LoadedBtf Btf, uint Func, uint File, uint[] Lines) BuildBtf(string[] sourceLines)
    {
        var builder = new BtfBuilder();
        uint intId = builder.AddInt("int", 4, signed: true);
        uint ctx = builder.AddStruct("bpf_sock_ops", 0, []);
        uint proto = builder.AddFuncProto(intId, [("skops", builder.AddPointer(ctx))]);
        uint func = builder.AddFunc("count_ops", proto, BtfFuncLinkage.Global);
        uint file = builder.AddString("Programs/CountOps.cs");
        uint[] lines = [.. sourceLines.Select(builder.AddString)];
        return (builder.Load(), func, file, lines);
    }

    [Fact]
    public void Func_and_line_info_are_accepted_and_the_verifier_prints_the_source_lines()
    {
        KernelGate.Require();
        var (btf, func, file, lines) = BuildBtf(["int x = 1;", "return x;"]);
        using (btf)
        using (var program = BpfProgram.Load(new ProgramLoadOptions
        {
            Type = ProgramType.SockOps,
            ExpectedAttachType = AttachType.CgroupSockOps,
            Name = "with_btf",
            Instructions = [Mov64(0, 1), Exit()],
            Btf = btf,
            FuncInfo = [new BtfFuncInfo(0, func)],
            LineInfo = [new BtfLineInfo(0, file, lines[0], 10, 5), new BtfLineInfo(1, file, lines[1], 11, 5)],
            LogLevel = VerifierLogLevel.Verbose, // level 1 prints only the summary for an accepted program
        }))
        {
            Assert.True(program.Info.BtfId > 0);
            Assert.Contains("; int x = 1; @ CountOps.cs:10", program.VerifierLog, StringComparison.Ordinal);
            Assert.Contains("; return x; @ CountOps.cs:11", program.VerifierLog, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_rejection_log_carries_the_source_line_of_the_failing_instruction()
    {
        KernelGate.Require();
        var (btf, func, file, lines) = BuildBtf(["reply = 7;", "args[1] = 7;", "return 1;"]);
        using (btf)
        {
            var e = Assert.Throws<VerifierException>(() => BpfProgram.Load(new ProgramLoadOptions
            {
                Type = ProgramType.SockOps,
                Name = "bad_line",
                Instructions = [StW(1, 4, 7), StW(1, 8, 7), Mov64(0, 1), Exit()],
                Btf = btf,
                FuncInfo = [new BtfFuncInfo(0, func)],
                LineInfo = [new BtfLineInfo(0, file, lines[0], 3, 1), new BtfLineInfo(1, file, lines[1], 4, 1), new BtfLineInfo(2, file, lines[2], 5, 1)],
            }));
            Assert.Equal(1, e.InstructionIndex);
            Assert.Equal("invalid bpf_context access off=8 size=4", e.ErrorLine);
            Assert.Contains("; args[1] = 7; @ CountOps.cs:4", e.Log, StringComparison.Ordinal);
            Assert.Equal("args[1] = 7; @ CountOps.cs:4", e.SourceLine);
            Assert.Contains("(source: args[1] = 7; @ CountOps.cs:4)", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_source_line_is_found_when_the_failing_instruction_is_not_the_first_of_its_line()
    {
        KernelGate.Require();
        // The verifier prints "; line" only where the line changes: here before insn 0, not before insn 1.
        var (btf, func, file, lines) = BuildBtf(["reply = 7; args[1] = 7;", "return 1;"]);
        using (btf)
        {
            var e = Assert.Throws<VerifierException>(() => BpfProgram.Load(new ProgramLoadOptions
            {
                Type = ProgramType.SockOps,
                Name = "bad_line2",
                Instructions = [StW(1, 4, 7), StW(1, 8, 7), Mov64(0, 1), Exit()],
                Btf = btf,
                FuncInfo = [new BtfFuncInfo(0, func)],
                LineInfo = [new BtfLineInfo(0, file, lines[0], 3, 1), new BtfLineInfo(2, file, lines[1], 4, 1)],
            }));
            Assert.Equal(1, e.InstructionIndex);
            Assert.Equal("reply = 7; args[1] = 7; @ CountOps.cs:3", e.SourceLine);
        }
    }

    [Fact]
    public void Line_info_without_btf_is_refused_before_the_kernel()
    {
        var e = Assert.Throws<ArgumentException>(() => BpfProgram.Load(new ProgramLoadOptions
        {
            Type = ProgramType.SockOps,
            Instructions = [Mov64(0, 1), Exit()],
            LineInfo = [new BtfLineInfo(0, 1, 1, 1, 1)],
        }));
        Assert.Contains("LineInfo needs Btf", e.Message, StringComparison.Ordinal);
    }
}
