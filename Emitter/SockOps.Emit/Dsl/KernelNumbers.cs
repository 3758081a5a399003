namespace SockOps.Emit;

/// <summary>
/// The kernel numbers the DSL compiler itself needs (helper ids, ctx offsets of pointer fields, flags), in
/// one place. Source: reference/kernel-sockops.md §1, §2.1, §5 (6.18 BTF).
/// </summary>
internal static class KernelNumbers
{
    // Helper ids (enum bpf_func_id).
    public const int MapLookupElem = 1, MapUpdateElem = 2, MapDeleteElem = 3, KtimeGetNs = 5, TracePrintk = 6,
        PerfEventOutput = 25, GetSocketCookie = 46, SetSockOpt = 49, SockMapUpdate = 53, GetSockOpt = 57,
        SockOpsCbFlagsSet = 59, SockHashUpdate = 70, TcpSock = 96, SkStorageGet = 107, SkStorageDelete = 108,
        GetNetnsCookie = 122, RingBufOutput = 130, RingBufReserve = 131, RingBufSubmit = 132, RingBufDiscard = 133,
        LoadHdrOpt = 142, StoreHdrOpt = 143, ReserveHdrOpt = 144, GetPrandomU32 = 7, KtimeGetCoarseNs = 160,
        KtimeGetBootNs = 125;

    public static string HelperName(int helper) => helper switch
    {
        MapLookupElem => "bpf_map_lookup_elem", MapUpdateElem => "bpf_map_update_elem", MapDeleteElem => "bpf_map_delete_elem",
        KtimeGetNs => "bpf_ktime_get_ns", TracePrintk => "bpf_trace_printk", PerfEventOutput => "bpf_perf_event_output",
        GetSocketCookie => "bpf_get_socket_cookie", SetSockOpt => "bpf_setsockopt", SockMapUpdate => "bpf_sock_map_update",
        GetSockOpt => "bpf_getsockopt", SockOpsCbFlagsSet => "bpf_sock_ops_cb_flags_set", SockHashUpdate => "bpf_sock_hash_update",
        TcpSock => "bpf_tcp_sock", SkStorageGet => "bpf_sk_storage_get", SkStorageDelete => "bpf_sk_storage_delete",
        GetNetnsCookie => "bpf_get_netns_cookie", RingBufOutput => "bpf_ringbuf_output", RingBufReserve => "bpf_ringbuf_reserve",
        RingBufSubmit => "bpf_ringbuf_submit", RingBufDiscard => "bpf_ringbuf_discard", LoadHdrOpt => "bpf_load_hdr_opt",
        StoreHdrOpt => "bpf_store_hdr_opt", ReserveHdrOpt => "bpf_reserve_hdr_opt", GetPrandomU32 => "bpf_get_prandom_u32",
        KtimeGetCoarseNs => "bpf_ktime_get_coarse_ns", KtimeGetBootNs => "bpf_ktime_get_boot_ns",
        _ => "helper #" + helper,
    };

    // struct bpf_sock_ops offsets used by the compiler itself (pointer fields).
    public const int CtxSk = 184, CtxSkbData = 192, CtxSkbDataEnd = 200, CtxSize = 224;

    public const int MaxStack = 512;

    /// <summary>License strings the kernel treats as GPL-compatible (include/linux/license.h).</summary>
    public static bool IsGplCompatible(string license) => license is "GPL" or "GPL v2" or "GPL and additional rights"
        or "Dual BSD/GPL" or "Dual MIT/GPL" or "Dual MPL/GPL";
}
