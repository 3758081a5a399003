namespace SockOps.Emit;

#pragma warning disable CA1707 // the kernel names are kept recognisable in the docs, members use .NET casing
#pragma warning disable CA1008 // values mirror kernel enums, whose zero is not always "None"

/// <summary><c>skops-&gt;op</c>: which callback the program runs for (<c>BPF_SOCK_OPS_*</c>, reference §5.1).</summary>
public enum SockOp
{
    /// <summary><c>BPF_SOCK_OPS_VOID</c> (0): unused.</summary>
    Void = 0,
    /// <summary><c>BPF_SOCK_OPS_TIMEOUT_INIT</c> (1): reply = SYN/SYN-ACK RTO in jiffies (≤ 0: default).</summary>
    TimeoutInit = 1,
    /// <summary><c>BPF_SOCK_OPS_RWND_INIT</c> (2): reply = initial receive window in packets (&lt; 0: default).</summary>
    RwndInit = 2,
    /// <summary><c>BPF_SOCK_OPS_TCP_CONNECT_CB</c> (3): an active open sent its SYN.</summary>
    TcpConnectCb = 3,
    /// <summary><c>BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB</c> (4): an active connection is established (skb = SYN-ACK).</summary>
    ActiveEstablishedCb = 4,
    /// <summary><c>BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB</c> (5): a passive connection is established (skb = final ACK).</summary>
    PassiveEstablishedCb = 5,
    /// <summary><c>BPF_SOCK_OPS_NEEDS_ECN</c> (6): reply = 1 if ECN is wanted.</summary>
    NeedsEcn = 6,
    /// <summary><c>BPF_SOCK_OPS_BASE_RTT</c> (7): reply = base RTT in µs (TCP-NV).</summary>
    BaseRtt = 7,
    /// <summary><c>BPF_SOCK_OPS_RTO_CB</c> (8): a retransmission timeout fired (needs <see cref="SockOpsCallbackFlags.Rto"/>).</summary>
    RtoCb = 8,
    /// <summary><c>BPF_SOCK_OPS_RETRANS_CB</c> (9): a retransmission (needs <see cref="SockOpsCallbackFlags.Retrans"/>).</summary>
    RetransCb = 9,
    /// <summary><c>BPF_SOCK_OPS_STATE_CB</c> (10): TCP state change, args = [old, new] (needs <see cref="SockOpsCallbackFlags.State"/>).</summary>
    StateCb = 10,
    /// <summary><c>BPF_SOCK_OPS_TCP_LISTEN_CB</c> (11): listen() was called.</summary>
    TcpListenCb = 11,
    /// <summary><c>BPF_SOCK_OPS_RTT_CB</c> (12): every RTT sample (needs <see cref="SockOpsCallbackFlags.Rtt"/>).</summary>
    RttCb = 12,
    /// <summary><c>BPF_SOCK_OPS_PARSE_HDR_OPT_CB</c> (13): parse TCP header options of a received packet.</summary>
    ParseHdrOptCb = 13,
    /// <summary><c>BPF_SOCK_OPS_HDR_OPT_LEN_CB</c> (14): reserve header option space (bpf_reserve_hdr_opt).</summary>
    HdrOptLenCb = 14,
    /// <summary><c>BPF_SOCK_OPS_WRITE_HDR_OPT_CB</c> (15): write the reserved options (bpf_store_hdr_opt).</summary>
    WriteHdrOptCb = 15,
    /// <summary><c>BPF_SOCK_OPS_TSTAMP_SCHED_CB</c> (16, 6.15+): TX timestamp, skb at the device layer. Socket not locked.</summary>
    TstampSchedCb = 16,
    /// <summary><c>BPF_SOCK_OPS_TSTAMP_SND_SW_CB</c> (17, 6.15+): software send timestamp. Socket not locked.</summary>
    TstampSndSwCb = 17,
    /// <summary><c>BPF_SOCK_OPS_TSTAMP_SND_HW_CB</c> (18, 6.15+): hardware send timestamp. Socket not locked.</summary>
    TstampSndHwCb = 18,
    /// <summary><c>BPF_SOCK_OPS_TSTAMP_ACK_CB</c> (19, 6.15+): all skbs of a sendmsg acknowledged. Socket not locked.</summary>
    TstampAckCb = 19,
    /// <summary><c>BPF_SOCK_OPS_TSTAMP_SENDMSG_CB</c> (20, 6.15+): once per sendmsg. Socket not locked.</summary>
    TstampSendmsgCb = 20,
}

/// <summary>Optional callbacks enabled with <c>bpf_sock_ops_cb_flags_set</c> (<c>BPF_SOCK_OPS_*_CB_FLAG</c>, reference §5.2).</summary>
[Flags]
public enum SockOpsCallbackFlags
{
    /// <summary>No optional callback.</summary>
    None = 0,
    /// <summary><c>BPF_SOCK_OPS_RTO_CB_FLAG</c>: enables <see cref="SockOp.RtoCb"/>.</summary>
    Rto = 1 << 0,
    /// <summary><c>BPF_SOCK_OPS_RETRANS_CB_FLAG</c>: enables <see cref="SockOp.RetransCb"/>.</summary>
    Retrans = 1 << 1,
    /// <summary><c>BPF_SOCK_OPS_STATE_CB_FLAG</c>: enables <see cref="SockOp.StateCb"/>.</summary>
    State = 1 << 2,
    /// <summary><c>BPF_SOCK_OPS_RTT_CB_FLAG</c>: enables <see cref="SockOp.RttCb"/>.</summary>
    Rtt = 1 << 3,
    /// <summary><c>BPF_SOCK_OPS_PARSE_ALL_HDR_OPT_CB_FLAG</c>: <see cref="SockOp.ParseHdrOptCb"/> for every packet.</summary>
    ParseAllHdrOpt = 1 << 4,
    /// <summary><c>BPF_SOCK_OPS_PARSE_UNKNOWN_HDR_OPT_CB_FLAG</c>: <see cref="SockOp.ParseHdrOptCb"/> for unknown options only.</summary>
    ParseUnknownHdrOpt = 1 << 5,
    /// <summary><c>BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG</c>: enables <see cref="SockOp.HdrOptLenCb"/> and <see cref="SockOp.WriteHdrOptCb"/>.</summary>
    WriteHdrOpt = 1 << 6,
    /// <summary><c>BPF_SOCK_OPS_ALL_CB_FLAGS</c> (0x7F).</summary>
    All = 0x7F,
}

/// <summary>Socket-level BPF callback flags set with <c>bpf_setsockopt(SOL_SOCKET, SK_BPF_CB_FLAGS, …)</c> (6.15+).</summary>
[Flags]
public enum SocketBpfCallbackFlags
{
    /// <summary>None.</summary>
    None = 0,
    /// <summary><c>SK_BPF_CB_TX_TIMESTAMPING</c>: enables the TSTAMP_* callbacks.</summary>
    TxTimestamping = 1,
    /// <summary><c>SK_BPF_CB_MASK</c>: every valid bit.</summary>
    Mask = TxTimestamping,
}

/// <summary>TCP states as sock_ops sees them (<c>BPF_TCP_*</c>, reference §5.3).</summary>
public enum TcpState
{
    /// <summary><c>BPF_TCP_ESTABLISHED</c>.</summary>
    Established = 1,
    /// <summary><c>BPF_TCP_SYN_SENT</c>.</summary>
    SynSent = 2,
    /// <summary><c>BPF_TCP_SYN_RECV</c>.</summary>
    SynRecv = 3,
    /// <summary><c>BPF_TCP_FIN_WAIT1</c>.</summary>
    FinWait1 = 4,
    /// <summary><c>BPF_TCP_FIN_WAIT2</c>.</summary>
    FinWait2 = 5,
    /// <summary><c>BPF_TCP_TIME_WAIT</c>.</summary>
    TimeWait = 6,
    /// <summary><c>BPF_TCP_CLOSE</c>.</summary>
    Close = 7,
    /// <summary><c>BPF_TCP_CLOSE_WAIT</c>.</summary>
    CloseWait = 8,
    /// <summary><c>BPF_TCP_LAST_ACK</c>.</summary>
    LastAck = 9,
    /// <summary><c>BPF_TCP_LISTEN</c>.</summary>
    Listen = 10,
    /// <summary><c>BPF_TCP_CLOSING</c>.</summary>
    Closing = 11,
    /// <summary><c>BPF_TCP_NEW_SYN_RECV</c>: a request socket.</summary>
    NewSynRecv = 12,
    /// <summary><c>BPF_TCP_BOUND_INACTIVE</c> (not in the 6.1 header).</summary>
    BoundInactive = 13,
    /// <summary><c>BPF_TCP_MAX_STATES</c> (sentinel; 13 on 6.1).</summary>
    MaxStates = 14,
}

/// <summary>Flags of <c>bpf_map_update_elem</c>, <c>bpf_sock_map_update</c>, <c>bpf_sock_hash_update</c>.</summary>
public enum MapUpdateFlags
{
    /// <summary><c>BPF_ANY</c>: create or update.</summary>
    Any = 0,
    /// <summary><c>BPF_NOEXIST</c>: create only.</summary>
    NoExist = 1,
    /// <summary><c>BPF_EXIST</c>: update only.</summary>
    Exist = 2,
}

/// <summary>Flags of <c>bpf_sk_storage_get</c>.</summary>
[Flags]
public enum SkStorageGetFlags
{
    /// <summary>Look up only.</summary>
    None = 0,
    /// <summary><c>BPF_SK_STORAGE_GET_F_CREATE</c>: create the entry (initialised from arg 3 or zeroed) if missing.</summary>
    Create = 1,
}

/// <summary>Flags of <c>bpf_load_hdr_opt</c>.</summary>
[Flags]
public enum LoadHeaderOptionFlags
{
    /// <summary>Search the current skb.</summary>
    None = 0,
    /// <summary><c>BPF_LOAD_HDR_OPT_TCP_SYN</c>: search the SYN packet (saved SYN / the SYN being answered).</summary>
    TcpSyn = 1,
}

/// <summary><c>args[0]</c> in <see cref="SockOp.HdrOptLenCb"/> and <see cref="SockOp.WriteHdrOptCb"/> (<c>BPF_WRITE_HDR_*</c>).</summary>
public enum WriteHeaderReason
{
    /// <summary>A real packet is being written.</summary>
    None = 0,
    /// <summary><c>BPF_WRITE_HDR_TCP_CURRENT_MSS</c>: the kernel is only computing the option space for the MSS; no skb.</summary>
    CurrentMss = 1,
    /// <summary><c>BPF_WRITE_HDR_TCP_SYNACK_COOKIE</c>: a SYN-ACK in syncookie mode.</summary>
    SynAckCookie = 2,
}

/// <summary>Fixed numbers for loading and using sock_ops programs and TCP header options.</summary>
public static class SockOpsConstants
{
    /// <summary><c>BPF_PROG_TYPE_SOCK_OPS</c>.</summary>
    public const int ProgramType = 13;
    /// <summary><c>BPF_CGROUP_SOCK_OPS</c>: the attach type (also the expected attach type to load with).</summary>
    public const int AttachType = 3;
    /// <summary><c>BPF_F_CURRENT_CPU</c>: the flags value for <c>bpf_perf_event_output</c> meaning "this CPU's buffer".</summary>
    public const ulong PerfEventCurrentCpu = 0xffffffff;
    /// <summary><c>TCPOPT_EOL</c>: end of the option list (never stored by bpf_store_hdr_opt).</summary>
    public const byte TcpOptionEndOfList = 0;
    /// <summary><c>TCPOPT_NOP</c>: padding (never stored by bpf_store_hdr_opt).</summary>
    public const byte TcpOptionNop = 1;
    /// <summary>RFC 4727 experimental option kind 253 (compared with its 2-byte magic by bpf_*_hdr_opt).</summary>
    public const byte TcpOptionExperimental1 = 253;
    /// <summary><c>TCPOPT_EXP</c> (254): RFC 4727/6994 experimental option kind, with a 2-byte magic after kind and length.</summary>
    public const byte TcpOptionExperimental = 254;
    /// <summary>The exclusive upper bound of helper ids on 6.18 (<c>__BPF_FUNC_MAX_ID</c>); larger ids are "invalid func".</summary>
    public const int HelperIdLimit = 212;
}
