namespace SockOps.Emit.Runtime;

/// <summary>BPF program types (<c>enum bpf_prog_type</c>).</summary>
public enum ProgramType
{
    /// <summary>BPF_PROG_TYPE_UNSPEC</summary>
    Unspecified = 0,
    /// <summary>BPF_PROG_TYPE_SOCKET_FILTER</summary>
    SocketFilter = 1,
    /// <summary>BPF_PROG_TYPE_KPROBE</summary>
    Kprobe = 2,
    /// <summary>BPF_PROG_TYPE_SCHED_CLS</summary>
    SchedClassifier = 3,
    /// <summary>BPF_PROG_TYPE_SCHED_ACT</summary>
    SchedAction = 4,
    /// <summary>BPF_PROG_TYPE_TRACEPOINT</summary>
    Tracepoint = 5,
    /// <summary>BPF_PROG_TYPE_XDP</summary>
    Xdp = 6,
    /// <summary>BPF_PROG_TYPE_PERF_EVENT</summary>
    PerfEvent = 7,
    /// <summary>BPF_PROG_TYPE_CGROUP_SKB</summary>
    CgroupSkb = 8,
    /// <summary>BPF_PROG_TYPE_CGROUP_SOCK</summary>
    CgroupSock = 9,
    /// <summary>BPF_PROG_TYPE_SOCK_OPS</summary>
    SockOps = 13,
    /// <summary>BPF_PROG_TYPE_SK_SKB</summary>
    SkSkb = 14,
    /// <summary>BPF_PROG_TYPE_CGROUP_DEVICE</summary>
    CgroupDevice = 15,
    /// <summary>BPF_PROG_TYPE_SK_MSG</summary>
    SkMsg = 16,
    /// <summary>BPF_PROG_TYPE_CGROUP_SOCK_ADDR</summary>
    CgroupSockAddr = 18,
    /// <summary>BPF_PROG_TYPE_CGROUP_SYSCTL</summary>
    CgroupSysctl = 23,
    /// <summary>BPF_PROG_TYPE_CGROUP_SOCKOPT</summary>
    CgroupSockopt = 25,
    /// <summary>BPF_PROG_TYPE_SK_LOOKUP</summary>
    SkLookup = 30,
    /// <summary>BPF_PROG_TYPE_SYSCALL</summary>
    Syscall = 31,
}

/// <summary>BPF attach types (<c>enum bpf_attach_type</c>).</summary>
public enum AttachType
{
    /// <summary>BPF_CGROUP_INET_INGRESS</summary>
    CgroupInetIngress = 0,
    /// <summary>BPF_CGROUP_INET_EGRESS</summary>
    CgroupInetEgress = 1,
    /// <summary>BPF_CGROUP_INET_SOCK_CREATE</summary>
    CgroupInetSockCreate = 2,
    /// <summary>BPF_CGROUP_SOCK_OPS</summary>
    CgroupSockOps = 3,
    /// <summary>BPF_SK_SKB_STREAM_PARSER</summary>
    SkSkbStreamParser = 4,
    /// <summary>BPF_SK_SKB_STREAM_VERDICT</summary>
    SkSkbStreamVerdict = 5,
    /// <summary>BPF_CGROUP_DEVICE</summary>
    CgroupDevice = 6,
    /// <summary>BPF_SK_MSG_VERDICT</summary>
    SkMsgVerdict = 7,
    /// <summary>BPF_XDP</summary>
    Xdp = 37,
}

/// <summary>Flags of BPF_PROG_LOAD (<c>prog_flags</c>).</summary>
[Flags]
public enum ProgramLoadFlags : uint
{
    /// <summary>No flags.</summary>
    None = 0,
    /// <summary>BPF_F_STRICT_ALIGNMENT: verify alignment as if the CPU required it.</summary>
    StrictAlignment = 1u << 0,
    /// <summary>BPF_F_ANY_ALIGNMENT: allow any alignment.</summary>
    AnyAlignment = 1u << 1,
    /// <summary>BPF_F_TEST_RND_HI32: randomise upper halves (verifier testing).</summary>
    TestRandomHigh32 = 1u << 2,
    /// <summary>BPF_F_TEST_STATE_FREQ: verifier testing.</summary>
    TestStateFrequency = 1u << 3,
    /// <summary>BPF_F_SLEEPABLE</summary>
    Sleepable = 1u << 4,
    /// <summary>BPF_F_XDP_HAS_FRAGS</summary>
    XdpHasFragments = 1u << 5,
}

/// <summary>Verifier log levels (<c>log_level</c> bits).</summary>
[Flags]
public enum VerifierLogLevel : uint
{
    /// <summary>No log unless the load fails (then the loader retries with <see cref="Basic"/>).</summary>
    None = 0,
    /// <summary>BPF_LOG_LEVEL1: the path the verifier walked up to an error.</summary>
    Basic = 1,
    /// <summary>BPF_LOG_LEVEL2: every instruction with full register state.</summary>
    Verbose = 2,
    /// <summary>BPF_LOG_STATS: the statistics summary only.</summary>
    Statistics = 4,
}
