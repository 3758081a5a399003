using SockOps.Emit.Assembler;
using SockOps.Emit.TestSupport;
using static SockOps.Emit.Runtime.Tests.Asm;
using static SockOps.Emit.Runtime.Tests.ProgramLoadTests;

namespace SockOps.Emit.Runtime.Tests;

/// <summary>Real refusals by the 6.18 verifier (messages per ../shared/reference/kernel-sockops.md §1, §4).</summary>
public class VerifierRejectionTests
{
    [Fact]
    public void Reading_uninitialized_r0_is_refused_at_the_exit()
    {
        KernelGate.Require();
        var e = Assert.Throws<VerifierException>(() => BpfProgram.Load(SockOpsProgram("uninit", Mov64(2, 0), Exit())));
        Assert.Equal("R0 !read_ok", e.ErrorLine);
        Assert.Equal(1, e.InstructionIndex);
        Assert.Equal("(95) exit", e.InstructionText);
        Assert.Equal("EACCES", e.ErrnoName);
        Assert.Contains("R0 !read_ok", e.Log, StringComparison.Ordinal);
        Assert.Contains("processed", e.Log, StringComparison.Ordinal);
        Assert.Contains("at instruction 1 `(95) exit`", e.Message, StringComparison.Ordinal);
        Assert.Contains("R0 !read_ok", e.Message, StringComparison.Ordinal);
        Assert.Null(e.SourceLine);
    }

    [Fact]
    public void Writing_a_read_only_ctx_field_is_an_invalid_context_access()
    {
        KernelGate.Require();
        // args[1] at offset 8 is read-only for sock_ops (only reply@4 and sk_txhash@164 are writable).
        var e = Assert.Throws<VerifierException>(() => BpfProgram.Load(SockOpsProgram("ctxwrite",
            Mov64(2, 7), StxW(1, 2, 8), Mov64(0, 1), Exit())));
        Assert.Equal("invalid bpf_context access off=8 size=4", e.ErrorLine);
        Assert.Equal(1, e.InstructionIndex);
        Assert.Contains("*(u32 *)(r1 +8) = r2", e.InstructionText, StringComparison.Ordinal);
    }

    [Fact]
    public void Return_value_outside_0_1_is_refused_for_sock_ops()
    {
        KernelGate.Require();
        var e = Assert.Throws<VerifierException>(() => BpfProgram.Load(SockOpsProgram("ret2", Mov64(0, 2), Exit())));
        Assert.StartsWith("At program exit the register R0 has smin=2 smax=2 should have been in [0, 1]", e.ErrorLine, StringComparison.Ordinal);
        Assert.Equal(1, e.InstructionIndex);
    }

    [Fact]
    public void Instruction_index_counts_ld_imm64_once()
    {
        KernelGate.Require();
        // ld_imm64 takes slots 0-1, so the uninitialized-r0 exit is slot 3 but instruction 2.
        var e = Assert.Throws<VerifierException>(() => BpfProgram.Load(SockOpsProgram("wide",
            Instruction.LoadImmediate64(Register.R2, 0x1_0000_0000), Mov64(3, 0), Exit())));
        Assert.Equal(3, e.SlotIndex);
        Assert.Equal(2, e.InstructionIndex);
    }

    [Fact]
    public void Unknown_helper_is_refused_with_the_call_instruction()
    {
        KernelGate.Require();
        var e = Assert.Throws<VerifierException>(() => BpfProgram.Load(SockOpsProgram("badcall", Mov64(0, 0), Call(212), Mov64(0, 1), Exit())));
        Assert.Contains("invalid func unknown#212", e.ErrorLine, StringComparison.Ordinal);
        Assert.Equal(1, e.InstructionIndex);
    }

    [Fact]
    public void Jump_out_of_range_names_the_instruction_from_the_message()
    {
        KernelGate.Require();
        var e = Assert.Throws<VerifierException>(() => BpfProgram.Load(SockOpsProgram("jump", Mov64(0, 1), Ja(5), Exit())));
        Assert.Contains("jump out of range from insn 1 to 7", e.ErrorLine, StringComparison.Ordinal);
        Assert.Equal(1, e.InstructionIndex);
    }

    [Fact]
    public void The_whole_log_is_kept_even_when_it_overflows_the_first_buffer()
    {
        KernelGate.Require();
        var code = new List<Instruction>();
        for (int i = 0; i < 200; i++) code.Add(Mov64(2, i));
        code.Add(Exit()); // r0 never written
        var e = Assert.Throws<VerifierException>(() => BpfProgram.Load(new ProgramLoadOptions
        {
            Type = ProgramType.SockOps, Name = "biglog", Instructions = code, LogLevel = VerifierLogLevel.Verbose, InitialLogSize = 512,
        }));
        // The beginning (instruction 0) and the end (the error at the exit) are both there.
        Assert.Contains("0: (b7) r2 = 0", e.Log, StringComparison.Ordinal);
        Assert.Contains("199: (b7) r2 = 199", e.Log, StringComparison.Ordinal);
        Assert.Equal("R0 !read_ok", e.ErrorLine);
        Assert.Equal(200, e.InstructionIndex);
        Assert.True(e.Log.Length > 512);
    }

    [Fact]
    public void Bad_attributes_without_a_log_are_a_plain_bpf_exception()
    {
        KernelGate.Require();
        var e = Assert.Throws<BpfException>(() => BpfProgram.Load(new ProgramLoadOptions
        {
            Type = (ProgramType)9999, Instructions = [Mov64(0, 0), Exit()],
        }));
        Assert.IsNotType<VerifierException>(e);
        Assert.Equal("EINVAL", e.ErrnoName);
    }
}
