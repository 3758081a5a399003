namespace SockOps.Emit.Runtime;

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
