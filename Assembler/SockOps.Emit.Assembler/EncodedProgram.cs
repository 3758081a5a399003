using System.Collections.Immutable;
using System.Runtime.InteropServices;

namespace SockOps.Emit.Assembler;

/// <summary>
/// The result of <see cref="InstructionBuilder.Encode(EncodeOptions?)"/>: resolved instructions, the
/// symbolic map references a loader must patch, and the size in 8-byte slots.
/// </summary>
public sealed class EncodedProgram
{
    private readonly Instruction[] _instructions;
    // For each instruction the long-jump rewrite inserted: the builder index of the jump it follows
    // (ascending). Empty when nothing was inserted.
    private readonly int[] _insertedAfter;

    internal EncodedProgram(Instruction[] instructions, int slotCount, MapReference[] mapReferences, int[] insertedAfter)
    {
        _instructions = instructions;
        _insertedAfter = insertedAfter;
        SlotCount = slotCount;
        MapReferences = ImmutableCollectionsMarshal.AsImmutableArray(mapReferences);
    }

    /// <summary>The instructions, with every label resolved.</summary>
    public ImmutableArray<Instruction> Instructions => ImmutableCollectionsMarshal.AsImmutableArray(_instructions);

    /// <summary>The instructions as a span (no copy).</summary>
    public ReadOnlySpan<Instruction> InstructionSpan => _instructions;

    /// <summary>The map references, with <see cref="MapReference.InstructionIndex"/> in this program's numbering.</summary>
    public ImmutableArray<MapReference> MapReferences { get; }

    /// <summary>Number of 8-byte slots (ld_imm64 counts 2): the length BPF_PROG_LOAD takes.</summary>
    public int SlotCount { get; }

    /// <summary>Size of the encoded program in bytes.</summary>
    public int ByteCount => SlotCount * Instruction.SlotSize;

    /// <summary>
    /// Maps an instruction index of the builder (e.g. <see cref="InstructionBuilder.Count"/> taken when
    /// the instruction was emitted) to its index here. They differ only after long-jump rewrites
    /// inserted instructions.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The index is not one of the builder's instructions.</exception>
    public int GetInstructionIndex(int builderIndex)
    {
        int builderCount = _instructions.Length - _insertedAfter.Length;
        ArgumentOutOfRangeException.ThrowIfNegative(builderIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(builderIndex, builderCount);
        if (_insertedAfter.Length == 0) return builderIndex;
        // Inserted instructions follow the jump they extend: count those after jumps before builderIndex.
        int lo = 0, hi = _insertedAfter.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_insertedAfter[mid] < builderIndex) lo = mid + 1; else hi = mid;
        }
        return builderIndex + lo;
    }

    /// <summary>Writes the little-endian bytes into <paramref name="destination"/>.</summary>
    /// <returns>The number of bytes written (<see cref="ByteCount"/>).</returns>
    /// <exception cref="ArgumentException">The destination is shorter than <see cref="ByteCount"/>.</exception>
    public int WriteTo(Span<byte> destination)
    {
        if (destination.Length < ByteCount)
            throw new ArgumentException($"Need {ByteCount} bytes, have {destination.Length}.", nameof(destination));
        int at = 0;
        foreach (ref readonly var insn in _instructions.AsSpan())
            at += InstructionEncoding.Write(insn, destination[at..]);
        return at;
    }

    /// <summary>The little-endian bytes of the program.</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[ByteCount];
        WriteTo(bytes);
        return bytes;
    }
}

/// <summary>The wire format of one instruction.</summary>
internal static class InstructionEncoding
{
    /// <summary>The first 8 bytes of an instruction as a little-endian 64-bit value.</summary>
    internal static ulong FirstSlot(in Instruction insn) =>
        insn.Opcode
        | (ulong)(byte)(insn.DestinationIndex | (insn.SourceIndex << 4)) << 8
        | (ulong)(ushort)insn.Offset << 16
        | (ulong)(uint)insn.Immediate << 32;

    /// <summary>Writes 8 or 16 bytes; the destination must be large enough.</summary>
    internal static int Write(in Instruction insn, Span<byte> destination)
    {
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(destination, FirstSlot(insn));
        if (!insn.IsWide) return Instruction.SlotSize;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], (ulong)(uint)insn.ImmediateHigh << 32);
        return 2 * Instruction.SlotSize;
    }
}
