namespace SockOps.Emit.Assembler;

// ALU and ALU64 register/immediate forms; generated shape, one line per form.
public sealed partial class InstructionBuilder
{
    /// <summary>64-bit: dst += src; the immediate is sign-extended to 64 bits.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Add(Register dst, int imm) => AluImmediate("add", true, AluOperation.Add, dst.Index, imm, 0);

    /// <summary>64-bit: dst += src.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Add(Register dst, Register src) => AluRegister("add", true, AluOperation.Add, dst.Index, src.Index, 0);

    /// <summary>32-bit (upper half of dst zeroed): dst += src; 32-bit immediate.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Add(Register32 dst, int imm) => AluImmediate("add", false, AluOperation.Add, dst.Index, imm, 0);

    /// <summary>32-bit (upper half of dst zeroed): dst += src.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Add(Register32 dst, Register32 src) => AluRegister("add", false, AluOperation.Add, dst.Index, src.Index, 0);

    /// <summary>64-bit: dst -= src; the immediate is sign-extended to 64 bits.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Sub(Register dst, int imm) => AluImmediate("sub", true, AluOperation.Sub, dst.Index, imm, 0);

    /// <summary>64-bit: dst -= src.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Sub(Register dst, Register src) => AluRegister("sub", true, AluOperation.Sub, dst.Index, src.Index, 0);

    /// <summary>32-bit (upper half of dst zeroed): dst -= src; 32-bit immediate.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Sub(Register32 dst, int imm) => AluImmediate("sub", false, AluOperation.Sub, dst.Index, imm, 0);

    /// <summary>32-bit (upper half of dst zeroed): dst -= src.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Sub(Register32 dst, Register32 src) => AluRegister("sub", false, AluOperation.Sub, dst.Index, src.Index, 0);

    /// <summary>64-bit: dst *= src; the immediate is sign-extended to 64 bits.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Mul(Register dst, int imm) => AluImmediate("mul", true, AluOperation.Mul, dst.Index, imm, 0);

    /// <summary>64-bit: dst *= src.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Mul(Register dst, Register src) => AluRegister("mul", true, AluOperation.Mul, dst.Index, src.Index, 0);

    /// <summary>32-bit (upper half of dst zeroed): dst *= src; 32-bit immediate.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Mul(Register32 dst, int imm) => AluImmediate("mul", false, AluOperation.Mul, dst.Index, imm, 0);

    /// <summary>32-bit (upper half of dst zeroed): dst *= src.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Mul(Register32 dst, Register32 src) => AluRegister("mul", false, AluOperation.Mul, dst.Index, src.Index, 0);

    /// <summary>64-bit: dst /= src, unsigned; the immediate is sign-extended to 64 bits.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Div(Register dst, int imm) => AluImmediate("div", true, AluOperation.Div, dst.Index, imm, 0);

    /// <summary>64-bit: dst /= src, unsigned.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Div(Register dst, Register src) => AluRegister("div", true, AluOperation.Div, dst.Index, src.Index, 0);

    /// <summary>32-bit (upper half of dst zeroed): dst /= src, unsigned; 32-bit immediate.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Div(Register32 dst, int imm) => AluImmediate("div", false, AluOperation.Div, dst.Index, imm, 0);

    /// <summary>32-bit (upper half of dst zeroed): dst /= src, unsigned.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Div(Register32 dst, Register32 src) => AluRegister("div", false, AluOperation.Div, dst.Index, src.Index, 0);

    /// <summary>64-bit: dst /= src, signed (cpu v4); the immediate is sign-extended to 64 bits.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder SDiv(Register dst, int imm) => AluImmediate("sdiv", true, AluOperation.Div, dst.Index, imm, 1);

    /// <summary>64-bit: dst /= src, signed (cpu v4).</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder SDiv(Register dst, Register src) => AluRegister("sdiv", true, AluOperation.Div, dst.Index, src.Index, 1);

    /// <summary>32-bit (upper half of dst zeroed): dst /= src, signed (cpu v4); 32-bit immediate.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder SDiv(Register32 dst, int imm) => AluImmediate("sdiv", false, AluOperation.Div, dst.Index, imm, 1);

    /// <summary>32-bit (upper half of dst zeroed): dst /= src, signed (cpu v4).</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder SDiv(Register32 dst, Register32 src) => AluRegister("sdiv", false, AluOperation.Div, dst.Index, src.Index, 1);

    /// <summary>64-bit: dst |= src; the immediate is sign-extended to 64 bits.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Or(Register dst, int imm) => AluImmediate("or", true, AluOperation.Or, dst.Index, imm, 0);

    /// <summary>64-bit: dst |= src.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Or(Register dst, Register src) => AluRegister("or", true, AluOperation.Or, dst.Index, src.Index, 0);

    /// <summary>32-bit (upper half of dst zeroed): dst |= src; 32-bit immediate.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Or(Register32 dst, int imm) => AluImmediate("or", false, AluOperation.Or, dst.Index, imm, 0);

    /// <summary>32-bit (upper half of dst zeroed): dst |= src.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Or(Register32 dst, Register32 src) => AluRegister("or", false, AluOperation.Or, dst.Index, src.Index, 0);

    /// <summary>64-bit: dst &amp;= src; the immediate is sign-extended to 64 bits.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder And(Register dst, int imm) => AluImmediate("and", true, AluOperation.And, dst.Index, imm, 0);

    /// <summary>64-bit: dst &amp;= src.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder And(Register dst, Register src) => AluRegister("and", true, AluOperation.And, dst.Index, src.Index, 0);

    /// <summary>32-bit (upper half of dst zeroed): dst &amp;= src; 32-bit immediate.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder And(Register32 dst, int imm) => AluImmediate("and", false, AluOperation.And, dst.Index, imm, 0);

    /// <summary>32-bit (upper half of dst zeroed): dst &amp;= src.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder And(Register32 dst, Register32 src) => AluRegister("and", false, AluOperation.And, dst.Index, src.Index, 0);

    /// <summary>64-bit: dst &lt;&lt;= src (the verifier refuses an immediate shift at or above the width); the immediate is sign-extended to 64 bits.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Lsh(Register dst, int imm) => AluImmediate("lsh", true, AluOperation.Lsh, dst.Index, imm, 0);

    /// <summary>64-bit: dst &lt;&lt;= src (the verifier refuses an immediate shift at or above the width).</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Lsh(Register dst, Register src) => AluRegister("lsh", true, AluOperation.Lsh, dst.Index, src.Index, 0);

    /// <summary>32-bit (upper half of dst zeroed): dst &lt;&lt;= src (the verifier refuses an immediate shift at or above the width); 32-bit immediate.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Lsh(Register32 dst, int imm) => AluImmediate("lsh", false, AluOperation.Lsh, dst.Index, imm, 0);

    /// <summary>32-bit (upper half of dst zeroed): dst &lt;&lt;= src (the verifier refuses an immediate shift at or above the width).</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Lsh(Register32 dst, Register32 src) => AluRegister("lsh", false, AluOperation.Lsh, dst.Index, src.Index, 0);

    /// <summary>64-bit: dst &gt;&gt;= src, logical (the verifier refuses an immediate shift at or above the width); the immediate is sign-extended to 64 bits.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Rsh(Register dst, int imm) => AluImmediate("rsh", true, AluOperation.Rsh, dst.Index, imm, 0);

    /// <summary>64-bit: dst &gt;&gt;= src, logical (the verifier refuses an immediate shift at or above the width).</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Rsh(Register dst, Register src) => AluRegister("rsh", true, AluOperation.Rsh, dst.Index, src.Index, 0);

    /// <summary>32-bit (upper half of dst zeroed): dst &gt;&gt;= src, logical (the verifier refuses an immediate shift at or above the width); 32-bit immediate.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Rsh(Register32 dst, int imm) => AluImmediate("rsh", false, AluOperation.Rsh, dst.Index, imm, 0);

    /// <summary>32-bit (upper half of dst zeroed): dst &gt;&gt;= src, logical (the verifier refuses an immediate shift at or above the width).</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Rsh(Register32 dst, Register32 src) => AluRegister("rsh", false, AluOperation.Rsh, dst.Index, src.Index, 0);

    /// <summary>64-bit: dst s&gt;&gt;= src, arithmetic (the verifier refuses an immediate shift at or above the width); the immediate is sign-extended to 64 bits.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Arsh(Register dst, int imm) => AluImmediate("arsh", true, AluOperation.Arsh, dst.Index, imm, 0);

    /// <summary>64-bit: dst s&gt;&gt;= src, arithmetic (the verifier refuses an immediate shift at or above the width).</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Arsh(Register dst, Register src) => AluRegister("arsh", true, AluOperation.Arsh, dst.Index, src.Index, 0);

    /// <summary>32-bit (upper half of dst zeroed): dst s&gt;&gt;= src, arithmetic (the verifier refuses an immediate shift at or above the width); 32-bit immediate.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Arsh(Register32 dst, int imm) => AluImmediate("arsh", false, AluOperation.Arsh, dst.Index, imm, 0);

    /// <summary>32-bit (upper half of dst zeroed): dst s&gt;&gt;= src, arithmetic (the verifier refuses an immediate shift at or above the width).</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Arsh(Register32 dst, Register32 src) => AluRegister("arsh", false, AluOperation.Arsh, dst.Index, src.Index, 0);

    /// <summary>64-bit: dst %= src, unsigned; the immediate is sign-extended to 64 bits.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Mod(Register dst, int imm) => AluImmediate("mod", true, AluOperation.Mod, dst.Index, imm, 0);

    /// <summary>64-bit: dst %= src, unsigned.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Mod(Register dst, Register src) => AluRegister("mod", true, AluOperation.Mod, dst.Index, src.Index, 0);

    /// <summary>32-bit (upper half of dst zeroed): dst %= src, unsigned; 32-bit immediate.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Mod(Register32 dst, int imm) => AluImmediate("mod", false, AluOperation.Mod, dst.Index, imm, 0);

    /// <summary>32-bit (upper half of dst zeroed): dst %= src, unsigned.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Mod(Register32 dst, Register32 src) => AluRegister("mod", false, AluOperation.Mod, dst.Index, src.Index, 0);

    /// <summary>64-bit: dst s%= src, signed (cpu v4); the immediate is sign-extended to 64 bits.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder SMod(Register dst, int imm) => AluImmediate("smod", true, AluOperation.Mod, dst.Index, imm, 1);

    /// <summary>64-bit: dst s%= src, signed (cpu v4).</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder SMod(Register dst, Register src) => AluRegister("smod", true, AluOperation.Mod, dst.Index, src.Index, 1);

    /// <summary>32-bit (upper half of dst zeroed): dst s%= src, signed (cpu v4); 32-bit immediate.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder SMod(Register32 dst, int imm) => AluImmediate("smod", false, AluOperation.Mod, dst.Index, imm, 1);

    /// <summary>32-bit (upper half of dst zeroed): dst s%= src, signed (cpu v4).</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder SMod(Register32 dst, Register32 src) => AluRegister("smod", false, AluOperation.Mod, dst.Index, src.Index, 1);

    /// <summary>64-bit: dst ^= src; the immediate is sign-extended to 64 bits.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Xor(Register dst, int imm) => AluImmediate("xor", true, AluOperation.Xor, dst.Index, imm, 0);

    /// <summary>64-bit: dst ^= src.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Xor(Register dst, Register src) => AluRegister("xor", true, AluOperation.Xor, dst.Index, src.Index, 0);

    /// <summary>32-bit (upper half of dst zeroed): dst ^= src; 32-bit immediate.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Xor(Register32 dst, int imm) => AluImmediate("xor", false, AluOperation.Xor, dst.Index, imm, 0);

    /// <summary>32-bit (upper half of dst zeroed): dst ^= src.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Xor(Register32 dst, Register32 src) => AluRegister("xor", false, AluOperation.Xor, dst.Index, src.Index, 0);

    /// <summary>64-bit: dst = src; the immediate is sign-extended to 64 bits.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Mov(Register dst, int imm) => AluImmediate("mov", true, AluOperation.Mov, dst.Index, imm, 0);

    /// <summary>64-bit: dst = src.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Mov(Register dst, Register src) => AluRegister("mov", true, AluOperation.Mov, dst.Index, src.Index, 0);

    /// <summary>32-bit (upper half of dst zeroed): dst = src; 32-bit immediate.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Mov(Register32 dst, int imm) => AluImmediate("mov", false, AluOperation.Mov, dst.Index, imm, 0);

    /// <summary>32-bit (upper half of dst zeroed): dst = src.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder Mov(Register32 dst, Register32 src) => AluRegister("mov", false, AluOperation.Mov, dst.Index, src.Index, 0);

    private InstructionBuilder AluImmediate(string mnemonic, bool is64, AluOperation op, byte dst, int imm, short offset)
    {
        if (dst == 10) throw FramePointerDestination(mnemonic, is64, dst, imm.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return Emit(Opcode.Alu(is64, op, OperandSource.Immediate), dst, 0, offset, imm);
    }

    private InstructionBuilder AluRegister(string mnemonic, bool is64, AluOperation op, byte dst, byte src, short offset)
    {
        if (dst == 10) throw FramePointerDestination(mnemonic, is64, dst, RegisterText(is64, src));
        return Emit(Opcode.Alu(is64, op, OperandSource.Register), dst, src, offset, 0);
    }

    // Cold path kept out of the emitters so they stay small.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static InvalidInstructionException FramePointerDestination(string mnemonic, bool is64, byte dst, string source) =>
        Invalid(mnemonic, RegisterText(is64, dst) + ", " + source, FramePointerReason("the destination"));

    private static string RegisterText(bool is64, byte index) =>
        (is64 ? "r" : "w") + index.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
