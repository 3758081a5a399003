using SockOps.Emit;

namespace SockOps.Emit.Testing.Tests;

/// <summary>Small DSL programs whose effect the harness can see from user space.</summary>
internal static class TestPrograms
{
    public const int BufferSize = 150000;

    /// <summary>SO_SNDBUF and SO_RCVBUF of <see cref="BufferSize"/> on both ends of every established connection.</summary>
    public static ProgramImage Buffers() => SockOpsProgram.Build("kit_bufs", b =>
    {
        var ctx = b.Context;
        var rv = b.Local("rv", 0);
        b.Switch(ctx.Op)
            .Case(SockOp.ActiveEstablishedCb, () =>
            {
                rv.Set(b.SetSockOpt(SocketLevelOption.SndBuf, BufferSize));
                rv.Set(rv + b.SetSockOpt(SocketLevelOption.RcvBuf, BufferSize));
            })
            .Case(SockOp.PassiveEstablishedCb, () =>
            {
                rv.Set(b.SetSockOpt(SocketLevelOption.SndBuf, BufferSize));
                rv.Set(rv + b.SetSockOpt(SocketLevelOption.RcvBuf, BufferSize));
            })
            .Default(() => rv.Set(-1));
        ctx.Reply.Set(rv);
        b.Return(1);
    });

    /// <summary>The xunit mapping of the kit's gate: skip with the reason (under SOCKOPS_REQUIRE_KERNEL=1 Check throws).</summary>
    public static void RequireKernel()
    {
        if (KernelRequirement.Check() is { } reason) Assert.Skip(reason);
    }
}
