using System.Globalization;

namespace SockOps.Emit.Assembler;

/// <summary>
/// Parser for the BPF conformance suite's assembler dialect (github.com/Alan-Jowett/bpf_conformance):
/// <c>mnemonic operand, operand, ...</c> with registers <c>%r0</c>..<c>%r10</c>, memory operands
/// <c>[%r1+0x2]</c>, jump targets <c>+N</c>, <c>-N</c> or a label, and the implicit label <c>exit</c>.
/// Numbers follow the suite's rules: a decimal immediate must fit in signed 32 bits, a hex one in 32
/// bits (0xffffffff is -1); offsets likewise in 16 bits.
/// </summary>
internal static class TextAssemblerConformance
{
    private const int MaxOperands = 4;

    private enum Kind : byte { Register, Memory, Number, Word }

    private struct Operand
    {
        public Kind Kind;
        public int Start;
        public int Length;
        public byte Register;
        public short MemoryOffset;
        public AsmNumber Value;
        public bool IsHex;
    }

    public static void ParseInstruction(ref AsmLexer lx, TextAssemblerState st)
    {
        int mnemonicStart = lx.Position;
        var mnemonic = lx.ReadWord("an instruction");
        Span<Operand> operands = stackalloc Operand[MaxOperands];
        int count = ReadOperands(ref lx, operands);
        var ops = operands[..count];
        int line = lx.Line;

        if (mnemonic.SequenceEqual("lock"))
        {
            ParseLock(ref lx, st, ops, mnemonicStart);
            return;
        }

        switch (mnemonic)
        {
            case "exit":
                Count(ref lx, mnemonic, ops, 0, mnemonicStart);
                st.Emit(new Instruction(Opcode.Jump(true, JumpOperation.Exit, OperandSource.Immediate), 0, 0, 0, 0), line);
                return;
            case "ja":
                Count(ref lx, mnemonic, ops, 1, mnemonicStart);
                st.Emit(new Instruction(Opcode.Jump(true, JumpOperation.Ja, OperandSource.Immediate), 0, 0, Target16(ref lx, st, ops[0]), 0), line);
                return;
            case "ja32":
                Count(ref lx, mnemonic, ops, 1, mnemonicStart);
                st.Emit(new Instruction(Opcode.Jump(false, JumpOperation.Ja, OperandSource.Immediate), 0, 0, 0,
                    Target32(ref lx, st, ops[0], AsmFixupKind.LongJumpImmediate)), line);
                return;
            case "call":
                ParseCall(ref lx, st, ops, mnemonicStart);
                return;
            case "lddw":
            {
                Count(ref lx, mnemonic, ops, 2, mnemonicStart);
                byte dst = Reg(ref lx, ops[0]);
                long value = Imm64(ref lx, ops[1]);
                st.Emit(new Instruction(Opcode.LoadImmediate64, dst, 0, 0, (int)value, (int)(value >> 32)), line);
                return;
            }
            case "neg" or "neg32":
            {
                Count(ref lx, mnemonic, ops, 1, mnemonicStart);
                byte dst = Reg(ref lx, ops[0]);
                st.Emit(new Instruction(Opcode.Alu(mnemonic.Length == 3, AluOperation.Neg, OperandSource.Immediate), dst, 0, 0, 0), line);
                return;
            }
            case "movsx864" or "movsx832" or "movsx1664" or "movsx1632" or "movsx3264":
            {
                Count(ref lx, mnemonic, ops, 2, mnemonicStart);
                short bits = short.Parse(mnemonic[5..^2], NumberStyles.None, CultureInfo.InvariantCulture);
                bool is64 = mnemonic[^2] == '6';
                byte dst = Reg(ref lx, ops[0]);
                byte src = Reg(ref lx, ops[1]);
                st.Emit(new Instruction(Opcode.Alu(is64, AluOperation.Mov, OperandSource.Register), dst, src, bits, 0), line);
                return;
            }
        }

        if (TryByteSwap(mnemonic, out byte swapOpcode, out int width))
        {
            Count(ref lx, mnemonic, ops, 1, mnemonicStart);
            st.Emit(new Instruction(swapOpcode, Reg(ref lx, ops[0]), 0, 0, width), line);
            return;
        }
        if (TryMemory(mnemonic, out var cls, out var mode, out var size))
        {
            ParseMemory(ref lx, st, ops, mnemonic, mnemonicStart, cls, mode, size);
            return;
        }
        bool is32 = mnemonic.EndsWith("32");
        var baseName = is32 ? mnemonic[..^2] : mnemonic;
        if (TryAlu(baseName, out var aluOp, out short aluOffset))
        {
            Count(ref lx, mnemonic, ops, 2, mnemonicStart);
            byte dst = Reg(ref lx, ops[0]);
            if (ops[1].Kind == Kind.Register)
                st.Emit(new Instruction(Opcode.Alu(!is32, aluOp, OperandSource.Register), dst, ops[1].Register, aluOffset, 0), line);
            else
                st.Emit(new Instruction(Opcode.Alu(!is32, aluOp, OperandSource.Immediate), dst, 0, aluOffset, Imm32(ref lx, ops[1])), line);
            return;
        }
        if (TryJump(baseName, out var jumpOp))
        {
            Count(ref lx, mnemonic, ops, 3, mnemonicStart);
            byte dst = Reg(ref lx, ops[0]);
            if (ops[1].Kind == Kind.Register)
            {
                short offset = Target16(ref lx, st, ops[2]);
                st.Emit(new Instruction(Opcode.Jump(!is32, jumpOp, OperandSource.Register), dst, ops[1].Register, offset, 0), line);
            }
            else
            {
                int imm = Imm32(ref lx, ops[1]);
                short offset = Target16(ref lx, st, ops[2]);
                st.Emit(new Instruction(Opcode.Jump(!is32, jumpOp, OperandSource.Immediate), dst, 0, offset, imm), line);
            }
            return;
        }
        throw lx.ErrorAt(mnemonicStart, $"invalid mnemonic '{mnemonic}'", mnemonic.ToString());
    }

    private static void ParseCall(ref AsmLexer lx, TextAssemblerState st, scoped ReadOnlySpan<Operand> ops, int mnemonicStart)
    {
        int line = lx.Line;
        byte opcode = Opcode.Jump(true, JumpOperation.Call, OperandSource.Immediate);
        if (ops.Length == 1)
        {
            // "call N" is a helper call; "call %rN" is callx with the register in dst, as the suite encodes it.
            if (ops[0].Kind == Kind.Register)
            {
                st.Emit(new Instruction(Opcode.Jump(true, JumpOperation.Call, OperandSource.Register), ops[0].Register, 0, 0, 0), line);
                return;
            }
            st.Emit(new Instruction(opcode, 0, (byte)CallKind.Helper, 0, Imm32(ref lx, ops[0])), line);
            return;
        }
        Count(ref lx, "call", ops, 2, mnemonicStart);
        var mode = Word(ref lx, ops[0], "a call kind (helper, local or runtime)");
        switch (mode)
        {
            case "helper":
                if (ops[1].Kind == Kind.Register)
                    st.Emit(new Instruction(Opcode.Jump(true, JumpOperation.Call, OperandSource.Register), ops[1].Register, 0, 0, 0), line);
                else
                    st.Emit(new Instruction(opcode, 0, (byte)CallKind.Helper, 0, Imm32(ref lx, ops[1])), line);
                return;
            case "local":
                st.Emit(new Instruction(opcode, 0, (byte)CallKind.Local, 0, Target32(ref lx, st, ops[1], AsmFixupKind.CallImmediate)), line);
                return;
            case "runtime":
                st.Emit(new Instruction(opcode, 0, (byte)CallKind.Kfunc, 0, Imm32(ref lx, ops[1])), line);
                return;
            default:
                throw lx.ErrorAt(ops[0].Start, $"expected a call kind (helper, local or runtime) but found '{mode}'", mode.ToString());
        }
    }

    private static void ParseLock(ref AsmLexer lx, TextAssemblerState st, scoped ReadOnlySpan<Operand> ops, int mnemonicStart)
    {
        // lock [fetch] op[32] [%rD+off], %rS
        bool fetch = ops.Length > 0 && ops[0].Kind == Kind.Word && lx.Slice(ops[0].Start, ops[0].Length).SequenceEqual("fetch");
        var rest = fetch ? ops[1..] : ops;
        if (rest.Length != 3)
        {
            throw lx.ErrorAt(mnemonicStart, string.Create(CultureInfo.InvariantCulture,
                $"invalid number of operands for lock: expected [fetch] op [%rD+off], %rS but found {ops.Length} operand{(ops.Length == 1 ? "" : "s")}"), "lock");
        }
        var name = Word(ref lx, rest[0], "an atomic operation (add, and, or, xor, xchg, cmpxchg)");
        bool is32 = name.EndsWith("32");
        AtomicOperation op = (is32 ? name[..^2] : name) switch
        {
            "add" => AtomicOperation.Add,
            "and" => AtomicOperation.And,
            "or" => AtomicOperation.Or,
            "xor" => AtomicOperation.Xor,
            "xchg" => AtomicOperation.Xchg,
            "cmpxchg" => AtomicOperation.CmpXchg,
            _ => throw lx.ErrorAt(rest[0].Start, $"expected an atomic operation (add, and, or, xor, xchg, cmpxchg) but found '{name}'", name.ToString()),
        };
        if (fetch && op is AtomicOperation.Add or AtomicOperation.And or AtomicOperation.Or or AtomicOperation.Xor) op = (AtomicOperation)((int)op | 1);
        Memory(ref lx, rest[1]);
        byte src = Reg(ref lx, rest[2]);
        st.Emit(new Instruction(Opcode.Memory(InstructionClass.Stx, MemoryMode.Atomic, is32 ? MemorySize.W : MemorySize.DW),
            rest[1].Register, src, rest[1].MemoryOffset, (int)op), lx.Line);
    }

    private static void ParseMemory(ref AsmLexer lx, TextAssemblerState st, scoped ReadOnlySpan<Operand> ops, ReadOnlySpan<char> mnemonic, int mnemonicStart,
        InstructionClass cls, MemoryMode mode, MemorySize size)
    {
        Count(ref lx, mnemonic, ops, 2, mnemonicStart);
        byte opcode = Opcode.Memory(cls, mode, size);
        int line = lx.Line;
        switch (cls)
        {
            case InstructionClass.Ldx:
            {
                byte dst = Reg(ref lx, ops[0]);
                Memory(ref lx, ops[1]);
                st.Emit(new Instruction(opcode, dst, ops[1].Register, ops[1].MemoryOffset, 0), line);
                return;
            }
            case InstructionClass.St:
                Memory(ref lx, ops[0]);
                st.Emit(new Instruction(opcode, ops[0].Register, 0, ops[0].MemoryOffset, Imm32(ref lx, ops[1])), line);
                return;
            default:
                Memory(ref lx, ops[0]);
                st.Emit(new Instruction(opcode, ops[0].Register, Reg(ref lx, ops[1]), ops[0].MemoryOffset, 0), line);
                return;
        }
    }

    private static int ReadOperands(ref AsmLexer lx, scoped Span<Operand> operands)
    {
        int count = 0;
        while (!lx.AtEnd)
        {
            if (count > 0) lx.TryChar(',');
            if (lx.AtEnd) throw lx.Expected("an operand after ','");
            if (count == operands.Length) throw lx.ErrorAt(lx.Position, "too many operands");
            operands[count++] = ReadOperand(ref lx);
        }
        return count;
    }

    private static Operand ReadOperand(ref AsmLexer lx)
    {
        char c = lx.Peek();
        int start = lx.Position;
        var operand = new Operand { Start = start };
        if (c == '%')
        {
            operand.Kind = Kind.Register;
            operand.Register = ReadRegister(ref lx);
        }
        else if (c == '[')
        {
            lx.ExpectChar('[');
            operand.Kind = Kind.Memory;
            if (lx.Peek() != '%') throw lx.Expected("a register (%r0..%r10)");
            operand.Register = ReadRegister(ref lx);
            if (lx.Peek() is '+' or '-')
            {
                int offsetStart = lx.Position;
                bool negative = lx.TryChar('-');
                if (!negative) lx.ExpectChar('+');
                lx.SkipSpaces();
                var offset = lx.ReadMagnitude("an offset", offsetStart, negative, out bool hex);
                operand.MemoryOffset = CheckOffset(ref lx, offset, hex, offsetStart, "offset");
            }
            lx.ExpectChar(']');
        }
        else if (lx.AtNumber())
        {
            operand.Kind = Kind.Number;
            operand.Value = lx.ReadInteger("a number", out _, out operand.IsHex);
        }
        else
        {
            var word = lx.ReadWord("an operand (a register, [memory], a number or a label)");
            operand.Kind = Kind.Word;
            operand.Start = start;
            operand.Length = word.Length;
        }
        operand.Length = Math.Max(operand.Length, lx.Position - start);
        return operand;
    }

    private static byte ReadRegister(ref AsmLexer lx)
    {
        int start = lx.Position;
        lx.ExpectChar('%');
        var word = lx.PeekWord();
        if (word.Length >= 2 && word[0] == 'r' && !word[1..].ContainsAnyExceptInRange('0', '9') && (word.Length == 2 || word[1] != '0'))
        {
            int number = word.Length > 3 ? 99 : int.Parse(word[1..], NumberStyles.None, CultureInfo.InvariantCulture);
            if (number < Register.Count)
            {
                lx.Advance(word.Length);
                return (byte)number;
            }
        }
        throw lx.ErrorAt(start, $"invalid register: expected a register (%r0..%r10) but found '%{word}'", "%" + word.ToString());
    }

    private static void Count(ref AsmLexer lx, ReadOnlySpan<char> mnemonic, scoped ReadOnlySpan<Operand> ops, int expected, int mnemonicStart)
    {
        if (ops.Length != expected)
        {
            throw lx.ErrorAt(mnemonicStart, string.Create(CultureInfo.InvariantCulture,
                $"invalid number of operands for '{mnemonic}': expected {expected} but found {ops.Length}"), mnemonic.ToString());
        }
    }

    private static byte Reg(ref AsmLexer lx, in Operand operand) =>
        operand.Kind == Kind.Register ? operand.Register : throw Wrong(ref lx, operand, "a register (%r0..%r10)");

    private static void Memory(ref AsmLexer lx, in Operand operand)
    {
        if (operand.Kind != Kind.Memory) throw Wrong(ref lx, operand, "a memory operand ([%rN+offset])");
    }

    private static ReadOnlySpan<char> Word(ref AsmLexer lx, in Operand operand, string what) =>
        operand.Kind == Kind.Word ? lx.Slice(operand.Start, operand.Length) : throw Wrong(ref lx, operand, what);

    private static AsmSyntaxException Wrong(ref AsmLexer lx, in Operand operand, string what)
    {
        string token = lx.Slice(operand.Start, operand.Length).ToString();
        return lx.ErrorAt(operand.Start, $"expected {what} but found '{token}'", token);
    }

    /// <summary>Decimal: signed 32 bits. Hex: 32 bits, 0x80000000..0xffffffff taken as their bit pattern.</summary>
    private static int Imm32(ref AsmLexer lx, in Operand operand)
    {
        if (operand.Kind != Kind.Number) throw Wrong(ref lx, operand, "an immediate");
        var v = operand.Value;
        if (!v.InRange(int.MinValue, operand.IsHex ? uint.MaxValue : int.MaxValue))
        {
            throw lx.ErrorAt(operand.Start, "immediate out of 32-bit range: " + lx.Slice(operand.Start, operand.Length).ToString()
                + (operand.IsHex ? " (expected -0x80000000..0xffffffff)" : " (expected -2147483648..2147483647)"));
        }
        return unchecked((int)(uint)v.Bits);
    }

    private static long Imm64(ref AsmLexer lx, in Operand operand)
    {
        if (operand.Kind != Kind.Number) throw Wrong(ref lx, operand, "an immediate");
        var v = operand.Value;
        if (!v.InRange(long.MinValue, ulong.MaxValue))
            throw lx.ErrorAt(operand.Start, "immediate out of 64-bit range: " + lx.Slice(operand.Start, operand.Length).ToString());
        return unchecked((long)v.Bits);
    }

    private static short CheckOffset(ref AsmLexer lx, AsmNumber value, bool hex, int start, string what)
    {
        if (hex && value.InRange(0, ushort.MaxValue)) return unchecked((short)(ushort)value.Magnitude);
        if (!value.InRange(short.MinValue, (ulong)short.MaxValue))
        {
            throw lx.ErrorAt(start, $"{what} out of 16-bit range: {value}"
                + (hex ? " (expected -0x8000..0xffff)" : " (expected -32768..32767)"));
        }
        return unchecked((short)value.Bits);
    }

    private static short Target16(ref AsmLexer lx, TextAssemblerState st, in Operand operand)
    {
        if (operand.Kind == Kind.Number) return CheckOffset(ref lx, operand.Value, operand.IsHex, operand.Start, "jump offset");
        if (operand.Kind != Kind.Word) throw Wrong(ref lx, operand, "a jump target (+N, -N or a label)");
        st.AddFixup(lx.Slice(operand.Start, operand.Length), AsmFixupKind.JumpOffset, lx.Line, lx.ColumnOffset + operand.Start + 1);
        return 0;
    }

    private static int Target32(ref AsmLexer lx, TextAssemblerState st, in Operand operand, AsmFixupKind kind)
    {
        if (operand.Kind == Kind.Number)
        {
            if (!operand.Value.InRange(int.MinValue, int.MaxValue))
                throw lx.ErrorAt(operand.Start, "target out of 32-bit range: " + operand.Value);
            return unchecked((int)operand.Value.Bits);
        }
        if (operand.Kind != Kind.Word) throw Wrong(ref lx, operand, "a target (+N, -N or a label)");
        st.AddFixup(lx.Slice(operand.Start, operand.Length), kind, lx.Line, lx.ColumnOffset + operand.Start + 1);
        return 0;
    }

    private static bool TryByteSwap(ReadOnlySpan<char> mnemonic, out byte opcode, out int width)
    {
        opcode = 0;
        width = mnemonic.EndsWith("16") ? 16 : mnemonic.EndsWith("32") ? 32 : mnemonic.EndsWith("64") ? 64 : 0;
        if (width == 0) return false;
        var name = mnemonic[..^2];
        if (name.SequenceEqual("be")) opcode = Opcode.Alu(false, AluOperation.End, OperandSource.Register);
        else if (name.SequenceEqual("le")) opcode = Opcode.Alu(false, AluOperation.End, OperandSource.Immediate);
        else if (name.SequenceEqual("swap") || name.SequenceEqual("bswap")) opcode = Opcode.Alu(true, AluOperation.End, OperandSource.Immediate);
        return opcode != 0;
    }

    private static bool TryMemory(ReadOnlySpan<char> mnemonic, out InstructionClass cls, out MemoryMode mode, out MemorySize size)
    {
        mode = MemoryMode.Mem;
        size = MemorySize.W;
        ReadOnlySpan<char> suffix;
        if (mnemonic.StartsWith("ldxs")) { cls = InstructionClass.Ldx; mode = MemoryMode.MemSx; suffix = mnemonic[4..]; }
        else if (mnemonic.StartsWith("ldx")) { cls = InstructionClass.Ldx; suffix = mnemonic[3..]; }
        else if (mnemonic.StartsWith("stx")) { cls = InstructionClass.Stx; suffix = mnemonic[3..]; }
        else if (mnemonic.StartsWith("st")) { cls = InstructionClass.St; suffix = mnemonic[2..]; }
        else { cls = default; return false; }
        switch (suffix)
        {
            case "b": size = MemorySize.B; return true;
            case "h": size = MemorySize.H; return true;
            case "w": size = MemorySize.W; return true;
            case "dw" when mode == MemoryMode.Mem: size = MemorySize.DW; return true;
            default: return false;
        }
    }

    private static bool TryAlu(ReadOnlySpan<char> name, out AluOperation op, out short offset)
    {
        offset = 0;
        switch (name)
        {
            case "add": op = AluOperation.Add; return true;
            case "sub": op = AluOperation.Sub; return true;
            case "mul": op = AluOperation.Mul; return true;
            case "div": op = AluOperation.Div; return true;
            case "sdiv": op = AluOperation.Div; offset = 1; return true;
            case "or": op = AluOperation.Or; return true;
            case "and": op = AluOperation.And; return true;
            case "lsh": op = AluOperation.Lsh; return true;
            case "rsh": op = AluOperation.Rsh; return true;
            case "mod": op = AluOperation.Mod; return true;
            case "smod": op = AluOperation.Mod; offset = 1; return true;
            case "xor": op = AluOperation.Xor; return true;
            case "mov": op = AluOperation.Mov; return true;
            case "arsh": op = AluOperation.Arsh; return true;
            default: op = default; return false;
        }
    }

    private static bool TryJump(ReadOnlySpan<char> name, out JumpOperation op)
    {
        switch (name)
        {
            case "jeq": op = JumpOperation.Jeq; return true;
            case "jgt": op = JumpOperation.Jgt; return true;
            case "jge": op = JumpOperation.Jge; return true;
            case "jset": op = JumpOperation.Jset; return true;
            case "jne": op = JumpOperation.Jne; return true;
            case "jsgt": op = JumpOperation.Jsgt; return true;
            case "jsge": op = JumpOperation.Jsge; return true;
            case "jlt": op = JumpOperation.Jlt; return true;
            case "jle": op = JumpOperation.Jle; return true;
            case "jslt": op = JumpOperation.Jslt; return true;
            case "jsle": op = JumpOperation.Jsle; return true;
            default: op = default; return false;
        }
    }
}
