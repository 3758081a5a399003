using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace SockOps.Emit.Assembler;

/// <summary>
/// One BPF instruction as it is encoded: opcode, destination and source register, 16-bit offset
/// and 32-bit immediate. The 64-bit immediate load (<c>ld_imm64</c>, opcode 0x18) is one value
/// that occupies two 8-byte slots; its upper 32 bits are in <see cref="ImmediateHigh"/>.
/// A decoded instruction and a built one are the same type, so round trips compare equal.
/// </summary>
[StructLayout(LayoutKind.Auto)]
public readonly record struct Instruction
{
    /// <summary>Size of one instruction slot in bytes.</summary>
    public const int SlotSize = 8;

    /// <summary>Creates an instruction from its raw fields. Register numbers are 4-bit fields.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A register number does not fit in 4 bits.</exception>
    public Instruction(byte opcode, byte destination, byte source, short offset, int immediate, int immediateHigh = 0)
    {
        if (destination > 15) throw new ArgumentOutOfRangeException(nameof(destination), destination, "The destination register field is 4 bits.");
        if (source > 15) throw new ArgumentOutOfRangeException(nameof(source), source, "The source register field is 4 bits.");
        if (immediateHigh != 0 && opcode != Assembler.Opcode.LoadImmediate64)
            throw new ArgumentOutOfRangeException(nameof(immediateHigh), immediateHigh, "Only ld_imm64 (opcode 0x18) has a second immediate.");
        Opcode = opcode;
        DestinationIndex = destination;
        SourceIndex = source;
        Offset = offset;
        Immediate = immediate;
        ImmediateHigh = immediateHigh;
    }

    // Fast path for the builder and decoder: the caller guarantees 4-bit register fields and a zero
    // high immediate for non-wide opcodes, so the per-instruction checks above are skipped.
    internal Instruction(byte opcode, byte destination, byte source, short offset, int immediate, int immediateHigh, bool trusted)
    {
        _ = trusted;
        Opcode = opcode;
        DestinationIndex = destination;
        SourceIndex = source;
        Offset = offset;
        Immediate = immediate;
        ImmediateHigh = immediateHigh;
    }

    /// <summary>This instruction with another offset (jump fix-ups).</summary>
    internal Instruction WithOffsetUnchecked(short offset) => new(Opcode, DestinationIndex, SourceIndex, offset, Immediate, ImmediateHigh, true);

    /// <summary>This instruction with another low immediate (call and function-address fix-ups).</summary>
    internal Instruction WithImmediateUnchecked(int immediate) => new(Opcode, DestinationIndex, SourceIndex, Offset, immediate, ImmediateHigh, true);

    /// <summary>The 8-bit opcode.</summary>
    public byte Opcode { get; }

    /// <summary>The destination register field (0..15; valid programs use 0..10).</summary>
    public byte DestinationIndex { get; }

    /// <summary>The source register field (0..15; for ld_imm64 and call it is a pseudo kind).</summary>
    public byte SourceIndex { get; }

    /// <summary>The signed 16-bit offset.</summary>
    public short Offset { get; }

    /// <summary>The signed 32-bit immediate (the low half for ld_imm64).</summary>
    public int Immediate { get; }

    /// <summary>The upper 32 bits of an ld_imm64 constant; zero otherwise.</summary>
    public int ImmediateHigh { get; }

    /// <summary>The instruction class.</summary>
    public InstructionClass Class => (InstructionClass)(Opcode & 0x07);

    /// <summary>Whether this is the two-slot ld_imm64.</summary>
    public bool IsWide => Opcode == Assembler.Opcode.LoadImmediate64;

    /// <summary>Number of 8-byte slots: 2 for ld_imm64, else 1.</summary>
    public int Slots => IsWide ? 2 : 1;

    /// <summary>Whether this is a call (helper, bpf-to-bpf or kfunc, by <see cref="SourceIndex"/>).</summary>
    public bool IsCall => Opcode == Assembler.Opcode.Call;

    /// <summary>The 64-bit constant of an ld_imm64 (low and high immediates combined).</summary>
    public long Immediate64 => (long)(((ulong)(uint)ImmediateHigh << 32) | (uint)Immediate);

    /// <summary>The destination register.</summary>
    /// <exception cref="InvalidOperationException">The field holds 11..15.</exception>
    public Register Destination => DestinationIndex < Register.Count ? Register.FromIndex(DestinationIndex)
        : throw new InvalidOperationException($"Destination field {DestinationIndex} is not a register.");

    /// <summary>The source register.</summary>
    /// <exception cref="InvalidOperationException">The field holds 11..15.</exception>
    public Register Source => SourceIndex < Register.Count ? Register.FromIndex(SourceIndex)
        : throw new InvalidOperationException($"Source field {SourceIndex} is not a register.");

    /// <summary>Creates an ld_imm64 with a 64-bit constant and a pseudo source.</summary>
    public static Instruction LoadImmediate64(Register destination, long value, PseudoSource pseudo = PseudoSource.None) =>
        new(Assembler.Opcode.LoadImmediate64, destination.Index, (byte)pseudo, 0, (int)value, (int)(value >> 32));

    /// <summary>Writes the instruction's <see cref="Slots"/> × 8 little-endian bytes.</summary>
    /// <returns>The number of bytes written (8 or 16).</returns>
    /// <exception cref="ArgumentException">The destination is too small.</exception>
    public int WriteTo(Span<byte> destination)
    {
        int size = Slots * SlotSize;
        if (destination.Length < size) throw new ArgumentException($"Need {size} bytes, have {destination.Length}.", nameof(destination));
        destination[0] = Opcode;
        destination[1] = (byte)(DestinationIndex | (SourceIndex << 4));
        BinaryPrimitives.WriteInt16LittleEndian(destination[2..], Offset);
        BinaryPrimitives.WriteInt32LittleEndian(destination[4..], Immediate);
        if (IsWide)
        {
            destination.Slice(8, 4).Clear();
            BinaryPrimitives.WriteInt32LittleEndian(destination[12..], ImmediateHigh);
        }
        return size;
    }

    /// <summary>The raw fields, for diagnostics.</summary>
    public override string ToString() =>
        $"{{op=0x{Opcode:x2} dst={DestinationIndex} src={SourceIndex} off={Offset} imm={Immediate}{(IsWide ? $" imm_hi={ImmediateHigh}" : "")}}}";
}
