namespace SockOps.Emit.Assembler;

// The kernel syntax: what print_bpf_insn() in kernel/bpf/disasm.c prints (verifier logs,
// bpftool prog dump xlated), without the line's trailing newline. Oracle:
// tests/SockOps.Emit.Assembler.Tests/golden/kernel-xlated.tsv, the verifier log of Linux 6.18
// (scripts/golden/gen-kernel-golden.sh).
//
// Like disasm.c it is lenient: it prints whatever the fields say, even for encodings the verifier
// rejects. Deviations, all for cases the kernel itself never has to print:
//  - Names come from no callbacks: a kfunc call prints `call kernel-function#<btf id>` (the verifier
//    log resolves the BTF name), an ld_imm64 prints its immediate `0x<imm64>` whatever the pseudo
//    source (bpftool prints map[id:N]; the verifier log prints the resolved kernel address).
//  - Where disasm.c would pass a NULL string to "%s" (ALU operations 0xe0/0xf0, jump operation 0xf0),
//    the kernel's vsnprintf prints "(null)", and so do we. A sign-extending 64-bit load (0x99), which
//    disasm.c would print by reading past its table, prints BUG_ldx_99.
//  - The high-half multiply (ALU64 mul with a non-zero offset, newer than Linux 6.18) is not decoded.
public static partial class Disassembler
{
    private const string KernelNull = "(null)";

    private static readonly string?[] KernelAluOperators =
    [
        "+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "neg", "%=", "^=", "=", "s>>=", "endian", null, null,
    ];

    private static readonly string?[] KernelJumpOperators =
    [
        "jmp", "==", ">", ">=", "&", "!=", "s>", "s>=", "call", "exit", "<", "<=", "s<", "s<=", null, null,
    ];

    private static void FormatKernel(in Instruction insn, ref DisassemblerTextWriter w)
    {
        switch (ClassOf(insn))
        {
            case InstructionClass.Alu or InstructionClass.Alu64:
                KernelAlu(insn, ref w);
                break;
            case InstructionClass.Stx:
                KernelStx(insn, ref w);
                break;
            case InstructionClass.St:
                KernelSt(insn, ref w);
                break;
            case InstructionClass.Ldx:
                KernelLdx(insn, ref w);
                break;
            case InstructionClass.Ld:
                KernelLd(insn, ref w);
                break;
            default:
                KernelJump(insn, ref w);
                break;
        }
    }

    private static void KernelCode(byte opcode, ref DisassemblerTextWriter w)
    {
        w.Append('(');
        w.AppendHexByte(opcode);
        w.Append(") ");
    }

    private static void KernelBug(string prefix, byte opcode, ref DisassemblerTextWriter w)
    {
        w.Append(prefix);
        w.AppendHexByte(opcode);
    }

    /// <summary>disasm.c's <c>(r%d %+d)</c>.</summary>
    private static void KernelAddress(int register, short offset, ref DisassemblerTextWriter w)
    {
        w.Append('(');
        w.AppendRegister('r', register);
        w.Append(' ');
        w.AppendSigned(offset);
        w.Append(')');
    }

    private static void KernelAlu(in Instruction insn, ref DisassemblerTextWriter w)
    {
        bool is64 = ClassOf(insn) == InstructionClass.Alu64;
        char r = is64 ? 'r' : 'w';
        int op = insn.Opcode & 0xf0;
        bool fromRegister = (insn.Opcode & 0x08) != 0;
        KernelCode(insn.Opcode, ref w);

        if ((AluOperation)op == AluOperation.End)
        {
            w.AppendRegister('r', insn.DestinationIndex);
            w.Append(is64 ? " = bswap" : fromRegister ? " = be" : " = le");
            w.Append(insn.Immediate);
            w.Append(' ');
            w.AppendRegister('r', insn.DestinationIndex);
            return;
        }
        if ((AluOperation)op == AluOperation.Neg)
        {
            w.AppendRegister(r, insn.DestinationIndex);
            w.Append(" = -");
            w.AppendRegister(r, insn.DestinationIndex);
            return;
        }
        if (insn.Opcode == 0xbf && insn.Offset == 1)
        {
            // BPF_ADDR_SPACE_CAST
            w.AppendRegister('r', insn.DestinationIndex);
            w.Append(" = addr_space_cast(");
            w.AppendRegister('r', insn.SourceIndex);
            w.Append(", ");
            w.Append((uint)insn.Immediate >> 16);
            w.Append(", ");
            w.Append((uint)(ushort)insn.Immediate);
            w.Append(')');
            return;
        }
        if (insn.Opcode == 0xbf && insn.Offset == -1)
        {
            // The verifier's internal per-CPU address mov (BPF_ADDR_PERCPU).
            w.AppendRegister('r', insn.DestinationIndex);
            w.Append(" = &(void __percpu *)(");
            w.AppendRegister('r', insn.SourceIndex);
            w.Append(')');
            return;
        }

        bool signedDivision = (AluOperation)op is AluOperation.Div or AluOperation.Mod && insn.Offset == 1;
        w.AppendRegister(r, insn.DestinationIndex);
        w.Append(' ');
        if (signedDivision) w.Append('s');
        w.Append(KernelAluOperators[op >> 4] ?? KernelNull);
        w.Append(' ');
        if (fromRegister)
        {
            if ((AluOperation)op == AluOperation.Mov && insn.Offset is 8 or 16 or 32)
                w.Append(insn.Offset switch { 8 => "(s8)", 16 => "(s16)", _ => "(s32)" });
            w.AppendRegister(r, insn.SourceIndex);
        }
        else
        {
            w.Append(insn.Immediate);
        }
    }

    private static void KernelStx(in Instruction insn, ref DisassemblerTextWriter w)
    {
        var mode = (MemoryMode)(insn.Opcode & 0xe0);
        int size = (insn.Opcode >> 3) & 0x03;
        string type = UnsignedSizeNames[size];
        string width = size == 3 ? "64" : "";
        if (mode == MemoryMode.Mem)
        {
            KernelCode(insn.Opcode, ref w);
            w.Append("*(");
            w.Append(type);
            w.Append(" *)");
            KernelAddress(insn.DestinationIndex, insn.Offset, ref w);
            w.Append(" = ");
            w.AppendRegister('r', insn.SourceIndex);
            return;
        }
        if (mode != MemoryMode.Atomic)
        {
            KernelBug("BUG_", insn.Opcode, ref w);
            return;
        }

        var operation = (AtomicOperation)insn.Immediate;
        switch (operation)
        {
            case AtomicOperation.Add or AtomicOperation.And or AtomicOperation.Or or AtomicOperation.Xor:
                KernelCode(insn.Opcode, ref w);
                w.Append("lock *(");
                w.Append(type);
                w.Append(" *)");
                KernelAddress(insn.DestinationIndex, insn.Offset, ref w);
                w.Append(' ');
                w.Append(KernelAluOperators[insn.Immediate >> 4]!);
                w.Append(' ');
                w.AppendRegister('r', insn.SourceIndex);
                return;

            case AtomicOperation.FetchAdd or AtomicOperation.FetchAnd or AtomicOperation.FetchOr or AtomicOperation.FetchXor:
                KernelCode(insn.Opcode, ref w);
                w.AppendRegister('r', insn.SourceIndex);
                w.Append(" = atomic");
                w.Append(width);
                w.Append("_fetch_");
                w.Append(operation switch
                {
                    AtomicOperation.FetchAdd => "add",
                    AtomicOperation.FetchAnd => "and",
                    AtomicOperation.FetchOr => "or",
                    _ => "xor",
                });
                w.Append("((");
                w.Append(type);
                w.Append(" *)");
                KernelAddress(insn.DestinationIndex, insn.Offset, ref w);
                w.Append(", ");
                w.AppendRegister('r', insn.SourceIndex);
                w.Append(')');
                return;

            case AtomicOperation.CmpXchg:
                KernelCode(insn.Opcode, ref w);
                w.Append("r0 = atomic");
                w.Append(width);
                w.Append("_cmpxchg((");
                w.Append(type);
                w.Append(" *)");
                KernelAddress(insn.DestinationIndex, insn.Offset, ref w);
                w.Append(", r0, ");
                w.AppendRegister('r', insn.SourceIndex);
                w.Append(')');
                return;

            case AtomicOperation.Xchg:
                KernelCode(insn.Opcode, ref w);
                w.AppendRegister('r', insn.SourceIndex);
                w.Append(" = atomic");
                w.Append(width);
                w.Append("_xchg((");
                w.Append(type);
                w.Append(" *)");
                KernelAddress(insn.DestinationIndex, insn.Offset, ref w);
                w.Append(", ");
                w.AppendRegister('r', insn.SourceIndex);
                w.Append(')');
                return;

            case AtomicOperation.LoadAcquire:
                KernelCode(insn.Opcode, ref w);
                w.AppendRegister('r', insn.DestinationIndex);
                w.Append(" = load_acquire((");
                w.Append(type);
                w.Append(" *)");
                KernelAddress(insn.SourceIndex, insn.Offset, ref w);
                w.Append(')');
                return;

            case AtomicOperation.StoreRelease:
                KernelCode(insn.Opcode, ref w);
                w.Append("store_release((");
                w.Append(type);
                w.Append(" *)");
                KernelAddress(insn.DestinationIndex, insn.Offset, ref w);
                w.Append(", ");
                w.AppendRegister('r', insn.SourceIndex);
                w.Append(')');
                return;

            default:
                KernelBug("BUG_", insn.Opcode, ref w);
                return;
        }
    }

    private static void KernelSt(in Instruction insn, ref DisassemblerTextWriter w)
    {
        var mode = (MemoryMode)(insn.Opcode & 0xe0);
        if (mode == MemoryMode.Mem)
        {
            KernelCode(insn.Opcode, ref w);
            w.Append("*(");
            w.Append(UnsignedSizeNames[(insn.Opcode >> 3) & 0x03]);
            w.Append(" *)");
            KernelAddress(insn.DestinationIndex, insn.Offset, ref w);
            w.Append(" = ");
            w.Append(insn.Immediate);
        }
        else if ((int)mode == 0xc0)
        {
            // BPF_NOSPEC: a verifier-internal speculation barrier.
            KernelCode(insn.Opcode, ref w);
            w.Append("nospec");
        }
        else
        {
            KernelBug("BUG_st_", insn.Opcode, ref w);
        }
    }

    private static void KernelLdx(in Instruction insn, ref DisassemblerTextWriter w)
    {
        var mode = (MemoryMode)(insn.Opcode & 0xe0);
        int size = (insn.Opcode >> 3) & 0x03;
        if (mode != MemoryMode.Mem && (mode != MemoryMode.MemSx || size == 3))
        {
            KernelBug("BUG_ldx_", insn.Opcode, ref w);
            return;
        }
        KernelCode(insn.Opcode, ref w);
        w.AppendRegister('r', insn.DestinationIndex);
        w.Append(" = *(");
        w.Append(mode == MemoryMode.Mem ? UnsignedSizeNames[size] : SignedSizeNames[size]);
        w.Append(" *)");
        KernelAddress(insn.SourceIndex, insn.Offset, ref w);
    }

    private static void KernelLd(in Instruction insn, ref DisassemblerTextWriter w)
    {
        var mode = (MemoryMode)(insn.Opcode & 0xe0);
        int size = (insn.Opcode >> 3) & 0x03;
        switch (mode)
        {
            case MemoryMode.Abs:
                KernelCode(insn.Opcode, ref w);
                w.Append("r0 = *(");
                w.Append(UnsignedSizeNames[size]);
                w.Append(" *)skb[");
                w.Append(insn.Immediate);
                w.Append(']');
                return;
            case MemoryMode.Ind:
                KernelCode(insn.Opcode, ref w);
                w.Append("r0 = *(");
                w.Append(UnsignedSizeNames[size]);
                w.Append(" *)skb[");
                w.AppendRegister('r', insn.SourceIndex);
                w.Append(" + ");
                w.Append(insn.Immediate);
                w.Append(']');
                return;
            case MemoryMode.Imm when size == 3:
                KernelCode(insn.Opcode, ref w);
                w.AppendRegister('r', insn.DestinationIndex);
                w.Append(" = 0x");
                w.AppendHex((ulong)insn.Immediate64);
                return;
            default:
                KernelBug("BUG_ld_", insn.Opcode, ref w);
                return;
        }
    }

    private static void KernelJump(in Instruction insn, ref DisassemblerTextWriter w)
    {
        bool is64 = ClassOf(insn) == InstructionClass.Jmp;
        int op = insn.Opcode & 0xf0;
        KernelCode(insn.Opcode, ref w);

        if ((JumpOperation)op == JumpOperation.Call)
        {
            w.Append("call ");
            if (insn.SourceIndex == (byte)CallKind.Local)
            {
                w.Append("pc");
                w.AppendSigned(insn.Immediate);
                return;
            }
            if (insn.SourceIndex == (byte)CallKind.Helper && (uint)insn.Immediate < (uint)KernelHelperNames.Length)
                w.Append(KernelHelperNames[insn.Immediate]);
            else if (insn.SourceIndex == (byte)CallKind.Kfunc)
                w.Append("kernel-function");
            else
                w.Append("unknown");
            w.Append('#');
            w.Append(insn.Immediate);
            return;
        }

        switch (insn.Opcode)
        {
            case 0x05: // BPF_JMP | BPF_JA
                w.Append("goto pc");
                w.AppendSigned(insn.Offset);
                return;
            case 0x0d: // BPF_JMP | BPF_JA | BPF_X
                w.Append("gotox ");
                w.AppendRegister('r', insn.DestinationIndex);
                return;
            case 0xe5 when insn.SourceIndex == 0: // BPF_JMP | BPF_JCOND, BPF_MAY_GOTO
                w.Append("may_goto pc");
                w.AppendSigned(insn.Offset);
                return;
            case 0x06: // BPF_JMP32 | BPF_JA
                w.Append("gotol pc");
                w.AppendSigned(insn.Immediate);
                return;
            case 0x95: // BPF_JMP | BPF_EXIT
                w.Append("exit");
                return;
        }

        char r = is64 ? 'r' : 'w';
        w.Append("if ");
        w.AppendRegister(r, insn.DestinationIndex);
        w.Append(' ');
        w.Append(KernelJumpOperators[op >> 4] ?? KernelNull);
        w.Append(' ');
        if ((insn.Opcode & 0x08) != 0)
        {
            w.AppendRegister(r, insn.SourceIndex);
        }
        else
        {
            w.Append("0x");
            w.AppendHex((uint)insn.Immediate);
        }
        w.Append(" goto pc");
        w.AppendSigned(insn.Offset);
    }
}
