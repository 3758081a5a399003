namespace SockOps.Emit.Assembler;

/// <summary>The dialect of assembler text.</summary>
public enum AsmDialect
{
    /// <summary>
    /// LLVM's BPF syntax, as <c>llvm-mc -triple bpf</c> accepts and <c>llvm-objdump -d</c> prints it
    /// (<c>r0 = 1</c>, <c>if w1 s&gt; 5 goto +3</c>, <c>r1 = *(u32 *)(r6 + 0)</c>, labels <c>LBB0_2:</c>).
    /// </summary>
    Llvm,

    /// <summary>
    /// The BPF ISA conformance suite's dialect (<c>mov32 %r0, 0</c>, <c>ldxb %r0, [%r1+0x2]</c>,
    /// <c>jeq %r1, 0xb, exit</c>); <c>exit</c> as a jump target means the first <c>exit</c> instruction.
    /// </summary>
    Conformance,
}

/// <summary>The output of <see cref="TextAssembler"/>: instructions with every label resolved.</summary>
public sealed class TextAssemblyResult
{
    private readonly Instruction[] _instructions;
    private readonly int[] _sourceLines;

    internal TextAssemblyResult(Instruction[] instructions, int[] sourceLines, int slotCount,
        IReadOnlyDictionary<string, int> labels, IReadOnlyList<MapReference> mapReferences)
    {
        _instructions = instructions;
        _sourceLines = sourceLines;
        SlotCount = slotCount;
        Labels = labels;
        MapReferences = mapReferences;
    }

    /// <summary>The instructions in program order (an ld_imm64 is one entry that takes two slots).</summary>
    public IReadOnlyList<Instruction> Instructions => _instructions;

    /// <summary>The 1-based source line of each entry of <see cref="Instructions"/>.</summary>
    public IReadOnlyList<int> SourceLines => _sourceLines;

    /// <summary>Program length in 8-byte slots (ld_imm64 counts 2).</summary>
    public int SlotCount { get; }

    /// <summary>Every label, by name, with the slot it marks (jump offsets count slots).</summary>
    public IReadOnlyDictionary<string, int> Labels { get; }

    /// <summary>
    /// ld_imm64 instructions that load a named map (LLVM syntax <c>r1 = my_map ll</c> where
    /// <c>my_map</c> is not a label). Their immediate is 0 until a loader patches in the map fd.
    /// </summary>
    public IReadOnlyList<MapReference> MapReferences { get; }

    /// <summary>The encoded program: <see cref="SlotCount"/> × 8 little-endian bytes.</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[SlotCount * Instruction.SlotSize];
        WriteTo(bytes);
        return bytes;
    }

    /// <summary>Writes the encoded program and returns the number of bytes written.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="SlotCount"/> × 8.</exception>
    public int WriteTo(Span<byte> destination)
    {
        int needed = SlotCount * Instruction.SlotSize;
        if (destination.Length < needed) throw new ArgumentException($"Need {needed} bytes, have {destination.Length}.", nameof(destination));
        int written = 0;
        foreach (var insn in _instructions) written += insn.WriteTo(destination[written..]);
        return written;
    }
}
