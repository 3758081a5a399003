using CsCheck;

namespace SockOps.Emit.Assembler.Tests;

/// <summary>
/// Random valid instructions of every form (written from RFC 9669 and Linux 6.18's rules, not from
/// Isa's tables) pass Isa.Validate and survive encode → bytes → decode unchanged.
/// </summary>
public class RoundTripPropertyTests
{
    private static readonly Gen<byte> Reg = Gen.Byte[0, 10];
    private static readonly Gen<short> AnyOffset = Gen.Short;
    private static readonly Gen<int> AnyImm = Gen.OneOf(Gen.Int, Gen.Int[-16, 16]);
    private static readonly byte[] Sizes = [(byte)MemorySize.B, (byte)MemorySize.H, (byte)MemorySize.W, (byte)MemorySize.DW];

    private static Instruction I(int op, byte dst, byte src, short off, int imm, int hi = 0) => new((byte)op, dst, src, off, imm, hi);

    private static readonly Gen<Instruction> Alu =
        from cls in Gen.OneOfConst(0x04, 0x07)
        from op in Gen.OneOfConst(0x00, 0x10, 0x20, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xc0)
        from reg in Gen.Bool
        from dst in Reg
        from src in Reg
        from imm in AnyImm
        select reg ? I(op | 0x08 | cls, dst, src, 0, 0) : I(op | cls, dst, 0, 0, imm);

    private static readonly Gen<Instruction> DivMod =
        from cls in Gen.OneOfConst(0x04, 0x07)
        from op in Gen.OneOfConst(0x30, 0x90)
        from signed in Gen.Bool
        from reg in Gen.Bool
        from dst in Reg
        from src in Reg
        from imm in AnyImm
        select reg ? I(op | 0x08 | cls, dst, src, (short)(signed ? 1 : 0), 0) : I(op | cls, dst, 0, (short)(signed ? 1 : 0), imm);

    private static readonly Gen<Instruction> MovAndFriends =
        from kind in Gen.Int[0, 6]
        from dst in Reg
        from src in Reg
        from imm in AnyImm
        from width in Gen.OneOfConst(16, 32, 64)
        from sx64 in Gen.OneOfConst<short>(0, 8, 16, 32)
        from sx32 in Gen.OneOfConst<short>(0, 8, 16)
        from cast in Gen.OneOfConst(1, 0x10000)
        select kind switch
        {
            0 => I(imm % 2 == 0 ? 0xb4 : 0xb7, dst, 0, 0, imm),      // mov K, 32 or 64
            1 => I(0xbf, dst, src, sx64, 0),                         // mov / movsx 64
            2 => I(0xbc, dst, src, sx32, 0),                         // mov / movsx 32
            3 => I(0xbf, dst, src, 1, cast),                         // addr_space_cast
            4 => I(imm % 2 == 0 ? 0x84 : 0x87, dst, 0, 0, 0),        // neg
            5 => I(imm % 2 == 0 ? 0xd4 : 0xdc, dst, 0, 0, width),    // le / be
            _ => I(0xd7, dst, 0, 0, width),                          // bswap
        };

    private static readonly Gen<Instruction> Jumps =
        from kind in Gen.Int[0, 6]
        from cls in Gen.OneOfConst(0x05, 0x06)
        from op in Gen.OneOfConst(0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0)
        from reg in Gen.Bool
        from dst in Reg
        from src in Reg
        from off in AnyOffset
        from imm in AnyImm
        from callKind in Gen.Byte[0, 2]
        select kind switch
        {
            0 => reg ? I(op | 0x08 | cls, dst, src, off, 0) : I(op | cls, dst, 0, off, imm), // conditional
            1 => I(0x05, 0, 0, off, 0),                                                    // ja
            2 => I(0x06, 0, 0, 0, imm),                                                    // gotol
            3 => I(0x85, 0, callKind, callKind == 2 ? off : (short)0, imm),                // call
            4 => I(0x95, 0, 0, 0, 0),                                                      // exit
            _ => I(0xe5, 0, 0, off, 0),                                                    // may_goto
        };

    private static readonly Gen<Instruction> LoadImm64 =
        from dst in Reg
        from pseudo in Gen.Byte[0, 6]
        from imm in AnyImm
        from hi in AnyImm
        select I(0x18, dst, pseudo, 0, imm, pseudo is 1 or 5 ? 0 : hi);

    private static readonly Gen<Instruction> Memory =
        from kind in Gen.Int[0, 5]
        from size in Gen.OneOf(Sizes.Select(Gen.Const).ToArray())
        from narrow in Gen.OneOfConst((byte)MemorySize.B, (byte)MemorySize.H, (byte)MemorySize.W)
        from dst in Reg
        from src in Reg
        from off in AnyOffset
        from imm in AnyImm
        select kind switch
        {
            0 => I(0x61 | size, dst, src, off, 0),                   // ldx
            1 => I(0x81 | narrow, dst, src, off, 0),                 // ldxsx
            2 => I(0x62 | size, dst, 0, off, imm),                   // st
            3 => I(0x63 | size, dst, src, off, 0),                   // stx
            4 => I(0x20 | narrow, 0, 0, 0, imm),                     // ldabs
            _ => I(0x40 | narrow, 0, src, 0, imm),                   // ldind
        };

    private static readonly Gen<Instruction> Atomics =
        from wide in Gen.OneOfConst((byte)MemorySize.W, (byte)MemorySize.DW)
        from size in Gen.OneOf(Sizes.Select(Gen.Const).ToArray())
        from rmw in Gen.OneOfConst(0x00, 0x40, 0x50, 0xa0, 0x01, 0x41, 0x51, 0xa1, 0xe1, 0xf1)
        from acqRel in Gen.OneOfConst(0x100, 0x110)
        from useRmw in Gen.Bool
        from dst in Reg
        from src in Reg
        from off in AnyOffset
        select useRmw ? I(0xc3 | wide, dst, src, off, rmw) : I(0xc3 | size, dst, src, off, acqRel);

    internal static readonly Gen<Instruction> AnyValidInstruction =
        Gen.OneOf(Alu, DivMod, MovAndFriends, Jumps, LoadImm64, Memory, Atomics);

    [Fact]
    public void Every_generated_instruction_is_valid()
    {
        AnyValidInstruction.Sample(insn => Assert.True(Isa.Validate(insn) is null, insn + ": " + Isa.Validate(insn)), iter: 20_000);
    }

    [Fact]
    public void Encode_then_decode_returns_the_same_instructions()
    {
        AnyValidInstruction.Array[0, 40].Sample(program =>
        {
            using var builder = new InstructionBuilder();
            foreach (var insn in program) builder.Raw(insn);
            var encoded = builder.Encode();
            byte[] bytes = encoded.ToBytes();
            Assert.Equal(program.Sum(i => i.Slots) * 8, bytes.Length);
            Assert.Equal(program, InstructionDecoder.Decode(bytes));
            int n = 0;
            foreach (var insn in InstructionDecoder.Enumerate(bytes)) Assert.Equal(program[n++], insn);
            Assert.Equal(program.Length, n);
        }, iter: 2_000);
    }

    [Fact]
    public void Any_eight_bytes_either_decode_and_re_encode_identically_or_are_refused_with_a_reason()
    {
        Gen.ULong.Sample(raw =>
        {
            byte[] bytes = BitConverter.GetBytes(raw);
            if (bytes[0] == Opcode.LoadImmediate64) bytes[0] = 0x07; // single-slot only here
            Instruction insn;
            try
            {
                insn = Assert.Single(InstructionDecoder.Decode(bytes));
            }
            catch (InstructionDecodeException e)
            {
                Assert.Equal(0, e.SlotIndex);
                Assert.False(string.IsNullOrEmpty(e.Reason));
                return;
            }
            Span<byte> again = stackalloc byte[8];
            insn.WriteTo(again);
            Assert.Equal(bytes, again.ToArray());
        }, iter: 50_000);
    }
}
