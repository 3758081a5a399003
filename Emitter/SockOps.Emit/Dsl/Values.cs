// Generated shape, hand-maintained: the four integer value types of the DSL.
using System.Runtime.CompilerServices;

namespace SockOps.Emit;

/// <summary>
/// An unsigned 32-bit value of a sock_ops program (an expression, evaluated where a statement uses it). Arithmetic and
/// comparisons compile to JMP32/ALU32 with unsigned comparisons. The default value is the constant 0.
/// </summary>
public readonly struct U32 : IEquatable<U32>
{
    private readonly Expr? _expr;

    internal U32(Expr expr) => _expr = expr.Type == Ty.U32 ? expr : Fold.Convert(expr, Ty.U32);

    internal Expr Expr => _expr ?? Fold.Const(Ty.U32, 0);

    /// <summary>A constant.</summary>
    public static implicit operator U32(uint value) => new(Fold.Const(Ty.U32, unchecked((long)value)));
    /// <summary>An op constant, so that <c>ctx.Op == SockOp.RttCb</c> reads as in C.</summary>
    public static implicit operator U32(SockOp value)
    {
        // No C# line here: the op is checked against the target at the statement that uses it.
        SockOpsBuilder.Active?.NoteOp(value);
        return new(Fold.Const(Ty.U32, (long)value));
    }
    /// <summary>A TCP state constant (<c>ctx.State == TcpState.Established</c>).</summary>
    public static implicit operator U32(TcpState value) => new(Fold.Const(Ty.U32, (long)value));
    /// <summary>Callback flags (<c>ctx.CbFlags &amp; SockOpsCallbackFlags.Rtt</c>).</summary>
    public static implicit operator U32(SockOpsCallbackFlags value) => new(Fold.Const(Ty.U32, (long)value));
    /// <summary>A constant.</summary>
    public static implicit operator U32(int value) => new(Fold.Const(Ty.U32, unchecked((long)value)));
    /// <summary>Reinterprets or converts the value (C cast semantics).</summary>
    public static explicit operator U32(I32 value) => new(Fold.Convert(value.Expr, Ty.U32));
    /// <summary>Narrows to the low 32 bits.</summary>
    public static explicit operator U32(U64 value) => new(Fold.Convert(value.Expr, Ty.U32));
    /// <summary>Reinterprets or converts the value (C cast semantics).</summary>
    public static explicit operator U32(I64 value) => new(Fold.Convert(value.Expr, Ty.U32));

    /// <summary>True if this value is a compile-time constant.</summary>
    public bool IsConstant => Expr is ConstExpr;

    /// <summary>Assigns a value to this lvalue (a local, a writable ctx field, a map value or stack field).</summary>
    /// <exception cref="EmitException">This value is not writable (e.g. a read-only ctx field).</exception>
    public void Set(U32 value, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") =>
        SockOpsBuilder.Current(new SourceLocation(file, line, member)).Assign(Expr, value.Expr, new SourceLocation(file, line, member));

    /// <summary>Add.</summary>
    public static U32 operator +(U32 left, U32 right) => new(Fold.Binary(BinOp.Add, left.Expr, right.Expr));
    /// <summary>Sub.</summary>
    public static U32 operator -(U32 left, U32 right) => new(Fold.Binary(BinOp.Sub, left.Expr, right.Expr));
    /// <summary>Mul.</summary>
    public static U32 operator *(U32 left, U32 right) => new(Fold.Binary(BinOp.Mul, left.Expr, right.Expr));
    /// <summary>Div.</summary>
    public static U32 operator /(U32 left, U32 right) => new(Fold.Binary(BinOp.Div, left.Expr, right.Expr));
    /// <summary>Mod.</summary>
    public static U32 operator %(U32 left, U32 right) => new(Fold.Binary(BinOp.Mod, left.Expr, right.Expr));
    /// <summary>And.</summary>
    public static U32 operator &(U32 left, U32 right) => new(Fold.Binary(BinOp.And, left.Expr, right.Expr));
    /// <summary>Or.</summary>
    public static U32 operator |(U32 left, U32 right) => new(Fold.Binary(BinOp.Or, left.Expr, right.Expr));
    /// <summary>Xor.</summary>
    public static U32 operator ^(U32 left, U32 right) => new(Fold.Binary(BinOp.Xor, left.Expr, right.Expr));
    /// <summary>Shift left (the amount is masked by the hardware width).</summary>
    public static U32 operator <<(U32 left, int amount) => new(Fold.Binary(BinOp.Shl, left.Expr, Fold.Const(Ty.U32, amount)));
    /// <summary>Shift right (arithmetic for signed types).</summary>
    public static U32 operator >>(U32 left, int amount) => new(Fold.Binary(BinOp.Shr, left.Expr, Fold.Const(Ty.U32, amount)));
    /// <summary>Negation.</summary>
    public static U32 operator -(U32 value) => new(Fold.Unary(UnOp.Neg, value.Expr));
    /// <summary>Bitwise complement.</summary>
    public static U32 operator ~(U32 value) => new(Fold.Unary(UnOp.Not, value.Expr));
    /// <summary>Comparison (unsigned).</summary>
    public static Condition operator ==(U32 left, U32 right) => new(Fold.Compare(CmpOp.Eq, left.Expr, right.Expr));
    /// <summary>Comparison (unsigned).</summary>
    public static Condition operator !=(U32 left, U32 right) => new(Fold.Compare(CmpOp.Ne, left.Expr, right.Expr));
    /// <summary>Comparison (unsigned).</summary>
    public static Condition operator <(U32 left, U32 right) => new(Fold.Compare(CmpOp.Lt, left.Expr, right.Expr));
    /// <summary>Comparison (unsigned).</summary>
    public static Condition operator <=(U32 left, U32 right) => new(Fold.Compare(CmpOp.Le, left.Expr, right.Expr));
    /// <summary>Comparison (unsigned).</summary>
    public static Condition operator >(U32 left, U32 right) => new(Fold.Compare(CmpOp.Gt, left.Expr, right.Expr));
    /// <summary>Comparison (unsigned).</summary>
    public static Condition operator >=(U32 left, U32 right) => new(Fold.Compare(CmpOp.Ge, left.Expr, right.Expr));

    /// <summary>Methods for operators, for languages without operator overloading.</summary>
    public static U32 Add(U32 left, U32 right) => left + right;
    /// <summary>Subtraction.</summary>
    public static U32 Subtract(U32 left, U32 right) => left - right;
    /// <summary>Multiplication.</summary>
    public static U32 Multiply(U32 left, U32 right) => left * right;
    /// <summary>Division.</summary>
    public static U32 Divide(U32 left, U32 right) => left / right;
    /// <summary>Modulo.</summary>
    public static U32 Mod(U32 left, U32 right) => left % right;
    /// <summary>Bitwise and.</summary>
    public static U32 BitwiseAnd(U32 left, U32 right) => left & right;
    /// <summary>Bitwise or.</summary>
    public static U32 BitwiseOr(U32 left, U32 right) => left | right;
    /// <summary>Exclusive or.</summary>
    public static U32 Xor(U32 left, U32 right) => left ^ right;
    /// <summary>Shift left.</summary>
    public static U32 LeftShift(U32 left, int amount) => left << amount;
    /// <summary>Shift right.</summary>
    public static U32 RightShift(U32 left, int amount) => left >> amount;
    /// <summary>Negation.</summary>
    public static U32 Negate(U32 value) => -value;
    /// <summary>Complement.</summary>
    public static U32 OnesComplement(U32 value) => ~value;

    /// <summary>Expression identity (two values are equal if they are the same expression).</summary>
    public bool Equals(U32 other) => ReferenceEquals(Expr, other.Expr);
    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is U32 other && Equals(other);
    /// <inheritdoc/>
    public override int GetHashCode() => RuntimeHelpers.GetHashCode(Expr);
    /// <inheritdoc/>
    public override string ToString() => Expr is ConstExpr c ? c.Value.ToString() : "U32 expression";
}

/// <summary>
/// An signed 32-bit value of a sock_ops program (an expression, evaluated where a statement uses it). Arithmetic and
/// comparisons compile to JMP32/ALU32 with signed comparisons. The default value is the constant 0.
/// </summary>
public readonly struct I32 : IEquatable<I32>
{
    private readonly Expr? _expr;

    internal I32(Expr expr) => _expr = expr.Type == Ty.I32 ? expr : Fold.Convert(expr, Ty.I32);

    internal Expr Expr => _expr ?? Fold.Const(Ty.I32, 0);

    /// <summary>A constant.</summary>
    public static implicit operator I32(int value) => new(Fold.Const(Ty.I32, unchecked((long)value)));
    /// <summary>Reinterprets or converts the value (C cast semantics).</summary>
    public static explicit operator I32(U32 value) => new(Fold.Convert(value.Expr, Ty.I32));
    /// <summary>Reinterprets or converts the value (C cast semantics).</summary>
    public static explicit operator I32(U64 value) => new(Fold.Convert(value.Expr, Ty.I32));
    /// <summary>Narrows to the low 32 bits.</summary>
    public static explicit operator I32(I64 value) => new(Fold.Convert(value.Expr, Ty.I32));

    /// <summary>True if this value is a compile-time constant.</summary>
    public bool IsConstant => Expr is ConstExpr;

    /// <summary>Assigns a value to this lvalue (a local, a writable ctx field, a map value or stack field).</summary>
    /// <exception cref="EmitException">This value is not writable (e.g. a read-only ctx field).</exception>
    public void Set(I32 value, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") =>
        SockOpsBuilder.Current(new SourceLocation(file, line, member)).Assign(Expr, value.Expr, new SourceLocation(file, line, member));

    /// <summary>Add.</summary>
    public static I32 operator +(I32 left, I32 right) => new(Fold.Binary(BinOp.Add, left.Expr, right.Expr));
    /// <summary>Sub.</summary>
    public static I32 operator -(I32 left, I32 right) => new(Fold.Binary(BinOp.Sub, left.Expr, right.Expr));
    /// <summary>Mul.</summary>
    public static I32 operator *(I32 left, I32 right) => new(Fold.Binary(BinOp.Mul, left.Expr, right.Expr));
    /// <summary>Div.</summary>
    public static I32 operator /(I32 left, I32 right) => new(Fold.Binary(BinOp.Div, left.Expr, right.Expr));
    /// <summary>Mod.</summary>
    public static I32 operator %(I32 left, I32 right) => new(Fold.Binary(BinOp.Mod, left.Expr, right.Expr));
    /// <summary>And.</summary>
    public static I32 operator &(I32 left, I32 right) => new(Fold.Binary(BinOp.And, left.Expr, right.Expr));
    /// <summary>Or.</summary>
    public static I32 operator |(I32 left, I32 right) => new(Fold.Binary(BinOp.Or, left.Expr, right.Expr));
    /// <summary>Xor.</summary>
    public static I32 operator ^(I32 left, I32 right) => new(Fold.Binary(BinOp.Xor, left.Expr, right.Expr));
    /// <summary>Shift left (the amount is masked by the hardware width).</summary>
    public static I32 operator <<(I32 left, int amount) => new(Fold.Binary(BinOp.Shl, left.Expr, Fold.Const(Ty.I32, amount)));
    /// <summary>Shift right (arithmetic for signed types).</summary>
    public static I32 operator >>(I32 left, int amount) => new(Fold.Binary(BinOp.Shr, left.Expr, Fold.Const(Ty.I32, amount)));
    /// <summary>Negation.</summary>
    public static I32 operator -(I32 value) => new(Fold.Unary(UnOp.Neg, value.Expr));
    /// <summary>Bitwise complement.</summary>
    public static I32 operator ~(I32 value) => new(Fold.Unary(UnOp.Not, value.Expr));
    /// <summary>Comparison (signed).</summary>
    public static Condition operator ==(I32 left, I32 right) => new(Fold.Compare(CmpOp.Eq, left.Expr, right.Expr));
    /// <summary>Comparison (signed).</summary>
    public static Condition operator !=(I32 left, I32 right) => new(Fold.Compare(CmpOp.Ne, left.Expr, right.Expr));
    /// <summary>Comparison (signed).</summary>
    public static Condition operator <(I32 left, I32 right) => new(Fold.Compare(CmpOp.Lt, left.Expr, right.Expr));
    /// <summary>Comparison (signed).</summary>
    public static Condition operator <=(I32 left, I32 right) => new(Fold.Compare(CmpOp.Le, left.Expr, right.Expr));
    /// <summary>Comparison (signed).</summary>
    public static Condition operator >(I32 left, I32 right) => new(Fold.Compare(CmpOp.Gt, left.Expr, right.Expr));
    /// <summary>Comparison (signed).</summary>
    public static Condition operator >=(I32 left, I32 right) => new(Fold.Compare(CmpOp.Ge, left.Expr, right.Expr));

    /// <summary>Methods for operators, for languages without operator overloading.</summary>
    public static I32 Add(I32 left, I32 right) => left + right;
    /// <summary>Subtraction.</summary>
    public static I32 Subtract(I32 left, I32 right) => left - right;
    /// <summary>Multiplication.</summary>
    public static I32 Multiply(I32 left, I32 right) => left * right;
    /// <summary>Division.</summary>
    public static I32 Divide(I32 left, I32 right) => left / right;
    /// <summary>Modulo.</summary>
    public static I32 Mod(I32 left, I32 right) => left % right;
    /// <summary>Bitwise and.</summary>
    public static I32 BitwiseAnd(I32 left, I32 right) => left & right;
    /// <summary>Bitwise or.</summary>
    public static I32 BitwiseOr(I32 left, I32 right) => left | right;
    /// <summary>Exclusive or.</summary>
    public static I32 Xor(I32 left, I32 right) => left ^ right;
    /// <summary>Shift left.</summary>
    public static I32 LeftShift(I32 left, int amount) => left << amount;
    /// <summary>Shift right.</summary>
    public static I32 RightShift(I32 left, int amount) => left >> amount;
    /// <summary>Negation.</summary>
    public static I32 Negate(I32 value) => -value;
    /// <summary>Complement.</summary>
    public static I32 OnesComplement(I32 value) => ~value;

    /// <summary>Expression identity (two values are equal if they are the same expression).</summary>
    public bool Equals(I32 other) => ReferenceEquals(Expr, other.Expr);
    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is I32 other && Equals(other);
    /// <inheritdoc/>
    public override int GetHashCode() => RuntimeHelpers.GetHashCode(Expr);
    /// <inheritdoc/>
    public override string ToString() => Expr is ConstExpr c ? c.Value.ToString() : "I32 expression";
}

/// <summary>
/// An unsigned 64-bit value of a sock_ops program (an expression, evaluated where a statement uses it). Arithmetic and
/// comparisons compile to JMP/ALU64 with unsigned comparisons. The default value is the constant 0.
/// </summary>
public readonly struct U64 : IEquatable<U64>
{
    private readonly Expr? _expr;

    internal U64(Expr expr) => _expr = expr.Type == Ty.U64 ? expr : Fold.Convert(expr, Ty.U64);

    internal Expr Expr => _expr ?? Fold.Const(Ty.U64, 0);

    /// <summary>A constant.</summary>
    public static implicit operator U64(ulong value) => new(Fold.Const(Ty.U64, unchecked((long)value)));
    /// <summary>A constant.</summary>
    public static implicit operator U64(uint value) => new(Fold.Const(Ty.U64, unchecked((long)value)));
    /// <summary>A constant.</summary>
    public static implicit operator U64(int value) => new(Fold.Const(Ty.U64, unchecked((long)value)));
    /// <summary>A constant.</summary>
    public static implicit operator U64(long value) => new(Fold.Const(Ty.U64, unchecked((long)value)));
    /// <summary>Widens (zero-extends) a 32-bit value.</summary>
    public static implicit operator U64(U32 value) => new(Fold.Convert(value.Expr, Ty.U64));
    /// <summary>Reinterprets or converts the value (C cast semantics).</summary>
    public static explicit operator U64(I32 value) => new(Fold.Convert(value.Expr, Ty.U64));
    /// <summary>Reinterprets or converts the value (C cast semantics).</summary>
    public static explicit operator U64(I64 value) => new(Fold.Convert(value.Expr, Ty.U64));

    /// <summary>True if this value is a compile-time constant.</summary>
    public bool IsConstant => Expr is ConstExpr;

    /// <summary>Assigns a value to this lvalue (a local, a writable ctx field, a map value or stack field).</summary>
    /// <exception cref="EmitException">This value is not writable (e.g. a read-only ctx field).</exception>
    public void Set(U64 value, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") =>
        SockOpsBuilder.Current(new SourceLocation(file, line, member)).Assign(Expr, value.Expr, new SourceLocation(file, line, member));

    /// <summary>Add.</summary>
    public static U64 operator +(U64 left, U64 right) => new(Fold.Binary(BinOp.Add, left.Expr, right.Expr));
    /// <summary>Sub.</summary>
    public static U64 operator -(U64 left, U64 right) => new(Fold.Binary(BinOp.Sub, left.Expr, right.Expr));
    /// <summary>Mul.</summary>
    public static U64 operator *(U64 left, U64 right) => new(Fold.Binary(BinOp.Mul, left.Expr, right.Expr));
    /// <summary>Div.</summary>
    public static U64 operator /(U64 left, U64 right) => new(Fold.Binary(BinOp.Div, left.Expr, right.Expr));
    /// <summary>Mod.</summary>
    public static U64 operator %(U64 left, U64 right) => new(Fold.Binary(BinOp.Mod, left.Expr, right.Expr));
    /// <summary>And.</summary>
    public static U64 operator &(U64 left, U64 right) => new(Fold.Binary(BinOp.And, left.Expr, right.Expr));
    /// <summary>Or.</summary>
    public static U64 operator |(U64 left, U64 right) => new(Fold.Binary(BinOp.Or, left.Expr, right.Expr));
    /// <summary>Xor.</summary>
    public static U64 operator ^(U64 left, U64 right) => new(Fold.Binary(BinOp.Xor, left.Expr, right.Expr));
    /// <summary>Shift left (the amount is masked by the hardware width).</summary>
    public static U64 operator <<(U64 left, int amount) => new(Fold.Binary(BinOp.Shl, left.Expr, Fold.Const(Ty.U64, amount)));
    /// <summary>Shift right (arithmetic for signed types).</summary>
    public static U64 operator >>(U64 left, int amount) => new(Fold.Binary(BinOp.Shr, left.Expr, Fold.Const(Ty.U64, amount)));
    /// <summary>Negation.</summary>
    public static U64 operator -(U64 value) => new(Fold.Unary(UnOp.Neg, value.Expr));
    /// <summary>Bitwise complement.</summary>
    public static U64 operator ~(U64 value) => new(Fold.Unary(UnOp.Not, value.Expr));
    /// <summary>Comparison (unsigned).</summary>
    public static Condition operator ==(U64 left, U64 right) => new(Fold.Compare(CmpOp.Eq, left.Expr, right.Expr));
    /// <summary>Comparison (unsigned).</summary>
    public static Condition operator !=(U64 left, U64 right) => new(Fold.Compare(CmpOp.Ne, left.Expr, right.Expr));
    /// <summary>Comparison (unsigned).</summary>
    public static Condition operator <(U64 left, U64 right) => new(Fold.Compare(CmpOp.Lt, left.Expr, right.Expr));
    /// <summary>Comparison (unsigned).</summary>
    public static Condition operator <=(U64 left, U64 right) => new(Fold.Compare(CmpOp.Le, left.Expr, right.Expr));
    /// <summary>Comparison (unsigned).</summary>
    public static Condition operator >(U64 left, U64 right) => new(Fold.Compare(CmpOp.Gt, left.Expr, right.Expr));
    /// <summary>Comparison (unsigned).</summary>
    public static Condition operator >=(U64 left, U64 right) => new(Fold.Compare(CmpOp.Ge, left.Expr, right.Expr));

    /// <summary>Methods for operators, for languages without operator overloading.</summary>
    public static U64 Add(U64 left, U64 right) => left + right;
    /// <summary>Subtraction.</summary>
    public static U64 Subtract(U64 left, U64 right) => left - right;
    /// <summary>Multiplication.</summary>
    public static U64 Multiply(U64 left, U64 right) => left * right;
    /// <summary>Division.</summary>
    public static U64 Divide(U64 left, U64 right) => left / right;
    /// <summary>Modulo.</summary>
    public static U64 Mod(U64 left, U64 right) => left % right;
    /// <summary>Bitwise and.</summary>
    public static U64 BitwiseAnd(U64 left, U64 right) => left & right;
    /// <summary>Bitwise or.</summary>
    public static U64 BitwiseOr(U64 left, U64 right) => left | right;
    /// <summary>Exclusive or.</summary>
    public static U64 Xor(U64 left, U64 right) => left ^ right;
    /// <summary>Shift left.</summary>
    public static U64 LeftShift(U64 left, int amount) => left << amount;
    /// <summary>Shift right.</summary>
    public static U64 RightShift(U64 left, int amount) => left >> amount;
    /// <summary>Negation.</summary>
    public static U64 Negate(U64 value) => -value;
    /// <summary>Complement.</summary>
    public static U64 OnesComplement(U64 value) => ~value;

    /// <summary>Expression identity (two values are equal if they are the same expression).</summary>
    public bool Equals(U64 other) => ReferenceEquals(Expr, other.Expr);
    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is U64 other && Equals(other);
    /// <inheritdoc/>
    public override int GetHashCode() => RuntimeHelpers.GetHashCode(Expr);
    /// <inheritdoc/>
    public override string ToString() => Expr is ConstExpr c ? c.Value.ToString() : "U64 expression";
}

/// <summary>
/// An signed 64-bit value of a sock_ops program (an expression, evaluated where a statement uses it). Arithmetic and
/// comparisons compile to JMP/ALU64 with signed comparisons. The default value is the constant 0.
/// </summary>
public readonly struct I64 : IEquatable<I64>
{
    private readonly Expr? _expr;

    internal I64(Expr expr) => _expr = expr.Type == Ty.I64 ? expr : Fold.Convert(expr, Ty.I64);

    internal Expr Expr => _expr ?? Fold.Const(Ty.I64, 0);

    /// <summary>A constant.</summary>
    public static implicit operator I64(long value) => new(Fold.Const(Ty.I64, unchecked((long)value)));
    /// <summary>A constant.</summary>
    public static implicit operator I64(int value) => new(Fold.Const(Ty.I64, unchecked((long)value)));
    /// <summary>A constant.</summary>
    public static implicit operator I64(uint value) => new(Fold.Const(Ty.I64, unchecked((long)value)));
    /// <summary>Widens (sign-extends) a 32-bit value.</summary>
    public static implicit operator I64(I32 value) => new(Fold.Convert(value.Expr, Ty.I64));
    /// <summary>Reinterprets or converts the value (C cast semantics).</summary>
    public static explicit operator I64(U32 value) => new(Fold.Convert(value.Expr, Ty.I64));
    /// <summary>Reinterprets or converts the value (C cast semantics).</summary>
    public static explicit operator I64(U64 value) => new(Fold.Convert(value.Expr, Ty.I64));

    /// <summary>True if this value is a compile-time constant.</summary>
    public bool IsConstant => Expr is ConstExpr;

    /// <summary>Assigns a value to this lvalue (a local, a writable ctx field, a map value or stack field).</summary>
    /// <exception cref="EmitException">This value is not writable (e.g. a read-only ctx field).</exception>
    public void Set(I64 value, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") =>
        SockOpsBuilder.Current(new SourceLocation(file, line, member)).Assign(Expr, value.Expr, new SourceLocation(file, line, member));

    /// <summary>Add.</summary>
    public static I64 operator +(I64 left, I64 right) => new(Fold.Binary(BinOp.Add, left.Expr, right.Expr));
    /// <summary>Sub.</summary>
    public static I64 operator -(I64 left, I64 right) => new(Fold.Binary(BinOp.Sub, left.Expr, right.Expr));
    /// <summary>Mul.</summary>
    public static I64 operator *(I64 left, I64 right) => new(Fold.Binary(BinOp.Mul, left.Expr, right.Expr));
    /// <summary>Div.</summary>
    public static I64 operator /(I64 left, I64 right) => new(Fold.Binary(BinOp.Div, left.Expr, right.Expr));
    /// <summary>Mod.</summary>
    public static I64 operator %(I64 left, I64 right) => new(Fold.Binary(BinOp.Mod, left.Expr, right.Expr));
    /// <summary>And.</summary>
    public static I64 operator &(I64 left, I64 right) => new(Fold.Binary(BinOp.And, left.Expr, right.Expr));
    /// <summary>Or.</summary>
    public static I64 operator |(I64 left, I64 right) => new(Fold.Binary(BinOp.Or, left.Expr, right.Expr));
    /// <summary>Xor.</summary>
    public static I64 operator ^(I64 left, I64 right) => new(Fold.Binary(BinOp.Xor, left.Expr, right.Expr));
    /// <summary>Shift left (the amount is masked by the hardware width).</summary>
    public static I64 operator <<(I64 left, int amount) => new(Fold.Binary(BinOp.Shl, left.Expr, Fold.Const(Ty.I64, amount)));
    /// <summary>Shift right (arithmetic for signed types).</summary>
    public static I64 operator >>(I64 left, int amount) => new(Fold.Binary(BinOp.Shr, left.Expr, Fold.Const(Ty.I64, amount)));
    /// <summary>Negation.</summary>
    public static I64 operator -(I64 value) => new(Fold.Unary(UnOp.Neg, value.Expr));
    /// <summary>Bitwise complement.</summary>
    public static I64 operator ~(I64 value) => new(Fold.Unary(UnOp.Not, value.Expr));
    /// <summary>Comparison (signed).</summary>
    public static Condition operator ==(I64 left, I64 right) => new(Fold.Compare(CmpOp.Eq, left.Expr, right.Expr));
    /// <summary>Comparison (signed).</summary>
    public static Condition operator !=(I64 left, I64 right) => new(Fold.Compare(CmpOp.Ne, left.Expr, right.Expr));
    /// <summary>Comparison (signed).</summary>
    public static Condition operator <(I64 left, I64 right) => new(Fold.Compare(CmpOp.Lt, left.Expr, right.Expr));
    /// <summary>Comparison (signed).</summary>
    public static Condition operator <=(I64 left, I64 right) => new(Fold.Compare(CmpOp.Le, left.Expr, right.Expr));
    /// <summary>Comparison (signed).</summary>
    public static Condition operator >(I64 left, I64 right) => new(Fold.Compare(CmpOp.Gt, left.Expr, right.Expr));
    /// <summary>Comparison (signed).</summary>
    public static Condition operator >=(I64 left, I64 right) => new(Fold.Compare(CmpOp.Ge, left.Expr, right.Expr));

    /// <summary>Methods for operators, for languages without operator overloading.</summary>
    public static I64 Add(I64 left, I64 right) => left + right;
    /// <summary>Subtraction.</summary>
    public static I64 Subtract(I64 left, I64 right) => left - right;
    /// <summary>Multiplication.</summary>
    public static I64 Multiply(I64 left, I64 right) => left * right;
    /// <summary>Division.</summary>
    public static I64 Divide(I64 left, I64 right) => left / right;
    /// <summary>Modulo.</summary>
    public static I64 Mod(I64 left, I64 right) => left % right;
    /// <summary>Bitwise and.</summary>
    public static I64 BitwiseAnd(I64 left, I64 right) => left & right;
    /// <summary>Bitwise or.</summary>
    public static I64 BitwiseOr(I64 left, I64 right) => left | right;
    /// <summary>Exclusive or.</summary>
    public static I64 Xor(I64 left, I64 right) => left ^ right;
    /// <summary>Shift left.</summary>
    public static I64 LeftShift(I64 left, int amount) => left << amount;
    /// <summary>Shift right.</summary>
    public static I64 RightShift(I64 left, int amount) => left >> amount;
    /// <summary>Negation.</summary>
    public static I64 Negate(I64 value) => -value;
    /// <summary>Complement.</summary>
    public static I64 OnesComplement(I64 value) => ~value;

    /// <summary>Expression identity (two values are equal if they are the same expression).</summary>
    public bool Equals(I64 other) => ReferenceEquals(Expr, other.Expr);
    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is I64 other && Equals(other);
    /// <inheritdoc/>
    public override int GetHashCode() => RuntimeHelpers.GetHashCode(Expr);
    /// <inheritdoc/>
    public override string ToString() => Expr is ConstExpr c ? c.Value.ToString() : "I64 expression";
}
/// <summary>
/// A boolean condition: a comparison, or conditions combined with <c>&amp;</c> (and), <c>|</c> (or) and <c>!</c>
/// — all short-circuit, like C's <c>&amp;&amp;</c> and <c>||</c>. Used by <c>If</c> and <c>While</c>-free control flow.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2231", Justification = "== on conditions would read as a comparison; equality is expression identity only.")]
public readonly struct Condition : IEquatable<Condition>
{
    private readonly Cond? _cond;

    internal Condition(Cond cond) => _cond = cond;

    internal Cond Cond => _cond ?? new ConstCond(false);

    /// <summary>A constant condition.</summary>
    public static implicit operator Condition(bool value) => new(new ConstCond(value));

    /// <summary>Short-circuit and.</summary>
    public static Condition operator &(Condition left, Condition right) => new(Fold.And(left.Cond, right.Cond));

    /// <summary>Short-circuit or.</summary>
    public static Condition operator |(Condition left, Condition right) => new(Fold.Or(left.Cond, right.Cond));

    /// <summary>Negation.</summary>
    public static Condition operator !(Condition value) => new(Fold.Not(value.Cond));

    /// <summary>Short-circuit and.</summary>
    public static Condition BitwiseAnd(Condition left, Condition right) => left & right;

    /// <summary>Short-circuit or.</summary>
    public static Condition BitwiseOr(Condition left, Condition right) => left | right;

    /// <summary>Negation.</summary>
    public static Condition LogicalNot(Condition value) => !value;

    /// <summary>The condition as a 0/1 value.</summary>
    public U32 AsU32() => new(new CondValueExpr(Ty.U32, Cond));

    /// <summary>The condition as a 0/1 value.</summary>
    public I32 AsI32() => new(new CondValueExpr(Ty.I32, Cond));

    /// <summary>Expression identity.</summary>
    public bool Equals(Condition other) => ReferenceEquals(Cond, other.Cond);
    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Condition other && Equals(other);
    /// <inheritdoc/>
    public override int GetHashCode() => RuntimeHelpers.GetHashCode(Cond);
}

/// <summary>Byte-order conversions (<c>bpf_ntohl</c> and friends). Constants fold; comparisons against constants
/// swap the constant instead of the value, so no byte swap runs.</summary>
public static class ByteOrder
{
    /// <summary>Network to host order of a 32-bit value (a byte swap on little-endian).</summary>
    public static U32 Ntohl(U32 value) => new(Fold.Unary(UnOp.Swap32, value.Expr));

    /// <summary>Host to network order of a 32-bit value.</summary>
    public static U32 Htonl(U32 value) => new(Fold.Unary(UnOp.Swap32, value.Expr));

    /// <summary>Network to host order of the low 16 bits (result zero-extended).</summary>
    public static U32 Ntohs(U32 value) => new(Fold.Unary(UnOp.Swap16, value.Expr));

    /// <summary>Host to network order of the low 16 bits.</summary>
    public static U32 Htons(U32 value) => new(Fold.Unary(UnOp.Swap16, value.Expr));

    /// <summary>Swaps the 8 bytes of a 64-bit value.</summary>
    public static U64 Swap64(U64 value) => new(Fold.Unary(UnOp.Swap64, value.Expr));
}
