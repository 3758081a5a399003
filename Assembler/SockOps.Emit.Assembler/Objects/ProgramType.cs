namespace SockOps.Emit;

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
