using SockOps.Emit.Assembler;

namespace SockOps.Emit.Assembler.Tests;

public class InstructionTests
{
    [Fact]
    public void LoadImmediate64_writes_two_slots_with_high_half_in_second_imm()
    {
        // r0 = 0x123456789abcdef0 ll, as llvm-mc -triple bpf -show-encoding encodes it.
        var insn = Instruction.LoadImmediate64(Register.R0, 0x123456789abcdef0);
        Span<byte> bytes = stackalloc byte[16];
        Assert.Equal(16, insn.WriteTo(bytes));
        Assert.Equal(Convert.FromHexString("18000000f0debc9a0000000078563412"), bytes.ToArray());
        Assert.Equal(0x123456789abcdef0, insn.Immediate64);
    }

    [Fact]
    public void Register_fields_outside_four_bits_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Instruction(0xb7, 16, 0, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Register.FromIndex(11));
    }
}
