namespace SockOps.Emit.Assembler;

/// <summary>The dialect of assembler text.</summary>
public enum AsmDialect
{
    /// <summary>
    /// LLVM's BPF syntax, as <c>llvm-mc -triple bpf</c> accepts and <c>llvm-objdump -d</c> prints it
    /// (<c>r0 = 1</c>, <c>if w1 s&gt; 5 goto +3</c>, <c>r1 = *(u32 *)(r6 + 0)</c>, labels <c>LBB0_2:</c>),
    /// including newer LLVM's cpu v4+ forms (<c>r1 s/= r2</c>, <c>r1 = (s8)r2</c>, <c>r1 = *(s8 *)(r2 + 0)</c>,
    /// <c>r1 = bswap16 r1</c>, <c>gotol</c>, <c>may_goto</c>, <c>if r1 &amp; r2 goto</c>, <c>*(u32 *)(r10 - 8) = 5</c>,
    /// <c>addr_space_cast</c>, <c>load_acquire</c>, <c>store_release</c>) and objdump's <c>ld_pseudo r1, 1, 5</c>.
    /// </summary>
    /// <remarks>
    /// As in llvm-mc: <c>;</c> separates statements; <c>call LABEL</c> is a bpf-to-bpf call;
    /// <c>rN = SYMBOL ll</c> loads a function pointer when SYMBOL is a label, else it is a map
    /// reference (<see cref="TextAssemblyResult.MapReferences"/>); <c>callx rN</c> puts the register in
    /// dst (LLVM 19). Unlike llvm-mc, values that do not fit their field are refused, not truncated
    /// (<c>r1 = 4294967296</c>), and LLVM's internal r11 is refused. A trailing <c>&lt;label&gt;</c> after a
    /// numeric jump offset (objdump's annotation) is ignored. There is no syntax for kfunc calls.
    /// </remarks>
    Llvm,

    /// <summary>
    /// The BPF ISA conformance suite's dialect (<c>mov32 %r0, 0</c>, <c>ldxb %r0, [%r1+0x2]</c>,
    /// <c>jeq %r1, 0xb, exit</c>); <c>exit</c> as a jump target means the first <c>exit</c> instruction.
    /// </summary>
    /// <remarks>
    /// Matches the suite's own assembler (bpf_conformance lib/src/bpf_assembler.cc) byte for byte on
    /// every suite program, including its number rules (decimal immediates are signed 32-bit, hex ones
    /// 32-bit patterns up to 0xffffffff; offsets likewise in 16 bits) and <c>call local</c>/<c>call
    /// runtime</c>/<c>call %rN</c>. Differences: an instruction may follow a label on the same line
    /// (the suite's assembler drops it); %r11..%r15 are refused; a user label named <c>exit</c> wins
    /// over the implicit one; <c>;</c> and <c>//</c> also start comments; spaces inside operands are allowed.
    /// </remarks>
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
