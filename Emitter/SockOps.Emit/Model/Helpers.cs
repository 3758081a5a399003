using SockOps.Emit.Assembler;
using System.Globalization;

namespace SockOps.Emit;

/// <summary>What a helper returns in r0, as the verifier types it (<c>RET_*</c>).</summary>
public enum HelperReturnKind
{
    /// <summary><c>RET_INTEGER</c>: an unknown scalar.</summary>
    Integer,
    /// <summary><c>RET_VOID</c>: r0 is not readable afterwards.</summary>
    Void,
    /// <summary><c>RET_PTR_TO_MAP_VALUE_OR_NULL</c>: NULL-check before use.</summary>
    MapValueOrNull,
    /// <summary><c>RET_PTR_TO_MAP_VALUE</c>: never NULL (<c>bpf_get_local_storage</c>).</summary>
    MapValue,
    /// <summary><c>RET_PTR_TO_TCP_SOCK_OR_NULL</c>: a <c>struct bpf_tcp_sock</c> pointer, NULL-check before use.</summary>
    TcpSockOrNull,
    /// <summary><c>RET_PTR_TO_RINGBUF_MEM_OR_NULL</c>: a reservation that must be submitted or discarded on every path.</summary>
    RingbufMemOrNull,
    /// <summary><c>RET_PTR_TO_BTF_ID_OR_NULL</c>: a BTF-typed kernel pointer, NULL-check before use.</summary>
    BtfIdOrNull,
    /// <summary><c>RET_PTR_TO_BTF_ID</c>.</summary>
    BtfId,
    /// <summary><c>RET_PTR_TO_BTF_ID_TRUSTED</c>.</summary>
    TrustedBtfId,
    /// <summary><c>RET_PTR_TO_MEM_OR_BTF_ID | PTR_MAYBE_NULL | MEM_RDONLY</c> (<c>bpf_per_cpu_ptr</c>).</summary>
    ReadOnlyMemOrBtfIdOrNull,
    /// <summary><c>RET_PTR_TO_MEM_OR_BTF_ID | MEM_RDONLY</c> (<c>bpf_this_cpu_ptr</c>).</summary>
    ReadOnlyMemOrBtfId,
    /// <summary><c>RET_PTR_TO_DYNPTR_MEM_OR_NULL</c> (<c>bpf_dynptr_data</c>).</summary>
    DynptrMemOrNull,
}

/// <summary>What a helper argument register must hold (<c>ARG_*</c> with modifiers, reference §2.1 notes).</summary>
public enum HelperArgumentKind
{
    /// <summary><c>ARG_PTR_TO_CTX</c>: the unmodified ctx pointer.</summary>
    Context,
    /// <summary><c>ARG_PTR_TO_CTX_OR_NULL</c>: the ctx pointer or the constant 0.</summary>
    ContextOrNull,
    /// <summary><c>ARG_CONST_MAP_PTR</c>: a map loaded with <c>ld_imm64</c> (pseudo map fd/idx); see <see cref="HelperArgument.AcceptedMapTypes"/>.</summary>
    MapPointer,
    /// <summary><c>ARG_PTR_TO_MAP_KEY</c>: pointer to key_size initialized bytes (stack or map value).</summary>
    MapKey,
    /// <summary><c>ARG_PTR_TO_MAP_VALUE</c>: pointer to value_size initialized bytes.</summary>
    MapValue,
    /// <summary><c>ARG_PTR_TO_MAP_VALUE_OR_NULL</c>: as <see cref="MapValue"/> or the constant 0.</summary>
    MapValueOrNull,
    /// <summary><c>ARG_PTR_TO_MAP_VALUE | MEM_UNINIT | MEM_WRITE</c>: value_size bytes the helper fills.</summary>
    UninitializedMapValue,
    /// <summary><c>ARG_PTR_TO_MEM | MEM_RDONLY</c>: readable, initialized memory; its size is the next argument.</summary>
    ReadOnlyMemory,
    /// <summary><c>ARG_PTR_TO_MEM | PTR_MAYBE_NULL | MEM_RDONLY</c>.</summary>
    ReadOnlyMemoryOrNull,
    /// <summary><c>ARG_PTR_TO_MEM | MEM_WRITE</c>: memory the helper reads and writes (initialize it: the strict loader requires it).</summary>
    WritableMemory,
    /// <summary><c>ARG_PTR_TO_MEM_OR_NULL | MEM_WRITE</c>.</summary>
    WritableMemoryOrNull,
    /// <summary><c>ARG_PTR_TO_UNINIT_MEM</c>: memory the helper fills; may be uninitialized stack.</summary>
    UninitializedMemory,
    /// <summary><c>ARG_PTR_TO_FIXED_SIZE_MEM | MEM_UNINIT | MEM_WRITE | MEM_ALIGNED</c>: an aligned 8-byte result slot.</summary>
    FixedSizeUninitializedMemory,
    /// <summary><c>ARG_CONST_SIZE</c>: a known, bounded size &gt; 0 of the preceding memory argument.</summary>
    ConstSize,
    /// <summary><c>ARG_CONST_SIZE_OR_ZERO</c>: as <see cref="ConstSize"/>, 0 allowed.</summary>
    ConstSizeOrZero,
    /// <summary><c>ARG_CONST_ALLOC_SIZE_OR_ZERO</c>: a known constant allocation size.</summary>
    ConstAllocSizeOrZero,
    /// <summary><c>ARG_ANYTHING</c>: any scalar (a pointer leaks without CAP_PERFMON).</summary>
    Anything,
    /// <summary><c>ARG_PTR_TO_SOCK_COMMON</c>: a NULL-checked socket pointer (e.g. <c>skops-&gt;sk</c> after the check), not ctx.</summary>
    SockCommon,
    /// <summary><c>ARG_PTR_TO_BTF_ID_SOCK_COMMON</c>: as <see cref="SockCommon"/>, also BTF socket pointers.</summary>
    BtfIdSockCommon,
    /// <summary><c>ARG_PTR_TO_BTF_ID</c>.</summary>
    BtfId,
    /// <summary><c>ARG_PTR_TO_BTF_ID_OR_NULL</c>.</summary>
    BtfIdOrNull,
    /// <summary><c>ARG_PTR_TO_BTF_ID_OR_NULL | OBJ_RELEASE</c> (<c>bpf_kptr_xchg</c>).</summary>
    BtfIdOrNullRelease,
    /// <summary><c>ARG_PTR_TO_RINGBUF_MEM | OBJ_RELEASE</c>: the pointer from <c>bpf_ringbuf_reserve</c>, releasing it.</summary>
    RingbufMemoryRelease,
    /// <summary><c>ARG_PTR_TO_CONST_STR</c>: a NUL-terminated string in a read-only map value.</summary>
    ConstString,
    /// <summary><c>ARG_PTR_TO_SPIN_LOCK</c>.</summary>
    SpinLock,
    /// <summary><c>ARG_PTR_TO_TIMER</c>.</summary>
    Timer,
    /// <summary><c>ARG_PTR_TO_FUNC</c>: a callback (<c>ld_imm64</c> pseudo func).</summary>
    Function,
    /// <summary><c>ARG_PTR_TO_STACK_OR_NULL</c>: callback context on the stack, or 0.</summary>
    StackOrNull,
    /// <summary><c>ARG_KPTR_XCHG_DEST</c>.</summary>
    KptrExchangeDestination,
    /// <summary><c>ARG_PTR_TO_PERCPU_BTF_ID</c>.</summary>
    PercpuBtfId,
    /// <summary><c>ARG_PTR_TO_DYNPTR | DYNPTR_TYPE_RINGBUF | MEM_UNINIT | MEM_WRITE</c>.</summary>
    UninitializedRingbufDynptr,
    /// <summary><c>ARG_PTR_TO_DYNPTR | DYNPTR_TYPE_RINGBUF | OBJ_RELEASE</c>.</summary>
    RingbufDynptrRelease,
    /// <summary><c>ARG_PTR_TO_DYNPTR | DYNPTR_TYPE_LOCAL | MEM_UNINIT | MEM_WRITE</c>.</summary>
    UninitializedLocalDynptr,
    /// <summary><c>ARG_PTR_TO_DYNPTR | MEM_RDONLY</c>.</summary>
    ReadOnlyDynptr,
    /// <summary>
    /// <c>ARG_DONTCARE</c> in the kernel's prototype, yet read by the helper (e.g. the <c>flags</c> of
    /// <c>bpf_get_branch_snapshot</c>): the verifier does not check the register, so pass a real value.
    /// </summary>
    Unchecked,
}

/// <summary>Capabilities of the loading process that decide which helpers a sock_ops program may call.</summary>
[Flags]
public enum BpfCapabilities
{
    /// <summary>None (a sock_ops program cannot even be loaded).</summary>
    None = 0,
    /// <summary><c>CAP_BPF</c> (needed to load sock_ops; enables the CAP_BPF helper group).</summary>
    Bpf = 1,
    /// <summary><c>CAP_NET_ADMIN</c> (needed to load sock_ops).</summary>
    NetAdmin = 2,
    /// <summary><c>CAP_PERFMON</c> (enables trace_printk, probe_read_*, skc_to_* …).</summary>
    Perfmon = 4,
    /// <summary><c>CAP_SYS_ADMIN</c>: implies CAP_BPF and CAP_PERFMON for the verifier.</summary>
    SysAdmin = 8,
    /// <summary>What root has.</summary>
    Root = Bpf | NetAdmin | Perfmon | SysAdmin,
}

/// <summary>The capability a helper needs beyond loading the program (<c>bpf_base_func_proto</c> groups).</summary>
public enum HelperCapability
{
    /// <summary>Available to any sock_ops program.</summary>
    None,
    /// <summary>Needs <c>CAP_BPF</c> (always true for a loadable sock_ops program).</summary>
    Bpf,
    /// <summary>Needs <c>CAP_PERFMON</c> (or CAP_SYS_ADMIN).</summary>
    Perfmon,
}

/// <summary>One argument of a helper: its kind and, for a map pointer, the map types it accepts.</summary>
/// <param name="Kind">What the register must hold.</param>
/// <param name="AcceptedMapTypes">For <see cref="HelperArgumentKind.MapPointer"/>: the map types the model vouches for (empty otherwise).</param>
public sealed record HelperArgument(HelperArgumentKind Kind, IReadOnlyList<MapType> AcceptedMapTypes)
{
    /// <inheritdoc/>
    public override string ToString() => AcceptedMapTypes.Count == 0 ? Kind.ToString() : $"{Kind}({string.Join('|', AcceptedMapTypes)})";
}

/// <summary>
/// A kernel helper that a sock_ops program may name in a <c>call</c> (reference §2.1): its id,
/// licence and capability needs, and the verifier's argument and return types.
/// </summary>
public sealed class HelperDescriptor
{
    internal HelperDescriptor(int id, string name, bool gplOnly, HelperReturnKind returns, HelperCapability capability,
        IReadOnlyList<HelperArgument> arguments, bool mightSleep)
    {
        Id = id;
        Name = name;
        IsGplOnly = gplOnly;
        ReturnKind = returns;
        RequiredCapability = capability;
        Arguments = arguments;
        MightSleep = mightSleep;
    }

    /// <summary>The helper id (<c>BPF_FUNC_*</c>), the immediate of the call instruction.</summary>
    public int Id { get; }

    /// <summary>The C name, e.g. <c>bpf_setsockopt</c>.</summary>
    public string Name { get; }

    /// <summary>Whether the program's licence must be GPL-compatible.</summary>
    public bool IsGplOnly { get; }

    /// <summary>What r0 holds after the call.</summary>
    public HelperReturnKind ReturnKind { get; }

    /// <summary>The capability the loader needs beyond CAP_BPF + CAP_NET_ADMIN.</summary>
    public HelperCapability RequiredCapability { get; }

    /// <summary>The arguments r1.. in order (as the C prototype declares them; see <see cref="HelperArgumentKind.Unchecked"/>).</summary>
    public IReadOnlyList<HelperArgument> Arguments { get; }

    /// <summary>Whether the helper may sleep: sock_ops is not sleepable, so the verifier refuses the call ("helper call might sleep in a non-sleepable prog").</summary>
    public bool MightSleep { get; }

    /// <summary>The first kernel in which a sock_ops program may call it (see <see cref="HelperKernelVersions"/>).</summary>
    public KernelVersion MinimumKernel => HelperKernelVersions.MinimumKernel(Id);

    private KernelFeature? _feature;

    /// <summary>The helper as a kernel feature (calling it in a program for an older target is refused at emit time).</summary>
    public KernelFeature Feature => _feature ??= new KernelFeature(KernelFeatureKind.Helper, Name, MinimumKernel, HelperKernelVersions.Source(Id));

    /// <summary>Whether the result must be NULL-checked before use.</summary>
    public bool ReturnsNullable => ReturnKind is HelperReturnKind.MapValueOrNull or HelperReturnKind.TcpSockOrNull
        or HelperReturnKind.RingbufMemOrNull or HelperReturnKind.BtfIdOrNull or HelperReturnKind.ReadOnlyMemOrBtfIdOrNull
        or HelperReturnKind.DynptrMemOrNull;

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Name}#{Id}");
}

/// <summary>
/// A run-time (not verifier) condition of a helper in sock_ops (reference §2.3): the verifier does not
/// know <c>op</c>, so these calls load fine but fail when called in the wrong callback.
/// </summary>
/// <param name="HelperId">The helper.</param>
/// <param name="EffectiveOps">The ops in which the helper can succeed.</param>
/// <param name="NeedsFullSocket">Whether it fails (-EINVAL) on request sockets (<c>is_fullsock == 0</c>).</param>
/// <param name="Otherwise">What it returns outside those conditions.</param>
public sealed record HelperRuntimeHint(int HelperId, IReadOnlyList<SockOp> EffectiveOps, bool NeedsFullSocket, string Otherwise);

/// <summary>The helpers a sock_ops program may call on 6.18, and the ones it may not.</summary>
public static class Helpers
{
    private static HelperArgument A(HelperArgumentKind kind) => new(kind, []);
    private static HelperArgument Map(params MapType[] types) => new(HelperArgumentKind.MapPointer, types);

    private static readonly HelperArgument Ctx = A(HelperArgumentKind.Context);
    private static readonly HelperArgument Any = A(HelperArgumentKind.Anything);
    private static readonly HelperArgument RoMem = A(HelperArgumentKind.ReadOnlyMemory);
    private static readonly HelperArgument Size = A(HelperArgumentKind.ConstSize);
    private static readonly HelperArgument SizeOrZero = A(HelperArgumentKind.ConstSizeOrZero);
    private static readonly HelperArgument Uninit = A(HelperArgumentKind.UninitializedMemory);
    private static readonly HelperArgument Key = A(HelperArgumentKind.MapKey);
    private static readonly HelperArgument Func = A(HelperArgumentKind.Function);
    private static readonly HelperArgument StackOrNull = A(HelperArgumentKind.StackOrNull);
    private static readonly HelperArgument Timer = A(HelperArgumentKind.Timer);
    private static readonly HelperArgument RoDynptr = A(HelperArgumentKind.ReadOnlyDynptr);

    // Conservative: the general-purpose data maps. The kernel accepts a few more (devmap, xskmap …) that sock_ops has no use for.
    private static readonly MapType[] DataMaps =
        [MapType.Hash, MapType.Array, MapType.PerCpuHash, MapType.PerCpuArray, MapType.LruHash, MapType.LruPerCpuHash, MapType.LpmTrie];

    private static HelperDescriptor H(int id, string name, HelperReturnKind ret, params HelperArgument[] args) =>
        new(id, name, false, ret, HelperCapability.None, args, false);
    private static HelperDescriptor Bpf(int id, string name, HelperReturnKind ret, params HelperArgument[] args) =>
        new(id, name, false, ret, HelperCapability.Bpf, args, false);
    private static HelperDescriptor Perfmon(int id, string name, HelperReturnKind ret, params HelperArgument[] args) =>
        new(id, name, false, ret, HelperCapability.Perfmon, args, false);
    private static HelperDescriptor Gpl(HelperDescriptor d) =>
        new(d.Id, d.Name, true, d.ReturnKind, d.RequiredCapability, d.Arguments, d.MightSleep);
    private static HelperDescriptor Sleeps(HelperDescriptor d) =>
        new(d.Id, d.Name, d.IsGplOnly, d.ReturnKind, d.RequiredCapability, d.Arguments, true);

    private const HelperReturnKind Int = HelperReturnKind.Integer;
    private const HelperReturnKind Void = HelperReturnKind.Void;

    /// <summary>Every helper that passes <c>sock_ops_func_proto</c> on 6.18 (with expected attach type BPF_CGROUP_SOCK_OPS), in the order of reference §2.1.</summary>
    public static IReadOnlyList<HelperDescriptor> All { get; } =
    [
        // sock_ops_func_proto
        H(49, "bpf_setsockopt", Int, Ctx, Any, Any, RoMem, Size),
        H(57, "bpf_getsockopt", Int, Ctx, Any, Any, Uninit, Size),
        H(59, "bpf_sock_ops_cb_flags_set", Int, Ctx, Any),
        H(53, "bpf_sock_map_update", Int, Ctx, Map(MapType.SockMap), Key, Any),
        H(70, "bpf_sock_hash_update", Int, Ctx, Map(MapType.SockHash), Key, Any),
        H(46, "bpf_get_socket_cookie", Int, Ctx),
        Gpl(H(25, "bpf_perf_event_output", Int, Ctx, Map(MapType.PerfEventArray), Any, RoMem, SizeOrZero)),
        H(107, "bpf_sk_storage_get", HelperReturnKind.MapValueOrNull, Map(MapType.SkStorage), A(HelperArgumentKind.BtfIdSockCommon), A(HelperArgumentKind.MapValueOrNull), Any),
        H(108, "bpf_sk_storage_delete", Int, Map(MapType.SkStorage), A(HelperArgumentKind.BtfIdSockCommon)),
        H(122, "bpf_get_netns_cookie", Int, A(HelperArgumentKind.ContextOrNull)),
        H(142, "bpf_load_hdr_opt", Int, Ctx, A(HelperArgumentKind.WritableMemory), Size, Any),
        H(143, "bpf_store_hdr_opt", Int, Ctx, RoMem, Size, Any),
        H(144, "bpf_reserve_hdr_opt", Int, Ctx, Any, Any),
        H(96, "bpf_tcp_sock", HelperReturnKind.TcpSockOrNull, A(HelperArgumentKind.SockCommon)),
        // cgroup_common_func_proto
        H(81, "bpf_get_local_storage", HelperReturnKind.MapValue, Map(MapType.CgroupStorage, MapType.PerCpuCgroupStorage), Any),
        // bpf_sk_base_func_proto
        Perfmon(136, "bpf_skc_to_tcp6_sock", HelperReturnKind.BtfIdOrNull, A(HelperArgumentKind.BtfIdSockCommon)),
        Perfmon(137, "bpf_skc_to_tcp_sock", HelperReturnKind.BtfIdOrNull, A(HelperArgumentKind.BtfIdSockCommon)),
        Perfmon(138, "bpf_skc_to_tcp_timewait_sock", HelperReturnKind.BtfIdOrNull, A(HelperArgumentKind.BtfIdSockCommon)),
        Perfmon(139, "bpf_skc_to_tcp_request_sock", HelperReturnKind.BtfIdOrNull, A(HelperArgumentKind.BtfIdSockCommon)),
        Perfmon(140, "bpf_skc_to_udp6_sock", HelperReturnKind.BtfIdOrNull, A(HelperArgumentKind.BtfIdSockCommon)),
        Perfmon(178, "bpf_skc_to_unix_sock", HelperReturnKind.BtfIdOrNull, A(HelperArgumentKind.BtfIdSockCommon)),
        Perfmon(196, "bpf_skc_to_mptcp_sock", HelperReturnKind.BtfIdOrNull, A(HelperArgumentKind.SockCommon)),
        H(160, "bpf_ktime_get_coarse_ns", Int),
        // bpf_base_func_proto, unprivileged group
        // A sockmap/sockhash lookup passes the map check but returns a socket reference sock_ops cannot release (no bpf_sk_release): not listed.
        H(1, "bpf_map_lookup_elem", HelperReturnKind.MapValueOrNull, Map([.. DataMaps, MapType.ArrayOfMaps, MapType.HashOfMaps]), Key),
        H(2, "bpf_map_update_elem", Int, Map(DataMaps), Key, A(HelperArgumentKind.MapValue), Any),
        H(3, "bpf_map_delete_elem", Int, Map([.. DataMaps, MapType.SockMap, MapType.SockHash]), Key),
        H(87, "bpf_map_push_elem", Int, Map(MapType.Queue, MapType.Stack, MapType.BloomFilter), A(HelperArgumentKind.MapValue), Any),
        H(88, "bpf_map_pop_elem", Int, Map(MapType.Queue, MapType.Stack), A(HelperArgumentKind.UninitializedMapValue)),
        H(89, "bpf_map_peek_elem", Int, Map(MapType.Queue, MapType.Stack, MapType.BloomFilter), A(HelperArgumentKind.UninitializedMapValue)),
        H(195, "bpf_map_lookup_percpu_elem", HelperReturnKind.MapValueOrNull, Map(MapType.PerCpuHash, MapType.PerCpuArray, MapType.LruPerCpuHash), Key, Any),
        H(7, "bpf_get_prandom_u32", Int),
        H(8, "bpf_get_smp_processor_id", Int),
        H(42, "bpf_get_numa_node_id", Int),
        H(12, "bpf_tail_call", Void, Ctx, Map(MapType.ProgramArray), Any),
        H(5, "bpf_ktime_get_ns", Int),
        H(125, "bpf_ktime_get_boot_ns", Int),
        H(208, "bpf_ktime_get_tai_ns", Int),
        H(130, "bpf_ringbuf_output", Int, Map(MapType.RingBuf), RoMem, SizeOrZero, Any),
        H(131, "bpf_ringbuf_reserve", HelperReturnKind.RingbufMemOrNull, Map(MapType.RingBuf), A(HelperArgumentKind.ConstAllocSizeOrZero), Any),
        H(132, "bpf_ringbuf_submit", Void, A(HelperArgumentKind.RingbufMemoryRelease), Any),
        H(133, "bpf_ringbuf_discard", Void, A(HelperArgumentKind.RingbufMemoryRelease), Any),
        H(134, "bpf_ringbuf_query", Int, Map(MapType.RingBuf), Any),
        H(182, "bpf_strncmp", Int, RoMem, Size, A(HelperArgumentKind.ConstString)),
        H(105, "bpf_strtol", Int, RoMem, Size, Any, A(HelperArgumentKind.FixedSizeUninitializedMemory)),
        H(106, "bpf_strtoul", Int, RoMem, Size, Any, A(HelperArgumentKind.FixedSizeUninitializedMemory)),
        H(14, "bpf_get_current_pid_tgid", Int),
        H(120, "bpf_get_ns_current_pid_tgid", Int, Any, Any, Uninit, Size),
        H(15, "bpf_get_current_uid_gid", Int),
        // CAP_BPF group
        Bpf(93, "bpf_spin_lock", Void, A(HelperArgumentKind.SpinLock)),
        Bpf(94, "bpf_spin_unlock", Void, A(HelperArgumentKind.SpinLock)),
        Bpf(118, "bpf_jiffies64", Int),
        Bpf(153, "bpf_per_cpu_ptr", HelperReturnKind.ReadOnlyMemOrBtfIdOrNull, A(HelperArgumentKind.PercpuBtfId), Any),
        Bpf(154, "bpf_this_cpu_ptr", HelperReturnKind.ReadOnlyMemOrBtfId, A(HelperArgumentKind.PercpuBtfId)),
        Gpl(Bpf(169, "bpf_timer_init", Int, Timer, Map(MapType.Hash, MapType.Array, MapType.LruHash), Any)),
        Gpl(Bpf(170, "bpf_timer_set_callback", Int, Timer, Func)),
        Gpl(Bpf(171, "bpf_timer_start", Int, Timer, Any, Any)),
        Gpl(Bpf(172, "bpf_timer_cancel", Int, Timer)),
        Bpf(194, "bpf_kptr_xchg", HelperReturnKind.BtfIdOrNull, A(HelperArgumentKind.KptrExchangeDestination), A(HelperArgumentKind.BtfIdOrNullRelease)),
        Bpf(164, "bpf_for_each_map_elem", Int, Map(MapType.Hash, MapType.Array, MapType.PerCpuHash, MapType.PerCpuArray, MapType.LruHash, MapType.LruPerCpuHash), Func, StackOrNull, Any),
        Bpf(181, "bpf_loop", Int, Any, Func, StackOrNull, Any),
        Bpf(209, "bpf_user_ringbuf_drain", Int, Map(MapType.UserRingBuf), Func, StackOrNull, Any),
        Bpf(198, "bpf_ringbuf_reserve_dynptr", Int, Map(MapType.RingBuf), Any, Any, A(HelperArgumentKind.UninitializedRingbufDynptr)),
        Bpf(199, "bpf_ringbuf_submit_dynptr", Void, A(HelperArgumentKind.RingbufDynptrRelease), Any),
        Bpf(200, "bpf_ringbuf_discard_dynptr", Void, A(HelperArgumentKind.RingbufDynptrRelease), Any),
        Bpf(197, "bpf_dynptr_from_mem", Int, Uninit, SizeOrZero, Any, A(HelperArgumentKind.UninitializedLocalDynptr)),
        Bpf(201, "bpf_dynptr_read", Int, Uninit, SizeOrZero, RoDynptr, Any, Any),
        Bpf(202, "bpf_dynptr_write", Int, RoDynptr, Any, RoMem, SizeOrZero, Any),
        Bpf(203, "bpf_dynptr_data", HelperReturnKind.DynptrMemOrNull, RoDynptr, Any, A(HelperArgumentKind.ConstAllocSizeOrZero)),
        Bpf(210, "bpf_cgrp_storage_get", HelperReturnKind.MapValueOrNull, Map(MapType.CgrpStorage), A(HelperArgumentKind.BtfIdOrNull), A(HelperArgumentKind.MapValueOrNull), Any),
        Bpf(211, "bpf_cgrp_storage_delete", Int, Map(MapType.CgrpStorage), A(HelperArgumentKind.BtfIdOrNull)),
        Bpf(80, "bpf_get_current_cgroup_id", Int),
        Bpf(123, "bpf_get_current_ancestor_cgroup_id", Int, Any),
        Bpf(37, "bpf_current_task_under_cgroup", Int, Map(MapType.CgroupArray), Any),
        Bpf(17, "bpf_get_cgroup_classid", Int),
        Bpf(156, "bpf_task_storage_get", HelperReturnKind.MapValueOrNull, Map(MapType.TaskStorage), A(HelperArgumentKind.BtfIdOrNull), A(HelperArgumentKind.MapValueOrNull), Any),
        Bpf(157, "bpf_task_storage_delete", Int, Map(MapType.TaskStorage), A(HelperArgumentKind.BtfIdOrNull)),
        // CAP_PERFMON group. bpf_trace_printk is variadic: up to three format arguments go in r3-r5, unchecked.
        Gpl(Perfmon(6, "bpf_trace_printk", Int, RoMem, Size)),
        Gpl(Perfmon(35, "bpf_get_current_task", Int)),
        Gpl(Perfmon(158, "bpf_get_current_task_btf", HelperReturnKind.TrustedBtfId)),
        Perfmon(16, "bpf_get_current_comm", Int, Uninit, Size),
        Gpl(Perfmon(112, "bpf_probe_read_user", Int, Uninit, SizeOrZero, Any)),
        Gpl(Perfmon(113, "bpf_probe_read_kernel", Int, Uninit, SizeOrZero, Any)),
        Gpl(Perfmon(114, "bpf_probe_read_user_str", Int, Uninit, SizeOrZero, Any)),
        Gpl(Perfmon(115, "bpf_probe_read_kernel_str", Int, Uninit, SizeOrZero, Any)),
        Sleeps(Perfmon(148, "bpf_copy_from_user", Int, Uninit, SizeOrZero, Any)),
        Sleeps(Gpl(Perfmon(191, "bpf_copy_from_user_task", Int, Uninit, SizeOrZero, Any, A(HelperArgumentKind.BtfId), Any))),
        Perfmon(149, "bpf_snprintf_btf", Int, A(HelperArgumentKind.WritableMemory), Size, RoMem, Size, Any),
        Gpl(Perfmon(165, "bpf_snprintf", Int, A(HelperArgumentKind.WritableMemoryOrNull), SizeOrZero, A(HelperArgumentKind.ConstString), A(HelperArgumentKind.ReadOnlyMemoryOrNull), SizeOrZero)),
        Gpl(Perfmon(175, "bpf_task_pt_regs", HelperReturnKind.BtfId, A(HelperArgumentKind.BtfId))),
        Gpl(Perfmon(177, "bpf_trace_vprintk", Int, RoMem, Size, A(HelperArgumentKind.ReadOnlyMemoryOrNull), SizeOrZero)),
        Gpl(Perfmon(55, "bpf_perf_event_read_value", Int, Map(MapType.PerfEventArray), Any, Uninit, Size)),
        Gpl(Perfmon(22, "bpf_perf_event_read", Int, Map(MapType.PerfEventArray), Any)),
        Perfmon(109, "bpf_send_signal", Int, Any),
        Perfmon(117, "bpf_send_signal_thread", Int, Any),
        Perfmon(141, "bpf_get_task_stack", Int, A(HelperArgumentKind.BtfId), Uninit, SizeOrZero, Any),
        Gpl(Perfmon(176, "bpf_get_branch_snapshot", Int, Uninit, SizeOrZero, A(HelperArgumentKind.Unchecked))),
        Perfmon(180, "bpf_find_vma", Int, A(HelperArgumentKind.BtfId), Any, Func, StackOrNull, Any),
    ];

    private static readonly Dictionary<int, HelperDescriptor> ById = All.ToDictionary(h => h.Id);

    /// <summary>
    /// Ids in 1..<see cref="SockOpsConstants.HelperIdLimit"/>-1 that the verifier refuses for sock_ops
    /// ("program of this type cannot use helper"), ascending. Ids ≥ the limit are "invalid func".
    /// </summary>
    public static IReadOnlyList<int> RefusedIds { get; } =
        [.. Enumerable.Range(1, SockOpsConstants.HelperIdLimit - 1).Where(id => !ById.ContainsKey(id))];

    /// <summary>The helper with id <paramref name="id"/> if sock_ops can name it, else null.</summary>
    public static HelperDescriptor? Find(int id) => ById.GetValueOrDefault(id);

    /// <summary>The helper named <paramref name="name"/> (e.g. <c>bpf_setsockopt</c>), or null.</summary>
    public static HelperDescriptor? Find(string name) => All.FirstOrDefault(h => h.Name == name);

    /// <summary>Whether a sock_ops program with this licence, loaded with these capabilities, may call helper <paramref name="id"/>.</summary>
    public static bool IsAllowed(int id, bool isGplLicense, BpfCapabilities capabilities) =>
        WhyRefused(id, isGplLicense, capabilities) is null;

    /// <summary>
    /// Why the verifier refuses a call of helper <paramref name="id"/>, in its own words, or null when the
    /// call passes the helper checks (argument checks still apply). The order of checks is the
    /// verifier's: unknown id, not available for sock_ops (including a missing capability), licence, sleeping.
    /// </summary>
    public static string? WhyRefused(int id, bool isGplLicense, BpfCapabilities capabilities)
    {
        if (id < 0 || id >= SockOpsConstants.HelperIdLimit)
            return string.Create(CultureInfo.InvariantCulture, $"invalid func unknown#{id}");
        var helper = Find(id);
        bool perfmon = (capabilities & (BpfCapabilities.Perfmon | BpfCapabilities.SysAdmin)) != 0;
        bool bpf = (capabilities & (BpfCapabilities.Bpf | BpfCapabilities.SysAdmin)) != 0;
        if (helper is null
            || (helper.RequiredCapability == HelperCapability.Perfmon && !perfmon)
            || (helper.RequiredCapability == HelperCapability.Bpf && !bpf))
        {
            string name = helper?.Name ?? "helper";
            string why = helper is null ? "not available to sock_ops" : $"needs CAP_{helper.RequiredCapability.ToString().ToUpperInvariant()}";
            return string.Create(CultureInfo.InvariantCulture, $"program of this type cannot use helper {name}#{id} ({why})");
        }
        if (helper.IsGplOnly && !isGplLicense)
            return $"cannot call GPL-restricted function from non-GPL compatible program ({helper.Name})";
        if (helper.MightSleep)
            return $"helper call might sleep in a non-sleepable prog ({helper.Name})";
        return null;
    }

    private static readonly SockOp[] LockedOps = [.. Enumerable.Range(0, (int)SockOp.WriteHdrOptCb + 1).Select(i => (SockOp)i)];

    /// <summary>Run-time conditions of the sock_ops-specific helpers (reference §2.3), for emit-time lint.</summary>
    public static IReadOnlyList<HelperRuntimeHint> RuntimeHints { get; } =
    [
        new(49, LockedOps, true, "-EOPNOTSUPP in ops 16-20 (socket not locked); -EINVAL on a request socket"),
        new(57, LockedOps, true, "-EOPNOTSUPP in ops 16-20 (socket not locked); -EINVAL on a request socket"),
        new(59, LockedOps, true, "-EOPNOTSUPP in ops 16-20; -EINVAL on a request socket; returns the flags it could not set (flags & ~0x7F)"),
        new(142, LockedOps, false, "-EOPNOTSUPP in ops 16-20; without BPF_LOAD_HDR_OPT_TCP_SYN needs an skb and op != HDR_OPT_LEN_CB"),
        new(53, [SockOp.ActiveEstablishedCb, SockOp.PassiveEstablishedCb, SockOp.TcpListenCb], true, "-EOPNOTSUPP in other ops"),
        new(70, [SockOp.ActiveEstablishedCb, SockOp.PassiveEstablishedCb, SockOp.TcpListenCb], true, "-EOPNOTSUPP in other ops"),
        new(144, [SockOp.HdrOptLenCb], false, "-EPERM in other ops; -EINVAL for flags != 0 or len < 2; -ENOSPC past the remaining space"),
        new(143, [SockOp.WriteHdrOptCb], false, "-EPERM in other ops; -EINVAL, -ENOSPC, -EEXIST for a duplicate option"),
        new(96, [.. Enum.GetValues<SockOp>()], true, "NULL unless the socket is a full TCP socket"),
    ];

    /// <summary>The run-time hint for helper <paramref name="id"/>, or null if it has none.</summary>
    public static HelperRuntimeHint? FindRuntimeHint(int id) => RuntimeHints.FirstOrDefault(h => h.HelperId == id);
}
