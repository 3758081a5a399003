using SockOps.Emit.Assembler;
using SockOps.Emit.Lint;
using static SockOps.Emit.Tests.Kernel.Insn;

namespace SockOps.Emit.Tests.Lint;

/// <summary>Linter behaviour that needs no kernel: indexing, options, program-type gating, ordering.</summary>
public class LinterUnitTests
{
    [Fact]
    public void Findings_use_list_indices_while_messages_use_the_kernels_slot_numbers()
    {
        // ld_imm64 takes slots 0-1, so the unreachable mov is list index 3 but kernel insn 4.
        Instruction[] program = [LdImm64(0, 1), Alu64(AluOperation.And, 0, 1), Exit(), Mov64(0, 0), Exit()];
        var findings = InstructionLinter.Lint(program);
        Assert.Equal([(3, LintRules.Unreachable), (4, LintRules.Unreachable)], findings.Select(f => (f.InstructionIndex, f.Rule)));
        Assert.StartsWith("unreachable insn 4", findings[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Generic_programs_get_no_sock_ops_rules()
    {
        Instruction[] program = [Ldx(4, 0, 1, 2), Call(86), Mov64(0, 7), Exit()];
        Assert.Equal([LintRules.ContextAccess, LintRules.HelperNotAllowed, LintRules.ReturnValue],
            InstructionLinter.Lint(program).Select(f => f.Rule));
        Assert.Empty(InstructionLinter.Lint(program, new LintOptions { ProgramType = LintProgramType.Generic }));
    }

    [Fact]
    public void Entry_registers_are_configurable()
    {
        Instruction[] program = [Mov64Reg(0, 2), Alu64(AluOperation.And, 0, 1), Exit()];
        Assert.Single(InstructionLinter.Lint(program));
        Assert.Empty(InstructionLinter.Lint(program, new LintOptions { EntryRegisters = LintOptions.CalleeEntryRegisters }));
    }

    [Fact]
    public void Ctx_tracking_stops_when_the_copy_is_overwritten_or_clobbered_by_a_call()
    {
        // r2 = r1; r2 += 4: a modified ctx pointer is not checked as ctx (the kernel refuses it for another reason).
        Assert.DoesNotContain(InstructionLinter.Lint([Mov64Reg(2, 1), Alu64(AluOperation.Add, 2, 4), Ldx(4, 0, 2, 1), Mov64(0, 1), Exit()]),
            f => f.Rule == LintRules.ContextAccess);
        // After a call r1 is no longer ctx (and is uninitialized).
        var afterCall = InstructionLinter.Lint([Call(5), Ldx(4, 0, 1, 2), Mov64(0, 1), Exit()]);
        Assert.Equal([LintRules.UninitializedRegister], afterCall.Select(f => f.Rule));
    }

    [Fact]
    public void Join_is_an_intersection_and_loops_reach_a_fixpoint()
    {
        // r3 is written inside a loop body that may run zero times: reading it after the loop is flagged.
        Instruction[] program =
        [
            Ldx(4, 2, 1, 0),
            JeqImm(2, 0, 2),
            Mov64(3, 1),
            Ja(-3),
            Mov64Reg(0, 3),
            Exit(),
        ];
        var finding = Assert.Single(InstructionLinter.Lint(program));
        Assert.Equal((4, LintRules.UninitializedRegister), (finding.InstructionIndex, finding.Rule));
    }

    [Fact]
    public void An_empty_program_has_no_instruction_to_blame_and_null_is_refused()
    {
        // (The kernel refuses zero instructions before verification; there is no index to report.)
        Assert.Empty(InstructionLinter.Lint([]));
        Assert.Throws<ArgumentNullException>(() => InstructionLinter.Lint(null!));
    }
}
