using SockOps.Emit.Assembler;

namespace SockOps.Emit;

/// <summary>What kind of kernel-dependent feature a <see cref="KernelFeature"/> is.</summary>
public enum KernelFeatureKind
{
    /// <summary>An instruction form (cpu v2/v3/v4, …) or an instruction used in a particular way (immediate stores into ctx).</summary>
    Instruction,
    /// <summary>A helper function callable from sock_ops.</summary>
    Helper,
    /// <summary>A member of <c>struct bpf_sock_ops</c>.</summary>
    ContextField,
    /// <summary>A <c>BPF_SOCK_OPS_*</c> callback the kernel makes.</summary>
    Op,
    /// <summary>A callback flag of <c>bpf_sock_ops_cb_flags_set</c>.</summary>
    CallbackFlag,
    /// <summary>A (level, option) of <c>bpf_setsockopt</c>/<c>bpf_getsockopt</c>.</summary>
    SocketOption,
    /// <summary>A kernel function (kfunc) a sock_ops program may call.</summary>
    Kfunc,
    /// <summary>A map type.</summary>
    MapType,
    /// <summary>A way to attach (program type, bpf_link).</summary>
    Attach,
    /// <summary>What a callback passes (e.g. RTT_CB's arguments).</summary>
    CallbackArguments,
}

/// <summary>
/// One kernel-dependent feature and the first Linux release that has it for sock_ops programs. A program built
/// for a target below <see cref="MinimumKernel"/> that uses the feature is refused at emit time
/// (<see cref="EmitRule.TargetKernel"/>); a loader compares the features of an image with the running kernel.
/// </summary>
/// <param name="Kind">What it is.</param>
/// <param name="Name">Its kernel name (<c>bpf_sock_ops_enable_tx_tstamp</c>, <c>skb_hwtstamp</c>, <c>movsx (cpu v4)</c>).</param>
/// <param name="MinimumKernel">The first release that has it.</param>
/// <param name="Source">Where the version comes from (the kernel commit or source that introduced it).</param>
public sealed record KernelFeature(KernelFeatureKind Kind, string Name, KernelVersion MinimumKernel, string Source)
{
    /// <summary><c>Name (Linux X.Y)</c>.</summary>
    public override string ToString() => $"{Name} (Linux {MinimumKernel})";
}

/// <summary>The kernels a program can target, and the features that are not tied to one helper, field or option.</summary>
public static class KernelTargets
{
    /// <summary>
    /// The target of a build that names none: the oldest kernel the project proves (6.1), fixed in code so that the
    /// bytes do not depend on the machine that builds them.
    /// </summary>
    public static KernelVersion Default => KernelVersion.Linux6_1;

    /// <summary>Kernels the kernel matrix boots and checks in CI (6.1 and 6.12 under qemu, 6.18 on the host).</summary>
    public static IReadOnlyList<KernelVersion> Proven { get; } = [KernelVersion.Linux6_1, KernelVersion.Linux6_12, KernelVersion.Linux6_18];

    /// <summary>Kernels declared from the sources only (no such kernel package is served here to boot).</summary>
    public static IReadOnlyList<KernelVersion> OnPaper { get; } = [KernelVersion.Linux5_10, KernelVersion.Linux5_15];

    /// <summary>The oldest target the model describes at all (5.10: the header-option callbacks and skb_data).</summary>
    public static KernelVersion Oldest => KernelVersion.Linux5_10;

    /// <summary>BPF_PROG_TYPE_SOCK_OPS itself (4.13).</summary>
    public static KernelFeature SockOpsProgramType { get; } =
        new(KernelFeatureKind.Attach, "BPF_PROG_TYPE_SOCK_OPS", new(4, 13), "bpf: BPF support for sock_ops (v4.13)");

    /// <summary>Attaching a cgroup program through a bpf_link (BPF_LINK_CREATE; the loader falls back to BPF_PROG_ATTACH before it).</summary>
    public static KernelFeature CgroupLink { get; } =
        new(KernelFeatureKind.Attach, "bpf_link for cgroup programs (BPF_LINK_CREATE)", new(5, 7), "bpf: Implement bpf_link-based cgroup BPF program attachment (v5.7)");

    /// <summary>
    /// An immediate store (<c>BPF_ST</c>) into the ctx: before 6.4 check_mem_access refused "BPF_ST stores into R6 ctx is
    /// not allowed"; the emitter stores a register instead (<c>STX</c>) for older targets.
    /// </summary>
    public static KernelFeature ImmediateStoreIntoContext { get; } =
        new(KernelFeatureKind.Instruction, "immediate store (BPF_ST) into the ctx", new(6, 4), "0d80a619c113 bpf: allow ctx writes using BPF_ST_MEM instruction (v6.4)");

    /// <summary>
    /// RTT_CB's arguments: since 6.10 <c>tcp_bpf_rtt(sk, mrtt_us, srtt)</c> passes the
    /// new sample in args[0] and the updated smoothed RTT in args[1]; 6.1 passes no arguments (both read 0).
    /// </summary>
    public static KernelFeature RttCallbackArguments { get; } =
        new(KernelFeatureKind.CallbackArguments, "RTT_CB arguments (mrtt, srtt)", new(6, 10), "tcp: add mrtt and srtt as BPF_SOCK_OPS_RTT_CB args (Philo Lu, v6.10): 6.1 calls tcp_bpf_rtt(sk) with none");

    /// <summary><c>bpf_cast_to_kern_ctx</c> (a generic kfunc; 6.2).</summary>
    public static KernelFeature CastToKernelContext { get; } =
        new(KernelFeatureKind.Kfunc, "bpf_cast_to_kern_ctx", new(6, 2), "bpf: Add a kfunc to type cast from bpf uapi ctx to kernel ctx (v6.2)");

    /// <summary><c>bpf_sock_ops_enable_tx_tstamp</c> (6.15).</summary>
    public static KernelFeature EnableTxTimestamping { get; } =
        new(KernelFeatureKind.Kfunc, "bpf_sock_ops_enable_tx_tstamp", new(6, 15), "bpf: add BPF_SOCK_OPS_TSTAMP_SENDMSG_CB / bpf_sock_ops_enable_tx_tstamp kfunc (v6.15)");

    /// <summary>The callback flags, one feature per bit (<c>BPF_SOCK_OPS_*_CB_FLAG</c>).</summary>
    public static IReadOnlyList<(SockOpsCallbackFlags Flag, KernelFeature Feature)> CallbackFlags { get; } =
    [
        (SockOpsCallbackFlags.Rto, Flag("BPF_SOCK_OPS_RTO_CB_FLAG", 4, 16)),
        (SockOpsCallbackFlags.Retrans, Flag("BPF_SOCK_OPS_RETRANS_CB_FLAG", 4, 16)),
        (SockOpsCallbackFlags.State, Flag("BPF_SOCK_OPS_STATE_CB_FLAG", 4, 16)),
        (SockOpsCallbackFlags.Rtt, Flag("BPF_SOCK_OPS_RTT_CB_FLAG", 5, 3)),
        (SockOpsCallbackFlags.ParseAllHdrOpt, Flag("BPF_SOCK_OPS_PARSE_ALL_HDR_OPT_CB_FLAG", 5, 10)),
        (SockOpsCallbackFlags.ParseUnknownHdrOpt, Flag("BPF_SOCK_OPS_PARSE_UNKNOWN_HDR_OPT_CB_FLAG", 5, 10)),
        (SockOpsCallbackFlags.WriteHdrOpt, Flag("BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG", 5, 10)),
    ];

    private static KernelFeature Flag(string name, int major, int minor) =>
        new(KernelFeatureKind.CallbackFlag, name, new(major, minor), "include/uapi/linux/bpf.h BPF_SOCK_OPS_*_CB_FLAG");

    /// <summary>The feature of a map type the DSL declares (BPF_MAP_TYPE_*).</summary>
    public static KernelFeature MapTypeFeature(MapType kind) => MapTypes.TryGetValue(kind, out var feature) ? feature
        : throw new ArgumentOutOfRangeException(nameof(kind), kind, "The DSL does not declare maps of this type.");

    /// <summary>The map types the DSL declares, in enum order.</summary>
    public static IReadOnlyList<MapType> DeclarableMapTypes { get; } = [MapType.Hash, MapType.Array, MapType.PerfEventArray,
        MapType.PerCpuHash, MapType.PerCpuArray, MapType.LruHash, MapType.SockMap, MapType.SockHash, MapType.SkStorage, MapType.RingBuf];

    private static readonly Dictionary<MapType, KernelFeature> MapTypes = new()
    {
        [MapType.Hash] = Map("BPF_MAP_TYPE_HASH", 3, 19),
        [MapType.Array] = Map("BPF_MAP_TYPE_ARRAY", 3, 19),
        [MapType.PerfEventArray] = Map("BPF_MAP_TYPE_PERF_EVENT_ARRAY", 4, 3),
        [MapType.PerCpuHash] = Map("BPF_MAP_TYPE_PERCPU_HASH", 4, 6),
        [MapType.PerCpuArray] = Map("BPF_MAP_TYPE_PERCPU_ARRAY", 4, 6),
        [MapType.LruHash] = Map("BPF_MAP_TYPE_LRU_HASH", 4, 10),
        [MapType.SockMap] = Map("BPF_MAP_TYPE_SOCKMAP", 4, 14),
        [MapType.SockHash] = Map("BPF_MAP_TYPE_SOCKHASH", 4, 18),
        [MapType.SkStorage] = Map("BPF_MAP_TYPE_SK_STORAGE", 5, 2),
        [MapType.RingBuf] = Map("BPF_MAP_TYPE_RINGBUF", 5, 8),
    };

    private static KernelFeature Map(string name, int major, int minor) =>
        new(KernelFeatureKind.MapType, name, new(major, minor), "include/uapi/linux/bpf.h enum bpf_map_type");

    private static readonly Dictionary<InstructionForm, KernelFeature> Forms = InstructionKernelSupport.All.ToDictionary(
        f => f, f => new KernelFeature(KernelFeatureKind.Instruction, f.Name, f.MinimumKernel, "kernel/bpf/verifier.c (InstructionKernelSupport)"));

    /// <summary>The feature of an instruction form.</summary>
    public static KernelFeature InstructionForm(InstructionForm form) => Forms[form];
}
