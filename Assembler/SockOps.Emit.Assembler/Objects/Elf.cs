namespace SockOps.Emit.Objects;

/// <summary>
/// An object file cannot be read or written: malformed ELF, or something this toolkit does not support (CO-RE
/// relocations, externs, struct_ops). <see cref="Section"/> and <see cref="Detail"/> say where and what.
/// </summary>
public sealed class ObjectFileException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ObjectFileException() { }

    /// <summary>Creates the exception with a message.</summary>
    public ObjectFileException(string message) : base(message) => Detail = message;

    /// <summary>Creates the exception with a message and a cause.</summary>
    public ObjectFileException(string message, Exception innerException) : base(message, innerException) => Detail = message;

    /// <summary>Creates the exception naming the file and section at fault.</summary>
    /// <param name="file">The file (or "(stream)").</param>
    /// <param name="section">The ELF section, or null when the file as a whole is at fault.</param>
    /// <param name="detail">What is wrong.</param>
    public ObjectFileException(string file, string? section, string detail)
        : base(section is null ? $"{file}: {detail}" : $"{file}: section {section}: {detail}")
    {
        File = file;
        Section = section;
        Detail = detail;
    }

    /// <summary>The file, when known.</summary>
    public string? File { get; }

    /// <summary>The ELF section at fault, when one is.</summary>
    public string? Section { get; }

    /// <summary>What is wrong, without the location.</summary>
    public string Detail { get; } = "";
}

/// <summary>The ELF numbers a BPF relocatable object uses (elf.h, and LLVM's BPF relocation types).</summary>
internal static class Elf
{
    public const ushort RelocatableType = 1;   // ET_REL
    public const ushort MachineBpf = 247;      // EM_BPF
    public const int HeaderSize = 64, SectionHeaderSize = 64, SymbolSize = 24, RelSize = 16;

    public const uint SectionNull = 0, SectionProgBits = 1, SectionSymtab = 2, SectionStrtab = 3, SectionRela = 4,
        SectionNoBits = 8, SectionRel = 9, SectionLlvmAddrsig = 0x6fff4c03;

    public const ulong FlagWrite = 0x1, FlagAlloc = 0x2, FlagExec = 0x4, FlagMerge = 0x10, FlagStrings = 0x20, FlagInfoLink = 0x40;

    public const byte BindLocal = 0, BindGlobal = 1, BindWeak = 2;
    public const byte TypeNoType = 0, TypeObject = 1, TypeFunc = 2, TypeSection = 3, TypeFile = 4;
    public const ushort SectionUndefined = 0, SectionAbsolute = 0xfff1, SectionCommon = 0xfff2;

    /// <summary>R_BPF_64_64: the 64-bit immediate of an ld_imm64 (map or data address).</summary>
    public const uint RelocBpf64_64 = 1;
    /// <summary>R_BPF_64_ABS64: an absolute 64-bit data word (DWARF/BTF sections).</summary>
    public const uint RelocBpf64Abs64 = 2;
    /// <summary>R_BPF_64_ABS32: an absolute 32-bit data word.</summary>
    public const uint RelocBpf64Abs32 = 3;
    /// <summary>R_BPF_64_NODYLD32: a 32-bit word in .BTF/.BTF.ext the linker resolves.</summary>
    public const uint RelocBpf64NoDyld32 = 4;
    /// <summary>R_BPF_64_32: the 32-bit immediate of a call (bpf-to-bpf or kfunc).</summary>
    public const uint RelocBpf64_32 = 10;

    public const ushort BtfExtMagic = 0xeB9F;
}
