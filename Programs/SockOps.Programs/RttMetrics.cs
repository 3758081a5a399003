using SockOps.Emit.Assembler;
using System.Runtime.InteropServices;
using SockOps.Emit;

namespace SockOps.Programs;

/// <summary>One RttMetrics ring buffer event.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct RttMetricsEvent
{
    /// <summary>The socket cookie (as <c>getsockopt(SO_COOKIE)</c> reads it).</summary>
    public ulong Cookie;
    /// <summary>bytes_acked.</summary>
    public ulong BytesAcked;
    /// <summary>The callback (<see cref="SockOp"/>).</summary>
    public uint Op;
    /// <summary>The TCP state (<see cref="TcpState"/>); for STATE_CB the new state.</summary>
    public uint State;
    /// <summary>For STATE_CB the old state; otherwise the current state.</summary>
    public uint OldState;
    /// <summary>srtt_us (smoothed RTT × 8, in µs); for RTT_CB the value just updated (args[1]).</summary>
    public uint SrttUs;
    /// <summary>snd_cwnd in packets.</summary>
    public uint SndCwnd;
    /// <summary>total_retrans.</summary>
    public uint TotalRetrans;
    /// <summary>The local port (host order).</summary>
    public uint LocalPort;
    /// <summary>The remote port (host order).</summary>
    public uint RemotePort;
}

/// <summary>
/// The seed's second use case, connection metrics for a host application: every TCP connection in the cgroup
/// turns on RTT, state-change, retransmit and RTO callbacks (at connect, or when accepted) and each of those
/// callbacks — plus the ESTABLISHED ones — is streamed as an <see cref="RttMetricsEvent"/> (cookie, op, state,
/// srtt, cwnd, bytes acked, retransmits, ports) to the ring buffer <see cref="RingBufferName"/>.
/// </summary>
public static class RttMetrics
{
    /// <summary>One-line summary.</summary>
    public const string Summary = "Stream RTT, state-change, retransmit and RTO callbacks as ring-buffer events (cookie, state, srtt, cwnd, bytes, retransmits)";

    /// <summary>The oldest kernel the program can be built for (the model's answer; 6.1, 6.12 and 6.18 are proven in the kernel matrix, 5.10 and 5.15 are declared from the sources).</summary>
    public static KernelVersion MinimumKernel { get; } = new(5, 10);

    /// <summary>The ring buffer map.</summary>
    public const string RingBufferName = "events";

    /// <summary>Parameters.</summary>
    public sealed record Options
    {
        /// <summary>Ring buffer size in bytes (a power of two, multiple of the page size).</summary>
        [RingBufferSize]
        public uint RingBufferBytes { get; init; } = 256 * 1024;
    }

    /// <summary>The callbacks the program turns on.</summary>
    public const SockOpsCallbackFlags Callbacks = SockOpsCallbackFlags.Rtt | SockOpsCallbackFlags.State | SockOpsCallbackFlags.Retrans | SockOpsCallbackFlags.Rto;

    /// <summary>Builds the program for <paramref name="target"/> (default <see cref="KernelTargets.Default"/>; at least <see cref="MinimumKernel"/>).</summary>
    /// <param name="options">Parameters (defaults when null).</param>
    /// <param name="target">The kernel the program will run on.</param>
    public static ProgramImage Build(Options? options = null, KernelVersion? target = null)
    {
        var o = options ?? new Options();
        OptionValidation.Validate(o);
        return SockOpsProgram.Build("rtt_metrics", b =>
        {
            var ctx = b.Context;
            var events = b.RingBuf(RingBufferName, o.RingBufferBytes);
            var op = b.Local("op", ctx.Op);
            b.Switch(op)
                .Case(SockOp.TcpConnectCb, () =>
                {
                    b.SockOpsCbFlagsSet(Callbacks);
                    b.Return(1);
                })
                .Case(SockOp.PassiveEstablishedCb, () => b.SockOpsCbFlagsSet(Callbacks))
                .Case(SockOp.ActiveEstablishedCb, () => { })
                .Case(SockOp.RttCb, () => { })
                .Case(SockOp.StateCb, () => { })
                .Case(SockOp.RetransCb, () => { })
                .Case(SockOp.RtoCb, () => { })
                .Default(() => b.Return(1));
            var state = b.Local("state", ctx.State);
            var oldState = b.Local("old_state", ctx.State);
            b.If(op == SockOp.StateCb, () =>
            {
                oldState.Set(ctx.Args[0]);
                state.Set(ctx.Args[1]);
            });
            // In RTT_CB, srtt_us still holds the previous value (0 on the first sample): the builder reads the new one
            // where the target kernel passes it (args[1]) and falls back to srtt_us / rtt_min on older kernels.
            var srtt = b.Local("srtt", ctx.SrttUs);
            b.If(op == SockOp.RttCb, () => srtt.Set(b.RttCallbackSrttUs()));
            var cookie = b.Local("cookie", b.GetSocketCookie());
            b.IfNotNull(b.RingBufReserve<RttMetricsEvent>(events), e =>
            {
                e.U64(nameof(RttMetricsEvent.Cookie)).Set(cookie);
                e.U64(nameof(RttMetricsEvent.BytesAcked)).Set(ctx.BytesAcked);
                e.U32(nameof(RttMetricsEvent.Op)).Set(op);
                e.U32(nameof(RttMetricsEvent.State)).Set(state);
                e.U32(nameof(RttMetricsEvent.OldState)).Set(oldState);
                e.U32(nameof(RttMetricsEvent.SrttUs)).Set(srtt);
                e.U32(nameof(RttMetricsEvent.SndCwnd)).Set(ctx.SndCwnd);
                e.U32(nameof(RttMetricsEvent.TotalRetrans)).Set(ctx.TotalRetrans);
                e.U32(nameof(RttMetricsEvent.LocalPort)).Set(ctx.LocalPort);
                e.U32(nameof(RttMetricsEvent.RemotePort)).Set(ctx.RemotePort);
                b.RingBufSubmit(e);
            });
            b.Return(1);
        }, target: target);
    }
}
