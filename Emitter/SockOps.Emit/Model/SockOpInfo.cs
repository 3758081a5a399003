using SockOps.Emit.Assembler;
namespace SockOps.Emit;

/// <summary>What one <see cref="SockOp"/> callback means and what holds inside it (reference §4.1, §5.1).</summary>
/// <param name="Op">The op.</param>
/// <param name="CName">The kernel name, e.g. <c>BPF_SOCK_OPS_TIMEOUT_INIT</c>.</param>
/// <param name="MinimumKernel">The first kernel that calls it.</param>
/// <param name="ReplyMeaning">For the four query ops, what the kernel takes from <c>skops-&gt;reply</c> when the program returns 1; null when reply is ignored.</param>
/// <param name="Arguments">Meaning of <c>args[0..]</c> (empty when none are set).</param>
/// <param name="EnablingFlags">Callback flags of which at least one must be set for the op to run (<see cref="SockOpsCallbackFlags.None"/>: always runs).</param>
/// <param name="NeedsTxTimestamping">Whether it runs only after <c>SK_BPF_CB_FLAGS</c> = <see cref="SocketBpfCallbackFlags.TxTimestamping"/>.</param>
/// <param name="MayRunOnRequestSocket">Whether it can run on a request socket (server side before the handshake: <c>is_fullsock == 0</c>, state NEW_SYN_RECV; tcp_sock fields read 0, setsockopt fails).</param>
/// <param name="SocketLocked">Whether the socket is locked: if not (TSTAMP_*), tcp_sock fields read 0 and set/getsockopt, cb_flags_set and load_hdr_opt return -EOPNOTSUPP.</param>
/// <param name="Description">One line.</param>
public sealed record SockOpDescriptor(SockOp Op, string CName, KernelVersion MinimumKernel, string? ReplyMeaning, IReadOnlyList<string> Arguments,
    SockOpsCallbackFlags EnablingFlags, bool NeedsTxTimestamping, bool MayRunOnRequestSocket, bool SocketLocked, string Description)
{
    private KernelFeature? _feature;

    /// <summary>The op as a kernel feature (handling an op the target kernel never calls is refused at emit time).</summary>
    public KernelFeature Feature => _feature ??= new KernelFeature(KernelFeatureKind.Op, CName, MinimumKernel, "include/uapi/linux/bpf.h enum BPF_SOCK_OPS_*");
}

/// <summary>Descriptors of all 21 sock_ops callbacks.</summary>
public static class SockOpInfo
{
    private static readonly KernelVersion Base = new(4, 13);
    private static readonly KernelVersion V615 = new(6, 15);

    private static SockOpDescriptor D(SockOp op, string cName, KernelVersion since, string description, string? reply = null, string[]? args = null,
        SockOpsCallbackFlags flags = SockOpsCallbackFlags.None, bool requestSocket = false) =>
        new(op, "BPF_SOCK_OPS_" + cName, since, reply, args ?? [], flags, false, requestSocket, true, description);

    private static SockOpDescriptor Tstamp(SockOp op, string cName, string description) =>
        new(op, "BPF_SOCK_OPS_" + cName, V615, null, [], SockOpsCallbackFlags.None, true, false, false, description);

    /// <summary>Every op, by value.</summary>
    public static IReadOnlyList<SockOpDescriptor> All { get; } =
    [
        D(SockOp.Void, "VOID", Base, "unused"),
        D(SockOp.TimeoutInit, "TIMEOUT_INIT", Base, "asks for the SYN/SYN-ACK retransmission timeout",
            reply: "RTO in jiffies (≤ 0: the default TCP_TIMEOUT_INIT; capped at TCP_RTO_MAX)", requestSocket: true),
        D(SockOp.RwndInit, "RWND_INIT", Base, "asks for the initial advertised receive window",
            reply: "window in MSS units (< 0: the default)", requestSocket: true),
        D(SockOp.TcpConnectCb, "TCP_CONNECT_CB", Base, "an active open is about to send its SYN (state SYN_SENT)"),
        D(SockOp.ActiveEstablishedCb, "ACTIVE_ESTABLISHED_CB", Base, "an active connection is established; skb = the SYN-ACK"),
        D(SockOp.PassiveEstablishedCb, "PASSIVE_ESTABLISHED_CB", Base, "a passive connection is established; skb = the final ACK"),
        D(SockOp.NeedsEcn, "NEEDS_ECN", Base, "asks whether the connection should use ECN", reply: "1 = use ECN", requestSocket: true),
        D(SockOp.BaseRtt, "BASE_RTT", new KernelVersion(4, 15), "asks for the base RTT (used by TCP-NV)", reply: "base RTT in µs"),
        D(SockOp.RtoCb, "RTO_CB", new KernelVersion(4, 16), "a retransmission timeout fired",
            args: ["icsk_retransmits", "icsk_rto", "whether the RTO expired"], flags: SockOpsCallbackFlags.Rto),
        D(SockOp.RetransCb, "RETRANS_CB", new KernelVersion(4, 16), "a segment was retransmitted",
            args: ["sequence number of the first byte", "number of segments", "tcp_transmit_skb result (0 = success)"], flags: SockOpsCallbackFlags.Retrans),
        D(SockOp.StateCb, "STATE_CB", new KernelVersion(4, 16), "the TCP state is about to change (skops->state is still the old one)",
            args: ["old state (BPF_TCP_*)", "new state (BPF_TCP_*)"], flags: SockOpsCallbackFlags.State),
        D(SockOp.TcpListenCb, "TCP_LISTEN_CB", new KernelVersion(4, 19), "listen() was called (state LISTEN)"),
        D(SockOp.RttCb, "RTT_CB", new KernelVersion(5, 3), "a new RTT sample", args: ["measured RTT (mrtt)", "smoothed RTT (srtt)"], flags: SockOpsCallbackFlags.Rtt),
        D(SockOp.ParseHdrOptCb, "PARSE_HDR_OPT_CB", new KernelVersion(5, 10), "parse the TCP header options of a received packet (skb_data..skb_data_end = the TCP header)",
            flags: SockOpsCallbackFlags.ParseAllHdrOpt | SockOpsCallbackFlags.ParseUnknownHdrOpt),
        D(SockOp.HdrOptLenCb, "HDR_OPT_LEN_CB", new KernelVersion(5, 10), "reserve option space with bpf_reserve_hdr_opt (no header written yet)",
            args: ["BPF_WRITE_HDR_TCP_* reason or 0 (WriteHeaderReason)"], flags: SockOpsCallbackFlags.WriteHdrOpt, requestSocket: true),
        D(SockOp.WriteHdrOptCb, "WRITE_HDR_OPT_CB", new KernelVersion(5, 10), "write the reserved options with bpf_store_hdr_opt",
            args: ["BPF_WRITE_HDR_TCP_* reason or 0 (WriteHeaderReason)"], flags: SockOpsCallbackFlags.WriteHdrOpt, requestSocket: true),
        Tstamp(SockOp.TstampSchedCb, "TSTAMP_SCHED_CB", "TX timestamping: the skb reached the device layer"),
        Tstamp(SockOp.TstampSndSwCb, "TSTAMP_SND_SW_CB", "TX timestamping: software timestamp as the skb goes to the NIC"),
        Tstamp(SockOp.TstampSndHwCb, "TSTAMP_SND_HW_CB", "TX timestamping: hardware timestamp"),
        Tstamp(SockOp.TstampAckCb, "TSTAMP_ACK_CB", "TX timestamping: all skbs of one sendmsg were acknowledged"),
        Tstamp(SockOp.TstampSendmsgCb, "TSTAMP_SENDMSG_CB", "TX timestamping: once per sendmsg"),
    ];

    /// <summary>The descriptor of <paramref name="op"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not one of the 21 ops.</exception>
    public static SockOpDescriptor Of(SockOp op) =>
        (uint)op < (uint)All.Count ? All[(int)op] : throw new ArgumentOutOfRangeException(nameof(op), op, "Not a BPF_SOCK_OPS_* value.");

    /// <summary>The ops whose <c>skops-&gt;reply</c> the kernel uses.</summary>
    public static IReadOnlyList<SockOp> QueryOps { get; } = [.. All.Where(d => d.ReplyMeaning is not null).Select(d => d.Op)];
}
