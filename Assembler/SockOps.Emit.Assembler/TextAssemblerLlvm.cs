namespace SockOps.Emit.Assembler;

/// <summary>
/// Parser for LLVM's BPF assembler syntax: the forms LLVM 14's <c>llvm-mc</c>/<c>llvm-objdump</c>
/// know, plus newer LLVM's spellings for cpu v4 and later (<c>s/=</c>, <c>(s8)</c>, <c>*(s8 *)</c>,
/// <c>bswap16</c>, <c>gotol</c>, <c>load_acquire</c>, <c>store_release</c>, <c>if r1 &amp; r2</c>,
/// <c>*(u32 *)(r10 - 8) = 5</c>).
/// </summary>
internal static class TextAssemblerLlvm
{
    private const byte MayGotoOpcode = 0xe5;
    private const string RegisterText = "a register (r0..r10, w0..w10)";
    private const string Register64Text = "a 64-bit register (r0..r10)";
    private const string Register32Text = "a 32-bit register (w0..w10)";

    private readonly struct Reg(byte index, bool is32, int position)
    {
        public byte Index { get; } = index;
        public bool Is32 { get; } = is32;
        public int Position { get; } = position;
    }

    private readonly struct Mem(byte baseRegister, short offset)
    {
        public byte Base { get; } = baseRegister;
        public short Offset { get; } = offset;
    }

    public static void ParseInstruction(ref AsmLexer lx, TextAssemblerState st)
    {
        int line = lx.Line;
        if (lx.Peek() == '*')
        {
            ParseStore(ref lx, st);
            return;
        }
        if (TryRegister(ref lx, out var dst))
        {
            ParseRegisterStatement(ref lx, st, dst);
            return;
        }
        var word = lx.PeekWord();
        int start = lx.Position;
        switch (word)
        {
            case "exit":
                lx.Advance(word.Length);
                EndOfLine(ref lx);
                st.Emit(new Instruction(Opcode.Jump(true, JumpOperation.Exit, OperandSource.Immediate), 0, 0, 0, 0), line);
                return;
            case "goto":
            {
                lx.Advance(word.Length);
                short offset = JumpTarget(ref lx, st, AsmFixupKind.JumpOffset);
                st.Emit(new Instruction(Opcode.Jump(true, JumpOperation.Ja, OperandSource.Immediate), 0, 0, offset, 0), line);
                return;
            }
            case "may_goto":
            {
                // BPF_JMP | BPF_JCOND (0xe5): a jump the kernel may take to bound loops (Linux 6.9+).
                lx.Advance(word.Length);
                short offset = JumpTarget(ref lx, st, AsmFixupKind.JumpOffset);
                st.Emit(new Instruction(MayGotoOpcode, 0, 0, offset, 0), line);
                return;
            }
            case "gotol":
            {
                lx.Advance(word.Length);
                int imm = LongTarget(ref lx, st, AsmFixupKind.LongJumpImmediate);
                st.Emit(new Instruction(Opcode.Jump(false, JumpOperation.Ja, OperandSource.Immediate), 0, 0, 0, imm), line);
                return;
            }
            case "call":
            {
                lx.Advance(word.Length);
                byte opcode = Opcode.Jump(true, JumpOperation.Call, OperandSource.Immediate);
                if (lx.AtNumber())
                {
                    int helper = Imm32(ref lx, "a helper id");
                    EndOfLine(ref lx);
                    st.Emit(new Instruction(opcode, 0, (byte)CallKind.Helper, 0, helper), line);
                }
                else
                {
                    // "call name" with a label is a bpf-to-bpf call, as llvm-mc resolves a local symbol.
                    LongTarget(ref lx, st, AsmFixupKind.CallImmediate);
                    st.Emit(new Instruction(opcode, 0, (byte)CallKind.Local, 0, 0), line);
                }
                return;
            }
            case "callx":
            {
                lx.Advance(word.Length);
                var target = ExpectRegister(ref lx, Register64Text, want32: false);
                EndOfLine(ref lx);
                // The register goes in dst, as llvm-mc 19 and the conformance suite encode it (LLVM 14 used the immediate).
                st.Emit(new Instruction(Opcode.Jump(true, JumpOperation.Call, OperandSource.Register), target.Index, 0, 0, 0), line);
                return;
            }
            case "if":
                lx.Advance(word.Length);
                ParseConditionalJump(ref lx, st);
                return;
            case "lock":
                lx.Advance(word.Length);
                ParseLock(ref lx, st);
                return;
            case "store_release":
            {
                lx.Advance(word.Length);
                lx.ExpectChar('(');
                var size = SizeCast(ref lx, allowSigned: false, out _);
                var mem = MemoryOperand(ref lx);
                lx.ExpectChar(',');
                var src = ExpectRegister(ref lx, RegisterText, want32: null);
                CheckValueWidth(ref lx, src, size);
                lx.ExpectChar(')');
                EndOfLine(ref lx);
                st.Emit(new Instruction(Opcode.Memory(InstructionClass.Stx, MemoryMode.Atomic, size), mem.Base, src.Index, mem.Offset,
                    (int)AtomicOperation.StoreRelease), line);
                return;
            }
            case "ld_pseudo":
            {
                // llvm-objdump prints an ld_imm64 with a pseudo source as "ld_pseudo r1, 1, 3".
                lx.Advance(word.Length);
                var target = ExpectRegister(ref lx, Register64Text, want32: false);
                lx.ExpectChar(',');
                var pseudo = lx.ReadInteger("a pseudo source (0..15)", out int pseudoStart, out _);
                if (!pseudo.InRange(0, 15)) throw lx.ErrorAt(pseudoStart, "pseudo source " + pseudo + " is out of range: expected 0..15");
                lx.ExpectChar(',');
                long value = Imm64(ref lx);
                EndOfLine(ref lx);
                st.Emit(new Instruction(Opcode.LoadImmediate64, target.Index, (byte)pseudo.Magnitude, 0, (int)value, (int)(value >> 32)), line);
                return;
            }
            default:
                if (word.IsEmpty) throw lx.Expected("an instruction");
                if (IsRegisterLike(word)) throw lx.ErrorAt(start, $"expected {RegisterText} but found '{word}'", word.ToString());
                throw lx.ErrorAt(start, $"unknown instruction '{word}'", word.ToString());
        }
    }

    private static void ParseRegisterStatement(ref AsmLexer lx, TextAssemblerState st, Reg dst)
    {
        int line = lx.Line;
        AluOperation op;
        short offset = 0;
        // Dispatch on the operator's first character: this is the hottest path of the parser.
        switch (lx.Peek())
        {
            case '=' when lx.PeekAhead(1) != '=':
                lx.ExpectChar('=');
                ParseAssignment(ref lx, st, dst);
                return;
            case 's' when lx.TryWord("s"):
                if (lx.TryText(">>=")) op = AluOperation.Arsh;
                else if (lx.TryText("/=")) { op = AluOperation.Div; offset = 1; }
                else if (lx.TryText("%=")) { op = AluOperation.Mod; offset = 1; }
                else throw lx.Expected("'s>>=', 's/=' or 's%='");
                break;
            case '+' when lx.TryText("+="): op = AluOperation.Add; break;
            case '-' when lx.TryText("-="): op = AluOperation.Sub; break;
            case '*' when lx.TryText("*="): op = AluOperation.Mul; break;
            case '/' when lx.TryText("/="): op = AluOperation.Div; break;
            case '%' when lx.TryText("%="): op = AluOperation.Mod; break;
            case '|' when lx.TryText("|="): op = AluOperation.Or; break;
            case '&' when lx.TryText("&="): op = AluOperation.And; break;
            case '^' when lx.TryText("^="): op = AluOperation.Xor; break;
            case '<' when lx.TryText("<<="): op = AluOperation.Lsh; break;
            case '>' when lx.TryText(">>="): op = AluOperation.Rsh; break;
            case '=':
                throw lx.ErrorAt(lx.Position, "expected an assignment operator ('=', '+=', ...) but found '=='", "==");
            default:
                throw lx.Expected("an assignment operator ('=', '+=', '-=', ...)");
        }

        bool is64 = !dst.Is32;
        if (TryRegister(ref lx, out var src))
        {
            CheckSameWidth(ref lx, dst, src);
            EndOfLine(ref lx);
            st.Emit(new Instruction(Opcode.Alu(is64, op, OperandSource.Register), dst.Index, src.Index, offset, 0), line);
        }
        else
        {
            int imm = Imm32(ref lx, RegisterText + " or a number");
            EndOfLine(ref lx);
            st.Emit(new Instruction(Opcode.Alu(is64, op, OperandSource.Immediate), dst.Index, 0, offset, imm), line);
        }
    }

    private static void ParseAssignment(ref AsmLexer lx, TextAssemblerState st, Reg dst)
    {
        int line = lx.Line;
        bool is64 = !dst.Is32;
        char next = lx.Peek();

        // dst = -dst (neg) or dst = -5
        if (next == '-' && !char.IsAsciiDigit(lx.PeekAhead(1)))
        {
            lx.ExpectChar('-');
            var src = ExpectRegister(ref lx, RegisterText, want32: null);
            CheckSameRegister(ref lx, dst, src, "neg");
            EndOfLine(ref lx);
            st.Emit(new Instruction(Opcode.Alu(is64, AluOperation.Neg, OperandSource.Immediate), dst.Index, 0, 0, 0), line);
            return;
        }

        if (lx.AtNumber())
        {
            int numberStart = lx.Position;
            var value = lx.ReadInteger("a number", out _, out _);
            if (lx.TryWord("ll"))
            {
                RequireWidth(ref lx, dst, want32: false, "ld_imm64 ('ll') needs " + Register64Text);
                long wide = CheckImm64(ref lx, value, numberStart);
                EndOfLine(ref lx);
                st.Emit(new Instruction(Opcode.LoadImmediate64, dst.Index, 0, 0, (int)wide, (int)(wide >> 32)), line);
                return;
            }
            int imm = CheckImm32(ref lx, value, numberStart);
            EndOfLine(ref lx);
            st.Emit(new Instruction(Opcode.Alu(is64, AluOperation.Mov, OperandSource.Immediate), dst.Index, 0, 0, imm), line);
            return;
        }

        if (next == '(')
        {
            // movsx: dst = (s8)src
            lx.ExpectChar('(');
            int castStart = lx.Position;
            var cast = lx.ReadWord("'s8', 's16' or 's32'");
            short bits = cast switch { "s8" => 8, "s16" => 16, "s32" => 32, _ => 0 };
            if (bits == 0) throw lx.ErrorAt(castStart, $"expected 's8', 's16' or 's32' but found '{cast}'", cast.ToString());
            if (bits == 32 && dst.Is32) throw lx.ErrorAt(castStart, "(s32) needs a 64-bit destination (r0..r10)", cast.ToString());
            lx.ExpectChar(')');
            var src = ExpectRegister(ref lx, dst.Is32 ? Register32Text : Register64Text, want32: dst.Is32);
            EndOfLine(ref lx);
            st.Emit(new Instruction(Opcode.Alu(is64, AluOperation.Mov, OperandSource.Register), dst.Index, src.Index, bits, 0), line);
            return;
        }

        if (next == '*')
        {
            lx.ExpectChar('*');
            int castStart = lx.Position;
            var size = SizeCast(ref lx, allowSigned: true, out bool signedLoad);
            if (lx.TryWord("skb"))
            {
                ParseLegacyPacketLoad(ref lx, st, dst, size, castStart);
                return;
            }
            var mem = MemoryOperand(ref lx);
            if (signedLoad) RequireWidth(ref lx, dst, want32: false, "a sign-extending load needs " + Register64Text);
            else if (size == MemorySize.DW) RequireWidth(ref lx, dst, want32: false, "a u64 load needs " + Register64Text);
            EndOfLine(ref lx);
            var mode = signedLoad ? MemoryMode.MemSx : MemoryMode.Mem;
            st.Emit(new Instruction(Opcode.Memory(InstructionClass.Ldx, mode, size), dst.Index, mem.Base, mem.Offset, 0), line);
            return;
        }

        if (TryRegister(ref lx, out var source))
        {
            CheckSameWidth(ref lx, dst, source);
            EndOfLine(ref lx);
            st.Emit(new Instruction(Opcode.Alu(is64, AluOperation.Mov, OperandSource.Register), dst.Index, source.Index, 0, 0), line);
            return;
        }

        int wordStart = lx.Position;
        var word = lx.PeekWord();
        if (word.IsEmpty) throw lx.Expected("a register, a number or an expression");
        switch (word)
        {
            case "be16" or "be32" or "be64" or "le16" or "le32" or "le64" or "bswap16" or "bswap32" or "bswap64":
            {
                lx.Advance(word.Length);
                RequireWidth(ref lx, dst, want32: false, "a byte swap needs " + Register64Text);
                var src = ExpectRegister(ref lx, Register64Text, want32: false);
                CheckSameRegister(ref lx, dst, src, word.ToString());
                EndOfLine(ref lx);
                int width = word[^2] == '1' ? 16 : word[^2] == '3' ? 32 : 64;
                // be: ALU | END | TO_BE (the source bit); le: ALU | END | TO_LE; bswap: ALU64 | END.
                byte opcode = word[0] switch
                {
                    'b' when word[1] == 'e' => Opcode.Alu(false, AluOperation.End, OperandSource.Register),
                    'l' => Opcode.Alu(false, AluOperation.End, OperandSource.Immediate),
                    _ => Opcode.Alu(true, AluOperation.End, OperandSource.Immediate),
                };
                st.Emit(new Instruction(opcode, dst.Index, 0, 0, width), line);
                return;
            }
            case "atomic_fetch_add" or "atomic_fetch_or" or "atomic_fetch_and" or "atomic_fetch_xor":
            {
                lx.Advance(word.Length);
                var operation = word[13] switch
                {
                    'a' when word[14] == 'd' => AtomicOperation.FetchAdd,
                    'a' => AtomicOperation.FetchAnd,
                    'o' => AtomicOperation.FetchOr,
                    _ => AtomicOperation.FetchXor,
                };
                lx.ExpectChar('(');
                var size = SizeCast(ref lx, allowSigned: false, out _);
                RequireAtomicSize(ref lx, size, wordStart);
                var mem = MemoryOperand(ref lx);
                lx.ExpectChar(',');
                var val = ExpectRegister(ref lx, RegisterText, want32: null);
                lx.ExpectChar(')');
                CheckSameRegister(ref lx, dst, val, word.ToString());
                CheckValueWidth(ref lx, dst, size);
                EndOfLine(ref lx);
                st.Emit(new Instruction(Opcode.Memory(InstructionClass.Stx, MemoryMode.Atomic, size), mem.Base, val.Index, mem.Offset, (int)operation), line);
                return;
            }
            case "xchg_64" or "xchg32_32":
            {
                lx.Advance(word.Length);
                bool wide = word[4] == '_';
                RequireWidth(ref lx, dst, want32: !wide, wide ? "xchg_64 needs " + Register64Text : "xchg32_32 needs " + Register32Text);
                lx.ExpectChar('(');
                var mem = MemoryOperand(ref lx, parenthesized: false);
                lx.ExpectChar(',');
                var val = ExpectRegister(ref lx, wide ? Register64Text : Register32Text, want32: !wide);
                lx.ExpectChar(')');
                CheckSameRegister(ref lx, dst, val, word.ToString());
                EndOfLine(ref lx);
                st.Emit(new Instruction(Opcode.Memory(InstructionClass.Stx, MemoryMode.Atomic, wide ? MemorySize.DW : MemorySize.W), mem.Base, val.Index, mem.Offset,
                    (int)AtomicOperation.Xchg), line);
                return;
            }
            case "cmpxchg_64" or "cmpxchg32_32":
            {
                lx.Advance(word.Length);
                bool wide = word[7] == '_';
                if (dst.Index != 0 || dst.Is32 == wide)
                    throw lx.ErrorAt(dst.Position, $"{word} writes {(wide ? "r0" : "w0")}: the destination must be {(wide ? "r0" : "w0")}", dst.Is32 ? "w" + dst.Index : "r" + dst.Index);
                lx.ExpectChar('(');
                var mem = MemoryOperand(ref lx, parenthesized: false);
                lx.ExpectChar(',');
                var expected = ExpectRegister(ref lx, wide ? "r0" : "w0", want32: !wide);
                if (expected.Index != 0) throw lx.ErrorAt(expected.Position, $"expected {(wide ? "r0" : "w0")} (the compared value) but found '{(wide ? "r" : "w")}{expected.Index}'");
                lx.ExpectChar(',');
                var val = ExpectRegister(ref lx, wide ? Register64Text : Register32Text, want32: !wide);
                lx.ExpectChar(')');
                EndOfLine(ref lx);
                st.Emit(new Instruction(Opcode.Memory(InstructionClass.Stx, MemoryMode.Atomic, wide ? MemorySize.DW : MemorySize.W), mem.Base, val.Index, mem.Offset,
                    (int)AtomicOperation.CmpXchg), line);
                return;
            }
            case "addr_space_cast":
            {
                // dst = addr_space_cast(src, dst_as, src_as): mov with offset 1, address spaces in the immediate (Linux 6.9+ arenas).
                lx.Advance(word.Length);
                RequireWidth(ref lx, dst, want32: false, "addr_space_cast needs " + Register64Text);
                lx.ExpectChar('(');
                var src = ExpectRegister(ref lx, Register64Text, want32: false);
                lx.ExpectChar(',');
                int dstSpace = AddressSpace(ref lx);
                lx.ExpectChar(',');
                int srcSpace = AddressSpace(ref lx);
                lx.ExpectChar(')');
                EndOfLine(ref lx);
                st.Emit(new Instruction(Opcode.Alu(true, AluOperation.Mov, OperandSource.Register), dst.Index, src.Index, 1, (dstSpace << 16) | srcSpace), line);
                return;
            }
            case "load_acquire":
            {
                lx.Advance(word.Length);
                lx.ExpectChar('(');
                var size = SizeCast(ref lx, allowSigned: false, out _);
                var mem = MemoryOperand(ref lx);
                lx.ExpectChar(')');
                CheckValueWidth(ref lx, dst, size);
                EndOfLine(ref lx);
                st.Emit(new Instruction(Opcode.Memory(InstructionClass.Stx, MemoryMode.Atomic, size), dst.Index, mem.Base, mem.Offset,
                    (int)AtomicOperation.LoadAcquire), line);
                return;
            }
            default:
            {
                if (IsRegisterLike(word)) throw lx.ErrorAt(wordStart, $"expected {RegisterText} but found '{word}'", word.ToString());
                // dst = symbol ll: a function (label) address or a map, resolved after the whole text is read.
                lx.Advance(word.Length);
                if (!lx.TryWord("ll")) throw lx.Expected("'ll' after the symbol '" + word.ToString() + "'");
                RequireWidth(ref lx, dst, want32: false, "ld_imm64 ('ll') needs " + Register64Text);
                EndOfLine(ref lx);
                st.AddFixup(word, AsmFixupKind.Symbol, line, lx.ColumnOffset + wordStart + 1);
                st.Emit(new Instruction(Opcode.LoadImmediate64, dst.Index, 0, 0, 0), line);
                return;
            }
        }
    }

    private static void ParseLegacyPacketLoad(ref AsmLexer lx, TextAssemblerState st, Reg dst, MemorySize size, int castStart)
    {
        if (dst.Index != 0 || dst.Is32) throw lx.ErrorAt(dst.Position, "legacy packet loads (skb[...]) always write r0", (dst.Is32 ? "w" : "r") + dst.Index);
        if (size == MemorySize.DW) throw lx.ErrorAt(castStart, "legacy packet loads are u8, u16 or u32");
        lx.ExpectChar('[');
        if (TryRegister(ref lx, out var index))
        {
            RequireWidth(ref lx, index, want32: false, "the packet index needs " + Register64Text);
            lx.ExpectChar(']');
            EndOfLine(ref lx);
            st.Emit(new Instruction(Opcode.Memory(InstructionClass.Ld, MemoryMode.Ind, size), 0, index.Index, 0, 0), lx.Line);
            return;
        }
        int imm = Imm32(ref lx, "a register or a number");
        lx.ExpectChar(']');
        EndOfLine(ref lx);
        st.Emit(new Instruction(Opcode.Memory(InstructionClass.Ld, MemoryMode.Abs, size), 0, 0, 0, imm), lx.Line);
    }

    private static void ParseStore(ref AsmLexer lx, TextAssemblerState st)
    {
        int line = lx.Line;
        lx.ExpectChar('*');
        var size = SizeCast(ref lx, allowSigned: false, out _);
        var mem = MemoryOperand(ref lx);
        lx.ExpectChar('=');
        if (TryRegister(ref lx, out var src))
        {
            CheckValueWidth(ref lx, src, size);
            EndOfLine(ref lx);
            st.Emit(new Instruction(Opcode.Memory(InstructionClass.Stx, MemoryMode.Mem, size), mem.Base, src.Index, mem.Offset, 0), line);
            return;
        }
        int imm = Imm32(ref lx, RegisterText + " or a number");
        EndOfLine(ref lx);
        st.Emit(new Instruction(Opcode.Memory(InstructionClass.St, MemoryMode.Mem, size), mem.Base, 0, mem.Offset, imm), line);
    }

    private static void ParseLock(ref AsmLexer lx, TextAssemblerState st)
    {
        int line = lx.Line;
        lx.ExpectChar('*');
        int castStart = lx.Position;
        var size = SizeCast(ref lx, allowSigned: false, out _);
        RequireAtomicSize(ref lx, size, castStart);
        var mem = MemoryOperand(ref lx);
        AtomicOperation op;
        if (lx.TryText("+=")) op = AtomicOperation.Add;
        else if (lx.TryText("|=")) op = AtomicOperation.Or;
        else if (lx.TryText("&=")) op = AtomicOperation.And;
        else if (lx.TryText("^=")) op = AtomicOperation.Xor;
        else throw lx.Expected("'+=', '|=', '&=' or '^='");
        var src = ExpectRegister(ref lx, RegisterText, want32: null);
        CheckValueWidth(ref lx, src, size);
        EndOfLine(ref lx);
        st.Emit(new Instruction(Opcode.Memory(InstructionClass.Stx, MemoryMode.Atomic, size), mem.Base, src.Index, mem.Offset, (int)op), line);
    }

    private static void ParseConditionalJump(ref AsmLexer lx, TextAssemblerState st)
    {
        int line = lx.Line;
        var left = ExpectRegister(ref lx, RegisterText, want32: null);
        JumpOperation op;
        if (lx.TryWord("s"))
        {
            if (lx.TryText(">=")) op = JumpOperation.Jsge;
            else if (lx.TryText(">")) op = JumpOperation.Jsgt;
            else if (lx.TryText("<=")) op = JumpOperation.Jsle;
            else if (lx.TryText("<")) op = JumpOperation.Jslt;
            else throw lx.Expected("'s>', 's>=', 's<' or 's<='");
        }
        else if (lx.TryText("==")) op = JumpOperation.Jeq;
        else if (lx.TryText("!=")) op = JumpOperation.Jne;
        else if (lx.TryText(">=")) op = JumpOperation.Jge;
        else if (lx.TryText(">")) op = JumpOperation.Jgt;
        else if (lx.TryText("<=")) op = JumpOperation.Jle;
        else if (lx.TryText("<")) op = JumpOperation.Jlt;
        else if (lx.TryText("&")) op = JumpOperation.Jset;
        else throw lx.Expected("a comparison ('==', '!=', '>', '>=', '<', '<=', 's>', 's>=', 's<', 's<=', '&')");

        bool is64 = !left.Is32;
        if (TryRegister(ref lx, out var right))
        {
            CheckSameWidth(ref lx, left, right);
            lx.ExpectWord("goto");
            short offset = JumpTarget(ref lx, st, AsmFixupKind.JumpOffset);
            st.Emit(new Instruction(Opcode.Jump(is64, op, OperandSource.Register), left.Index, right.Index, offset, 0), line);
        }
        else
        {
            int imm = Imm32(ref lx, RegisterText + " or a number");
            lx.ExpectWord("goto");
            short offset = JumpTarget(ref lx, st, AsmFixupKind.JumpOffset);
            st.Emit(new Instruction(Opcode.Jump(is64, op, OperandSource.Immediate), left.Index, 0, offset, imm), line);
        }
    }

    /// <summary>A 16-bit jump target: +N, -N, N or a label (patched later). Ends the line.</summary>
    private static short JumpTarget(ref AsmLexer lx, TextAssemblerState st, AsmFixupKind kind)
    {
        if (lx.AtNumber())
        {
            var value = lx.ReadInteger("a jump offset", out int start, out _);
            if (!value.InRange(short.MinValue, (ulong)short.MaxValue))
                throw lx.ErrorAt(start, "jump offset " + value + " is out of range: expected -32768..32767 (use gotol)");
            SkipObjdumpAnnotation(ref lx);
            EndOfLine(ref lx);
            return unchecked((short)value.Bits);
        }
        int labelStart = lx.Position;
        var label = lx.ReadWord("a jump target (+N, -N or a label)");
        EndOfLine(ref lx);
        st.AddFixup(label, kind, lx.Line, lx.ColumnOffset + labelStart + 1);
        return 0;
    }

    /// <summary>A 32-bit target (gotol, call): a number or a label (patched later). Ends the line.</summary>
    private static int LongTarget(ref AsmLexer lx, TextAssemblerState st, AsmFixupKind kind)
    {
        if (lx.AtNumber())
        {
            var value = lx.ReadInteger("a jump offset", out int start, out _);
            if (!value.InRange(int.MinValue, int.MaxValue))
                throw lx.ErrorAt(start, "offset " + value + " is out of range: expected a signed 32-bit value");
            SkipObjdumpAnnotation(ref lx);
            EndOfLine(ref lx);
            return unchecked((int)value.Bits);
        }
        int labelStart = lx.Position;
        var label = lx.ReadWord("a target (a number or a label)");
        EndOfLine(ref lx);
        st.AddFixup(label, kind, lx.Line, lx.ColumnOffset + labelStart + 1);
        return 0;
    }

    /// <summary>llvm-objdump follows jump offsets with the target as "&lt;label+0x10&gt;"; it carries no information of its own.</summary>
    private static void SkipObjdumpAnnotation(ref AsmLexer lx)
    {
        if (lx.Peek() != '<') return;
        var rest = lx.Rest();
        if (!rest.EndsWith('>')) throw lx.Expected("the end of the line");
        lx.Advance(rest.Length);
    }

    /// <summary>Parses "(u32 *)" (after the leading '*' of a dereference, or inside atomic calls).</summary>
    private static MemorySize SizeCast(ref AsmLexer lx, bool allowSigned, out bool signed)
    {
        lx.ExpectChar('(');
        int start = lx.Position;
        var type = lx.ReadWord(allowSigned ? "a type (u8, u16, u32, u64, s8, s16, s32)" : "a type (u8, u16, u32, u64)");
        signed = false;
        MemorySize size;
        switch (type)
        {
            case "u8": size = MemorySize.B; break;
            case "u16": size = MemorySize.H; break;
            case "u32": size = MemorySize.W; break;
            case "u64": size = MemorySize.DW; break;
            case "s8" when allowSigned: size = MemorySize.B; signed = true; break;
            case "s16" when allowSigned: size = MemorySize.H; signed = true; break;
            case "s32" when allowSigned: size = MemorySize.W; signed = true; break;
            default:
                throw lx.ErrorAt(start, $"expected {(allowSigned ? "a type (u8, u16, u32, u64, s8, s16, s32)" : "a type (u8, u16, u32, u64)")} but found '{type}'", type.ToString());
        }
        lx.ExpectChar('*');
        lx.ExpectChar(')');
        return size;
    }

    /// <summary>Parses "(r1 + 8)" / "(r10 - 8)" (or without the parentheses for xchg/cmpxchg).</summary>
    private static Mem MemoryOperand(ref AsmLexer lx, bool parenthesized = true)
    {
        if (parenthesized) lx.ExpectChar('(');
        var baseRegister = ExpectRegister(ref lx, Register64Text, want32: false);
        bool negative;
        if (lx.TryChar('+')) negative = false;
        else if (lx.TryChar('-')) negative = true;
        else throw lx.Expected("'+' or '-' and an offset");
        lx.SkipSpaces();
        int start = lx.Position;
        var offset = lx.ReadMagnitude("an offset", start, negative, out _);
        if (!offset.InRange(short.MinValue, (ulong)short.MaxValue))
            throw lx.ErrorAt(start, "offset " + offset + " is out of range: expected -32768..32767");
        if (parenthesized) lx.ExpectChar(')');
        return new Mem(baseRegister.Index, unchecked((short)offset.Bits));
    }

    private static int AddressSpace(ref AsmLexer lx)
    {
        var value = lx.ReadInteger("an address space (0..65535)", out int start, out _);
        if (!value.InRange(0, ushort.MaxValue)) throw lx.ErrorAt(start, "address space " + value + " is out of range: expected 0..65535");
        return (int)value.Magnitude;
    }

    private static int Imm32(ref AsmLexer lx, string what)
    {
        if (!lx.AtNumber()) throw lx.Expected(what);
        var value = lx.ReadInteger(what, out int start, out _);
        return CheckImm32(ref lx, value, start);
    }

    private static long Imm64(ref AsmLexer lx)
    {
        var value = lx.ReadInteger("a number", out int start, out _);
        return CheckImm64(ref lx, value, start);
    }

    /// <summary>
    /// A 32-bit immediate: signed -2^31..2^31-1, or unsigned up to 2^32-1 taken as its bit
    /// pattern (so 0xffffffff is -1, as llvm-mc encodes it). Anything wider is refused.
    /// </summary>
    private static int CheckImm32(ref AsmLexer lx, AsmNumber value, int start)
    {
        if (!value.InRange(int.MinValue, uint.MaxValue))
            throw lx.ErrorAt(start, "immediate " + lx.TokenAt(start) + " is out of range: expected a 32-bit value (-2147483648..4294967295)");
        return unchecked((int)(uint)value.Bits);
    }

    private static long CheckImm64(ref AsmLexer lx, AsmNumber value, int start)
    {
        if (!value.InRange(long.MinValue, ulong.MaxValue))
            throw lx.ErrorAt(start, "immediate " + lx.TokenAt(start) + " is out of range: expected a 64-bit value (-9223372036854775808..18446744073709551615)");
        return unchecked((long)value.Bits);
    }

    private static bool IsRegisterLike(ReadOnlySpan<char> word)
    {
        if (word.Length < 2 || (word[0] != 'r' && word[0] != 'w')) return false;
        for (int i = 1; i < word.Length; i++)
            if (!char.IsAsciiDigit(word[i])) return false;
        return true;
    }

    private static bool TryRegister(ref AsmLexer lx, out Reg register)
    {
        var word = lx.PeekWord();
        if (!IsRegisterLike(word))
        {
            register = default;
            return false;
        }
        int start = lx.Position;
        int number = 0;
        foreach (char c in word[1..])
        {
            number = number * 10 + (c - '0');
            if (number > 99) break;
        }
        if (number >= Register.Count || (word.Length > 2 && word[1] == '0'))
            throw lx.ErrorAt(start, $"expected {(word[0] == 'w' ? "a register (w0..w10)" : "a register (r0..r10)")} but found '{word}'", word.ToString());
        lx.Advance(word.Length);
        register = new Reg((byte)number, word[0] == 'w', start);
        return true;
    }

    /// <summary>Reads a register; <paramref name="want32"/> null accepts both widths.</summary>
    private static Reg ExpectRegister(ref AsmLexer lx, string what, bool? want32)
    {
        if (!TryRegister(ref lx, out var register)) throw lx.Expected(what);
        if (want32 is { } w && register.Is32 != w)
            throw lx.ErrorAt(register.Position, $"expected {what} but found '{(register.Is32 ? "w" : "r")}{register.Index}'");
        return register;
    }

    private static void RequireWidth(ref AsmLexer lx, Reg register, bool want32, string message)
    {
        if (register.Is32 != want32) throw lx.ErrorAt(register.Position, message);
    }

    private static void CheckSameWidth(ref AsmLexer lx, Reg dst, Reg src)
    {
        if (dst.Is32 != src.Is32)
        {
            throw lx.ErrorAt(src.Position, dst.Is32
                ? $"expected {Register32Text} to match 'w{dst.Index}' but found 'r{src.Index}'"
                : $"expected {Register64Text} to match 'r{dst.Index}' but found 'w{src.Index}'");
        }
    }

    private static void CheckSameRegister(ref AsmLexer lx, Reg dst, Reg src, string what)
    {
        CheckSameWidth(ref lx, dst, src);
        if (dst.Index != src.Index)
        {
            string prefix = dst.Is32 ? "w" : "r";
            throw lx.ErrorAt(src.Position, $"{what} works in place: expected '{prefix}{dst.Index}' but found '{prefix}{src.Index}'");
        }
    }

    /// <summary>A u64 access needs an rN value; narrower ones take rN or wN.</summary>
    private static void CheckValueWidth(ref AsmLexer lx, Reg value, MemorySize size)
    {
        if (size == MemorySize.DW && value.Is32)
            throw lx.ErrorAt(value.Position, $"expected {Register64Text} for a u64 access but found 'w{value.Index}'");
    }

    private static void RequireAtomicSize(ref AsmLexer lx, MemorySize size, int position)
    {
        if (size is not (MemorySize.W or MemorySize.DW))
            throw lx.ErrorAt(position, "atomic operations work on u32 or u64 only");
    }

    private static void EndOfLine(ref AsmLexer lx)
    {
        if (!lx.AtEnd) throw lx.Expected("the end of the line");
    }
}
