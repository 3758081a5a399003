using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SockOps.Emit.Runtime.Interop;

// The parts of `union bpf_attr` (include/uapi/linux/bpf.h, Linux 6.18) each command uses. Offsets and
// sizes were taken from the running kernel's BTF (clang offsetof over `bpftool btf dump ... format c`).
// Each struct is sized to its last field (rounded to 8) so the kernel's tail-zero check passes on older
// kernels as long as the fields we set are known to them. `default` zeroes every byte.

[StructLayout(LayoutKind.Explicit, Size = 96)]
internal unsafe struct MapCreateAttr
{
    [FieldOffset(0)] public uint MapType;
    [FieldOffset(4)] public uint KeySize;
    [FieldOffset(8)] public uint ValueSize;
    [FieldOffset(12)] public uint MaxEntries;
    [FieldOffset(16)] public uint MapFlags;
    [FieldOffset(20)] public uint InnerMapFd;
    [FieldOffset(24)] public uint NumaNode;
    [FieldOffset(28)] public ObjectName MapName;
    [FieldOffset(44)] public uint MapIfIndex;
    [FieldOffset(48)] public uint BtfFd;
    [FieldOffset(52)] public uint BtfKeyTypeId;
    [FieldOffset(56)] public uint BtfValueTypeId;
    [FieldOffset(60)] public uint BtfVmlinuxValueTypeId;
    [FieldOffset(64)] public ulong MapExtra;
}

[StructLayout(LayoutKind.Explicit, Size = 32)]
internal struct MapElemAttr
{
    [FieldOffset(0)] public uint MapFd;
    [FieldOffset(8)] public ulong Key;
    [FieldOffset(16)] public ulong ValueOrNextKey;
    [FieldOffset(24)] public ulong Flags;
}

[StructLayout(LayoutKind.Explicit, Size = 168)]
internal struct ProgLoadAttr
{
    [FieldOffset(0)] public uint ProgType;
    [FieldOffset(4)] public uint InsnCount;
    [FieldOffset(8)] public ulong Insns;
    [FieldOffset(16)] public ulong License;
    [FieldOffset(24)] public uint LogLevel;
    [FieldOffset(28)] public uint LogSize;
    [FieldOffset(32)] public ulong LogBuf;
    [FieldOffset(40)] public uint KernVersion;
    [FieldOffset(44)] public uint ProgFlags;
    [FieldOffset(48)] public ObjectName ProgName;
    [FieldOffset(64)] public uint ProgIfIndex;
    [FieldOffset(68)] public uint ExpectedAttachType;
    [FieldOffset(72)] public uint ProgBtfFd;
    [FieldOffset(76)] public uint FuncInfoRecSize;
    [FieldOffset(80)] public ulong FuncInfo;
    [FieldOffset(88)] public uint FuncInfoCount;
    [FieldOffset(92)] public uint LineInfoRecSize;
    [FieldOffset(96)] public ulong LineInfo;
    [FieldOffset(104)] public uint LineInfoCount;
    [FieldOffset(108)] public uint AttachBtfId;
    [FieldOffset(112)] public uint AttachProgFd;
    [FieldOffset(116)] public uint CoreReloCount;
    [FieldOffset(120)] public ulong FdArray;
    [FieldOffset(128)] public ulong CoreRelos;
    [FieldOffset(136)] public uint CoreReloRecSize;
    [FieldOffset(140)] public uint LogTrueSize;
    [FieldOffset(144)] public int ProgTokenFd;
    [FieldOffset(148)] public uint FdArrayCount;
}

/// <summary>BPF_OBJ_PIN / BPF_OBJ_GET.</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
internal struct ObjPinAttr
{
    [FieldOffset(0)] public ulong PathName;
    [FieldOffset(8)] public uint BpfFd;
    [FieldOffset(12)] public uint FileFlags;
    [FieldOffset(16)] public int PathFd;
}

/// <summary>BPF_PROG_ATTACH / BPF_PROG_DETACH.</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
internal struct ProgAttachAttr
{
    [FieldOffset(0)] public uint TargetFd;
    [FieldOffset(4)] public uint AttachBpfFd;
    [FieldOffset(8)] public uint AttachType;
    [FieldOffset(12)] public uint AttachFlags;
    [FieldOffset(16)] public uint ReplaceBpfFd;
    [FieldOffset(20)] public uint RelativeFd;
    [FieldOffset(24)] public ulong ExpectedRevision;
}

/// <summary>BPF_*_GET_NEXT_ID / BPF_*_GET_FD_BY_ID.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct GetIdAttr
{
    [FieldOffset(0)] public uint StartOrObjectId;
    [FieldOffset(4)] public uint NextId;
    [FieldOffset(8)] public uint OpenFlags;
}

/// <summary>BPF_OBJ_GET_INFO_BY_FD.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct InfoAttr
{
    [FieldOffset(0)] public uint BpfFd;
    [FieldOffset(4)] public uint InfoLength;
    [FieldOffset(8)] public ulong Info;
}

/// <summary>BPF_PROG_QUERY.</summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
internal struct QueryAttr
{
    [FieldOffset(0)] public uint TargetFd;
    [FieldOffset(4)] public uint AttachType;
    [FieldOffset(8)] public uint QueryFlags;
    [FieldOffset(12)] public uint AttachFlags;
    [FieldOffset(16)] public ulong ProgIds;
    [FieldOffset(24)] public uint ProgCount;
    [FieldOffset(32)] public ulong ProgAttachFlags;
    [FieldOffset(40)] public ulong LinkIds;
    [FieldOffset(48)] public ulong LinkAttachFlags;
    [FieldOffset(56)] public ulong Revision;
}

/// <summary>BPF_BTF_LOAD.</summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
internal struct BtfLoadAttr
{
    [FieldOffset(0)] public ulong Btf;
    [FieldOffset(8)] public ulong LogBuf;
    [FieldOffset(16)] public uint BtfSize;
    [FieldOffset(20)] public uint LogSize;
    [FieldOffset(24)] public uint LogLevel;
    [FieldOffset(28)] public uint LogTrueSize;
}

/// <summary>BPF_LINK_CREATE for cgroup attach types.</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
internal struct LinkCreateAttr
{
    [FieldOffset(0)] public uint ProgFd;
    [FieldOffset(4)] public uint TargetFd;
    [FieldOffset(8)] public uint AttachType;
    [FieldOffset(12)] public uint Flags;
    [FieldOffset(16)] public uint RelativeFd;
    [FieldOffset(24)] public ulong ExpectedRevision;
}

/// <summary>BPF_LINK_UPDATE.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct LinkUpdateAttr
{
    [FieldOffset(0)] public uint LinkFd;
    [FieldOffset(4)] public uint NewProgFd;
    [FieldOffset(8)] public uint Flags;
    [FieldOffset(12)] public uint OldProgFd;
}

/// <summary>BPF_LINK_DETACH / BPF_ENABLE_STATS: one u32.</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
internal struct SingleWordAttr
{
    [FieldOffset(0)] public uint Value;
}

/// <summary>BPF_PROG_TEST_RUN.</summary>
[StructLayout(LayoutKind.Explicit, Size = 80)]
internal struct TestRunAttr
{
    [FieldOffset(0)] public uint ProgFd;
    [FieldOffset(4)] public uint Retval;
    [FieldOffset(8)] public uint DataSizeIn;
    [FieldOffset(12)] public uint DataSizeOut;
    [FieldOffset(16)] public ulong DataIn;
    [FieldOffset(24)] public ulong DataOut;
    [FieldOffset(32)] public uint Repeat;
    [FieldOffset(36)] public uint Duration;
    [FieldOffset(40)] public uint CtxSizeIn;
    [FieldOffset(44)] public uint CtxSizeOut;
    [FieldOffset(48)] public ulong CtxIn;
    [FieldOffset(56)] public ulong CtxOut;
    [FieldOffset(64)] public uint Flags;
    [FieldOffset(68)] public uint Cpu;
    [FieldOffset(72)] public uint BatchSize;
}

/// <summary>BPF_OBJ_NAME_LEN (16) bytes, NUL-terminated.</summary>
[InlineArray(16)]
internal struct ObjectName
{
    private byte _element0;

    /// <summary>Copies at most 15 bytes of an already sanitized ASCII name.</summary>
    public static ObjectName From(string? name)
    {
        var result = default(ObjectName);
        if (name is null) return result;
        Span<byte> bytes = result;
        for (int i = 0; i < name.Length && i < 15; i++) bytes[i] = (byte)name[i];
        return result;
    }

    public static string Read(ReadOnlySpan<byte> bytes)
    {
        int end = bytes.IndexOf((byte)0);
        return System.Text.Encoding.ASCII.GetString(end < 0 ? bytes : bytes[..end]);
    }
}

/// <summary>struct bpf_prog_info (232 bytes on 6.18); we pass the size we know, the kernel fills what it has.</summary>
[StructLayout(LayoutKind.Explicit, Size = 232)]
internal struct ProgInfoNative
{
    [FieldOffset(0)] public uint Type;
    [FieldOffset(4)] public uint Id;
    [FieldOffset(8)] public ulong Tag;
    [FieldOffset(16)] public uint JitedProgLen;
    [FieldOffset(20)] public uint XlatedProgLen;
    [FieldOffset(24)] public ulong JitedProgInsns;
    [FieldOffset(32)] public ulong XlatedProgInsns;
    [FieldOffset(40)] public ulong LoadTime;
    [FieldOffset(48)] public uint CreatedByUid;
    [FieldOffset(52)] public uint NrMapIds;
    [FieldOffset(56)] public ulong MapIds;
    [FieldOffset(64)] public ObjectName Name;
    [FieldOffset(128)] public uint BtfId;
    [FieldOffset(192)] public ulong RunTimeNs;
    [FieldOffset(200)] public ulong RunCnt;
    [FieldOffset(208)] public ulong RecursionMisses;
    [FieldOffset(216)] public uint VerifiedInsns;
}

/// <summary>struct bpf_map_info (104 bytes on 6.18), the leading fields we read.</summary>
[StructLayout(LayoutKind.Explicit, Size = 104)]
internal struct MapInfoNative
{
    [FieldOffset(0)] public uint Type;
    [FieldOffset(4)] public uint Id;
    [FieldOffset(8)] public uint KeySize;
    [FieldOffset(12)] public uint ValueSize;
    [FieldOffset(16)] public uint MaxEntries;
    [FieldOffset(20)] public uint MapFlags;
    [FieldOffset(24)] public ObjectName Name;
}

/// <summary>struct bpf_link_info (64 bytes on 6.18), common header plus the cgroup arm.</summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
internal struct LinkInfoNative
{
    [FieldOffset(0)] public uint Type;
    [FieldOffset(4)] public uint Id;
    [FieldOffset(8)] public uint ProgId;
    [FieldOffset(16)] public ulong CgroupId;
    [FieldOffset(24)] public uint CgroupAttachType;
}
