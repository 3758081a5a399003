namespace SockOps.Emit.Runtime;

/// <summary>BPF map types (<c>enum bpf_map_type</c>).</summary>
public enum MapType
{
    /// <summary>BPF_MAP_TYPE_HASH</summary>
    Hash = 1,
    /// <summary>BPF_MAP_TYPE_ARRAY</summary>
    Array = 2,
    /// <summary>BPF_MAP_TYPE_PROG_ARRAY</summary>
    ProgramArray = 3,
    /// <summary>BPF_MAP_TYPE_PERF_EVENT_ARRAY</summary>
    PerfEventArray = 4,
    /// <summary>BPF_MAP_TYPE_PERCPU_HASH</summary>
    PercpuHash = 5,
    /// <summary>BPF_MAP_TYPE_PERCPU_ARRAY</summary>
    PercpuArray = 6,
    /// <summary>BPF_MAP_TYPE_LRU_HASH</summary>
    LruHash = 9,
    /// <summary>BPF_MAP_TYPE_LRU_PERCPU_HASH</summary>
    LruPercpuHash = 10,
    /// <summary>BPF_MAP_TYPE_SOCKMAP</summary>
    SockMap = 15,
    /// <summary>BPF_MAP_TYPE_SOCKHASH</summary>
    SockHash = 18,
    /// <summary>BPF_MAP_TYPE_SK_STORAGE</summary>
    SkStorage = 24,
    /// <summary>BPF_MAP_TYPE_RINGBUF</summary>
    RingBuf = 27,
}

/// <summary>BPF_MAP_CREATE flags.</summary>
[Flags]
public enum MapFlags : uint
{
    /// <summary>No flags.</summary>
    None = 0,
    /// <summary>BPF_F_NO_PREALLOC: allocate elements on demand (required by sk_storage).</summary>
    NoPrealloc = 1u << 0,
    /// <summary>BPF_F_NO_COMMON_LRU: per-CPU LRU lists.</summary>
    NoCommonLru = 1u << 1,
    /// <summary>BPF_F_RDONLY: user space may only read.</summary>
    ReadOnly = 1u << 3,
    /// <summary>BPF_F_WRONLY: user space may only write.</summary>
    WriteOnly = 1u << 4,
    /// <summary>BPF_F_ZERO_SEED: deterministic hash seed (testing).</summary>
    ZeroSeed = 1u << 6,
    /// <summary>BPF_F_RDONLY_PROG: programs may only read.</summary>
    ReadOnlyProgram = 1u << 7,
    /// <summary>BPF_F_WRONLY_PROG: programs may only write.</summary>
    WriteOnlyProgram = 1u << 8,
    /// <summary>BPF_F_CLONE: sk_storage entries are cloned to child sockets.</summary>
    Clone = 1u << 9,
    /// <summary>BPF_F_MMAPABLE: the array can be mmap()ed.</summary>
    Mmapable = 1u << 10,
}

/// <summary>BPF_MAP_UPDATE_ELEM flags.</summary>
public enum UpdateFlags : ulong
{
    /// <summary>BPF_ANY: create or replace.</summary>
    Any = 0,
    /// <summary>BPF_NOEXIST: create only (EEXIST if present).</summary>
    NoExist = 1,
    /// <summary>BPF_EXIST: replace only (ENOENT if absent).</summary>
    Exist = 2,
}
