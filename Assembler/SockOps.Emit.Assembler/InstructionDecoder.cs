using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SockOps.Emit.Assembler;

/// <summary>
/// Turns little-endian bytes into <see cref="Instruction"/> values, refusing anything that is not an
/// encodable instruction (<see cref="Isa.Validate"/>) with an <see cref="InstructionDecodeException"/>
/// that names the slot, the instruction index and the bytes.
/// </summary>
[SkipLocalsInit]
public static class InstructionDecoder
{
    /// <summary>Decodes a whole instruction stream.</summary>
    /// <exception cref="InstructionDecodeException">
    /// The length is not a multiple of 8, an ld_imm64 is truncated or has a bad second slot, an opcode
    /// is unknown or a field is out of range.
    /// </exception>
    public static Instruction[] Decode(ReadOnlySpan<byte> bytes)
    {
        CheckLength(bytes);
        int slots = bytes.Length / Instruction.SlotSize;
        // Count first so the result is allocated once at its exact size (a truncated trailing
        // ld_imm64 counts as one and is reported by DecodeAt).
        var result = GC.AllocateUninitializedArray<Instruction>(CountInstructions(bytes, slots));
        int count = 0;
        for (int slot = 0; slot < slots; count++)
            slot += DecodeAt(bytes, slot, count, out result[count]);
        return result;
    }

    /// <summary>
    /// Enumerates the instructions without allocating; a bad instruction throws when it is reached
    /// (a length that is not a multiple of 8 throws on the first <c>MoveNext</c>).
    /// </summary>
    public static Enumerator Enumerate(ReadOnlySpan<byte> bytes) => new(bytes);

    /// <summary>
    /// Decodes the instruction that starts at the beginning of <paramref name="bytes"/>.
    /// </summary>
    /// <param name="bytes">Bytes starting at an instruction boundary.</param>
    /// <param name="instruction">The decoded instruction, or default on failure.</param>
    /// <param name="bytesConsumed">8 or 16 on success, 0 on failure.</param>
    /// <param name="error">Why decoding failed, or null.</param>
    /// <returns>Whether an instruction was decoded.</returns>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, out Instruction instruction, out int bytesConsumed, out string? error)
    {
        instruction = default;
        bytesConsumed = 0;
        if (bytes.Length < Instruction.SlotSize)
        {
            error = string.Create(CultureInfo.InvariantCulture, $"an instruction needs 8 bytes, {bytes.Length} remain.");
            return false;
        }
        error = TryDecodeCore(bytes, 0, out instruction, out int slots);
        if (error is not null) return false;
        bytesConsumed = slots * Instruction.SlotSize;
        return true;
    }

    /// <summary>A non-allocating enumerator over an instruction stream.</summary>
    public ref struct Enumerator
    {
        private readonly ReadOnlySpan<byte> _bytes;
        private int _nextSlot;
        private int _index;
        private Instruction _current;

        internal Enumerator(ReadOnlySpan<byte> bytes)
        {
            _bytes = bytes;
            _index = -1;
        }

        /// <summary>The current instruction.</summary>
        public readonly Instruction Current => _current;

        /// <summary>The slot where the current instruction starts.</summary>
        public int SlotIndex { get; private set; }

        /// <summary>The index of the current instruction.</summary>
        public readonly int InstructionIndex => _index;

        /// <summary>Returns this enumerator (for <c>foreach</c>).</summary>
        public readonly Enumerator GetEnumerator() => this;

        /// <summary>Decodes the next instruction.</summary>
        /// <exception cref="InstructionDecodeException">The next instruction is not valid.</exception>
        public bool MoveNext()
        {
            if (_index < 0) CheckLength(_bytes);
            if (_nextSlot * Instruction.SlotSize >= _bytes.Length) return false;
            SlotIndex = _nextSlot;
            _index++;
            _nextSlot += DecodeAt(_bytes, _nextSlot, _index, out _current);
            return true;
        }
    }

    private static void CheckLength(ReadOnlySpan<byte> bytes)
    {
        int rest = bytes.Length % Instruction.SlotSize;
        if (rest == 0) return;
        int slot = bytes.Length / Instruction.SlotSize;
        throw new InstructionDecodeException(slot, CountInstructions(bytes, slot), bytes[(slot * Instruction.SlotSize)..],
            string.Create(CultureInfo.InvariantCulture, $"the length {bytes.Length} is not a multiple of 8; {rest} trailing bytes."));
    }

    // Number of instructions starting before slotLimit: an ld_imm64 opcode takes two slots.
    private static int CountInstructions(ReadOnlySpan<byte> bytes, int slotLimit)
    {
        int count = 0;
        ref byte start = ref MemoryMarshal.GetReference(bytes);
        for (int slot = 0; slot < slotLimit; count++)
            slot += Unsafe.Add(ref start, slot * Instruction.SlotSize) == Opcode.LoadImmediate64 ? 2 : 1;
        return count;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int DecodeAt(ReadOnlySpan<byte> bytes, int slot, int instructionIndex, out Instruction instruction)
    {
        ref byte start = ref Unsafe.Add(ref MemoryMarshal.GetReference(bytes), slot * Instruction.SlotSize);
        ulong first = Unsafe.ReadUnaligned<ulong>(ref start);
        if (!BitConverter.IsLittleEndian) first = BinaryPrimitives.ReverseEndianness(first);
        int immHigh = 0;
        int slots = 1;
        if ((byte)first == Opcode.LoadImmediate64)
        {
            if ((slot + 2) * Instruction.SlotSize > bytes.Length) return Fail(bytes, slot, instructionIndex, out instruction);
            ulong second = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, Instruction.SlotSize));
            if (!BitConverter.IsLittleEndian) second = BinaryPrimitives.ReverseEndianness(second);
            if ((uint)second != 0) return Fail(bytes, slot, instructionIndex, out instruction);
            immHigh = (int)(second >> 32);
            slots = 2;
        }
        if (!Isa.IsValidFast(first, immHigh)) return Fail(bytes, slot, instructionIndex, out instruction);
        byte regs = (byte)(first >> 8);
        instruction = new Instruction((byte)first, (byte)(regs & 0x0f), (byte)(regs >> 4), (short)(first >> 16), (int)(first >> 32), immHigh, true);
        return slots;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int Fail(ReadOnlySpan<byte> bytes, int slot, int instructionIndex, out Instruction instruction)
    {
        instruction = default;
        string reason = TryDecodeCore(bytes, slot * Instruction.SlotSize, out _, out _) ?? "invalid instruction.";
        int start = slot * Instruction.SlotSize;
        int length = Math.Min(bytes.Length - start,
            bytes[start] == Opcode.LoadImmediate64 ? 2 * Instruction.SlotSize : Instruction.SlotSize);
        throw new InstructionDecodeException(slot, instructionIndex, bytes.Slice(start, length), reason);
    }

    // The slow, explaining path: returns null on success or the reason.
    private static string? TryDecodeCore(ReadOnlySpan<byte> bytes, int start, out Instruction instruction, out int slots)
    {
        instruction = default;
        slots = 0;
        byte opcode = bytes[start];
        byte dst = (byte)(bytes[start + 1] & 0x0f), src = (byte)(bytes[start + 1] >> 4);
        short offset = BinaryPrimitives.ReadInt16LittleEndian(bytes[(start + 2)..]);
        int imm = BinaryPrimitives.ReadInt32LittleEndian(bytes[(start + 4)..]);
        int immHigh = 0;
        int count = 1;
        if (opcode == Opcode.LoadImmediate64)
        {
            if (bytes.Length - start < 2 * Instruction.SlotSize)
                return string.Create(CultureInfo.InvariantCulture,
                    $"ld_imm64 is truncated: it needs 16 bytes, {bytes.Length - start} remain.");
            var second = bytes.Slice(start + Instruction.SlotSize, Instruction.SlotSize);
            if (second[0] != 0 || second[1] != 0 || second[2] != 0 || second[3] != 0)
                return string.Create(CultureInfo.InvariantCulture,
                    $"the second slot of ld_imm64 must have zero opcode, registers and offset; it has opcode 0x{second[0]:x2}, registers 0x{second[1]:x2}, offset {BinaryPrimitives.ReadInt16LittleEndian(second[2..])}.");
            immHigh = BinaryPrimitives.ReadInt32LittleEndian(second[4..]);
            count = 2;
        }
        var candidate = new Instruction(opcode, dst, src, offset, imm, immHigh, true);
        var violation = Isa.Check(opcode, dst, src, offset, imm, immHigh);
        if (violation != Isa.IsaViolation.None) return Isa.Describe(violation, candidate);
        instruction = candidate;
        slots = count;
        return null;
    }
}
