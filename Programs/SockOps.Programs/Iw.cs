using SockOps.Emit.Assembler;
using SockOps.Emit;

namespace SockOps.Programs;

/// <summary>
/// samples/bpf/tcp_iw_kern.c: for connections on <see cref="Options.Port"/>, an initial congestion window of 40
/// (TCP_BPF_IW on the active side once established), an initial receive window of 40 and 1.5 MB buffers.
/// Observable: the client's <c>tcpi_snd_cwnd</c> is 40 before it sends data, and the buffers read back doubled.
/// </summary>
public static class Iw
{
    /// <summary>One-line summary.</summary>
    public const string Summary = "Initial cwnd 40 (TCP_BPF_IW), rwnd 40 and 1.5 MB buffers for connections on port 55601 (samples/bpf tcp_iw)";

    /// <summary>The oldest kernel the program can be built for (the model's answer; 6.1, 6.12 and 6.18 are proven in the kernel matrix, 5.10 and 5.15 are declared from the sources).</summary>
    public static KernelVersion MinimumKernel { get; } = new(5, 10);

    /// <summary>Parameters; defaults are the sample's values.</summary>
    public sealed record Options
    {
        /// <summary>The port (local or remote) the program acts on.</summary>
        [OptionRange(OptionValidation.PortMin, OptionValidation.PortMax)]
        public int Port { get; init; } = 55601;
        /// <summary>SO_SNDBUF and SO_RCVBUF in bytes.</summary>
        [OptionRange(1, int.MaxValue)]
        public int BufferSize { get; init; } = 1500000;
        /// <summary>The initial receive window in packets.</summary>
        [OptionRange(1, 65535)]
        public int InitialWindow { get; init; } = 40;
        /// <summary>The initial congestion window in packets (TCP_BPF_IW).</summary>
        [OptionRange(1, int.MaxValue)]
        public int InitialCwnd { get; init; } = 40;
    }

    /// <summary>Builds the program for <paramref name="target"/> (default <see cref="KernelTargets.Default"/>; at least <see cref="MinimumKernel"/>).</summary>
    /// <param name="options">Parameters (defaults when null).</param>
    /// <param name="target">The kernel the program will run on.</param>
    public static ProgramImage Build(Options? options = null, KernelVersion? target = null)
    {
        var o = options ?? new Options();
        OptionValidation.Validate(o);
        return SockOpsProgram.Build("iw", b =>
        {
            var ctx = b.Context;
            b.If(Conditions.NeitherPortIs(ctx, o.Port), () =>
            {
                ctx.Reply.Set(-1);
                b.Return(1);
            });
            var rv = b.Local("rv", 0);
            b.Switch(ctx.Op)
                .Case(SockOp.RwndInit, () => rv.Set(o.InitialWindow))
                .Case(SockOp.TcpConnectCb, () =>
                {
                    rv.Set(b.SetSockOpt(SocketLevelOption.SndBuf, o.BufferSize));
                    rv.Set(rv + b.SetSockOpt(SocketLevelOption.RcvBuf, o.BufferSize));
                })
                .Case(SockOp.ActiveEstablishedCb, () => rv.Set(b.SetSockOpt(TcpOption.BpfIw, o.InitialCwnd)))
                .Case(SockOp.PassiveEstablishedCb, () =>
                {
                    rv.Set(b.SetSockOpt(SocketLevelOption.SndBuf, o.BufferSize));
                    rv.Set(rv + b.SetSockOpt(SocketLevelOption.RcvBuf, o.BufferSize));
                })
                .Default(() => rv.Set(-1));
            ctx.Reply.Set(rv);
            b.Return(1);
        }, target: target);
    }
}
