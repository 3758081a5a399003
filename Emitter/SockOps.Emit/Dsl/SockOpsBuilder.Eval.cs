using SockOps.Emit.Assembler;

namespace SockOps.Emit;

public sealed partial class SockOpsBuilder
{
    /// <summary>
    /// Evaluates an expression into a register. A 32-bit result may be "dirty": its upper 32 bits are
    /// unspecified (a helper's 64-bit return used as int). 32-bit instructions don't care; 64-bit consumers
    /// go through <see cref="EvalClean"/>.
    /// </summary>
    internal (int Reg, bool Dirty) Eval(Expr e, SourceLocation loc)
    {
        switch (e)
        {
            case ConstExpr c:
            {
                int t = NewRegister();
                EmitMoveImm(t, c.Value, c.Type.Is64(), loc);
                return (t, false);
            }
            case Variable v:
                CheckReadable(v, loc);
                return (v.Register, v.DirtyUpper);
            case LoadExpr l:
            {
                var (baseReg, offset) = Address(l, loc);
                if (l.Memory.Kind == PointerKind.Context) RequireContextField(offset, loc);
                int t = NewRegister();
                Emit(new IrInst { Kind = IrKind.Load, Dst = t, Src = baseReg, Offset = offset, Size = l.Size, Location = loc });
                return (t, false);
            }
            case BinExpr b:
            {
                int t = NewRegister();
                EvalBinaryInto(t, b, loc);
                return (t, false);
            }
            case UnExpr u:
            {
                int t = NewRegister();
                var (src, dirty) = Eval(u.Operand, loc);
                bool is64 = u.Type.Is64();
                switch (u.Op)
                {
                    case UnOp.Neg:
                        EmitMove(t, src, true, loc);
                        Emit(new IrInst { Kind = IrKind.Neg, Dst = t, Is64 = is64, Location = loc });
                        return (t, false);
                    case UnOp.Not:
                        EmitMove(t, src, true, loc);
                        Emit(new IrInst { Kind = IrKind.AluImm, AluOp = AluOperation.Xor, Dst = t, Imm = -1, Is64 = is64, Location = loc });
                        return (t, false);
                    default:
                        // be16/be32 only look at the low bits and zero-extend, so a dirty input is fine.
                        _ = dirty;
                        EmitMove(t, src, true, loc);
                        Emit(new IrInst { Kind = IrKind.Swap, Dst = t, Imm = u.Op switch { UnOp.Swap16 => 16, UnOp.Swap32 => 32, _ => 64 }, Location = loc });
                        return (t, false);
                }
            }
            case ConvExpr c:
            {
                Ty from = c.Operand.Type, to = c.Type;
                var (src, dirty) = Eval(c.Operand, loc);
                if (!from.Is64() && to.Is64())
                {
                    int t = NewRegister();
                    if (from == Ty.I32) EmitSignExtend32(t, src, loc);
                    else if (dirty) EmitMove(t, src, false, loc);
                    else return (src, false);
                    return (t, false);
                }
                if (from.Is64() && !to.Is64()) return (src, true);   // the low half; upper bits now unspecified
                return (src, dirty);
            }
            case CondValueExpr cv:
            {
                int t = NewRegister();
                int end = NewLabel();
                EmitMoveImm(t, 1, false, loc);
                JumpIfTrue(cv.Condition, end, loc);
                EmitMoveImm(t, 0, false, loc);
                MarkLabel(end, loc);
                return (t, false);
            }
            default:
                throw new InvalidOperationException("Unknown expression " + e.GetType().Name);
        }
    }

    /// <summary>Evaluates with the upper 32 bits of a 32-bit value cleared (for 64-bit consumers).</summary>
    internal int EvalClean(Expr e, SourceLocation loc)
    {
        var (reg, dirty) = Eval(e, loc);
        if (!dirty) return reg;
        int t = NewRegister();
        EmitMove(t, reg, false, loc);
        return t;
    }

    /// <summary>Evaluates into a given register (a local), clean.</summary>
    internal void EvalInto(int dst, Expr e, SourceLocation loc)
    {
        switch (e)
        {
            case ConstExpr c:
                EmitMoveImm(dst, c.Value, c.Type.Is64(), loc);
                return;
            case BinExpr b when !ReadsRegister(b.Right, dst):
                EvalBinaryInto(dst, b, loc);
                return;
            default:
                var (reg, dirty) = Eval(e, loc);
                EmitMove(dst, reg, !dirty, loc);
                return;
        }
    }

    private static bool ReadsRegister(Expr e, int reg) => e switch
    {
        Variable v => v.Register == reg,
        BinExpr b => ReadsRegister(b.Left, reg) || ReadsRegister(b.Right, reg),
        UnExpr u => ReadsRegister(u.Operand, reg),
        ConvExpr c => ReadsRegister(c.Operand, reg),
        LoadExpr l => l.Memory.Pointer?.Register == reg,
        CondValueExpr => true,
        _ => false,
    };

    private void EvalBinaryInto(int dst, BinExpr b, SourceLocation loc)
    {
        bool is64 = b.Type.Is64();
        int bits = is64 ? 64 : 32;
        // Left operand: a 64-bit copy is fine even when dirty, the 32-bit operation below cleans the result.
        var (left, leftDirty) = Eval(b.Left, loc);
        if (is64 && leftDirty) left = EvalCleanRegister(left, loc);
        EmitMove(dst, left, true, loc);
        bool signed = b.Type.IsSigned();
        AluOperation op = b.Op switch
        {
            BinOp.Add => AluOperation.Add, BinOp.Sub => AluOperation.Sub, BinOp.Mul => AluOperation.Mul,
            BinOp.Div => AluOperation.Div, BinOp.Mod => AluOperation.Mod, BinOp.And => AluOperation.And,
            BinOp.Or => AluOperation.Or, BinOp.Xor => AluOperation.Xor, BinOp.Shl => AluOperation.Lsh,
            _ => signed ? AluOperation.Arsh : AluOperation.Rsh,
        };
        short offset = (short)(signed && b.Op is BinOp.Div or BinOp.Mod ? 1 : 0);
        if (offset != 0) RequireKernel(KernelTargets.InstructionForm(InstructionKernelSupport.SignedDivision), loc);
        if (Fold.IsConst(b.Right, out long k))
        {
            if (b.Op is BinOp.Shl or BinOp.Shr && (k < 0 || k >= bits))
                throw new EmitException(EmitRule.Operand, loc, $"Shift by {k} is out of range for a {bits}-bit value (0..{bits - 1}).");
            if (b.Op is BinOp.Div or BinOp.Mod && k == 0)
                throw new EmitException(EmitRule.Operand, loc, "Division by the constant zero.");
            bool fits = is64 ? k is >= int.MinValue and <= int.MaxValue : true;
            if (fits)
            {
                Emit(new IrInst { Kind = IrKind.AluImm, AluOp = op, Dst = dst, Imm = is64 ? k : unchecked((int)(uint)k), Is64 = is64, Offset = offset, Location = loc });
                return;
            }
        }
        var (right, rightDirty) = Eval(b.Right, loc);
        if (is64 && rightDirty) right = EvalCleanRegister(right, loc);
        Emit(new IrInst { Kind = IrKind.Alu, AluOp = op, Dst = dst, Src = right, Is64 = is64, Offset = offset, Location = loc });
    }

    /// <summary>dst = (s64)(s32)src: one movsx from 6.6 (cpu v4), a copy and two shifts before.</summary>
    private void EmitSignExtend32(int dst, int src, SourceLocation loc)
    {
        if (TargetHas(KernelTargets.InstructionForm(InstructionKernelSupport.SignExtendingMove)))
        {
            Emit(new IrInst { Kind = IrKind.MovSx32, Dst = dst, Src = src, Location = loc });
            return;
        }
        EmitMove(dst, src, true, loc);
        Emit(new IrInst { Kind = IrKind.AluImm, AluOp = AluOperation.Lsh, Dst = dst, Imm = 32, Is64 = true, Location = loc });
        Emit(new IrInst { Kind = IrKind.AluImm, AluOp = AluOperation.Arsh, Dst = dst, Imm = 32, Is64 = true, Location = loc });
    }

    /// <summary>A ctx access at <paramref name="offset"/> needs the field in the target's struct bpf_sock_ops.</summary>
    internal void RequireContextField(int offset, SourceLocation loc)
    {
        if (SockOpsContext.FindByOffset(offset) is { } field) RequireKernel(field.Feature, loc);
    }

    private int EvalCleanRegister(int reg, SourceLocation loc)
    {
        int t = NewRegister();
        EmitMove(t, reg, false, loc);
        return t;
    }

    // ---------------------------------------------------------------- conditions

    internal void JumpIfFalse(Cond c, int label, SourceLocation loc)
    {
        switch (c)
        {
            case ConstCond k:
                if (!k.Value) EmitJump(label, loc);
                return;
            case NotCond n:
                JumpIfTrue(n.Operand, label, loc);
                return;
            case AndCond a:
                JumpIfFalse(a.Left, label, loc);
                JumpIfFalse(a.Right, label, loc);
                return;
            case OrCond o:
            {
                int taken = NewLabel();
                JumpIfTrue(o.Left, taken, loc);
                JumpIfFalse(o.Right, label, loc);
                MarkLabel(taken, loc);
                return;
            }
            case CmpCond cmp:
                EmitCompare((CmpCond)Fold.Not(cmp), label, loc);
                return;
            case NullCond nc:
                Emit(new IrInst { Kind = IrKind.CondJumpImm, Cond = nc.IsNull ? JumpOperation.Jne : JumpOperation.Jeq, Dst = nc.Pointer.Register, Imm = 0, Is64 = true, Target = label, Location = loc });
                return;
            case PacketCond pc:
                EmitPacketCheck(pc, label, jumpWhenInside: false, loc);
                return;
            default:
                throw new InvalidOperationException(c.GetType().Name);
        }
    }

    internal void JumpIfTrue(Cond c, int label, SourceLocation loc)
    {
        switch (c)
        {
            case ConstCond k:
                if (k.Value) EmitJump(label, loc);
                return;
            case NotCond n:
                JumpIfFalse(n.Operand, label, loc);
                return;
            case OrCond o:
                JumpIfTrue(o.Left, label, loc);
                JumpIfTrue(o.Right, label, loc);
                return;
            case AndCond a:
            {
                int skip = NewLabel();
                JumpIfFalse(a.Left, skip, loc);
                JumpIfTrue(a.Right, label, loc);
                MarkLabel(skip, loc);
                return;
            }
            case CmpCond cmp:
                EmitCompare(cmp, label, loc);
                return;
            case NullCond nc:
                Emit(new IrInst { Kind = IrKind.CondJumpImm, Cond = nc.IsNull ? JumpOperation.Jeq : JumpOperation.Jne, Dst = nc.Pointer.Register, Imm = 0, Is64 = true, Target = label, Location = loc });
                return;
            case PacketCond pc:
                EmitPacketCheck(pc, label, jumpWhenInside: true, loc);
                return;
            default:
                throw new InvalidOperationException(c.GetType().Name);
        }
    }

    /// <summary>Jumps to <paramref name="label"/> when the comparison holds.</summary>
    private void EmitCompare(CmpCond c, int label, SourceLocation loc)
    {
        Ty t = c.Left.Type;
        bool is64 = t.Is64(), signed = t.IsSigned();
        JumpOperation op = c.Op switch
        {
            CmpOp.Eq => JumpOperation.Jeq,
            CmpOp.Ne => JumpOperation.Jne,
            CmpOp.Lt => signed ? JumpOperation.Jslt : JumpOperation.Jlt,
            CmpOp.Le => signed ? JumpOperation.Jsle : JumpOperation.Jle,
            CmpOp.Gt => signed ? JumpOperation.Jsgt : JumpOperation.Jgt,
            _ => signed ? JumpOperation.Jsge : JumpOperation.Jge,
        };
        // JMP32 compares the low halves, so dirty 32-bit operands are fine.
        int left = Eval(c.Left, loc).Reg;
        if (Fold.IsConst(c.Right, out long k) && (!is64 || k is >= int.MinValue and <= int.MaxValue))
        {
            Emit(new IrInst { Kind = IrKind.CondJumpImm, Cond = op, Dst = left, Imm = is64 ? k : unchecked((int)(uint)k), Is64 = is64, Target = label, Location = loc });
            return;
        }
        int right = Eval(c.Right, loc).Reg;
        Emit(new IrInst { Kind = IrKind.CondJump, Cond = op, Dst = left, Src = right, Is64 = is64, Target = label, Location = loc });
    }

    // ---------------------------------------------------------------- memory

    private void CheckOwner(Variable v, SourceLocation loc)
    {
        if (!ReferenceEquals(v.Owner, this))
            throw new EmitException(EmitRule.Usage, loc, $"'{v.Name}' belongs to another program; DSL values cannot cross programs.");
    }

    private (int Base, short Offset) Address(LoadExpr l, SourceLocation loc)
    {
        var m = l.Memory;
        if (m.Pointer is { } pointer) CheckOwner(pointer, loc);
        if (m.ScopeId != 0 && !_activeScopes.Contains(m.ScopeId))
            throw new EmitException(EmitRule.NullCheck, loc,
                $"{m.Description} is used outside the null check that produced it; the kernel only allows it inside that branch.");
        if (m.Kind == PointerKind.Packet && _path.InvalidPackets?.Contains(m.ScopeId) == true)
            throw new EmitException(EmitRule.PacketBounds, loc,
                "Packet pointers are invalid after bpf_store_hdr_opt on this path (the helper may change the packet); check the bounds again with IfPacketHas.");
        if (l.Offset < 0 || l.Offset + SizeOf(l.Size) > m.Size)
            throw new EmitException(m.Kind == PointerKind.Packet ? EmitRule.PacketBounds : EmitRule.HelperArgument, loc,
                $"Access to {l.Field} at offset {l.Offset} size {SizeOf(l.Size)} is outside {m.Description} ({m.Size} bytes).");
        UseStackObject(m, fillsAll: false, loc);
        return m.Kind switch
        {
            PointerKind.Context => (ContextRegister, (short)l.Offset),
            PointerKind.Stack => (10, (short)(m.StackOffset + l.Offset)),
            _ => (m.Pointer!.Register, (short)l.Offset),
        };
    }

    internal static int SizeOf(MemorySize size) => size switch { MemorySize.B => 1, MemorySize.H => 2, MemorySize.W => 4, _ => 8 };

    internal static MemorySize SizeFor(int bytes) => bytes switch
    {
        1 => MemorySize.B, 2 => MemorySize.H, 4 => MemorySize.W, 8 => MemorySize.DW,
        _ => throw new ArgumentOutOfRangeException(nameof(bytes), bytes, "Access sizes are 1, 2, 4 or 8 bytes."),
    };

    private void CheckReadable(Variable v, SourceLocation loc)
    {
        CheckOwner(v, loc);
        if (v.ScopeId != 0 && !_activeScopes.Contains(v.ScopeId))
            throw new EmitException(EmitRule.NullCheck, loc, $"'{v.Name}' is used outside the scope that produced it.");
        if (!IsAssigned(v))
            throw new EmitException(EmitRule.Uninitialized, loc, v.IsLocal
                ? $"Local '{v.Name}' is read before it is assigned on every path."
                : $"The result of {v.Name} is used where its call did not run on every path (it was made inside a branch).");
    }

    /// <summary>lvalue = value.</summary>
    internal void Assign(Expr target, Expr value, SourceLocation loc)
    {
        BeginStatement(loc);
        switch (target)
        {
            case Variable { IsLocal: true } v:
                CheckOwner(v, loc);
                EvalInto(v.Register, Fold.Convert(value, v.Type), loc);
                _path.Assign(v);
                return;
            case LoadExpr l:
                if (!l.Writable)
                {
                    var rule = l.Memory.Kind == PointerKind.Context ? EmitRule.ContextWrite
                        : l.Memory.Kind == PointerKind.Packet ? EmitRule.PacketBounds : EmitRule.HelperArgument;
                    throw new EmitException(rule, loc, $"{l.Field} is read-only; the kernel refuses writes to it.");
                }
                var (baseReg, offset) = Address(l, loc);
                value = Fold.Convert(value, l.Type);
                bool intoContext = l.Memory.Kind == PointerKind.Context;
                if (intoContext) RequireContextField(offset, loc);
                // Before 6.4 the verifier refuses BPF_ST into the ctx ("BPF_ST stores into R6 ctx is not allowed"):
                // older targets store the constant from a register.
                bool immediateStore = !intoContext || TargetHas(KernelTargets.ImmediateStoreIntoContext);
                if (immediateStore && Fold.IsConst(value, out long k) && (l.Size != MemorySize.DW || k is >= int.MinValue and <= int.MaxValue))
                {
                    if (intoContext) RequireKernel(KernelTargets.ImmediateStoreIntoContext, loc);
                    Emit(new IrInst { Kind = IrKind.StoreImm, Dst = baseReg, Offset = offset, Size = l.Size, Imm = unchecked((int)k), Location = loc });
                    return;
                }
                int src = l.Size == MemorySize.DW ? EvalClean(value, loc) : Eval(value, loc).Reg;
                Emit(new IrInst { Kind = IrKind.Store, Dst = baseReg, Src = src, Offset = offset, Size = l.Size, Location = loc });
                return;
            default:
                throw new EmitException(EmitRule.Usage, loc, "Only locals, writable ctx fields and memory (map values, stack objects, ring buffer records) can be assigned.");
        }
    }
}

/// <summary>Pointer is (not) NULL.</summary>
internal sealed class NullCond(Variable pointer, bool isNull) : Cond
{
    public Variable Pointer { get; } = pointer;
    public bool IsNull { get; } = isNull;
}

/// <summary>skb_data + Length &lt;= skb_data_end.</summary>
internal sealed class PacketCond(Variable data, Variable end, int length) : Cond
{
    public Variable Data { get; } = data;
    public Variable End { get; } = end;
    public int Length { get; } = length;
}
