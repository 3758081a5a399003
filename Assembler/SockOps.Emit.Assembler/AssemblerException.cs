namespace SockOps.Emit.Assembler;

/// <summary>
/// A program cannot be encoded: a label is unmarked or marked twice, or a jump does not reach its
/// target within the offset field. <see cref="InstructionIndex"/> names the instruction (index in the
/// builder's instruction list) when one is at fault.
/// </summary>
public class AssemblerException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AssemblerException() { }

    /// <summary>Creates the exception with a message.</summary>
    public AssemblerException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public AssemblerException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates the exception naming the instruction at fault.</summary>
    public AssemblerException(string message, int instructionIndex) : base(message) => InstructionIndex = instructionIndex;

    /// <summary>Index of the offending instruction in the builder's list, or -1.</summary>
    public int InstructionIndex { get; } = -1;
}

/// <summary>
/// An instruction cannot be built from the given operands (an immediate out of range, r10 as a
/// destination, a size the operation does not have, an instruction the ISA does not encode).
/// Thrown by the <see cref="InstructionBuilder"/> method that was called, naming its mnemonic and operands.
/// </summary>
public class InvalidInstructionException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    public InvalidInstructionException() { }

    /// <summary>Creates the exception with a message.</summary>
    public InvalidInstructionException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public InvalidInstructionException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates the exception for a mnemonic and its operands.</summary>
    /// <param name="mnemonic">The builder mnemonic, e.g. <c>ldxsx</c>.</param>
    /// <param name="operands">The operands as written, e.g. <c>DW, r1, r2, 0</c>.</param>
    /// <param name="reason">Why the combination is impossible.</param>
    public InvalidInstructionException(string mnemonic, string operands, string reason)
        : base($"{mnemonic} {operands}: {reason}")
    {
        Mnemonic = mnemonic;
        Operands = operands;
        Reason = reason;
    }

    /// <summary>The mnemonic of the refused instruction.</summary>
    public string Mnemonic { get; } = "";

    /// <summary>The operands of the refused instruction, as text.</summary>
    public string Operands { get; } = "";

    /// <summary>Why the instruction cannot be built.</summary>
    public string Reason { get; } = "";
}

/// <summary>
/// Bytes are not a valid instruction stream. <see cref="SlotIndex"/> is the 8-byte slot where the bad
/// instruction starts, <see cref="InstructionIndex"/> its index among decoded instructions, and
/// <see cref="Bytes"/> its bytes (up to 16).
/// </summary>
public class InstructionDecodeException : FormatException
{
    /// <summary>Creates the exception.</summary>
    public InstructionDecodeException() { }

    /// <summary>Creates the exception with a message.</summary>
    public InstructionDecodeException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public InstructionDecodeException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates the exception for the instruction at a slot.</summary>
    public InstructionDecodeException(int slotIndex, int instructionIndex, ReadOnlySpan<byte> bytes, string reason)
        : base($"Instruction {instructionIndex} at slot {slotIndex} (byte offset {slotIndex * Instruction.SlotSize}, bytes {Hex(bytes)}): {reason}")
    {
        SlotIndex = slotIndex;
        InstructionIndex = instructionIndex;
        Bytes = bytes.ToArray();
        Reason = reason;
    }

    /// <summary>The 8-byte slot where the bad instruction starts.</summary>
    public int SlotIndex { get; } = -1;

    /// <summary>The index of the bad instruction among the instructions before it (ld_imm64 counts once).</summary>
    public int InstructionIndex { get; } = -1;

    /// <summary>The offending bytes.</summary>
    public IReadOnlyList<byte> Bytes { get; } = [];

    /// <summary>What is wrong.</summary>
    public string Reason { get; } = "";

    private static string Hex(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty) return "none";
        var text = new System.Text.StringBuilder(bytes.Length * 3);
        foreach (byte b in bytes)
        {
            if (text.Length > 0) text.Append(' ');
            text.Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return text.ToString();
    }
}
