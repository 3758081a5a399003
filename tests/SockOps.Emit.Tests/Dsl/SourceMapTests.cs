using SockOps.Emit.Runtime;
using SockOps.Emit.TestSupport;

namespace SockOps.Emit.Tests.Dsl;

public class SourceMapTests
{
    private static int Here([System.Runtime.CompilerServices.CallerLineNumber] int line = 0) => line;

    [Fact]
    public void Every_instruction_knows_the_csharp_line_that_emitted_it()
    {
        int ifLine = 0, replyLine = 0, callLine = 0;
        var image = SockOpsProgram.Build("lines", b =>
        {
            var ctx = b.Context;
            ifLine = Here() + 1;
            b.If(ctx.LocalPort == 80, () =>
            {
                callLine = Here() + 1;
                b.SetSockOpt(TcpOption.NoDelay, 1);
                replyLine = Here() + 1;
                ctx.Reply.Set(7);
            });
            b.Return(1);
        });
        Assert.Equal(image.Instructions.Count, image.SourceMap.Count);
        Assert.All(image.SourceMap, l => Assert.EndsWith("SourceMapTests.cs", l.File, StringComparison.Ordinal));
        var text = image.Instructions.Select(i => SockOps.Emit.Assembler.Disassembler.Format(i)).ToArray();
        int compare = Array.FindIndex(text, t => t.StartsWith("if w", StringComparison.Ordinal));
        int call = Array.IndexOf(text, "call 49");
        int reply = Array.FindIndex(text, t => t.StartsWith("*(u32 *)(r6 + 4)", StringComparison.Ordinal));
        Assert.Equal(ifLine, image.SourceMap[compare].Line);
        Assert.Equal(callLine, image.SourceMap[call].Line);
        Assert.Equal(replyLine, image.SourceMap[reply].Line);
        Assert.Equal("Every_instruction_knows_the_csharp_line_that_emitted_it", image.SourceMap[call].Member);
        // Kernel slot numbers (ld_imm64 = 2 slots) map back too.
        Assert.Equal(image.SourceMap[call], image.LocationOfSlot(call));
    }

    [Fact]
    public void A_kernel_refusal_maps_back_to_the_csharp_call()
    {
        // Emitted for a root loader (trace_printk needs CAP_PERFMON) but loaded without CAP_PERFMON: the kernel
        // refuses, and its instruction index leads to the Printk line.
        int printkLine = 0;
        var image = SockOpsProgram.Build("mapped", b =>
        {
            printkLine = Here() + 1;
            b.Printk("op %u\n", b.Context.Op);
            b.Return(1);
        });
        KernelGate.Require();
        var error = Kernel.RawBpf.WithoutPerfmon(() =>
        {
            try
            {
                DslKernel.Load(image).Dispose();
                return (VerifierException?)null;
            }
            catch (VerifierException e)
            {
                return e;
            }
        });
        Assert.NotNull(error);
        Assert.Contains("cannot use helper", error.Log, StringComparison.Ordinal);
        Assert.NotNull(error.InstructionIndex);
        var location = image.SourceMap[error.InstructionIndex.Value];
        Assert.Equal(printkLine, location.Line);
        Assert.Equal(location, image.LocationOfSlot(error.SlotIndex!.Value));
    }
}

public class DebugInfoTests
{
    [Fact]
    public void Btf_line_info_makes_the_kernel_print_the_csharp_lines()
    {
        var image = SeedPrograms.Clamp();
        var debug = image.CreateDebugInfo();
        Assert.Equal(0, debug.LineInfo[0].InstructionIndex);
        Assert.True(debug.LineInfo.Count > 10);
        KernelGate.Require();
        using var loaded = DslKernel.Load(image, debugInfo: true, logLevel: VerifierLogLevel.Verbose);
        Assert.True(loaded.Program.Info.BtfId > 0);
        Assert.Contains("; ctx.Reply.Set(rv);", loaded.Program.VerifierLog, StringComparison.Ordinal);
        Assert.Contains(" @ SeedPrograms.cs:", loaded.Program.VerifierLog, StringComparison.Ordinal);
    }

    [Fact]
    public void A_kernel_refusal_carries_the_csharp_source_line()
    {
        var image = SockOpsProgram.Build("refused_line", b =>
        {
            b.Printk("op %u\n", b.Context.Op);
            b.Return(1);
        });
        KernelGate.Require();
        var error = Kernel.RawBpf.WithoutPerfmon(() =>
        {
            try
            {
                DslKernel.Load(image, debugInfo: true).Dispose();
                return (VerifierException?)null;
            }
            catch (VerifierException e)
            {
                return e;
            }
        });
        Assert.NotNull(error);
        Assert.Contains("; b.Printk(\"op %u\\n\", b.Context.Op); @ SourceMapTests.cs:", error.Log, StringComparison.Ordinal);
    }
}

public class LongJumpTests
{
    [Fact]
    public void A_branch_over_more_than_32767_slots_becomes_gotol_and_loads()
    {
        ProgramImage LongJump(Assembler.KernelVersion target) => SockOpsProgram.Build("long_jump", b =>
        {
            var ctx = b.Context;
            var scratch = b.StackStruct<ulong>();
            // Stack stores: unlike ctx stores, the kernel does not rewrite them, so the verifier stays fast.
            b.If(ctx.Op == SockOp.RttCb, () => b.For(0, 200, i => b.For(0, 180, j => scratch.U64().Set((ulong)(i * 1000 + j)))));
            b.Return(1);
        }, target: target);
        // gotol is cpu v4 (Linux 6.6): for 6.1 the program cannot be expressed, and the C# line of the branch says so.
        var refused = Assert.Throws<EmitException>(() => LongJump(Assembler.KernelVersion.Linux6_1));
        Assert.Equal(EmitRule.TargetKernel, refused.Rule);
        Assert.Contains("gotol (cpu v4) needs Linux 6.6; this program targets 6.1", refused.Message, StringComparison.Ordinal);
        Assert.EndsWith("SourceMapTests.cs", refused.File, StringComparison.Ordinal);
        var image = LongJump(Assembler.KernelVersion.Linux6_12);
        Assert.True(image.Slots > 36000);
        Assert.Contains(image.Instructions, i => i.Opcode == 0x06);   // JMP32 | JA: gotol
        Assert.Equal(image.Instructions.Count, image.SourceMap.Count);
        Assert.All(image.SourceMap, l => Assert.NotEqual(0, l.Line));
        SockOps.Emit.TestSupport.KernelGate.Require();
        using var loaded = DslKernel.Load(image);
    }
}
