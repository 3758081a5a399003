using System.Globalization;

namespace SockOps.Emit.Assembler;

/// <summary>The condition of a conditional jump; the values are the JMP/JMP32 operation codes.</summary>
public enum JumpCondition : byte
{
    /// <summary>dst == src (<c>==</c>).</summary>
    Equal = JumpOperation.Jeq,
    /// <summary>dst != src (<c>!=</c>).</summary>
    NotEqual = JumpOperation.Jne,
    /// <summary>dst &gt; src, unsigned (<c>&gt;</c>).</summary>
    Greater = JumpOperation.Jgt,
    /// <summary>dst &gt;= src, unsigned (<c>&gt;=</c>).</summary>
    GreaterOrEqual = JumpOperation.Jge,
    /// <summary>dst &lt; src, unsigned (<c>&lt;</c>).</summary>
    Less = JumpOperation.Jlt,
    /// <summary>dst &lt;= src, unsigned (<c>&lt;=</c>).</summary>
    LessOrEqual = JumpOperation.Jle,
    /// <summary>dst &gt; src, signed (<c>s&gt;</c>).</summary>
    SignedGreater = JumpOperation.Jsgt,
    /// <summary>dst &gt;= src, signed (<c>s&gt;=</c>).</summary>
    SignedGreaterOrEqual = JumpOperation.Jsge,
    /// <summary>dst &lt; src, signed (<c>s&lt;</c>).</summary>
    SignedLess = JumpOperation.Jslt,
    /// <summary>dst &lt;= src, signed (<c>s&lt;=</c>).</summary>
    SignedLessOrEqual = JumpOperation.Jsle,
    /// <summary>(dst &amp; src) != 0 (<c>&amp;</c>, jset).</summary>
    AnyBitsSet = JumpOperation.Jset,
}

// Jumps, calls and exit.
public sealed partial class InstructionBuilder
{
    /// <summary><c>goto target</c>: JMP | JA with a 16-bit offset (rewritten to gotol at encode time if allowed and needed).</summary>
    /// <exception cref="ArgumentException">The label is default or from another builder.</exception>
    public InstructionBuilder Jump(Label target) =>
        EmitWithFixup((byte)InstructionClass.Jmp, 0, 0, 0, 0, target, FixupKind.Offset16);

    /// <summary><c>gotol target</c>: JMP32 | JA with a 32-bit immediate (cpu v4, Linux 6.6+).</summary>
    /// <exception cref="ArgumentException">The label is default or from another builder.</exception>
    public InstructionBuilder JumpLong(Label target) =>
        EmitWithFixup((byte)InstructionClass.Jmp32, 0, 0, 0, 0, target, FixupKind.Gotol);

    /// <summary><c>if dst cond imm goto target</c>, comparing all 64 bits with the sign-extended immediate.</summary>
    /// <exception cref="InvalidInstructionException">The condition is undefined.</exception>
    /// <exception cref="ArgumentException">The label is default or from another builder.</exception>
    public InstructionBuilder JumpIf(Register dst, JumpCondition condition, int imm, Label target) =>
        ConditionalJump(true, dst.Index, condition, OperandSource.Immediate, 0, imm, target);

    /// <summary><c>if dst cond src goto target</c>, comparing all 64 bits.</summary>
    /// <exception cref="InvalidInstructionException">The condition is undefined.</exception>
    /// <exception cref="ArgumentException">The label is default or from another builder.</exception>
    public InstructionBuilder JumpIf(Register dst, JumpCondition condition, Register src, Label target) =>
        ConditionalJump(true, dst.Index, condition, OperandSource.Register, src.Index, 0, target);

    /// <summary><c>if wdst cond imm goto target</c> (JMP32), comparing the low 32 bits.</summary>
    /// <exception cref="InvalidInstructionException">The condition is undefined.</exception>
    /// <exception cref="ArgumentException">The label is default or from another builder.</exception>
    public InstructionBuilder JumpIf(Register32 dst, JumpCondition condition, int imm, Label target) =>
        ConditionalJump(false, dst.Index, condition, OperandSource.Immediate, 0, imm, target);

    /// <summary><c>if wdst cond wsrc goto target</c> (JMP32), comparing the low 32 bits.</summary>
    /// <exception cref="InvalidInstructionException">The condition is undefined.</exception>
    /// <exception cref="ArgumentException">The label is default or from another builder.</exception>
    public InstructionBuilder JumpIf(Register32 dst, JumpCondition condition, Register32 src, Label target) =>
        ConditionalJump(false, dst.Index, condition, OperandSource.Register, src.Index, 0, target);

    private InstructionBuilder ConditionalJump(bool is64, byte dst, JumpCondition condition, OperandSource source, byte src, int imm, Label target)
    {
        if (!IsCondition(condition)) throw ConditionRefusal(is64, dst, condition, source, src, imm, target);
        return EmitWithFixup(Opcode.Jump(is64, (JumpOperation)condition, source), dst, src, imm, 0, target, FixupKind.Offset16);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static InvalidInstructionException ConditionRefusal(bool is64, byte dst, JumpCondition condition, OperandSource source, byte src, int imm, Label target) =>
        Invalid("if", string.Create(CultureInfo.InvariantCulture,
            $"{RegisterText(is64, dst)}, 0x{(byte)condition:x2}, {(source == OperandSource.Register ? RegisterText(is64, src) : imm.ToString(CultureInfo.InvariantCulture))}, {target}"),
            "not a jump condition.");

    private static bool IsCondition(JumpCondition condition) => condition switch
    {
        JumpCondition.Equal or JumpCondition.NotEqual or JumpCondition.Greater or JumpCondition.GreaterOrEqual
            or JumpCondition.Less or JumpCondition.LessOrEqual or JumpCondition.SignedGreater
            or JumpCondition.SignedGreaterOrEqual or JumpCondition.SignedLess or JumpCondition.SignedLessOrEqual
            or JumpCondition.AnyBitsSet => true,
        _ => false,
    };

    /// <summary>
    /// <c>may_goto target</c> (JMP | JCOND, Linux 6.9+): falls through while the loop budget lasts,
    /// jumps to <paramref name="target"/> once it is exhausted.
    /// </summary>
    /// <exception cref="ArgumentException">The label is default or from another builder.</exception>
    public InstructionBuilder MayGoto(Label target) =>
        EmitWithFixup((byte)JumpOperation.Jcond | (byte)InstructionClass.Jmp, 0, 0, 0, 0, target, FixupKind.Offset16);

    /// <summary><c>call helperId</c>: calls a kernel helper by id.</summary>
    public InstructionBuilder Call(int helperId) =>
        Emit((byte)JumpOperation.Call | (byte)InstructionClass.Jmp, 0, (byte)CallKind.Helper, 0, helperId);

    /// <summary>Calls the bpf-to-bpf function that starts at <paramref name="function"/> (source 1, relative immediate).</summary>
    /// <exception cref="ArgumentException">The label is default or from another builder.</exception>
    public InstructionBuilder CallLocal(Label function) =>
        EmitWithFixup((byte)JumpOperation.Call | (byte)InstructionClass.Jmp, 0, (byte)CallKind.Local, 0, 0, function, FixupKind.Immediate32);

    /// <summary>Calls the kernel function with BTF id <paramref name="btfId"/> (source 2); <paramref name="moduleBtfIndex"/> selects a module BTF in the fd array (0 = vmlinux).</summary>
    public InstructionBuilder CallKfunc(int btfId, short moduleBtfIndex = 0) =>
        Emit((byte)JumpOperation.Call | (byte)InstructionClass.Jmp, 0, (byte)CallKind.Kfunc, moduleBtfIndex, btfId);

    /// <summary><c>exit</c>: returns r0 from the current function.</summary>
    public InstructionBuilder Exit() =>
        Emit((byte)JumpOperation.Exit | (byte)InstructionClass.Jmp, 0, 0, 0, 0);
}
