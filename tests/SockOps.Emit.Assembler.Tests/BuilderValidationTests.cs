using static SockOps.Emit.Assembler.Register;

namespace SockOps.Emit.Assembler.Tests;

public class BuilderValidationTests
{
    private static InvalidInstructionException Refused(Action<InstructionBuilder> build)
    {
        using var b = new InstructionBuilder();
        var e = Assert.Throws<InvalidInstructionException>(() => build(b));
        Assert.Equal(0, b.Count); // nothing half-emitted
        return e;
    }

    [Fact]
    public void Frame_pointer_as_alu_destination_is_refused_naming_mnemonic_and_operands()
    {
        var e = Refused(b => b.Add(R10, 8));
        Assert.Equal("add", e.Mnemonic);
        Assert.Equal("r10, 8", e.Operands);
        Assert.Contains("read-only frame pointer", e.Message, StringComparison.Ordinal);

        Assert.Equal("w10, w1", Refused(b => b.Mov(R10.W, R1.W)).Operands);
        Refused(b => b.Neg(R10));
        Refused(b => b.MovSx(R10, R1, 8));
        Refused(b => b.ByteSwap(R10, 16));
        Refused(b => b.ToBigEndian(R10, 16));
        Refused(b => b.AddressSpaceCast(R10, R1, 0, 1));
    }

    [Fact]
    public void Frame_pointer_as_load_destination_is_refused()
    {
        Assert.Equal("ldx", Refused(b => b.Ldx(MemorySize.DW, R10, R1, 0)).Mnemonic);
        Refused(b => b.LdxSx(MemorySize.W, R10, R1, 0));
        Refused(b => b.LoadImm64(R10, 1));
        Refused(b => b.LoadMap(R10, "m"));
        Refused(b => b.LoadAcquire(MemorySize.W, R10, R1, 0));
        Refused(b => b.AtomicFetchAdd(MemorySize.DW, R1, 0, R10));
        Refused(b => b.AtomicExchange(MemorySize.W, R1, 0, R10));
    }

    [Fact]
    public void Frame_pointer_as_base_or_stored_value_is_allowed()
    {
        using var b = new InstructionBuilder();
        b.Stx(MemorySize.DW, R10, -8, R1).St(MemorySize.W, R10, -4, 0).Ldx(MemorySize.DW, R1, R10, -8)
         .Mov(R2, R10).AtomicAdd(MemorySize.DW, R10, -8, R1).AtomicCompareExchange(MemorySize.DW, R1, 0, R10);
        Assert.Equal(6, b.Count);
    }

    [Fact]
    public void Atomic_read_modify_write_on_bytes_and_halves_is_refused()
    {
        var e = Refused(b => b.AtomicAdd(MemorySize.B, R1, 0, R2));
        Assert.Equal("atomic_add", e.Mnemonic);
        Assert.Contains("W and DW only, not B", e.Message, StringComparison.Ordinal);
        Refused(b => b.AtomicCompareExchange(MemorySize.H, R1, 0, R2));
        Refused(b => b.Atomic((AtomicOperation)0x02, MemorySize.W, R1, 0, R2));
    }

    [Fact]
    public void Widths_and_sizes_outside_the_defined_values_are_refused()
    {
        Assert.Contains("8 or 16", Refused(b => b.MovSx(R1.W, R2.W, 32)).Message, StringComparison.Ordinal);
        Refused(b => b.MovSx(R1, R2, 7));
        Refused(b => b.ByteSwap(R1, 8));
        Refused(b => b.ToLittleEndian(R1, 128));
        Refused(b => b.LdxSx(MemorySize.DW, R1, R2, 0));
        Refused(b => b.LdAbs(MemorySize.DW, 0));
        Refused(b => b.LdInd(MemorySize.DW, R1, 0));
        Assert.Contains("0x05 is not a memory size", Refused(b => b.Ldx((MemorySize)0x05, R1, R2, 0)).Message, StringComparison.Ordinal);
        Refused(b => b.St((MemorySize)0x20, R1, 0, 0));
        Refused(b => b.AddressSpaceCast(R1, R2, 1, 1));
    }

    [Fact]
    public void Undefined_jump_condition_is_refused()
    {
        using var b = new InstructionBuilder();
        var l = b.CreateLabel();
        Assert.Throws<InvalidInstructionException>(() => b.JumpIf(R1, (JumpCondition)0x80, 0, l)); // 0x80 is call
        Assert.Throws<InvalidInstructionException>(() => b.JumpIf(R1, (JumpCondition)0x00, R2, l)); // 0x00 is ja
        Assert.Equal(0, b.Count);
    }

    [Fact]
    public void Map_loads_need_a_name_and_a_non_negative_offset()
    {
        Refused(b => b.LoadMap(R1, ""));
        Refused(b => b.LoadMapValue(R1, "m", -1));
        Refused(b => b.LoadMapValueByIndex(R1, 0, -4));
    }

    [Fact]
    public void Raw_refuses_what_the_isa_does_not_encode()
    {
        var e = Refused(b => b.Raw(new Instruction(0x95, 0, 0, 3, 0)));
        Assert.Equal("raw", e.Mnemonic);
        Assert.Contains("offset is unused", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Values_the_verifier_judges_are_built()
    {
        // Shift amounts at or above the width and division by a constant zero are encodable; the
        // verifier refuses them ("invalid shift", "div by zero"), so tests of it can build them.
        using var b = new InstructionBuilder();
        b.Lsh(R1, 64).Rsh(R1.W, 32).Arsh(R1, -1).Div(R1, 0).Mod(R1.W, 0).Call(-1);
        Assert.All(b.Encode().Instructions, i => Assert.Null(Isa.Validate(i)));
    }
}
