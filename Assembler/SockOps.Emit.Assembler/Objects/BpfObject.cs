using SockOps.Emit.Assembler;
using SockOps.Emit.Btf;

namespace SockOps.Emit.Objects;

/// <summary>
/// A BPF object without kernel state — what libbpf calls a <c>bpf_object</c> and cilium/ebpf a <c>CollectionSpec</c>:
/// programs, the maps they reference, and the BTF both use. The DSL produces one, an ELF object file holds one
/// (<see cref="ElfObjectWriter"/> writes one), and the Runtime loads one.
/// </summary>
public sealed class BpfObject
{
    /// <summary>Creates an object, checking that its parts agree (names unique, every reference resolvable, debug info with BTF).</summary>
    /// <param name="programs">The programs (at least one).</param>
    /// <param name="maps">The maps, including data sections such as <c>.rodata</c>.</param>
    /// <param name="btf">The object's BTF (types, strings of line info); empty for none.</param>
    /// <exception cref="ArgumentException">The parts do not agree; the message names the program or map.</exception>
    public BpfObject(IEnumerable<ObjectProgram> programs, IEnumerable<ObjectMap> maps, ReadOnlyMemory<byte> btf = default)
    {
        ArgumentNullException.ThrowIfNull(programs);
        ArgumentNullException.ThrowIfNull(maps);
        Programs = [.. programs];
        Maps = [.. maps];
        Btf = btf;
        Validate();
    }

    /// <summary>The programs, in file order.</summary>
    public IReadOnlyList<ObjectProgram> Programs { get; }

    /// <summary>The maps, in file order.</summary>
    public IReadOnlyList<ObjectMap> Maps { get; }

    /// <summary>The raw BTF blob (<c>.BTF</c>): map key/value types, one FUNC per program, line-info strings. Empty when absent.</summary>
    public ReadOnlyMemory<byte> Btf { get; }

    /// <summary>The program named <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No program has that name; the message lists those that exist.</exception>
    public ObjectProgram Program(string name) =>
        Programs.FirstOrDefault(p => p.Name == name)
        ?? throw new KeyNotFoundException($"The object has no program '{name}'; it has {string.Join(", ", Programs.Select(p => p.Name))}.");

    /// <summary>The map named <paramref name="name"/>, or null.</summary>
    public ObjectMap? FindMap(string name) => Maps.FirstOrDefault(m => m.Name == name);

    private void Validate()
    {
        if (Programs.Count == 0) throw new ArgumentException("An object needs at least one program.");
        var mapNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var map in Maps)
        {
            if (!mapNames.Add(map.Name)) throw new ArgumentException($"Map '{map.Name}' appears twice.");
            if ((map.KeyTypeId != 0 || map.ValueTypeId != 0) && Btf.IsEmpty)
                throw new ArgumentException($"Map '{map.Name}' names BTF types but the object has no BTF.");
        }
        var programNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var program in Programs)
        {
            if (!programNames.Add(program.Name)) throw new ArgumentException($"Program '{program.Name}' appears twice.");
            foreach (var reference in program.MapReferences)
            {
                if (!mapNames.Contains(reference.MapName))
                    throw new ArgumentException($"Program '{program.Name}' references map '{reference.MapName}' at instruction {reference.InstructionIndex}, which the object does not have.");
                if (reference.InstructionIndex < 0 || reference.InstructionIndex >= program.Instructions.Count || !program.Instructions[reference.InstructionIndex].IsWide)
                    throw new ArgumentException($"Program '{program.Name}': map reference '{reference.MapName}' at instruction {reference.InstructionIndex} is not an ld_imm64.");
            }
            foreach (var kfunc in program.KfuncReferences)
            {
                if (kfunc.InstructionIndex < 0 || kfunc.InstructionIndex >= program.Instructions.Count || !program.Instructions[kfunc.InstructionIndex].IsCall)
                    throw new ArgumentException($"Program '{program.Name}': kfunc reference '{kfunc.Name}' at instruction {kfunc.InstructionIndex} is not a call.");
            }
            if ((program.FuncInfo.Count > 0 || program.LineInfo.Count > 0) && Btf.IsEmpty)
                throw new ArgumentException($"Program '{program.Name}' has func/line info but the object has no BTF.");
        }
    }
}

/// <summary>One program of a <see cref="BpfObject"/>.</summary>
public sealed record ObjectProgram
{
    /// <summary>The program's name (its ELF symbol; the kernel keeps the first 15 characters).</summary>
    public required string Name { get; init; }

    /// <summary>The ELF section that holds the program (e.g. <c>sockops</c>); libbpf derives the type from it.</summary>
    public required string Section { get; init; }

    /// <summary>The program type.</summary>
    public required ProgramType Type { get; init; }

    /// <summary>The expected attach type passed to BPF_PROG_LOAD, when the type needs one.</summary>
    public AttachType? ExpectedAttachType { get; init; }

    /// <summary>The license (GPL-only helpers need a GPL-compatible one).</summary>
    public required string License { get; init; }

    /// <summary>The instructions (an ld_imm64 is one entry occupying two slots); map fds and kfunc ids still symbolic.</summary>
    public required IReadOnlyList<Instruction> Instructions { get; init; }

    /// <summary>The ld_imm64 instructions that receive a map fd (or a pointer into a data section's value).</summary>
    public IReadOnlyList<MapReference> MapReferences { get; init; } = [];

    /// <summary>The kfunc calls whose immediate receives the function's id in the kernel's BTF.</summary>
    public IReadOnlyList<KfuncReference> KfuncReferences { get; init; } = [];

    /// <summary>Function records (BTF FUNC ids of the object's <see cref="BpfObject.Btf"/>), by instruction index.</summary>
    public IReadOnlyList<BtfFuncInfo> FuncInfo { get; init; } = [];

    /// <summary>Line records (strings in the object's BTF), by instruction index.</summary>
    public IReadOnlyList<BtfLineInfo> LineInfo { get; init; } = [];

    /// <summary>The number of 8-byte slots the instructions occupy.</summary>
    public int Slots => Instructions.Sum(i => i.Slots);

    /// <summary>The encoded instructions (8 bytes per slot, little-endian).</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[Slots * Instruction.SlotSize];
        int offset = 0;
        foreach (var i in Instructions) offset += i.WriteTo(bytes.AsSpan(offset));
        return bytes;
    }

    /// <summary>The slot at which instruction <paramref name="instructionIndex"/> starts.</summary>
    public int SlotOf(int instructionIndex)
    {
        int slot = 0;
        for (int i = 0; i < instructionIndex; i++) slot += Instructions[i].Slots;
        return slot;
    }
}

/// <summary>How a loader pins a map (libbpf's <c>pinning</c> attribute of BTF-defined maps).</summary>
public enum MapPinning
{
    /// <summary>LIBBPF_PIN_NONE: not pinned.</summary>
    None = 0,
    /// <summary>LIBBPF_PIN_BY_NAME: pinned under the loader's pin directory by the map's name, and reused when present.</summary>
    ByName = 1,
}

/// <summary>One map of a <see cref="BpfObject"/>.</summary>
public sealed record ObjectMap
{
    /// <summary>The map's name (its ELF symbol, or the data section's name such as <c>.rodata</c>).</summary>
    public required string Name { get; init; }

    /// <summary>The map type.</summary>
    public required MapType Type { get; init; }

    /// <summary>Key size in bytes.</summary>
    public int KeySize { get; init; }

    /// <summary>Value size in bytes.</summary>
    public int ValueSize { get; init; }

    /// <summary>Maximum entries (bytes for a ring buffer, 0 for sk_storage).</summary>
    public uint MaxEntries { get; init; }

    /// <summary>Creation flags.</summary>
    public MapFlags Flags { get; init; }

    /// <summary>The BTF id of the key type in the object's BTF, or 0.</summary>
    public uint KeyTypeId { get; init; }

    /// <summary>The BTF id of the value type in the object's BTF, or 0.</summary>
    public uint ValueTypeId { get; init; }

    /// <summary>The value written under key 0 after creation (a data section's bytes); empty for none.</summary>
    public ReadOnlyMemory<byte> InitialValue { get; init; }

    /// <summary>Whether the loader freezes the map after writing <see cref="InitialValue"/> (read-only data).</summary>
    public bool Frozen { get; init; }

    /// <summary>How a loader pins the map.</summary>
    public MapPinning Pinning { get; init; }

    /// <summary>
    /// For a map that stands for an ELF data section (<c>.rodata</c>, <c>.data</c>, <c>.bss</c>), that section's name;
    /// null for a map declared in <c>.maps</c>.
    /// </summary>
    public string? DataSection { get; init; }
}
