using SockOps.Emit.Assembler;
using System.Runtime.InteropServices;
using SockOps.Emit;

namespace SockOps.Programs;

/// <summary>One TxTimestamps ring buffer record: the time from a sendmsg to the ACK of all its bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct TxTimestampRecord
{
    /// <summary>The socket cookie (as <c>getsockopt(SO_COOKIE)</c> reads it).</summary>
    public ulong Cookie;
    /// <summary>Nanoseconds from TSTAMP_SENDMSG_CB to TSTAMP_ACK_CB.</summary>
    public ulong LatencyNs;
}

/// <summary>
/// Per-sendmsg latency from sendmsg to ACK with the Linux 6.15 BPF TX timestamping callbacks. Once established,
/// each socket turns on <c>SK_BPF_CB_FLAGS = SK_BPF_CB_TX_TIMESTAMPING</c>; in TSTAMP_SENDMSG_CB the program marks
/// the sendmsg for timestamping with the kfunc <c>bpf_sock_ops_enable_tx_tstamp(bpf_cast_to_kern_ctx(skops), 0)</c>
/// and remembers the time under the socket cookie (only when no earlier sendmsg of the socket is waiting: the
/// callbacks carry no sendmsg id a sock_ops program can read without CO-RE, so one measurement is in flight per
/// socket); in TSTAMP_ACK_CB it publishes <c>now - then</c> as a <see cref="TxTimestampRecord"/>. The loader
/// resolves the two kfuncs in the kernel's BTF; kernels before 6.15 have neither and the host refuses with a reason.
/// </summary>
public static class TxTimestamps
{
    /// <summary>One-line summary.</summary>
    public const string Summary = "Per-sendmsg latency sendmsg→ACK via the 6.15 TSTAMP callbacks and the bpf_sock_ops_enable_tx_tstamp kfunc";

    /// <summary>The oldest kernel the program can be built for (the model's answer; 6.1, 6.12 and 6.18 are proven in the kernel matrix, 5.10 and 5.15 are declared from the sources).</summary>
    public static KernelVersion MinimumKernel { get; } = new(6, 15);

    /// <summary>The ring buffer map.</summary>
    public const string RingBufferName = "latency";

    /// <summary>Hash map: socket cookie → time of the sendmsg being measured.</summary>
    public const string PendingMapName = "sendmsg_ns";

    /// <summary>The kfunc that marks a sendmsg for timestamping.</summary>
    public const string Kfunc = "bpf_sock_ops_enable_tx_tstamp";

    /// <summary>Parameters.</summary>
    public sealed record Options
    {
        /// <summary>Ring buffer size in bytes (a power of two, multiple of the page size).</summary>
        public uint RingBufferBytes { get; init; } = 64 * 1024;
        /// <summary>How many sockets can have a sendmsg in flight.</summary>
        public uint MaxSockets { get; init; } = 4096;
    }

    /// <summary>Builds the program for <paramref name="target"/> (default <see cref="KernelTargets.Default"/>; at least <see cref="MinimumKernel"/>).</summary>
    /// <param name="options">Parameters (defaults when null).</param>
    /// <param name="target">The kernel the program will run on.</param>
    public static ProgramImage Build(Options? options = null, KernelVersion? target = null)
    {
        var o = options ?? new Options();
        return SockOpsProgram.Build("tx_timestamps", b =>
        {
            var ctx = b.Context;
            var pending = b.Map<ulong, ulong>(PendingMapName, MapType.Hash, o.MaxSockets);
            var latency = b.RingBuf(RingBufferName, o.RingBufferBytes);
            const int SkBpfCbTxTimestamping = 1;
            b.Switch(ctx.Op)
                .Case(SockOp.ActiveEstablishedCb, () => b.SetSockOpt(SocketLevelOption.BpfCallbackFlags, SkBpfCbTxTimestamping))
                .Case(SockOp.PassiveEstablishedCb, () => b.SetSockOpt(SocketLevelOption.BpfCallbackFlags, SkBpfCbTxTimestamping))
                .Case(SockOp.TstampSendmsgCb, () =>
                {
                    var enabled = b.Local("enabled", b.SockOpsEnableTxTimestamping(0));
                    b.If(enabled == 0, () => b.MapUpdate(pending, b.GetSocketCookie(), b.KtimeGetNs(), MapUpdateFlags.NoExist));
                })
                .Case(SockOp.TstampAckCb, () =>
                {
                    var cookie = b.Local("cookie", b.GetSocketCookie());
                    b.IfNotNull(b.MapLookup(pending, cookie), sent =>
                    {
                        var elapsed = b.Local("elapsed", b.KtimeGetNs() - sent.U64());
                        b.MapDelete(pending, cookie);
                        b.IfNotNull(b.RingBufReserve<TxTimestampRecord>(latency), record =>
                        {
                            record.U64(nameof(TxTimestampRecord.Cookie)).Set(cookie);
                            record.U64(nameof(TxTimestampRecord.LatencyNs)).Set(elapsed);
                            b.RingBufSubmit(record);
                        });
                    });
                })
                .End();
            b.Return(1);
        }, target: target);
    }
}
