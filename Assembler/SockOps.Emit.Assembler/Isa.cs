using System.Globalization;

namespace SockOps.Emit.Assembler;

/// <summary>
/// The encoding rules of the BPF instruction set: which opcodes exist and which values their fields
/// may hold. The rules are RFC 9669 plus the forms Linux 6.18 accepts beyond it, taken from the
/// kernel's structural checks (<c>bpf_opcode_in_insntable</c> in <c>kernel/bpf/core.c</c>, and in
/// <c>kernel/bpf/verifier.c</c> <c>resolve_pseudo_ldimm64</c>, <c>check_alu_op</c>,
/// <c>check_cond_jmp_op</c>, <c>check_atomic</c>, <c>check_ld_imm</c>, <c>check_ld_abs</c> and the
/// class dispatch of <c>do_check_insn</c>).
/// </summary>
/// <remarks>
/// <para>
/// <see cref="Validate"/> answers "is this instruction encodable": a check that needs only the
/// instruction itself. It does not judge what the verifier decides from program state or context:
/// writes to the read-only frame pointer r10, shift amounts at or above the operand width, division
/// by a constant zero, jump targets, the program type (legacy packet loads are only accepted where
/// the context is an skb), whether an arena exists (<c>addr_space_cast</c>) or whether a map fd,
/// BTF id or helper id exists.
/// </para>
/// <para>
/// Beyond RFC 9669 (all accepted by Linux 6.18): <c>may_goto</c> (JMP | JCOND, source 0, Linux 6.9),
/// <c>addr_space_cast</c> (ALU64 MOV X with offset 1 and immediate 1 or 0x10000, Linux 6.9),
/// load-acquire and store-release (atomic immediates 0x100 and 0x110, for B, H, W and DW, Linux 6.15).
/// Not encodable here because Linux 6.18 refuses them: NEG with a register source, bswap with the
/// TO_BE bit (opcode 0xdf), JMP32 call/exit, JA with a register source (indirect jumps came later),
/// 64-bit legacy packet loads, sign-extending 64-bit loads, 8/16-bit read-modify-write atomics.
/// </para>
/// <para>
/// Where RFC 9669 says unused fields "SHALL be cleared to zero" and the kernel does not look at one
/// (only the offset of <c>exit</c>), the RFC wins: such an instruction is reported as not encodable.
/// </para>
/// </remarks>
[System.Runtime.CompilerServices.SkipLocalsInit]
public static class Isa
{
    /// <summary>The atomic immediate flag that makes an operation return the old value.</summary>
    public const int AtomicFetch = 0x01;

    /// <summary>The offset of an ALU64 MOV X that marks <c>addr_space_cast</c>.</summary>
    public const short AddressSpaceCastOffset = 1;

    /// <summary>
    /// Checks that <paramref name="instruction"/> is an instruction of the ISA with every field in range.
    /// </summary>
    /// <returns><see langword="null"/> if it is encodable, else a sentence saying which field is wrong and why.</returns>
    public static string? Validate(in Instruction instruction)
    {
        var violation = Check(instruction.Opcode, instruction.DestinationIndex, instruction.SourceIndex,
            instruction.Offset, instruction.Immediate, instruction.ImmediateHigh);
        return violation == IsaViolation.None ? null : Describe(violation, instruction);
    }

    /// <summary>Whether <paramref name="instruction"/> is encodable (<see cref="Validate"/> returns null).</summary>
    public static bool IsValid(in Instruction instruction) =>
        IsValidFast(InstructionEncoding.FirstSlot(instruction), instruction.ImmediateHigh);

    /// <summary>Whether the opcode byte names an instruction at all (the kernel's opcode table plus ld_imm64).</summary>
    public static bool IsKnownOpcode(byte opcode) => Forms[opcode] != Form.Invalid;

    // Forms group the opcodes whose fields follow the same rules.
    internal enum Form : byte
    {
        Invalid = 0,
        AluK, AluX, DivModK, DivModX, Neg, MovK, Mov32X, Mov64X, End,
        Ja, Gotol, CondK, CondX, Call, Exit, MayGoto,
        LdImm64, LdAbs, LdInd, Ldx, St, Stx, AtomicWide, AtomicNarrow,
    }

    internal enum IsaViolation : byte
    {
        None = 0,
        UnknownOpcode,
        DestinationNotRegister,
        SourceNotRegister,
        DestinationNotZero,
        SourceNotZero,
        OffsetNotZero,
        ImmediateNotZero,
        DivModOffset,
        Mov32Offset,
        Mov64Offset,
        AddressSpaceCastImmediate,
        EndWidth,
        CallKind,
        CallOffset,
        PseudoKind,
        MapImmediateHigh,
        AtomicOperation,
        AtomicNarrowOperation,
    }

    private static readonly Form[] Forms = BuildForms();

    private static Form[] BuildForms()
    {
        var forms = new Form[256];
        foreach (bool is64 in new[] { false, true })
        {
            var cls = is64 ? InstructionClass.Alu64 : InstructionClass.Alu;
            foreach (var op in new[] { AluOperation.Add, AluOperation.Sub, AluOperation.Mul, AluOperation.Or, AluOperation.And,
                                       AluOperation.Lsh, AluOperation.Rsh, AluOperation.Xor, AluOperation.Arsh })
            {
                forms[Opcode.Alu(is64, op, OperandSource.Immediate)] = Form.AluK;
                forms[Opcode.Alu(is64, op, OperandSource.Register)] = Form.AluX;
            }
            foreach (var op in new[] { AluOperation.Div, AluOperation.Mod })
            {
                forms[Opcode.Alu(is64, op, OperandSource.Immediate)] = Form.DivModK;
                forms[Opcode.Alu(is64, op, OperandSource.Register)] = Form.DivModX;
            }
            forms[Opcode.Alu(is64, AluOperation.Neg, OperandSource.Immediate)] = Form.Neg;
            forms[Opcode.Alu(is64, AluOperation.Mov, OperandSource.Immediate)] = Form.MovK;
            forms[Opcode.Alu(is64, AluOperation.Mov, OperandSource.Register)] = is64 ? Form.Mov64X : Form.Mov32X;
            // ALU: le (source bit 0) and be (source bit 1); ALU64: bswap, only with the source bit clear.
            forms[(byte)AluOperation.End | (byte)cls] = Form.End;
            if (!is64) forms[(byte)AluOperation.End | (byte)OperandSource.Register | (byte)cls] = Form.End;

            var jcls = is64 ? InstructionClass.Jmp : InstructionClass.Jmp32;
            foreach (var op in new[] { JumpOperation.Jeq, JumpOperation.Jgt, JumpOperation.Jge, JumpOperation.Jset, JumpOperation.Jne,
                                       JumpOperation.Jsgt, JumpOperation.Jsge, JumpOperation.Jlt, JumpOperation.Jle,
                                       JumpOperation.Jslt, JumpOperation.Jsle })
            {
                forms[(byte)op | (byte)OperandSource.Immediate | (byte)jcls] = Form.CondK;
                forms[(byte)op | (byte)OperandSource.Register | (byte)jcls] = Form.CondX;
            }
        }
        forms[(byte)JumpOperation.Ja | (byte)InstructionClass.Jmp] = Form.Ja;
        forms[(byte)JumpOperation.Ja | (byte)InstructionClass.Jmp32] = Form.Gotol;
        forms[(byte)JumpOperation.Call | (byte)InstructionClass.Jmp] = Form.Call;
        forms[(byte)JumpOperation.Exit | (byte)InstructionClass.Jmp] = Form.Exit;
        forms[(byte)JumpOperation.Jcond | (byte)InstructionClass.Jmp] = Form.MayGoto;

        forms[Opcode.LoadImmediate64] = Form.LdImm64;
        foreach (var size in new[] { MemorySize.B, MemorySize.H, MemorySize.W })
        {
            forms[Opcode.Memory(InstructionClass.Ld, MemoryMode.Abs, size)] = Form.LdAbs;
            forms[Opcode.Memory(InstructionClass.Ld, MemoryMode.Ind, size)] = Form.LdInd;
            forms[Opcode.Memory(InstructionClass.Ldx, MemoryMode.MemSx, size)] = Form.Ldx;
        }
        foreach (var size in new[] { MemorySize.B, MemorySize.H, MemorySize.W, MemorySize.DW })
        {
            forms[Opcode.Memory(InstructionClass.Ldx, MemoryMode.Mem, size)] = Form.Ldx;
            forms[Opcode.Memory(InstructionClass.St, MemoryMode.Mem, size)] = Form.St;
            forms[Opcode.Memory(InstructionClass.Stx, MemoryMode.Mem, size)] = Form.Stx;
            forms[Opcode.Memory(InstructionClass.Stx, MemoryMode.Atomic, size)] =
                size is MemorySize.W or MemorySize.DW ? Form.AtomicWide : Form.AtomicNarrow;
        }
        return forms;
    }

    internal static Form FormOf(byte opcode) => Forms[opcode];

    // Per opcode: bits 8..63 mask the fields of the first slot that must be zero; bits 0..7 name the
    // extra check the form needs (Special). Built from Forms, so both paths share one table.
    private static readonly ulong[] Rules = BuildRules();

    private const ulong DstBits = 0xFUL << 8, SrcBits = 0xFUL << 12, OffBits = 0xFFFFUL << 16, ImmBits = 0xFFFF_FFFFUL << 32;

    private enum Special : byte { None, DivMod, Mov32X, Mov64X, End, Call, LdImm64, AtomicWide, AtomicNarrow, Invalid = 0xff }

    private static ulong[] BuildRules()
    {
        var rules = new ulong[256];
        for (int op = 0; op < 256; op++)
        {
            (ulong mask, Special special) = Forms[op] switch
            {
                Form.AluK or Form.MovK => (SrcBits | OffBits, Special.None),
                Form.AluX => (OffBits | ImmBits, Special.None),
                Form.DivModK => (SrcBits, Special.DivMod),
                Form.DivModX => (ImmBits, Special.DivMod),
                Form.Neg => (SrcBits | OffBits | ImmBits, Special.None),
                Form.Mov32X => (ImmBits, Special.Mov32X),
                Form.Mov64X => (0UL, Special.Mov64X),
                Form.End => (SrcBits | OffBits, Special.End),
                Form.Ja or Form.MayGoto => (DstBits | SrcBits | ImmBits, Special.None),
                Form.Gotol => (DstBits | SrcBits | OffBits, Special.None),
                Form.CondK or Form.St => (SrcBits, Special.None),
                Form.CondX or Form.Ldx or Form.Stx => (ImmBits, Special.None),
                Form.Call => (DstBits, Special.Call),
                Form.Exit => (DstBits | SrcBits | OffBits | ImmBits, Special.None),
                Form.LdImm64 => (OffBits, Special.LdImm64),
                Form.LdAbs => (DstBits | SrcBits | OffBits, Special.None),
                Form.LdInd => (DstBits | OffBits, Special.None),
                Form.AtomicWide => (0UL, Special.AtomicWide),
                Form.AtomicNarrow => (0UL, Special.AtomicNarrow),
                _ => (0UL, Special.Invalid),
            };
            rules[op] = mask | (byte)special;
        }
        return rules;
    }

    /// <summary>
    /// Fast check of the first slot <paramref name="slot"/> (little-endian fields) and, for ld_imm64,
    /// the second immediate. Agrees with <see cref="Check"/> on every input (tested); callers use
    /// <see cref="Check"/> afterwards to explain a failure.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal static bool IsValidFast(ulong slot, int immHigh)
    {
        ulong rule = System.Runtime.CompilerServices.Unsafe.Add(
            ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(Rules), (nint)(byte)slot);
        uint regs = (uint)(slot >> 8) & 0xff;
        // Both register fields at most 10: adding 5 to each nibble carries into bit 4 or 8 exactly when it is 11..15.
        if ((slot & rule & ~0xffUL) != 0 || ((regs & 0x0f) + 5 | ((regs >> 4) + 5)) > 15) return false;
        var special = (Special)(byte)rule;
        return special == Special.None || IsSpecialValid(special, (byte)(regs >> 4), (short)(slot >> 16), (int)(slot >> 32), immHigh);
    }

    private static bool IsSpecialValid(Special special, byte src, short off, int imm, int immHigh) => special switch
    {
        Special.DivMod => (ushort)off <= 1,
        Special.Mov32X => off is 0 or 8 or 16,
        Special.Mov64X => off == AddressSpaceCastOffset ? imm is 1 or 0x10000 : off is 0 or 8 or 16 or 32 && imm == 0,
        Special.End => imm is 16 or 32 or 64,
        Special.Call => src <= (byte)CallKind.Kfunc && (off == 0 || src == (byte)CallKind.Kfunc),
        Special.LdImm64 => src <= (byte)PseudoSource.MapIndexValue && (immHigh == 0 || src is not ((byte)PseudoSource.MapFd or (byte)PseudoSource.MapIndex)),
        Special.AtomicWide => IsAtomicOperation(imm),
        Special.AtomicNarrow => imm is (int)AtomicOperation.LoadAcquire or (int)AtomicOperation.StoreRelease,
        _ => false,
    };

    internal static IsaViolation Check(byte opcode, byte dst, byte src, short off, int imm, int immHigh)
    {
        switch (Forms[opcode])
        {
            case Form.AluK:
                return dst > 10 ? IsaViolation.DestinationNotRegister
                    : src != 0 ? IsaViolation.SourceNotZero
                    : off != 0 ? IsaViolation.OffsetNotZero : IsaViolation.None;
            case Form.AluX:
                return dst > 10 ? IsaViolation.DestinationNotRegister
                    : src > 10 ? IsaViolation.SourceNotRegister
                    : off != 0 ? IsaViolation.OffsetNotZero
                    : imm != 0 ? IsaViolation.ImmediateNotZero : IsaViolation.None;
            case Form.DivModK:
                return dst > 10 ? IsaViolation.DestinationNotRegister
                    : src != 0 ? IsaViolation.SourceNotZero
                    : (ushort)off > 1 ? IsaViolation.DivModOffset : IsaViolation.None;
            case Form.DivModX:
                return dst > 10 ? IsaViolation.DestinationNotRegister
                    : src > 10 ? IsaViolation.SourceNotRegister
                    : (ushort)off > 1 ? IsaViolation.DivModOffset
                    : imm != 0 ? IsaViolation.ImmediateNotZero : IsaViolation.None;
            case Form.Neg:
                return dst > 10 ? IsaViolation.DestinationNotRegister
                    : src != 0 ? IsaViolation.SourceNotZero
                    : off != 0 ? IsaViolation.OffsetNotZero
                    : imm != 0 ? IsaViolation.ImmediateNotZero : IsaViolation.None;
            case Form.MovK:
                return dst > 10 ? IsaViolation.DestinationNotRegister
                    : src != 0 ? IsaViolation.SourceNotZero
                    : off != 0 ? IsaViolation.OffsetNotZero : IsaViolation.None;
            case Form.Mov32X:
                return dst > 10 ? IsaViolation.DestinationNotRegister
                    : src > 10 ? IsaViolation.SourceNotRegister
                    : off is not (0 or 8 or 16) ? IsaViolation.Mov32Offset
                    : imm != 0 ? IsaViolation.ImmediateNotZero : IsaViolation.None;
            case Form.Mov64X:
                if (dst > 10) return IsaViolation.DestinationNotRegister;
                if (src > 10) return IsaViolation.SourceNotRegister;
                if (off == AddressSpaceCastOffset)
                    return imm is 1 or 0x10000 ? IsaViolation.None : IsaViolation.AddressSpaceCastImmediate;
                return off is not (0 or 8 or 16 or 32) ? IsaViolation.Mov64Offset
                    : imm != 0 ? IsaViolation.ImmediateNotZero : IsaViolation.None;
            case Form.End:
                return dst > 10 ? IsaViolation.DestinationNotRegister
                    : src != 0 ? IsaViolation.SourceNotZero
                    : off != 0 ? IsaViolation.OffsetNotZero
                    : imm is not (16 or 32 or 64) ? IsaViolation.EndWidth : IsaViolation.None;
            case Form.Ja:
                return dst != 0 ? IsaViolation.DestinationNotZero
                    : src != 0 ? IsaViolation.SourceNotZero
                    : imm != 0 ? IsaViolation.ImmediateNotZero : IsaViolation.None;
            case Form.Gotol:
                return dst != 0 ? IsaViolation.DestinationNotZero
                    : src != 0 ? IsaViolation.SourceNotZero
                    : off != 0 ? IsaViolation.OffsetNotZero : IsaViolation.None;
            case Form.CondK:
                return dst > 10 ? IsaViolation.DestinationNotRegister
                    : src != 0 ? IsaViolation.SourceNotZero : IsaViolation.None;
            case Form.CondX:
                return dst > 10 ? IsaViolation.DestinationNotRegister
                    : src > 10 ? IsaViolation.SourceNotRegister
                    : imm != 0 ? IsaViolation.ImmediateNotZero : IsaViolation.None;
            case Form.Call:
                return dst != 0 ? IsaViolation.DestinationNotZero
                    : src > (byte)CallKind.Kfunc ? IsaViolation.CallKind
                    : off != 0 && src != (byte)CallKind.Kfunc ? IsaViolation.CallOffset : IsaViolation.None;
            case Form.Exit:
                return dst != 0 ? IsaViolation.DestinationNotZero
                    : src != 0 ? IsaViolation.SourceNotZero
                    : off != 0 ? IsaViolation.OffsetNotZero
                    : imm != 0 ? IsaViolation.ImmediateNotZero : IsaViolation.None;
            case Form.MayGoto:
                return dst != 0 ? IsaViolation.DestinationNotZero
                    : src != 0 ? IsaViolation.SourceNotZero
                    : imm != 0 ? IsaViolation.ImmediateNotZero : IsaViolation.None;
            case Form.LdImm64:
                return dst > 10 ? IsaViolation.DestinationNotRegister
                    : src > (byte)PseudoSource.MapIndexValue ? IsaViolation.PseudoKind
                    : off != 0 ? IsaViolation.OffsetNotZero
                    : immHigh != 0 && src is (byte)PseudoSource.MapFd or (byte)PseudoSource.MapIndex ? IsaViolation.MapImmediateHigh
                    : IsaViolation.None;
            case Form.LdAbs:
                return dst != 0 ? IsaViolation.DestinationNotZero
                    : src != 0 ? IsaViolation.SourceNotZero
                    : off != 0 ? IsaViolation.OffsetNotZero : IsaViolation.None;
            case Form.LdInd:
                return dst != 0 ? IsaViolation.DestinationNotZero
                    : src > 10 ? IsaViolation.SourceNotRegister
                    : off != 0 ? IsaViolation.OffsetNotZero : IsaViolation.None;
            case Form.Ldx:
            case Form.Stx:
                return dst > 10 ? IsaViolation.DestinationNotRegister
                    : src > 10 ? IsaViolation.SourceNotRegister
                    : imm != 0 ? IsaViolation.ImmediateNotZero : IsaViolation.None;
            case Form.St:
                return dst > 10 ? IsaViolation.DestinationNotRegister
                    : src != 0 ? IsaViolation.SourceNotZero : IsaViolation.None;
            case Form.AtomicWide:
                return dst > 10 ? IsaViolation.DestinationNotRegister
                    : src > 10 ? IsaViolation.SourceNotRegister
                    : IsAtomicOperation(imm) ? IsaViolation.None : IsaViolation.AtomicOperation;
            case Form.AtomicNarrow:
                return dst > 10 ? IsaViolation.DestinationNotRegister
                    : src > 10 ? IsaViolation.SourceNotRegister
                    : imm is (int)AtomicOperation.LoadAcquire or (int)AtomicOperation.StoreRelease ? IsaViolation.None
                    : IsAtomicOperation(imm) ? IsaViolation.AtomicNarrowOperation : IsaViolation.AtomicOperation;
            default:
                return IsaViolation.UnknownOpcode;
        }
    }

    private static bool IsAtomicOperation(int imm) => imm switch
    {
        (int)AtomicOperation.Add or (int)AtomicOperation.Or or (int)AtomicOperation.And or (int)AtomicOperation.Xor
            or (int)AtomicOperation.FetchAdd or (int)AtomicOperation.FetchOr or (int)AtomicOperation.FetchAnd
            or (int)AtomicOperation.FetchXor or (int)AtomicOperation.Xchg or (int)AtomicOperation.CmpXchg
            or (int)AtomicOperation.LoadAcquire or (int)AtomicOperation.StoreRelease => true,
        _ => false,
    };

    internal static string Describe(IsaViolation violation, in Instruction insn)
    {
        var c = CultureInfo.InvariantCulture;
        string op = string.Create(c, $"opcode 0x{insn.Opcode:x2}");
        return violation switch
        {
            IsaViolation.UnknownOpcode => string.Create(c, $"{op} is not a BPF instruction ({DescribeUnknown(insn.Opcode)})."),
            IsaViolation.DestinationNotRegister => string.Create(c, $"{op}: destination field {insn.DestinationIndex} is not a register (r0..r10)."),
            IsaViolation.SourceNotRegister => string.Create(c, $"{op}: source field {insn.SourceIndex} is not a register (r0..r10)."),
            IsaViolation.DestinationNotZero => string.Create(c, $"{op}: the destination field is unused and must be 0, is {insn.DestinationIndex}."),
            IsaViolation.SourceNotZero => string.Create(c, $"{op}: the source field is unused and must be 0, is {insn.SourceIndex}."),
            IsaViolation.OffsetNotZero => string.Create(c, $"{op}: the offset is unused and must be 0, is {insn.Offset}."),
            IsaViolation.ImmediateNotZero => string.Create(c, $"{op}: the immediate is unused and must be 0, is {insn.Immediate}."),
            IsaViolation.DivModOffset => string.Create(c, $"{op}: div/mod offset must be 0 (unsigned) or 1 (signed), is {insn.Offset}."),
            IsaViolation.Mov32Offset => string.Create(c, $"{op}: 32-bit mov offset must be 0, 8 or 16 (movsx), is {insn.Offset}."),
            IsaViolation.Mov64Offset => string.Create(c, $"{op}: 64-bit mov offset must be 0, 8, 16 or 32 (movsx) or 1 (addr_space_cast), is {insn.Offset}."),
            IsaViolation.AddressSpaceCastImmediate => string.Create(c, $"{op}: addr_space_cast immediate must be 1 or 0x10000 (between address spaces 0 and 1), is 0x{insn.Immediate:x}."),
            IsaViolation.EndWidth => string.Create(c, $"{op}: byte swap width must be 16, 32 or 64, is {insn.Immediate}."),
            IsaViolation.CallKind => string.Create(c, $"{op}: call source field must be 0 (helper), 1 (bpf-to-bpf) or 2 (kfunc), is {insn.SourceIndex}."),
            IsaViolation.CallOffset => string.Create(c, $"{op}: only a kfunc call uses the offset (module BTF index); it must be 0, is {insn.Offset}."),
            IsaViolation.PseudoKind => string.Create(c, $"{op}: ld_imm64 source field must be a pseudo kind 0..6, is {insn.SourceIndex}."),
            IsaViolation.MapImmediateHigh => string.Create(c, $"{op}: ld_imm64 of a map ({(PseudoSource)insn.SourceIndex}) must have a zero second immediate, is {insn.ImmediateHigh}."),
            IsaViolation.AtomicOperation => string.Create(c, $"{op}: atomic immediate 0x{insn.Immediate:x} is not an atomic operation."),
            IsaViolation.AtomicNarrowOperation => string.Create(c, $"{op}: {(AtomicOperation)insn.Immediate} needs size W or DW; 8- and 16-bit atomics are only load-acquire and store-release."),
            _ => violation.ToString(),
        };
    }

    private static string DescribeUnknown(byte opcode)
    {
        var cls = Opcode.ClassOf(opcode);
        return cls switch
        {
            InstructionClass.Alu or InstructionClass.Alu64 when (opcode & 0xf0) >= 0xe0 => "no such ALU operation",
            InstructionClass.Alu or InstructionClass.Alu64 when (opcode & 0xf0) == (byte)AluOperation.Neg => "neg takes no source register",
            InstructionClass.Alu64 when (opcode & 0xf0) == (byte)AluOperation.End => "64-bit bswap has no big-endian form",
            InstructionClass.Jmp32 when (opcode & 0xf0) is (byte)JumpOperation.Call or (byte)JumpOperation.Exit or (byte)JumpOperation.Jcond
                => "call, exit and may_goto exist only in the JMP class",
            InstructionClass.Jmp or InstructionClass.Jmp32 when (opcode & 0xf0) == 0xf0 => "no such jump operation",
            InstructionClass.Jmp or InstructionClass.Jmp32 => "this jump operation takes no register source",
            InstructionClass.Ld => "the LD class only has ld_imm64 (0x18) and the legacy 8/16/32-bit ABS and IND packet loads",
            InstructionClass.Ldx => "LDX needs mode MEM, or MEMSX with size B, H or W",
            InstructionClass.St => "ST needs mode MEM",
            InstructionClass.Stx => "STX needs mode MEM or ATOMIC",
            _ => "unknown",
        };
    }
}
