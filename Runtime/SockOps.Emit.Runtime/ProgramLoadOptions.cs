using SockOps.Emit.Btf;
using SockOps.Emit.Assembler;

namespace SockOps.Emit.Runtime;

/// <summary>Everything BPF_PROG_LOAD needs besides the kernel itself.</summary>
public sealed class ProgramLoadOptions
{
    /// <summary>Options for a sock_ops program: type <see cref="ProgramType.SockOps"/>, expected attach type
    /// <see cref="AttachType.CgroupSockOps"/> (what libbpf's <c>SEC("sockops")</c> uses), licence "GPL".</summary>
    public static ProgramLoadOptions ForSockOps(string name, IReadOnlyList<Instruction> instructions) => new()
    {
        Type = ProgramType.SockOps,
        ExpectedAttachType = AttachType.CgroupSockOps,
        Name = name,
        Instructions = instructions,
    };

    /// <summary>The program type, e.g. <see cref="ProgramType.SockOps"/>.</summary>
    public required ProgramType Type { get; init; }

    /// <summary>The expected attach type (sock_ops: <see cref="AttachType.CgroupSockOps"/>); null sends 0.</summary>
    public AttachType? ExpectedAttachType { get; init; }

    /// <summary>The license string; "GPL" (or a compatible one) unlocks GPL-only helpers.</summary>
    public string License { get; init; } = "GPL";

    /// <summary>The program name; sanitized to [A-Za-z0-9_.] and cut to 15 characters.</summary>
    public string? Name { get; init; }

    /// <summary>BPF_PROG_LOAD flags.</summary>
    public ProgramLoadFlags Flags { get; init; }

    /// <summary>The requested log level. With <see cref="VerifierLogLevel.None"/> the loader loads without a log
    /// and only on failure retries with <see cref="VerifierLogLevel.Basic"/> to explain the rejection.</summary>
    public VerifierLogLevel LogLevel { get; init; }

    /// <summary>Initial verifier log buffer size in bytes; it grows on ENOSPC.</summary>
    public int InitialLogSize { get; init; } = 16 * 1024;

    /// <summary>The instructions (an ld_imm64 is one element).</summary>
    public IReadOnlyList<Instruction> Instructions { get; init; } = [];

    /// <summary>Symbolic map references to patch into ld_imm64 instructions before loading.</summary>
    public IReadOnlyList<MapReference> MapReferences { get; init; } = [];

    /// <summary>The loaded maps <see cref="MapReferences"/> are resolved against, by name.</summary>
    public IReadOnlyDictionary<string, BpfMap>? Maps { get; init; }

    /// <summary>Optional fd_array: maps referenced by index with <see cref="PseudoSource.MapIndex"/>.</summary>
    public IReadOnlyList<BpfMap>? FdArray { get; init; }

    /// <summary>The program's BTF (types for <see cref="FuncInfo"/>, strings for <see cref="LineInfo"/>).</summary>
    public LoadedBtf? Btf { get; init; }

    /// <summary>BTF function records (bpf_func_info): the first must be at instruction 0. Needs <see cref="Btf"/>.</summary>
    public IReadOnlyList<BtfFuncInfo> FuncInfo { get; init; } = [];

    /// <summary>BTF line records (bpf_line_info), sorted by instruction. Needs <see cref="Btf"/> and <see cref="FuncInfo"/>.
    /// The verifier prints these source lines in its log.</summary>
    public IReadOnlyList<BtfLineInfo> LineInfo { get; init; } = [];
}
