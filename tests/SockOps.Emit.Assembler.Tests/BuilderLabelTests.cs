using SockOps.Emit.TestSupport;
using static SockOps.Emit.Assembler.Register;

namespace SockOps.Emit.Assembler.Tests;

public class BuilderLabelTests
{
    private const int Marker = 0x5eed;

    // Slot index where each instruction of the program starts.
    private static int[] SlotsOf(EncodedProgram program)
    {
        var slots = new int[program.Instructions.Length];
        for (int i = 1; i < slots.Length; i++) slots[i] = slots[i - 1] + program.Instructions[i - 1].Slots;
        return slots;
    }

    // Index of the instruction a jump/call at `index` lands on (offset or, for gotol/calls, immediate).
    private static int TargetIndexOf(EncodedProgram program, int index)
    {
        var insn = program.Instructions[index];
        bool usesImmediate = insn.Opcode == ((byte)JumpOperation.Ja | (byte)InstructionClass.Jmp32) || insn.IsWide
            || insn.Opcode == ((byte)JumpOperation.Call | (byte)InstructionClass.Jmp);
        int slots = SlotsOf(program)[index] + 1 + (usesImmediate ? insn.Immediate : insn.Offset);
        int found = Array.IndexOf(SlotsOf(program), slots);
        Assert.True(found >= 0, $"instruction {index} lands on slot {slots}, which is not an instruction boundary");
        return found;
    }

    [Fact]
    public void Forward_jump_counts_slots_and_ld_imm64_takes_two()
    {
        using var b = new InstructionBuilder();
        var done = b.CreateLabel("done");
        b.JumpIf(R1, JumpCondition.Equal, 0, done)  // 0: slot 0
         .LoadImm64(R2, 1)                          // 1: slots 1-2
         .Mov(R0, 1)                                // 2: slot 3
         .MarkLabel(done)
         .Mov(R0, Marker)                           // 3: slot 4
         .Exit();
        var program = b.Encode();
        Assert.Equal(3, program.Instructions[0].Offset);
        Assert.Equal(3, TargetIndexOf(program, 0));
        Assert.Equal(6, program.SlotCount);
    }

    [Fact]
    public void Backward_jump_has_a_negative_offset()
    {
        using var b = new InstructionBuilder();
        var loop = b.CreateLabel();
        b.Mov(R1, 10)
         .MarkLabel(loop)
         .Sub(R1, 1)
         .LoadImm64(R2, 7)
         .JumpIf(R1, JumpCondition.NotEqual, 0, loop)
         .Exit();
        var program = b.Encode();
        Assert.Equal(-4, program.Instructions[3].Offset); // from slot 4 back to slot 1
        Assert.Equal(1, TargetIndexOf(program, 3));
    }

    [Fact]
    public void Local_calls_and_function_addresses_resolve_to_relative_immediates()
    {
        using var b = new InstructionBuilder();
        var function = b.CreateLabel("function");
        b.CallLocal(function)                     // 0: slot 0
         .LoadFunctionAddress(R2, function)       // 1: slots 1-2 (the kernel counts from slot 1: i + imm + 1)
         .Exit()                                  // 2: slot 3
         .MarkLabel(function)
         .Mov(R0, Marker)                         // 3: slot 4
         .CallLocal(function)                     // 4: slot 5 -> back to 4
         .Exit();
        var program = b.Encode();
        Assert.Equal(3, program.Instructions[0].Immediate);
        Assert.Equal(2, program.Instructions[1].Immediate); // slot 1 + 1 + 2 = slot 4
        Assert.Equal(-2, program.Instructions[4].Immediate);
        Assert.Equal(3, TargetIndexOf(program, 0));
        Assert.Equal(3, TargetIndexOf(program, 4));
    }

    [Fact]
    public void Jump_to_an_unmarked_label_fails_at_encode_naming_label_and_instruction()
    {
        using var b = new InstructionBuilder();
        var missing = b.CreateLabel("missing");
        b.Mov(R0, 0).Jump(missing).Exit();
        var e = Assert.Throws<AssemblerException>(() => b.Encode());
        Assert.Equal(1, e.InstructionIndex);
        Assert.Contains("'missing'", e.Message, StringComparison.Ordinal);
        Assert.Contains("never marked", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unused_unmarked_label_is_not_an_error()
    {
        using var b = new InstructionBuilder();
        _ = b.CreateLabel();
        b.Mov(R0, 0).Exit();
        Assert.Equal(2, b.Encode().SlotCount);
    }

    [Fact]
    public void Marking_a_label_twice_fails_at_once()
    {
        using var b = new InstructionBuilder();
        var label = b.CreateLabel();
        b.MarkLabel(label).Mov(R0, 0);
        var e = Assert.Throws<AssemblerException>(() => b.MarkLabel(label));
        Assert.Contains("already marked at instruction 0", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, e.InstructionIndex);
    }

    [Fact]
    public void Default_and_foreign_labels_are_refused()
    {
        using var b = new InstructionBuilder();
        using var other = new InstructionBuilder();
        var foreign = other.CreateLabel();
        Assert.Throws<ArgumentException>(() => b.Jump(default));
        Assert.Throws<ArgumentException>(() => b.MarkLabel(default));
        Assert.Throws<ArgumentException>(() => b.Jump(foreign));
        Assert.Throws<ArgumentException>(() => b.MarkLabel(foreign));
        Assert.False(default(Label).IsValid);
    }

    [Fact]
    public void Jump_to_a_label_after_the_last_instruction_fails()
    {
        using var b = new InstructionBuilder();
        var end = b.CreateLabel();
        b.Jump(end).MarkLabel(end);
        var e = Assert.Throws<AssemblerException>(() => b.Encode());
        Assert.Contains("after the last instruction", e.Message, StringComparison.Ordinal);
    }

    private static InstructionBuilder FarProgram(Action<InstructionBuilder, Label> jump, int fillers)
    {
        var b = new InstructionBuilder(fillers + 8);
        var far = b.CreateLabel("far");
        jump(b, far);
        for (int i = 0; i < fillers; i++) b.Mov(R0, i);
        b.MarkLabel(far).Mov(R0, Marker).Exit();
        return b;
    }

    [Fact]
    public void Offset_at_the_int16_limit_is_encoded_and_one_more_fails()
    {
        using (var fits = FarProgram((b, l) => b.Jump(l), short.MaxValue))
            Assert.Equal(short.MaxValue, fits.Encode().Instructions[0].Offset);

        using var tooFar = FarProgram((b, l) => b.Jump(l), short.MaxValue + 1);
        var e = Assert.Throws<AssemblerException>(() => tooFar.Encode());
        Assert.Equal(0, e.InstructionIndex);
        Assert.Contains("32768", e.Message, StringComparison.Ordinal);
        Assert.Contains("AllowLongJumps", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Backward_offset_below_int16_fails()
    {
        using var b = new InstructionBuilder();
        var top = b.CreateLabel();
        b.MarkLabel(top);
        for (int i = 0; i < 40000; i++) b.Mov(R0, i);
        b.Jump(top).Exit();
        var e = Assert.Throws<AssemblerException>(() => b.Encode());
        Assert.Contains("-40001", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Long_jumps_need_cpu_v4()
    {
        using var b = FarProgram((x, l) => x.Jump(l), 40000);
        var e = Assert.Throws<AssemblerException>(() => b.Encode(new EncodeOptions { AllowLongJumps = true, CpuVersion = 3 }));
        Assert.Contains("cpu v4", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    public void Cpu_versions_outside_1_to_4_are_refused(int version) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new EncodeOptions { CpuVersion = version });

    private static readonly EncodeOptions LongJumps = new() { AllowLongJumps = true, CpuVersion = 4 };

    [Fact]
    public void Far_unconditional_jump_becomes_gotol_in_place()
    {
        using var b = FarProgram((x, l) => x.Jump(l), 40000);
        var program = b.Encode(LongJumps);
        var jump = program.Instructions[0];
        Assert.Equal((byte)InstructionClass.Jmp32, jump.Opcode); // JMP32 | JA = gotol
        Assert.Equal(40000, jump.Immediate);
        Assert.Equal(40003, program.Instructions.Length); // jump, 40000 fillers, marker, exit
        Assert.Equal(Marker, program.Instructions[TargetIndexOf(program, 0)].Immediate);
        Assert.Null(Isa.Validate(jump));
    }

    [Fact]
    public void Far_conditional_jump_becomes_inverse_condition_over_gotol()
    {
        using var b = FarProgram((x, l) => x.JumpIf(R1.W, JumpCondition.SignedLess, 7, l), 40000);
        var program = b.Encode(LongJumps);
        var skip = program.Instructions[0];
        Assert.Equal(Opcode.Jump(false, JumpOperation.Jsge, OperandSource.Immediate), skip.Opcode); // s< inverted to s>=
        Assert.Equal(1, skip.Offset);
        Assert.Equal(7, skip.Immediate);
        Assert.Equal(1, skip.DestinationIndex);
        Assert.Equal(2, TargetIndexOf(program, 0));                     // skips the gotol
        Assert.Equal(Marker, program.Instructions[TargetIndexOf(program, 1)].Immediate);
        Assert.Equal(40004, program.Instructions.Length);
        Assert.Equal(40004, program.SlotCount);
        Assert.All(program.Instructions, i => Assert.Null(Isa.Validate(i)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Far_jset_and_may_goto_keep_the_condition_and_hop_over_gotol(bool mayGoto)
    {
        using var b = FarProgram((x, l) => { if (mayGoto) x.MayGoto(l); else x.JumpIf(R3, JumpCondition.AnyBitsSet, R4, l); }, 40000);
        var program = b.Encode(LongJumps);
        // if cond goto +1 (to gotol); goto +1 (over gotol); gotol far
        Assert.Equal(1, program.Instructions[0].Offset);
        Assert.Equal(2, TargetIndexOf(program, 0));
        Assert.Equal(((byte)JumpOperation.Ja | (byte)InstructionClass.Jmp), program.Instructions[1].Opcode);
        Assert.Equal(3, TargetIndexOf(program, 1));
        Assert.Equal(Marker, program.Instructions[TargetIndexOf(program, 2)].Immediate);
        Assert.Equal(40005, program.Instructions.Length);
    }

    [Fact]
    public void Rewriting_moves_other_targets_map_references_and_instruction_indices()
    {
        // A near backward jump that spans the far one is pushed out of range only by the inserted
        // instruction, so the rewrite must repeat; the map reference and the index map follow.
        using var b = new InstructionBuilder();
        var top = b.CreateLabel("top");
        var far = b.CreateLabel("far");
        b.MarkLabel(top).Mov(R0, Marker);                     // 0
        b.JumpIf(R1, JumpCondition.Equal, 0, far);             // 1: far forward
        for (int i = 0; i < short.MaxValue - 2; i++) b.Mov(R0, i);
        b.JumpIf(R2, JumpCondition.Greater, R3, top);          // jumps back exactly -32768 before the rewrite
        int backIndex = b.Count - 1;
        b.LoadMap(R1, "m");
        int mapIndex = b.Count - 1;
        for (int i = 0; i < 10; i++) b.Mov(R0, i);
        b.MarkLabel(far).Mov(R0, Marker + 1).Exit();

        var program = b.Encode(LongJumps);
        int newBack = program.GetInstructionIndex(backIndex);
        Assert.Equal(0, TargetIndexOf(program, newBack + 1));  // the back jump was rewritten too: its gotol lands on 0
        Assert.Equal(program.GetInstructionIndex(mapIndex), program.MapReferences[0].InstructionIndex);
        Assert.True(program.Instructions[program.MapReferences[0].InstructionIndex].IsWide);
        Assert.Equal(0, program.GetInstructionIndex(0));
        Assert.Equal(1, program.GetInstructionIndex(1));
        Assert.Equal(3, program.GetInstructionIndex(2));
        Assert.All(program.Instructions, i => Assert.Null(Isa.Validate(i)));
    }

    [Fact]
    public void Encode_leaves_the_builder_reusable_and_clear_resets_labels()
    {
        using var b = new InstructionBuilder();
        var l = b.CreateLabel();
        b.Jump(l).MarkLabel(l).Exit();
        var first = b.Encode().ToBytes();
        Assert.Equal(first, b.Encode().ToBytes());
        b.Clear();
        Assert.Equal(0, b.Count);
        var fresh = b.CreateLabel(); // has the same number as l, but l is from before Clear()
        Assert.Equal(l.Id, fresh.Id);
        Assert.Throws<ArgumentException>(() => b.MarkLabel(l));
        b.Jump(fresh).MarkLabel(fresh).Exit();
        Assert.Equal(first, b.Encode().ToBytes());
    }

    // r0 = 1; r2 = 5; if r2 == 6 goto fill; <jump to far>; fill: 40000 x (r0 = 2); far: exit. The
    // kernel runs it: 1 if the jump was taken, 2 if it fell through. The never-taken branch keeps the
    // fillers reachable in the control-flow graph (the verifier refuses unreachable instructions).
    private static uint RunFarJump(Action<InstructionBuilder, Label> jump, int fillers = 40_000)
    {
        using var b = new InstructionBuilder(40_010);
        var far = b.CreateLabel("far");
        var fill = b.CreateLabel("fill");
        b.Mov(R0, 1).Mov(R2, 5).JumpIf(R2, JumpCondition.Equal, 6, fill);
        jump(b, far);
        b.MarkLabel(fill);
        for (int i = 0; i < fillers; i++) b.Mov(R0, 2);
        b.MarkLabel(far).Exit();
        return ProgramLoader.Run(b.Encode(LongJumps).ToBytes());
    }

    [Fact]
    public void Linux_runs_rewritten_far_jumps_to_their_targets()
    {
        KernelGate.Require();
        Assert.Equal(1u, RunFarJump((b, l) => b.Jump(l), 10));                                     // near: ja
        Assert.Equal(1u, RunFarJump((b, l) => b.JumpLong(l), 10));                                 // explicit gotol
        Assert.Equal(1u, RunFarJump((b, l) => b.Jump(l)));                                         // gotol
        Assert.Equal(1u, RunFarJump((b, l) => b.JumpIf(R2, JumpCondition.Equal, 5, l)));            // jne +1; gotol
        Assert.Equal(2u, RunFarJump((b, l) => b.JumpIf(R2, JumpCondition.Equal, 6, l)));
        Assert.Equal(1u, RunFarJump((b, l) => b.JumpIf(R2.W, JumpCondition.SignedLess, 6, l)));     // w: jsge +1; gotol
        Assert.Equal(1u, RunFarJump((b, l) => b.JumpIf(R2, JumpCondition.AnyBitsSet, 4, l)));       // jset +1; ja +1; gotol
        Assert.Equal(2u, RunFarJump((b, l) => b.JumpIf(R2, JumpCondition.AnyBitsSet, 2, l)));
    }
}
