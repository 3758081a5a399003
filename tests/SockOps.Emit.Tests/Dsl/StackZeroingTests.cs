using System.Runtime.InteropServices;
using SockOps.Emit.Assembler;
using SockOps.Emit.TestSupport;
using SockOps.Emit.Tests.Kernel;
using static SockOps.Emit.Tests.Kernel.Insn;

namespace SockOps.Emit.Tests.Dsl;

/// <summary>
/// <c>StackStruct</c> leaves out its zero stores only where no use can see them: every use follows, on its path, a
/// helper that fills the whole object (getsockopt's optval, ARG_PTR_TO_UNINIT_MEM). The kernel is the judge: each
/// program is loaded without CAP_PERFMON, where the verifier refuses any read of stack nothing wrote
/// ("invalid read from stack"), and where zeroing is kept, the same program with its zero stores blanked out is
/// refused there — so the kept stores are the ones that are needed.
/// </summary>
public class StackZeroingTests
{
    [StructLayout(LayoutKind.Sequential)]
    private struct Name20
    {
        public uint W0, W1, W2, W3, W4;
    }

    private const int Congestion = (int)TcpOption.Congestion;

    /// <summary>The zero stores (<c>*(size *)(r10 + off) = 0</c>); these programs store nothing else on the stack.</summary>
    private static int[] ZeroStores(ProgramImage image) =>
        [.. image.Instructions.Select((insn, index) => (insn, index))
            .Where(x => x.insn.Class == InstructionClass.St && x.insn.DestinationIndex == 10 && x.insn.Immediate == 0)
            .Select(x => x.index)];

    private static RawBpf.LoadResult LoadWithoutPerfmon(IReadOnlyList<Instruction> code)
    {
        KernelGate.Require();
        return RawBpf.WithoutPerfmon(() => RawBpf.LoadSockOps(code));
    }

    /// <summary>The program with each zero store replaced by <c>r0 = 0</c> (same length: every jump offset holds).</summary>
    private static Instruction[] Blanked(ProgramImage image)
    {
        var code = image.Instructions.ToArray();
        foreach (int i in ZeroStores(image)) code[i] = Mov64(0, 0);
        return code;
    }

    [Fact]
    public void A_buffer_that_getsockopt_fills_first_is_not_zeroed_and_the_strict_verifier_accepts_it()
    {
        var image = SockOpsProgram.Build("getsockopt_first", b =>
        {
            var name = b.StackStruct<Name20>();
            var rc = b.Local("rc", b.GetSockOpt((int)SocketOptionLevel.Tcp, Congestion, name));
            b.If(rc == 0, () => b.Context.Reply.Set(name.I32(0)));
            b.Return(1);
        });
        Assert.Empty(ZeroStores(image));
        var strict = LoadWithoutPerfmon(image.Instructions);
        Assert.True(strict.Accepted, strict.ToString());
        // The same program with zeroing (as StackStruct emitted it before) is 3 slots longer: 2 DW + 1 W stores for 20 bytes.
        var zeroed = SockOpsProgram.Build("getsockopt_first_zeroed", b =>
        {
            var name = b.StackStruct<Name20>();
            b.Context.Reply.Set(name.I32(16)); // a read before the helper: the zeros are needed
            var rc = b.Local("rc", b.GetSockOpt((int)SocketOptionLevel.Tcp, Congestion, name));
            b.If(rc == 0, () => b.Context.Reply.Set(name.I32(0)));
            b.Return(1);
        });
        Assert.Equal(3, ZeroStores(zeroed).Length);
    }

    [Fact]
    public void A_read_before_the_helper_keeps_the_zeroing_that_the_strict_verifier_needs()
    {
        var image = SockOpsProgram.Build("read_first", b =>
        {
            var name = b.StackStruct<Name20>();
            b.Context.Reply.Set(name.I32(16));
            b.GetSockOpt((int)SocketOptionLevel.Tcp, Congestion, name);
            b.Context.Reply.Set(name.I32(0));
            b.Return(1);
        });
        Assert.Equal(3, ZeroStores(image).Length);
        var strict = LoadWithoutPerfmon(image.Instructions);
        Assert.True(strict.Accepted, strict.ToString());
        var blanked = LoadWithoutPerfmon(Blanked(image));
        Assert.False(blanked.Accepted);
        Assert.Contains("invalid read from stack", blanked.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void A_helper_that_fills_the_buffer_on_one_path_only_keeps_the_zeroing()
    {
        var image = SockOpsProgram.Build("one_path", b =>
        {
            var name = b.StackStruct<Name20>();
            b.If(b.Context.Op == SockOp.BaseRtt, () => b.GetSockOpt((int)SocketOptionLevel.Tcp, Congestion, name));
            b.Context.Reply.Set(name.I32(0));
            b.Return(1);
        });
        Assert.Equal(3, ZeroStores(image).Length);
        var strict = LoadWithoutPerfmon(image.Instructions);
        Assert.True(strict.Accepted, strict.ToString());
        var blanked = LoadWithoutPerfmon(Blanked(image));
        Assert.False(blanked.Accepted);
        Assert.Contains("invalid read from stack", blanked.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void A_helper_on_every_path_before_the_read_needs_no_zeroing()
    {
        var image = SockOpsProgram.Build("every_path", b =>
        {
            var name = b.StackStruct<Name20>();
            b.If(b.Context.Op == SockOp.BaseRtt,
                () => b.GetSockOpt((int)SocketOptionLevel.Tcp, Congestion, name),
                @else: () => b.GetSockOpt((int)SocketOptionLevel.Tcp, Congestion, name));
            b.Context.Reply.Set(name.I32(0));
            b.Return(1);
        });
        Assert.Empty(ZeroStores(image));
        var strict = LoadWithoutPerfmon(image.Instructions);
        Assert.True(strict.Accepted, strict.ToString());
    }

    [Fact]
    public void A_partial_write_then_a_helper_that_reads_keeps_the_zeroing()
    {
        // One field written, another read: that one must be zero.
        var image = SockOpsProgram.Build("partial", b =>
        {
            var name = b.StackStruct<Name20>();
            name.U32(0).Set(0x7672); // "rv"
            b.Context.Reply.Set(name.I32(4));
            b.Return(1);
        });
        Assert.Equal(3, ZeroStores(image).Length);
        var blanked = LoadWithoutPerfmon(Blanked(image));
        Assert.False(blanked.Accepted);
        Assert.Contains("invalid read from stack", blanked.Log, StringComparison.Ordinal);
        var strict = LoadWithoutPerfmon(image.Instructions);
        Assert.True(strict.Accepted, strict.ToString());
    }

    [Fact]
    public void An_unused_object_costs_no_stores()
    {
        var image = SockOpsProgram.Build("unused", b =>
        {
            b.StackStruct<Name20>();
            b.Return(1);
        });
        Assert.Empty(ZeroStores(image));
        Assert.Equal(2, image.Slots);
    }

    [Fact]
    public void A_stack_object_used_where_its_StackStruct_did_not_run_is_refused_and_so_is_the_raw_read()
    {
        StackRef<Name20>? escaped = null;
        var e = Assert.Throws<EmitException>(() => SockOpsProgram.Build("escaped", b =>
        {
            b.If(b.Context.Op == 3, () => escaped = b.StackStruct<Name20>());
            b.Context.Reply.Set(escaped!.I32(0));
            b.Return(1);
        }));
        Assert.Equal(EmitRule.Uninitialized, e.Rule);
        Assert.EndsWith("StackZeroingTests.cs", e.File, StringComparison.Ordinal);
        Assert.Contains("nothing wrote it on every path", e.Message, StringComparison.Ordinal);
        // The kernel (without CAP_PERFMON) refuses a read of stack nothing wrote.
        var raw = LoadWithoutPerfmon([Ldx(4, 2, 10, -8), Stx(4, 1, 2, 4), Mov64(0, 1), Exit()]);
        Assert.False(raw.Accepted);
        Assert.Contains("invalid read from stack", raw.Log, StringComparison.Ordinal);
    }
}
