using System.Runtime.CompilerServices;
using SockOps.Emit.Assembler;

namespace SockOps.Emit;

/// <summary>The four integer types of the DSL.</summary>
internal enum Ty : byte { U32, I32, U64, I64 }

internal enum BinOp { Add, Sub, Mul, Div, Mod, And, Or, Xor, Shl, Shr }

internal enum CmpOp { Eq, Ne, Lt, Le, Gt, Ge }

internal static class TyInfo
{
    public static bool Is64(this Ty t) => t is Ty.U64 or Ty.I64;
    public static bool IsSigned(this Ty t) => t is Ty.I32 or Ty.I64;

    public static long Normalize(Ty t, long v) => t switch
    {
        Ty.U32 => (uint)v,
        Ty.I32 => (int)v,
        _ => v,
    };
}

/// <summary>An expression node. Values are trees until a statement consumes them.</summary>
internal abstract class Expr(Ty type)
{
    public Ty Type { get; } = type;

    /// <summary>
    /// The node and all below it depend on no Build (constants, ctx field reads): it may sit in a static cache and
    /// be shared by every program (nodes are immutable).
    /// </summary>
    public bool Shared { get; init; }
}

internal sealed class ConstExpr(Ty type, long value) : Expr(type)
{
    public long Value { get; } = TyInfo.Normalize(type, value);
}

/// <summary>A local variable or a compiler temporary (e.g. a helper's result).</summary>
/// <summary>A virtual register with a name; it is its own expression node (reading it is the same tree every time).</summary>
internal sealed class Variable(int register, Ty type, string name, bool isLocal) : Expr(type)
{
    public int Register { get; } = register;
    public string Name { get; } = name;
    public bool IsLocal { get; } = isLocal;
    /// <summary>The upper 32 bits may be garbage (a helper's 64-bit return used as a 32-bit value).</summary>
    public bool DirtyUpper { get; init; }
    /// <summary>Set when the value is a pointer (kept out of 32-bit arithmetic).</summary>
    public PointerKind Pointer { get; init; }
    public int ScopeId { get; init; }
    /// <summary>The builder whose register this is (values cannot cross programs).</summary>
    public object? Owner { get; init; }

    /// <summary>The variable as an expression: itself (no separate node to allocate).</summary>
    public Variable Expr => this;
}

/// <summary>What a memory access goes through.</summary>
internal enum PointerKind { None, Context, Socket, TcpSocket, MapValue, RingBufRecord, Stack, Packet }

/// <summary>A base for memory accesses: the ctx, a null-checked pointer, a stack object or the packet.</summary>
internal sealed class MemoryBase
{
    public PointerKind Kind { get; init; }
    public Variable? Pointer { get; init; }     // null for Context and Stack
    public short StackOffset { get; init; }     // for Stack: offset of the object from r10
    public int Size { get; init; }              // object size in bytes (bounds)
    public int ScopeId { get; init; }           // scope in which the pointer is valid (0 = whole program)
    public string Description { get; init; } = "";
    /// <summary>For a <c>StackStruct</c>: its zeroing stores and whether they are needed (null for other memory).</summary>
    public StackZeroing? Zeroing { get; init; }
}

/// <summary>
/// The zero stores <c>StackStruct</c> emits, kept only when some use can see memory no one wrote: a use on a path
/// where a helper has not yet filled the whole object (ARG_PTR_TO_UNINIT_MEM, e.g. getsockopt's optval) needs them,
/// so they are dropped only when every use follows such a write on its path.
/// </summary>
internal sealed class StackZeroing(int start, int count, Variable created, Variable written)
{
    /// <summary>Index of the first zero store in the builder's code.</summary>
    public int Start { get; } = start;
    /// <summary>The number of zero stores.</summary>
    public int Count { get; } = count;
    /// <summary>A register number that no instruction uses, "assigned" on the paths where <c>StackStruct</c> ran.</summary>
    public Variable Created { get; } = created;
    /// <summary>A register number that no instruction uses, "assigned" on the paths where a helper wrote the whole object.</summary>
    public Variable Written { get; } = written;
    /// <summary>Some use may see bytes no helper wrote: the zero stores stay.</summary>
    public bool Needed { get; set; }
}

/// <summary>A load (and, for writable bases, an lvalue).</summary>
internal sealed class LoadExpr(Ty type, MemoryBase memory, int offset, MemorySize size, string fieldName, bool writable, bool signExtend = false) : Expr(type)
{
    public MemoryBase Memory { get; } = memory;
    public int Offset { get; } = offset;
    public MemorySize Size { get; } = size;
    /// <summary>The field's name for messages, built only when one is needed (no string per ctx access).</summary>
    public string Field => FieldPrefix is null ? FieldName
        : FieldIndex < 0 ? FieldPrefix + FieldName
        : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{FieldPrefix}{FieldName}[{FieldIndex}]");
    /// <summary>The field's own name (without prefix or index).</summary>
    public string FieldName { get; } = fieldName;
    /// <summary>Put before the name in <see cref="Field"/> (e.g. <c>bpf_sock_ops.</c>); null: none.</summary>
    public string? FieldPrefix { get; init; }
    /// <summary>The array element the field is, or −1 when it is not an array element.</summary>
    public int FieldIndex { get; init; } = -1;
    public bool Writable { get; } = writable;
    public bool SignExtend { get; } = signExtend;
}

internal sealed class BinExpr(Ty type, BinOp op, Expr left, Expr right) : Expr(type)
{
    public BinOp Op { get; } = op;
    public Expr Left { get; } = left;
    public Expr Right { get; } = right;
}

internal enum UnOp { Neg, Not, Swap16, Swap32, Swap64 }

internal sealed class UnExpr(Ty type, UnOp op, Expr operand) : Expr(type)
{
    public UnOp Op { get; } = op;
    public Expr Operand { get; } = operand;
}

/// <summary>A conversion between the integer types (widening, narrowing, reinterpretation).</summary>
internal sealed class ConvExpr(Ty type, Expr operand) : Expr(type)
{
    public Expr Operand { get; } = operand;
}

/// <summary>A condition as a 0/1 value.</summary>
internal sealed class CondValueExpr(Ty type, Cond condition) : Expr(type)
{
    public Cond Condition { get; } = condition;
}

internal abstract class Cond
{
    /// <summary>As <see cref="Expr.Shared"/>: the condition depends on no Build and may be shared.</summary>
    public bool Shared { get; init; }
}
internal sealed class CmpCond(CmpOp op, Expr left, Expr right) : Cond
{
    public CmpOp Op { get; } = op;
    public Expr Left { get; } = left;
    public Expr Right { get; } = right;
}
internal sealed class AndCond(Cond left, Cond right) : Cond
{
    public Cond Left { get; } = left;
    public Cond Right { get; } = right;
}
internal sealed class OrCond(Cond left, Cond right) : Cond
{
    public Cond Left { get; } = left;
    public Cond Right { get; } = right;
}
internal sealed class NotCond(Cond operand) : Cond
{
    public Cond Operand { get; } = operand;
}
internal sealed class ConstCond(bool value) : Cond
{
    public bool Value { get; } = value;
}

/// <summary>Constructors with constant folding and algebraic simplification.</summary>
internal static class Fold
{
    public static Expr Const(Ty t, long v)
    {
        if (v is < SmallMin or > SmallMax)
        {
            // Larger constants (ports, masks, buffer sizes) recur from Build to Build too: a small direct-mapped
            // cache of immutable nodes, where a miss simply replaces the entry.
            long normalized = TyInfo.Normalize(t, v);
            ref var slot = ref s_large[(int)((unchecked((ulong)normalized ^ (ulong)t) * 0x9E3779B97F4A7C15UL) >> 56)];
            var node = slot;
            if (node is null || node.Type != t || node.Value != normalized) slot = node = new ConstExpr(t, v) { Shared = true };
            return node;
        }
        // Small constants (helper sizes, levels, flags, 0/1/-1) recur in every program: one node each. Nodes
        // are immutable, so two threads creating the same one at once is harmless.
        ref var cached = ref s_small[(int)t * (SmallMax - SmallMin + 1) + (int)(v - SmallMin)];
        return cached ??= new ConstExpr(t, v) { Shared = true };
    }

    private const int SmallMin = -1, SmallMax = 255;
    private static readonly ConstExpr?[] s_small = new ConstExpr?[4 * (SmallMax - SmallMin + 1)];
    private static readonly ConstExpr?[] s_large = new ConstExpr?[256];

    // Nodes over shared operands (e.g. ctx.LocalPort != 55601, Ntohl(ctx.LocalIp6[1]) & 0xfff00000) recur from
    // Build to Build: direct-mapped caches by operator and operand identity, a miss replaces the entry. Only shared
    // operands are cached, so no cache entry keeps a Build's variables alive.
    private static readonly UnExpr?[] s_unary = new UnExpr?[64];
    private static readonly BinExpr?[] s_binary = new BinExpr?[256];
    private static readonly CmpCond?[] s_compare = new CmpCond?[256];
    private static readonly ConvExpr?[] s_convert = new ConvExpr?[64];
    private static readonly AndCond?[] s_and = new AndCond?[64];

    private static int Slot(int length, object a, object? b, int op) =>
        unchecked((int)((uint)((RuntimeHelpers.GetHashCode(a) * 31 + (b is null ? 0 : RuntimeHelpers.GetHashCode(b))) * 31 + op) * 0x9E3779B1u >> 24) & (length - 1));

    public static bool IsConst(Expr e, out long value)
    {
        if (e is ConstExpr c) { value = c.Value; return true; }
        value = 0;
        return false;
    }

    private static long AllOnes(Ty t) => t.Is64() ? -1L : (t == Ty.U32 ? uint.MaxValue : -1L);

    public static long Swap(UnOp op, long v) => op switch
    {
        UnOp.Swap16 => System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((ushort)v),
        UnOp.Swap32 => System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((uint)v),
        _ => System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(v),
    };

    public static Expr Unary(UnOp op, Expr x)
    {
        if (IsConst(x, out long v))
        {
            return op switch
            {
                UnOp.Neg => Const(x.Type, -v),
                UnOp.Not => Const(x.Type, ~v),
                _ => Const(x.Type, Swap(op, v)),
            };
        }
        if (op is UnOp.Swap16 or UnOp.Swap32 or UnOp.Swap64 && x is UnExpr { } inner && inner.Op == op) return inner.Operand;
        if (!x.Shared) return new UnExpr(x.Type, op, x);
        ref var slot = ref s_unary[Slot(s_unary.Length, x, null, (int)op)];
        var node = slot;
        if (node is null || node.Op != op || !ReferenceEquals(node.Operand, x)) slot = node = new UnExpr(x.Type, op, x) { Shared = true };
        return node;
    }

    /// <summary>A swap over the whole width of its type is a bijection (so it can move to the other operand).</summary>
    private static bool IsFullWidth(UnExpr swap) => swap.Op == (swap.Type.Is64() ? UnOp.Swap64 : UnOp.Swap32);

    public static Expr Binary(BinOp op, Expr l, Expr r)
    {
        Ty t = l.Type;
        bool lc = IsConst(l, out long a), rc = IsConst(r, out long b);
        if (lc && rc) return Const(t, Evaluate(op, t, a, b));
        // Constants to the right of commutative operators.
        if (lc && op is BinOp.Add or BinOp.Mul or BinOp.And or BinOp.Or or BinOp.Xor) { (l, r) = (r, l); (a, b) = (b, a); (lc, rc) = (rc, lc); }
        if (rc)
        {
            switch (op)
            {
                case BinOp.Add or BinOp.Sub or BinOp.Or or BinOp.Xor or BinOp.Shl or BinOp.Shr when b == 0: return l;
                case BinOp.Mul or BinOp.Div when b == 1: return l;
                case BinOp.Mul or BinOp.And when b == 0: return Const(t, 0);
                case BinOp.And when b == AllOnes(t): return l;
            }
            // Byte-swapped operand with a constant mask: swap the constant instead (done at emit time).
            if (op is BinOp.And or BinOp.Or or BinOp.Xor && l is UnExpr { Op: UnOp.Swap16 or UnOp.Swap32 or UnOp.Swap64 } swapped
                && (op == BinOp.And || IsFullWidth(swapped)))
                return Unary(swapped.Op, Binary(op, swapped.Operand, Const(t, Swap(swapped.Op, b))));
            // (x op c1) op c2 for associative operators.
            if (l is BinExpr { Right: ConstExpr c1 } inner && inner.Op == op && op is BinOp.Add or BinOp.And or BinOp.Or or BinOp.Xor)
                return Binary(op, inner.Left, Const(t, Evaluate(op, t, c1.Value, b)));
        }
        if (op is BinOp.And or BinOp.Or or BinOp.Xor
            && l is UnExpr { Op: UnOp.Swap16 or UnOp.Swap32 or UnOp.Swap64 } sl && r is UnExpr sr && sr.Op == sl.Op
            && (op == BinOp.And || IsFullWidth(sl)))
            return Unary(sl.Op, Binary(op, sl.Operand, sr.Operand));
        if (!l.Shared || !r.Shared) return new BinExpr(t, op, l, r);
        ref var slot = ref s_binary[Slot(s_binary.Length, l, r, (int)op * 4 + (int)t)];
        var node = slot;
        if (node is null || node.Type != t || node.Op != op || !ReferenceEquals(node.Left, l) || !ReferenceEquals(node.Right, r))
            slot = node = new BinExpr(t, op, l, r) { Shared = true };
        return node;
    }

    public static long Evaluate(BinOp op, Ty t, long a, long b)
    {
        bool signed = t.IsSigned();
        int bits = t.Is64() ? 64 : 32;
        long r = op switch
        {
            BinOp.Add => a + b,
            BinOp.Sub => a - b,
            BinOp.Mul => a * b,
            // BPF semantics: division by zero gives 0, modulo by zero keeps the dividend.
            BinOp.Div => b == 0 ? 0 : signed ? (t.Is64() ? (b == -1 ? -a : a / b) : (int)a / (int)b) : (t.Is64() ? (long)((ulong)a / (ulong)b) : (uint)a / (uint)b),
            BinOp.Mod => b == 0 ? a : signed ? (t.Is64() ? (b == -1 ? 0 : a % b) : (int)a % (int)b) : (t.Is64() ? (long)((ulong)a % (ulong)b) : (uint)a % (uint)b),
            BinOp.And => a & b,
            BinOp.Or => a | b,
            BinOp.Xor => a ^ b,
            BinOp.Shl => bits == 64 ? a << (int)b : (long)((uint)a << (int)b),
            BinOp.Shr => bits == 64 ? (signed ? a >> (int)b : (long)((ulong)a >> (int)b)) : (signed ? (int)a >> (int)b : (long)((uint)a >> (int)b)),
            _ => throw new InvalidOperationException(op.ToString()),
        };
        return TyInfo.Normalize(t, r);
    }

    public static Cond Compare(CmpOp op, Expr l, Expr r)
    {
        if (IsConst(l, out long a) && IsConst(r, out long b))
        {
            bool signed = l.Type.IsSigned();
            int cmp = signed ? a.CompareTo(b) : ((ulong)a).CompareTo((ulong)b);
            return new ConstCond(op switch
            {
                CmpOp.Eq => cmp == 0, CmpOp.Ne => cmp != 0, CmpOp.Lt => cmp < 0,
                CmpOp.Le => cmp <= 0, CmpOp.Gt => cmp > 0, _ => cmp >= 0,
            });
        }
        if (l is ConstExpr && r is not ConstExpr)
        {
            (l, r) = (r, l);
            op = op switch { CmpOp.Lt => CmpOp.Gt, CmpOp.Le => CmpOp.Ge, CmpOp.Gt => CmpOp.Lt, CmpOp.Ge => CmpOp.Le, _ => op };
        }
        if (op is CmpOp.Eq or CmpOp.Ne && l is UnExpr { Op: UnOp.Swap16 or UnOp.Swap32 or UnOp.Swap64 } sl && IsFullWidth(sl))
        {
            // swap(x) == c  ⇔  x == swap(c);  swap(x) == swap(y)  ⇔  x == y.
            if (IsConst(r, out long c)) return Compare(op, sl.Operand, Const(r.Type, Swap(sl.Op, c)));
            if (r is UnExpr sr && sr.Op == sl.Op) return Compare(op, sl.Operand, sr.Operand);
        }
        if (!l.Shared || !r.Shared) return new CmpCond(op, l, r);
        ref var slot = ref s_compare[Slot(s_compare.Length, l, r, (int)op)];
        var node = slot;
        if (node is null || node.Op != op || !ReferenceEquals(node.Left, l) || !ReferenceEquals(node.Right, r))
            slot = node = new CmpCond(op, l, r) { Shared = true };
        return node;
    }

    public static Cond And(Cond a, Cond b) => (a, b) switch
    {
        (ConstCond { Value: false }, _) or (_, ConstCond { Value: false }) => new ConstCond(false),
        (ConstCond { Value: true }, _) => b,
        (_, ConstCond { Value: true }) => a,
        _ => SharedAnd(a, b),
    };

    private static AndCond SharedAnd(Cond a, Cond b)
    {
        if (!a.Shared || !b.Shared) return new AndCond(a, b);
        ref var slot = ref s_and[Slot(s_and.Length, a, b, 0)];
        var node = slot;
        if (node is null || !ReferenceEquals(node.Left, a) || !ReferenceEquals(node.Right, b)) slot = node = new AndCond(a, b) { Shared = true };
        return node;
    }

    public static Cond Or(Cond a, Cond b) => (a, b) switch
    {
        (ConstCond { Value: true }, _) or (_, ConstCond { Value: true }) => new ConstCond(true),
        (ConstCond { Value: false }, _) => b,
        (_, ConstCond { Value: false }) => a,
        _ => new OrCond(a, b),
    };

    public static Cond Not(Cond a) => a switch
    {
        ConstCond c => new ConstCond(!c.Value),
        NotCond n => n.Operand,
        CmpCond c => new CmpCond(c.Op switch
        {
            CmpOp.Eq => CmpOp.Ne, CmpOp.Ne => CmpOp.Eq, CmpOp.Lt => CmpOp.Ge,
            CmpOp.Ge => CmpOp.Lt, CmpOp.Gt => CmpOp.Le, _ => CmpOp.Gt,
        }, c.Left, c.Right),
        _ => new NotCond(a),
    };

    public static Expr Convert(Expr x, Ty to)
    {
        if (x.Type == to) return x;
        if (IsConst(x, out long v)) return Const(to, v);
        if (!x.Shared) return new ConvExpr(to, x);
        ref var slot = ref s_convert[Slot(s_convert.Length, x, null, (int)to)];
        var node = slot;
        if (node is null || node.Type != to || !ReferenceEquals(node.Operand, x)) slot = node = new ConvExpr(to, x) { Shared = true };
        return node;
    }

    /// <summary>The value range [min, max] (as signed 64-bit) an expression provably lies in, if known.</summary>
    public static (long Min, long Max)? Range(Expr e)
    {
        switch (e)
        {
            case ConstExpr c: return (c.Value, c.Value);
            case CondValueExpr: return (0, 1);
            case ConvExpr c when Range(c.Operand) is { } inner && inner.Min >= 0 && inner.Max <= int.MaxValue: return inner;
            case BinExpr { Op: BinOp.And, Right: ConstExpr m } when m.Value >= 0: return (0, m.Value);
            case BinExpr { Op: BinOp.Shr, Right: ConstExpr s } b when !b.Type.IsSigned() && s.Value is > 0 and < 64:
                int bits = b.Type.Is64() ? 64 : 32;
                return s.Value >= bits ? (0, 0) : (0, bits - s.Value >= 63 ? long.MaxValue : (1L << (int)(bits - s.Value)) - 1);
            case LoadExpr { Size: MemorySize.B } l when !l.SignExtend: return (0, 255);
            case LoadExpr { Size: MemorySize.H } l when !l.SignExtend: return (0, 65535);
            default: return null;
        }
    }
}
