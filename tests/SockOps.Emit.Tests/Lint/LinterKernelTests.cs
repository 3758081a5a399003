using SockOps.Emit.Assembler;
using SockOps.Emit.Lint;
using SockOps.Emit.TestSupport;
using SockOps.Emit.Tests.Kernel;
using static SockOps.Emit.Tests.Kernel.Insn;

namespace SockOps.Emit.Tests.Lint;

/// <summary>
/// Each linter rule on a program that breaks it: the linter must report exactly the expected rules,
/// and the real verifier must refuse the same program with the matching message.
/// </summary>
public class LinterKernelTests
{
    public sealed record Case(string Name, Func<int, Instruction[]> Build, string[] Rules, string KernelMessage, bool Gpl = true);

    private static readonly Instruction ExitOne = Mov64(0, 1);

    private static readonly Case[] Cases =
    [
        new("read of a never-written register", _ => [Mov64Reg(0, 2), Exit()], [LintRules.UninitializedRegister], "R2 !read_ok"),
        new("read of a register written on one path only", _ =>
            [Ldx(4, 2, 1, 0), JeqImm(2, 0, 1), Mov64(3, 1), Mov64Reg(0, 3), Exit()], [LintRules.UninitializedRegister], "R3 !read_ok"),
        new("read of a caller-saved register after a helper call", _ => [Call(5), Mov64Reg(0, 1), Exit()], [LintRules.UninitializedRegister], "R1 !read_ok"),
        new("helper arguments never set (r2-r5 of bpf_setsockopt)", _ => [Call(49), ExitOne, Exit()], [.. Enumerable.Repeat(LintRules.UninitializedRegister, 4)], "R2 !read_ok"),
        new("exit without a return value", _ => [Exit()], [LintRules.UninitializedRegister], "R0 !read_ok"),
        new("r0 read after a void helper (bpf_tail_call)", map => [Instruction.LoadImmediate64(Register.R2, map, PseudoSource.MapFd), Mov64(3, 0), Call(12), Exit()],
            [LintRules.UninitializedRegister], "R0 !read_ok"),
        new("write to the frame pointer", _ => [Mov64(10, 0), ExitOne, Exit()], [LintRules.FramePointerWrite], "frame pointer is read only"),
        new("register field 11", _ => [Mov64(11, 0), ExitOne, Exit()], [LintRules.InvalidRegister], "R11 is invalid"),
        new("conditional jump past the end", _ => [ExitOne, JeqImm(0, 1, 5), Exit()], [LintRules.JumpOutOfRange], "jump out of range from insn 1 to 7"),
        new("jump from a subprogram into the main program", _ =>
            [new Instruction(0x85, 0, 1, 0, 2), ExitOne, Exit(), Mov64(0, 0), JeqImm(0, 0, -4), Exit()],
            [LintRules.JumpOutOfRange], "jump out of range from insn 4 to 1"),
        new("bpf-to-bpf call past the end", _ => [new Instruction(0x85, 0, 1, 0, 10), ExitOne, Exit()], [LintRules.JumpOutOfRange], "call to invalid destination"),
        new("jump into the second slot of ld_imm64", _ =>
            [Ldx(4, 2, 1, 0), JeqImm(2, 0, 1), LdImm64(0, 1), ExitOne, Exit()], [LintRules.JumpIntoLoadImmediate64], "jump into the middle of ldimm64 insn 2"),
        new("program that falls off its end", _ => [ExitOne], [LintRules.FallsOffEnd], "last insn is not an exit or jmp"),
        new("conditional jump as the last instruction", _ => [Ldx(4, 2, 1, 0), ExitOne, JeqImm(2, 0, -3)], [LintRules.FallsOffEnd], "last insn is not an exit or jmp"),
        new("JMP32-class exit as the last instruction", _ => [ExitOne, new Instruction(0x96, 0, 0, 0, 0)], [LintRules.FallsOffEnd], "last insn is not an exit or jmp"),
        new("code after exit", _ => [ExitOne, Exit(), Mov64(0, 0), Exit()], [LintRules.Unreachable, LintRules.Unreachable], "unreachable insn 2"),
        new("64-bit shift by 64", _ => [ExitOne, Alu64(AluOperation.Lsh, 0, 64), Exit()], [LintRules.InvalidShift], "invalid shift 64"),
        new("32-bit shift by 32", _ => [Mov32(0, 1), Alu32(AluOperation.Rsh, 0, 32), Exit()], [LintRules.InvalidShift], "invalid shift 32"),
        new("negative arithmetic shift", _ => [ExitOne, Alu64(AluOperation.Arsh, 0, -1), Exit()], [LintRules.InvalidShift], "invalid shift -1"),
        new("division by the immediate 0", _ => [ExitOne, Alu64(AluOperation.Div, 0, 0), Exit()], [LintRules.DivisionByZero], "div by zero"),
        new("32-bit modulo by the immediate 0", _ => [ExitOne, Alu32(AluOperation.Mod, 0, 0), Exit()], [LintRules.DivisionByZero], "div by zero"),
        new("helper not available to sock_ops (bpf_sk_release)", _ => [Call(86), ExitOne, Exit()], [LintRules.HelperNotAllowed], "program of this type cannot use helper"),
        new("GPL-only helper with a non-GPL licence (bpf_ktime_get_ns is fine, bpf_get_current_task is not)", _ => [Call(5), Call(35), ExitOne, Exit()],
            [LintRules.HelperNotAllowed], "cannot call GPL-restricted function from non-GPL compatible program", Gpl: false),
        new("misaligned ctx load", _ => [Ldx(4, 0, 1, 2), ExitOne, Exit()], [LintRules.ContextAccess], "invalid bpf_context access off=2 size=4"),
        new("store to a read-only ctx field through a copy of r1", _ => [Mov64Reg(6, 1), Mov64(2, 0), Stx(4, 6, 2, 8), ExitOne, Exit()],
            [LintRules.ContextAccess], "invalid bpf_context access off=8 size=4"),
        new("4-byte load of the sk pointer", _ => [Ldx(4, 2, 1, 184), ExitOne, Exit()], [LintRules.ContextAccess], "invalid bpf_context access off=184 size=4"),
        new("return 2", _ => [Mov64(0, 2), Exit()], [LintRules.ReturnValue], "At program exit the register R0 has smin=2 smax=2 should have been in [0, 1]"),
        new("return (u32)-1 on both paths", _ => [Ldx(4, 2, 1, 0), Mov32(0, -1), JeqImm(2, 0, 1), Exit(), Exit()],
            [LintRules.ReturnValue, LintRules.ReturnValue], "At program exit the register R0 has smin=4294967295 smax=4294967295 should have been in [0, 1]"),
        new("return -1 loaded with ld_imm64", _ => [LdImm64(0, -1), Exit()], [LintRules.ReturnValue], "At program exit the register R0 has smin=-1 smax=-1 should have been in [0, 1]"),
        new("legacy absolute packet load", _ => [Mov64Reg(6, 1), new Instruction(Opcode.Memory(InstructionClass.Ld, MemoryMode.Abs, MemorySize.W), 0, 0, 0, 0), ExitOne, Exit()],
            [LintRules.LegacyPacketLoad], "BPF_LD_[ABS|IND] instructions not allowed for this program type"),
        new("atomic add on reply", _ => [Mov64(2, 1), AtomicAdd(4, 1, 2, 4), ExitOne, Exit()], [LintRules.ContextAccess], "BPF_ATOMIC stores into R1 ctx is not allowed"),
    ];

    public static TheoryData<string> CaseNames => [.. Cases.Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Linter_flags_and_kernel_refuses(string name)
    {
        var c = Cases.Single(x => x.Name == name);
        // The linter does not look at map fds: lint with a placeholder, load with a real map.
        var findings = InstructionLinter.Lint(c.Build(-1), new LintOptions { IsGplLicense = c.Gpl });
        Assert.Equal(c.Rules, findings.Select(f => f.Rule));
        Assert.Contains(findings, f => f.Message.Contains(c.KernelMessage, StringComparison.Ordinal));

        KernelGate.Require();
        using var map = RawBpf.CreateMap(MapType.ProgramArray, 4, 4, 1);
        var program = c.Build((int)map.DangerousGetHandle());
        var result = RawBpf.LoadSockOps(program, license: c.Gpl ? "GPL" : "Proprietary");
        Assert.False(result.Accepted, $"the kernel accepted it; log:\n{result.Log}");
        Assert.Contains(c.KernelMessage, result.Log, StringComparison.Ordinal);
    }

    private static readonly (string Name, Instruction[] Program)[] CleanPrograms =
    [
        ("return 1", [ExitOne, Exit()]),
        ("bounded loop (a back-edge the kernel accepts)", [Mov64(2, 0), Alu64(AluOperation.Add, 2, 1), new Instruction(Opcode.Jump(true, JumpOperation.Jlt, OperandSource.Immediate), 2, 0, -2, 10), ExitOne, Exit()]),
        ("setsockopt with every argument set", [
            Mov64(2, 100), Stx(4, 10, 2, -4), Mov64Reg(4, 10), Alu64(AluOperation.Add, 4, -4),
            Mov64(2, (int)SocketOptionLevel.Tcp), Mov64(3, (int)TcpOption.BpfSndCwndClamp), Mov64(5, 4), Call(49), ExitOne, Exit()]),
        ("ctx kept in r6 across a call, reply written", [Mov64Reg(6, 1), Call(5), St(4, 6, 4, 0), Ldx(8, 2, 6, 168), Ldx(1, 3, 6, 212), ExitOne, Exit()]),
        ("jump over an ld_imm64 and a register set on both paths", [
            Ldx(4, 2, 1, 0), JeqImm(2, 0, 3), LdImm64(3, 0x1_0000_0000), Ja(1), Mov64(3, 2), Mov64Reg(0, 3), Alu64(AluOperation.And, 0, 1), Exit()]),
        ("bpf-to-bpf call with a callee reading its argument", [
            Mov64(1, 3), new Instruction(0x85, 0, 1, 0, 2), Alu64(AluOperation.And, 0, 1), Exit(), Mov64Reg(0, 1), Exit()]),
        ("bpf_get_branch_snapshot without r3: its flags argument is not checked by the verifier", [
            Mov64Reg(1, 10), Alu64(AluOperation.Add, 1, -8), Mov64(2, 8), Call(176), ExitOne, Exit()]),
        ("32-bit shift by 31 and 64-bit by 63", [ExitOne, Alu32(AluOperation.Lsh, 0, 31), Alu64(AluOperation.Rsh, 0, 63), Exit()]),
    ];

    public static TheoryData<string> CleanNames => [.. CleanPrograms.Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(CleanNames))]
    public void Linter_is_silent_on_programs_the_kernel_accepts(string name)
    {
        var program = CleanPrograms.Single(c => c.Name == name).Program;
        Assert.Empty(InstructionLinter.Lint(program));
        KernelGate.Require();
        var result = RawBpf.LoadSockOps(program);
        Assert.True(result.Accepted, result.ToString());
    }

    [Fact]
    public void Every_ctx_access_unit_read_at_its_width_is_clean()
    {
        var program = new List<Instruction>();
        foreach (var unit in SockOpsContext.AccessUnits)
            program.Add(Ldx(unit.ReadSizes.Allows(8) ? 8 : 4, 2, 1, (short)unit.Offset));
        program.Add(ExitOne);
        program.Add(Exit());
        Assert.Empty(InstructionLinter.Lint(program));
        KernelGate.Require();
        Assert.True(RawBpf.LoadSockOps(program).Accepted);
    }
}
