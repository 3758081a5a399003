namespace SockOps.Emit.Assembler;

/// <summary>An instruction form and the first Linux release whose verifier accepts it.</summary>
/// <param name="Name">The form, e.g. <c>jmp32 (cpu v3)</c> or <c>movsx (cpu v4)</c>.</param>
/// <param name="MinimumKernel">The first kernel that accepts it.</param>
public readonly record struct InstructionForm(string Name, KernelVersion MinimumKernel);

/// <summary>
/// The first kernel release that accepts each instruction form (from the kernel sources: the commit that taught
/// the verifier and the interpreter the form). The per-kernel proof is the conformance suite run in the kernel
/// matrix: every suite program whose forms are all at or below a kernel loads there, the others are refused
/// before the syscall.
/// </summary>
public static class InstructionKernelSupport
{
    /// <summary>The base eBPF instruction set (the bpf() syscall, Linux 3.18).</summary>
    public static InstructionForm Base { get; } = new("eBPF base instruction set", new(3, 18));
    /// <summary><c>jlt/jle/jslt/jsle</c> (cpu v2; "bpf: add BPF_J{LT,LE,SLT,SLE} instructions", 4.14).</summary>
    public static InstructionForm JumpLessThan { get; } = new("jlt/jle/jslt/jsle (cpu v2)", new(4, 14));
    /// <summary>The JMP32 class (cpu v3; "bpf: JMP32 instructions", 5.1).</summary>
    public static InstructionForm Jump32 { get; } = new("jmp32 (cpu v3)", new(5, 1));
    /// <summary>bpf-to-bpf calls (<c>call</c> with source 1; 4.16).</summary>
    public static InstructionForm LocalCall { get; } = new("bpf-to-bpf call", new(4, 16));
    /// <summary><c>ld_imm64</c> of a map value address (source 2; 5.2).</summary>
    public static InstructionForm MapValueLoad { get; } = new("ld_imm64 map value (BPF_PSEUDO_MAP_VALUE)", new(5, 2));
    /// <summary><c>ld_imm64</c> of a kernel variable by BTF id (source 3; 5.10).</summary>
    public static InstructionForm BtfIdLoad { get; } = new("ld_imm64 BTF id (BPF_PSEUDO_BTF_ID)", new(5, 10));
    /// <summary><c>ld_imm64</c> of a function address (source 4; callbacks, 5.13).</summary>
    public static InstructionForm FunctionLoad { get; } = new("ld_imm64 function (BPF_PSEUDO_FUNC)", new(5, 13));
    /// <summary><c>ld_imm64</c> of a map by fd-array index (sources 5 and 6; 5.14).</summary>
    public static InstructionForm MapIndexLoad { get; } = new("ld_imm64 map index (BPF_PSEUDO_MAP_IDX)", new(5, 14));
    /// <summary>kfunc calls (<c>call</c> with source 2; 5.13).</summary>
    public static InstructionForm KfuncCall { get; } = new("kfunc call", new(5, 13));
    /// <summary>Atomic and/or/xor, the fetching atomics, xchg and cmpxchg (cpu v3 atomics; 5.12).</summary>
    public static InstructionForm FetchingAtomics { get; } = new("atomic and/or/xor, fetch, xchg, cmpxchg (cpu v3)", new(5, 12));
    /// <summary>Signed division and modulo (cpu v4; "bpf: Support new signed div/mod instructions", 6.6).</summary>
    public static InstructionForm SignedDivision { get; } = new("sdiv/smod (cpu v4)", new(6, 6));
    /// <summary>Sign-extending register moves (cpu v4; 6.6).</summary>
    public static InstructionForm SignExtendingMove { get; } = new("movsx (cpu v4)", new(6, 6));
    /// <summary>Sign-extending loads (cpu v4; 6.6).</summary>
    public static InstructionForm SignExtendingLoad { get; } = new("ldsx (cpu v4)", new(6, 6));
    /// <summary>Unconditional byte swaps (ALU64 END, cpu v4; 6.6).</summary>
    public static InstructionForm ByteSwap { get; } = new("bswap (cpu v4)", new(6, 6));
    /// <summary>32-bit-offset unconditional jumps (JMP32 JA, cpu v4; 6.6).</summary>
    public static InstructionForm LongJump { get; } = new("gotol (cpu v4)", new(6, 6));
    /// <summary><c>may_goto</c> (JMP JCOND; 6.9).</summary>
    public static InstructionForm MayGoto { get; } = new("may_goto", new(6, 9));
    /// <summary><c>addr_space_cast</c> (ALU64 MOV with offset 1; arenas, 6.9).</summary>
    public static InstructionForm AddressSpaceCast { get; } = new("addr_space_cast", new(6, 9));
    /// <summary>load-acquire and store-release (6.15).</summary>
    public static InstructionForm AcquireRelease { get; } = new("load_acquire/store_release", new(6, 15));

    /// <summary>Every form, oldest first.</summary>
    public static IReadOnlyList<InstructionForm> All { get; } =
    [
        Base, JumpLessThan, LocalCall, Jump32, MapValueLoad, FetchingAtomics, BtfIdLoad, FunctionLoad, KfuncCall, MapIndexLoad,
        SignedDivision, SignExtendingMove, SignExtendingLoad, ByteSwap, LongJump, MayGoto, AddressSpaceCast, AcquireRelease,
    ];

    /// <summary>The newest form <paramref name="instruction"/> uses (<see cref="Base"/> for the original set).</summary>
    public static InstructionForm FormOf(in Instruction instruction)
    {
        byte op = instruction.Opcode;
        switch (instruction.Class)
        {
            case InstructionClass.Ld when instruction.IsWide:
                return (PseudoSource)instruction.SourceIndex switch
                {
                    PseudoSource.MapValue => MapValueLoad,
                    PseudoSource.BtfId => BtfIdLoad,
                    PseudoSource.Func => FunctionLoad,
                    PseudoSource.MapIndex or PseudoSource.MapIndexValue => MapIndexLoad,
                    _ => Base,
                };
            case InstructionClass.Alu:
            case InstructionClass.Alu64:
            {
                var aluOp = (AluOperation)(op & 0xf0);
                if (aluOp is AluOperation.Div or AluOperation.Mod && instruction.Offset != 0) return SignedDivision;
                if (aluOp == AluOperation.Mov && instruction.Offset == 1 && instruction.Class == InstructionClass.Alu64) return AddressSpaceCast;
                if (aluOp == AluOperation.Mov && instruction.Offset != 0) return SignExtendingMove;
                if (aluOp == AluOperation.End && instruction.Class == InstructionClass.Alu64) return ByteSwap;
                return Base;
            }
            case InstructionClass.Jmp:
            {
                var jumpOp = (JumpOperation)(op & 0xf0);
                if (jumpOp is JumpOperation.Jlt or JumpOperation.Jle or JumpOperation.Jslt or JumpOperation.Jsle) return JumpLessThan;
                if (jumpOp == JumpOperation.Jcond) return MayGoto;
                if (jumpOp == JumpOperation.Call)
                {
                    return (CallKind)instruction.SourceIndex switch
                    {
                        CallKind.Local => LocalCall,
                        CallKind.Kfunc => KfuncCall,
                        _ => Base,
                    };
                }
                return Base;
            }
            case InstructionClass.Jmp32:
                return (JumpOperation)(op & 0xf0) == JumpOperation.Ja ? LongJump : Jump32;
            case InstructionClass.Ldx:
                return (MemoryMode)(op & 0xe0) == MemoryMode.MemSx ? SignExtendingLoad : Base;
            case InstructionClass.Stx when (MemoryMode)(op & 0xe0) == MemoryMode.Atomic:
            {
                int atomic = instruction.Immediate;
                if (atomic is (int)AtomicOperation.LoadAcquire or (int)AtomicOperation.StoreRelease) return AcquireRelease;
                return atomic == (int)AtomicOperation.Add ? Base : FetchingAtomics;
            }
            default:
                return Base;
        }
    }

    /// <summary>The first kernel that accepts <paramref name="instruction"/>.</summary>
    public static KernelVersion MinimumKernel(in Instruction instruction) => FormOf(instruction).MinimumKernel;

    /// <summary>The first instruction of <paramref name="program"/> (index and form) that <paramref name="target"/> does not accept, or null.</summary>
    public static (int Index, InstructionForm Form)? FirstUnsupported(IReadOnlyList<Instruction> program, KernelVersion target)
    {
        ArgumentNullException.ThrowIfNull(program);
        for (int i = 0; i < program.Count; i++)
        {
            var form = FormOf(program[i]);
            if (!target.IsAtLeast(form.MinimumKernel)) return (i, form);
        }
        return null;
    }

    /// <summary>The first kernel that accepts every instruction of <paramref name="program"/>.</summary>
    public static KernelVersion MinimumKernel(IEnumerable<Instruction> program)
    {
        ArgumentNullException.ThrowIfNull(program);
        var version = Base.MinimumKernel;
        foreach (var insn in program) version = KernelVersion.Max(version, MinimumKernel(insn));
        return version;
    }
}
