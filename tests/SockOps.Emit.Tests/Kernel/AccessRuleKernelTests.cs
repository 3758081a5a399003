using System.Text;
using SockOps.Emit.Assembler;
using SockOps.Emit.TestSupport;

namespace SockOps.Emit.Tests.Kernel;

/// <summary>
/// Proves the model's access rules on the real verifier: every offset × width × access kind is
/// loaded as a raw sock_ops program and the kernel's verdict must equal the model's.
/// </summary>
public class AccessRuleKernelTests
{
    private static readonly int[] Widths = [1, 2, 4, 8];

    public enum Kind { Load, LoadSignExtend, StoreRegister, StoreImmediate }

    private static List<Instruction> CtxProgram(Kind kind, int offset, int size)
    {
        var program = new List<Instruction>();
        switch (kind)
        {
            case Kind.Load:
                program.Add(Insn.Ldx(size, 2, 1, (short)offset));
                break;
            case Kind.LoadSignExtend:
                program.Add(new Instruction(Opcode.Memory(InstructionClass.Ldx, MemoryMode.MemSx, (MemorySize)Insn.SizeCode(size)), 2, 1, (short)offset, 0));
                break;
            case Kind.StoreRegister:
                program.Add(Insn.Mov64(2, 7));
                program.Add(Insn.Stx(size, 1, 2, (short)offset));
                break;
            default:
                program.Add(Insn.St(size, 1, (short)offset, 7));
                break;
        }
        program.Add(Insn.Mov64(0, 1));
        program.Add(Insn.Exit());
        return program;
    }

    [Fact]
    public void Ctx_rules_equal_the_verifier_for_every_offset_width_and_access_kind_including_sign_extending_loads()
    {
        KernelGate.Require();
        var mismatches = new StringBuilder();
        int checkedCount = 0;
        for (int offset = 0; offset < 232; offset++)
        {
            foreach (int size in Widths)
            {
                foreach (var kind in Enum.GetValues<Kind>())
                {
                    if (kind == Kind.LoadSignExtend && size == 8) continue; // there is no 8-byte sign-extending load
                    string? reason = SockOpsContext.CheckAccess(offset, size, isWrite: kind is Kind.StoreRegister or Kind.StoreImmediate);
                    var result = RawBpf.LoadSockOps(CtxProgram(kind, offset, size));
                    checkedCount++;
                    if (result.Accepted != (reason is null))
                    {
                        mismatches.Append($"{kind} off={offset} size={size}: kernel {result}, model {reason ?? "accepts"}\n");
                    }
                    else if (!result.Accepted && !result.Log.Contains($"invalid bpf_context access off={offset} size={size}", StringComparison.Ordinal))
                    {
                        mismatches.Append($"{kind} off={offset} size={size}: refused for another reason: {result}\n");
                    }
                }
            }
        }
        Assert.Equal(232 * ((4 * 3) + 3), checkedCount);
        Assert.True(mismatches.Length == 0, mismatches.ToString());
    }

    [Theory]
    [InlineData(4, 4)]
    [InlineData(164, 4)]
    [InlineData(168, 8)]
    [InlineData(0, 4)]
    public void Atomics_on_ctx_are_refused_as_the_model_says(int offset, int size)
    {
        KernelGate.Require();
        string? reason = SockOpsContext.CheckAccess(offset, size, isWrite: true, isAtomic: true);
        Assert.NotNull(reason);
        var result = RawBpf.LoadSockOps([Insn.Mov64(2, 1), Insn.AtomicAdd(size, 1, 2, (short)offset), Insn.Mov64(0, 1), Insn.Exit()]);
        Assert.False(result.Accepted, result.ToString());
        Assert.Contains("BPF_ATOMIC stores into R1 ctx is not allowed", result.Log, StringComparison.Ordinal);
        Assert.StartsWith("BPF_ATOMIC stores into R1 ctx is not allowed", reason, StringComparison.Ordinal);
    }

    /// <summary>r2 = skops->sk; if (r2 == 0) goto out; access (r2 + off); out: r0 = 1; exit.</summary>
    private static List<Instruction> SockProgram(bool write, int offset, int size) =>
    [
        Insn.Ldx(8, 2, 1, (short)SockOpsContext.Sk.Offset),
        Insn.JeqImm(2, 0, 1),
        write ? Insn.St(size, 2, (short)offset, 0) : Insn.Ldx(size, 3, 2, (short)offset),
        Insn.Mov64(0, 1),
        Insn.Exit(),
    ];

    /// <summary>r1 = skops->sk; if (!r1) goto out; r0 = bpf_tcp_sock(r1); if (!r0) goto out; access (r0 + off); out: r0 = 1; exit.</summary>
    private static List<Instruction> TcpSockProgram(bool write, int offset, int size) =>
    [
        Insn.Ldx(8, 1, 1, (short)SockOpsContext.Sk.Offset),
        Insn.JeqImm(1, 0, 3),
        Insn.Call(96),
        Insn.JeqImm(0, 0, 1),
        write ? Insn.St(size, 0, (short)offset, 0) : Insn.Ldx(size, 3, 0, (short)offset),
        Insn.Mov64(0, 1),
        Insn.Exit(),
    ];

    [Fact]
    public void Bpf_sock_rules_equal_the_verifier()
    {
        KernelGate.Require();
        var mismatches = new StringBuilder();
        for (int offset = 0; offset < BpfSock.Size + 8; offset++)
        {
            foreach (int size in Widths)
            {
                foreach (bool write in (bool[])[false, true])
                {
                    if (write && offset % 4 != 0) continue; // every write is refused; one per word is enough
                    string? reason = BpfSock.CheckAccess(offset, size, write);
                    var result = RawBpf.LoadSockOps(SockProgram(write, offset, size));
                    string expectedText = write ? "R2 cannot write into sock" : $"R2 invalid sock access off={offset} size={size}";
                    if (result.Accepted != (reason is null))
                        mismatches.Append($"{(write ? "store" : "load")} off={offset} size={size}: kernel {result}, model {reason ?? "accepts"}\n");
                    else if (!result.Accepted && !result.Log.Contains(expectedText, StringComparison.Ordinal))
                        mismatches.Append($"off={offset} size={size}: refused for another reason: {result}\n");
                }
            }
        }
        Assert.True(mismatches.Length == 0, mismatches.ToString());
    }

    [Fact]
    public void Bpf_tcp_sock_rules_equal_the_verifier()
    {
        KernelGate.Require();
        var mismatches = new StringBuilder();
        for (int offset = 0; offset < BpfTcpSock.Size + 8; offset++)
        {
            foreach (int size in Widths)
            {
                foreach (bool write in (bool[])[false, true])
                {
                    if (write && offset % 4 != 0) continue;
                    string? reason = BpfTcpSock.CheckAccess(offset, size, write);
                    var result = RawBpf.LoadSockOps(TcpSockProgram(write, offset, size));
                    // The upper halves of the u64 fields (84, 92) pass bpf_tcp_sock_is_valid_access and are
                    // refused one step later, when the access is rewritten (EFAULT).
                    bool upperHalf = !write && size == 4 && (offset == 84 || offset == 92);
                    string expectedText = write ? "R0 cannot write into tcp_sock"
                        : upperHalf ? "verifier bug: error during ctx access conversion"
                        : $"R0 invalid tcp_sock access off={offset} size={size}";
                    if (result.Accepted != (reason is null))
                        mismatches.Append($"{(write ? "store" : "load")} off={offset} size={size}: kernel {result}, model {reason ?? "accepts"}\n");
                    else if (!result.Accepted && !result.Log.Contains(expectedText, StringComparison.Ordinal))
                        mismatches.Append($"off={offset} size={size}: refused for another reason: {result}\n");
                }
            }
        }
        Assert.True(mismatches.Length == 0, mismatches.ToString());
    }
}
