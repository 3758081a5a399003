using SockOps.Emit.Assembler;
using SockOps.Emit;

namespace SockOps.Programs;

/// <summary>
/// The seed's "Clamping a connection" (samples/bpf/tcp_clamp_kern.c): for connections on <see cref="Options.Port"/>
/// between IPv6 hosts in the same data centre, a SYN RTO of 10 jiffies, 150000-byte send/receive buffers and a
/// send congestion window clamp of 100. Observable: <c>getsockopt(SO_SNDBUF)</c> of both ends reads twice the
/// buffer size (the kernel doubles it); connections on other ports keep the default. A lost first SYN is resent after
/// 10 jiffies instead of 1 s, and a bulk transfer's <c>tcpi_snd_cwnd</c> stops at 100.
/// </summary>
public static class Clamp
{
    /// <summary>One-line summary.</summary>
    public const string Summary = "Same-data-centre IPv6 connections on port 55601: SYN RTO 10, 150000-byte buffers, cwnd clamp 100 (seed example)";

    /// <summary>The oldest kernel the program can be built for (the model's answer; 6.1, 6.12 and 6.18 are proven in the kernel matrix, 5.10 and 5.15 are declared from the sources).</summary>
    public static KernelVersion MinimumKernel { get; } = new(5, 10);

    /// <summary>Parameters; defaults are the seed's values.</summary>
    public sealed record Options
    {
        /// <summary>The port (local or remote) the program acts on.</summary>
        [OptionRange(OptionValidation.PortMin, OptionValidation.PortMax)]
        public int Port { get; init; } = 55601;
        /// <summary>SO_SNDBUF and SO_RCVBUF in bytes (the kernel doubles it).</summary>
        [OptionRange(1, int.MaxValue)]
        public int BufferSize { get; init; } = 150000;
        /// <summary>SYN/SYN-ACK retransmission timeout in jiffies (TIMEOUT_INIT reply).</summary>
        [OptionRange(1, int.MaxValue)]
        public int SynRto { get; init; } = 10;
        /// <summary>TCP_BPF_SNDCWND_CLAMP in packets.</summary>
        [OptionRange(1, int.MaxValue)]
        public int CwndClamp { get; init; } = 100;
        /// <summary>The seed's <c>bpf_printk</c> debug lines (GPL; needs CAP_PERFMON).</summary>
        public bool Printk { get; init; }
    }

    /// <summary>Builds the program for <paramref name="target"/> (default <see cref="KernelTargets.Default"/>; at least <see cref="MinimumKernel"/>).</summary>
    /// <param name="options">Parameters (defaults when null).</param>
    /// <param name="target">The kernel the program will run on.</param>
    public static ProgramImage Build(Options? options = null, KernelVersion? target = null)
    {
        var o = options ?? new Options();
        OptionValidation.Validate(o);
        return SockOpsProgram.Build("clamp", b =>
        {
            var ctx = b.Context;
            var rv = b.Local("rv", 0);
            b.If(Conditions.NeitherPortIs(ctx, o.Port), () =>
            {
                ctx.Reply.Set(-1);
                b.Return(0);
            });
            var op = b.Local("op", (I32)ctx.Op);
            if (o.Printk) b.Printk("BPF command: %d\n", op);
            b.If(Conditions.SameDataCentre(ctx),
                () => b.Switch(op)
                    .Case(SockOp.TimeoutInit, () => rv.Set(o.SynRto))
                    .Case(SockOp.TcpConnectCb, () =>
                    {
                        rv.Set(b.SetSockOpt(SocketLevelOption.SndBuf, o.BufferSize));
                        rv.Set(rv + b.SetSockOpt(SocketLevelOption.RcvBuf, o.BufferSize));
                    })
                    .Case(SockOp.ActiveEstablishedCb, () => rv.Set(b.SetSockOpt(TcpOption.BpfSndCwndClamp, o.CwndClamp)))
                    .Case(SockOp.PassiveEstablishedCb, () =>
                    {
                        rv.Set(b.SetSockOpt(TcpOption.BpfSndCwndClamp, o.CwndClamp));
                        rv.Set(rv + b.SetSockOpt(SocketLevelOption.SndBuf, o.BufferSize));
                        rv.Set(rv + b.SetSockOpt(SocketLevelOption.RcvBuf, o.BufferSize));
                    })
                    .Default(() => rv.Set(-1)),
                @else: () => rv.Set(-1));
            if (o.Printk) b.Printk("Returning %d\n", rv);
            ctx.Reply.Set(rv);
            b.Return(1);
        }, target: target);
    }
}
