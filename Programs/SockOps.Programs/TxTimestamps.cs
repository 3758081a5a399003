namespace SockOps.Programs;

/// <summary>
/// Per-sendmsg latency from sendmsg to ACK with the 6.15 BPF TX timestamping callbacks (TSTAMP_SENDMSG_CB …
/// TSTAMP_ACK_CB). <b>Not buildable with the current DSL</b>: see <see cref="UnavailableReason"/>.
/// </summary>
public static class TxTimestamps
{
    /// <summary>One-line summary.</summary>
    public const string Summary = "Per-sendmsg latency sendmsg→ACK via the 6.15 TSTAMP callbacks (needs kfunc calls: not yet in the DSL)";

    /// <summary>
    /// Why the program cannot be built. Only TSTAMP_SENDMSG_CB fires after <c>bpf_setsockopt(SK_BPF_CB_FLAGS,
    /// SK_BPF_CB_TX_TIMESTAMPING)</c>; the SCHED/SND_SW/ACK callbacks fire only for skbs marked by the kfunc
    /// <c>bpf_sock_ops_enable_tx_tstamp(kern_ctx, 0)</c> inside SENDMSG_CB, whose argument is the
    /// <c>struct bpf_sock_ops_kern *</c> returned by the kfunc <c>bpf_cast_to_kern_ctx(skops)</c>. The DSL lowers
    /// every call to <c>call imm</c> with src_reg 0 (helpers only): it has no kfunc call (src_reg
    /// BPF_PSEUDO_KFUNC_CALL with the function's vmlinux BTF id) and no pointer kind for a PTR_TO_BTF_ID result.
    /// </summary>
    public const string UnavailableReason =
        "the DSL cannot call kfuncs yet: the ACK/SCHED/SND_SW timestamp callbacks need bpf_sock_ops_enable_tx_tstamp(bpf_cast_to_kern_ctx(skops), 0) " +
        "in TSTAMP_SENDMSG_CB, i.e. two kfunc calls (src_reg BPF_PSEUDO_KFUNC_CALL, imm = vmlinux BTF id) and a PTR_TO_BTF_ID value; " +
        "the DSL emits helper calls only";
}
