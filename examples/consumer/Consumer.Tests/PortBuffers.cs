using SockOps.Emit;

namespace Consumer.Tests;

/// <summary>The user's own sock_ops program: larger socket buffers for connections on one port, on both ends.</summary>
public static class PortBuffers
{
    public const int BufferSize = 262144;

    public static ProgramImage Build(int port) => SockOpsProgram.Build("port_buffers", b =>
    {
        var ctx = b.Context;
        var rv = b.Local("rv", 0);
        b.If(ctx.LocalPort != (uint)port & ctx.RemotePort != (uint)port, () =>
        {
            ctx.Reply.Set(-1);
            b.Return(1);
        });
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
}
