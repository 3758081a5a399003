using System.Globalization;

namespace SockOps.Emit.Assembler;

// Negation, sign-extending moves, byte swaps and address-space casts.
public sealed partial class InstructionBuilder
{
    /// <summary>64-bit: dst = -dst.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Neg(Register dst) => NegCore(true, dst.Index);

    /// <summary>32-bit: dst = -dst.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is w10.</exception>
    public InstructionBuilder Neg(Register32 dst) => NegCore(false, dst.Index);

    private InstructionBuilder NegCore(bool is64, byte dst)
    {
        if (dst == 10) throw Invalid("neg", RegisterText(is64, dst), FramePointerReason("the destination"));
        return Emit(Opcode.Alu(is64, AluOperation.Neg, OperandSource.Immediate), dst, 0, 0, 0);
    }

    /// <summary>64-bit sign-extending move (cpu v4): dst = (s8/s16/s32)src.</summary>
    /// <param name="dst">Destination.</param>
    /// <param name="src">Source.</param>
    /// <param name="fromBits">Width of the source value: 8, 16 or 32.</param>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10 or the width is not 8, 16 or 32.</exception>
    public InstructionBuilder MovSx(Register dst, Register src, int fromBits) => MovSxCore(true, dst.Index, src.Index, fromBits);

    /// <summary>32-bit sign-extending move (cpu v4): dst = (s8/s16)src, upper half zeroed.</summary>
    /// <param name="dst">Destination.</param>
    /// <param name="src">Source.</param>
    /// <param name="fromBits">Width of the source value: 8 or 16.</param>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is w10 or the width is not 8 or 16.</exception>
    public InstructionBuilder MovSx(Register32 dst, Register32 src, int fromBits) => MovSxCore(false, dst.Index, src.Index, fromBits);

    private InstructionBuilder MovSxCore(bool is64, byte dst, byte src, int fromBits)
    {
        string Operands() => string.Create(CultureInfo.InvariantCulture, $"{RegisterText(is64, dst)}, {RegisterText(is64, src)}, {fromBits}");
        if (dst == 10) throw Invalid("movsx", Operands(), FramePointerReason("the destination"));
        if (fromBits is not (8 or 16) && !(is64 && fromBits == 32))
            throw Invalid("movsx", Operands(), is64 ? "the source width must be 8, 16 or 32." : "a 32-bit movsx sign-extends from 8 or 16 bits.");
        return Emit(Opcode.Alu(is64, AluOperation.Mov, OperandSource.Register), dst, src, (short)fromBits, 0);
    }

    /// <summary>dst = htobe16/32/64(dst): converts to big-endian (ALU class END, TO_BE; zero-extends 16 and 32).</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10 or the width is not 16, 32 or 64.</exception>
    public InstructionBuilder ToBigEndian(Register dst, int bits) =>
        EndCore("be", (byte)((byte)AluOperation.End | (byte)OperandSource.Register | (byte)InstructionClass.Alu), dst.Index, bits);

    /// <summary>dst = htole16/32/64(dst): converts to little-endian (ALU class END, TO_LE; zero-extends 16 and 32).</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10 or the width is not 16, 32 or 64.</exception>
    public InstructionBuilder ToLittleEndian(Register dst, int bits) =>
        EndCore("le", (byte)((byte)AluOperation.End | (byte)InstructionClass.Alu), dst.Index, bits);

    /// <summary>dst = bswap16/32/64(dst): unconditional byte swap (ALU64 class END, cpu v4).</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10 or the width is not 16, 32 or 64.</exception>
    public InstructionBuilder ByteSwap(Register dst, int bits) =>
        EndCore("bswap", (byte)((byte)AluOperation.End | (byte)InstructionClass.Alu64), dst.Index, bits);

    private InstructionBuilder EndCore(string mnemonic, byte opcode, byte dst, int bits)
    {
        if (dst == 10) throw Invalid(mnemonic, string.Create(CultureInfo.InvariantCulture, $"r{dst}, {bits}"), FramePointerReason("the destination"));
        if (bits is not (16 or 32 or 64))
            throw Invalid(mnemonic, string.Create(CultureInfo.InvariantCulture, $"r{dst}, {bits}"), "the width must be 16, 32 or 64.");
        return Emit(opcode, dst, 0, 0, bits);
    }

    /// <summary>
    /// dst = addr_space_cast(src, dstSpace, srcSpace): converts a pointer between the kernel address
    /// space 0 and the arena address space 1 (ALU64 MOV X with offset 1, Linux 6.9+; needs an arena).
    /// </summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10 or the spaces are not (0, 1) or (1, 0).</exception>
    public InstructionBuilder AddressSpaceCast(Register dst, Register src, int destinationSpace, int sourceSpace)
    {
        string Operands() => string.Create(CultureInfo.InvariantCulture, $"{dst}, {src}, {destinationSpace}, {sourceSpace}");
        if (dst.IsFramePointer) throw Invalid("addr_space_cast", Operands(), FramePointerReason("the destination"));
        if (!((destinationSpace, sourceSpace) is (0, 1) or (1, 0)))
            throw Invalid("addr_space_cast", Operands(), "only casts between address spaces 0 and 1 exist.");
        return Emit(Opcode.Alu(true, AluOperation.Mov, OperandSource.Register), dst.Index, src.Index,
            Isa.AddressSpaceCastOffset, (destinationSpace << 16) | sourceSpace);
    }
}
