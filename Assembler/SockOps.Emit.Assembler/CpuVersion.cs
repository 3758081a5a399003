namespace SockOps.Emit.Assembler;

/// <summary>
/// The BPF "cpu" versions LLVM (-mcpu=v1..v4) and the conformance suite use to group instructions:
/// v2 adds the JMP jlt/jle/jslt/jsle family, v3 adds the JMP32 class and the fetching atomics
/// (fetch ops, xchg, cmpxchg), v4 adds sdiv/smod, movsx, sign-extending loads, bswap, gotol and
/// load-acquire/store-release.
/// </summary>
public static class CpuVersion
{
    /// <summary>The lowest cpu version that has <paramref name="instruction"/>.</summary>
    public static int Required(in Instruction instruction)
    {
        byte op = instruction.Opcode;
        InstructionClass cls = instruction.Class;
        switch (cls)
        {
            case InstructionClass.Alu:
            case InstructionClass.Alu64:
            {
                var aluOp = (AluOperation)(op & 0xf0);
                if (aluOp is AluOperation.Div or AluOperation.Mod && instruction.Offset != 0) return 4;
                if (aluOp == AluOperation.Mov && instruction.Offset != 0) return 4;
                if (aluOp == AluOperation.End && cls == InstructionClass.Alu64) return 4;
                return 1;
            }
            case InstructionClass.Jmp:
            {
                var jumpOp = (JumpOperation)(op & 0xf0);
                return jumpOp is JumpOperation.Jlt or JumpOperation.Jle or JumpOperation.Jslt or JumpOperation.Jsle ? 2 : 1;
            }
            case InstructionClass.Jmp32:
                return (JumpOperation)(op & 0xf0) == JumpOperation.Ja ? 4 : 3;
            case InstructionClass.Ldx:
                return (MemoryMode)(op & 0xe0) == MemoryMode.MemSx ? 4 : 1;
            case InstructionClass.Stx when (MemoryMode)(op & 0xe0) == MemoryMode.Atomic:
            {
                int atomic = instruction.Immediate;
                if (atomic is (int)AtomicOperation.LoadAcquire or (int)AtomicOperation.StoreRelease) return 4;
                return (atomic & Isa.AtomicFetch) != 0 ? 3 : 1;
            }
            default:
                return 1;
        }
    }

    /// <summary>The lowest cpu version that has every instruction of <paramref name="program"/>.</summary>
    public static int Required(IEnumerable<Instruction> program)
    {
        int version = 1;
        foreach (Instruction insn in program) version = Math.Max(version, Required(insn));
        return version;
    }
}
