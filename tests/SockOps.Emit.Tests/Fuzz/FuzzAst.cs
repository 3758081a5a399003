using System.Globalization;
using System.Text;
using CsCheck;

namespace SockOps.Emit.Tests.Fuzz;

/// <summary>The four DSL value types.</summary>
internal enum VT { U32, I32, U64, I64 }

/// <summary>An expression of the generated program (printed as the DSL code it stands for).</summary>
internal abstract record FExpr(VT Type);
internal sealed record FConst(VT Type, long Value) : FExpr(Type);
internal sealed record FField(VT Type, int Index) : FExpr(Type);
internal sealed record FLocal(VT Type, int Index) : FExpr(Type);
internal sealed record FBin(VT Type, string Op, FExpr Left, FExpr Right) : FExpr(Type);
internal sealed record FShift(VT Type, bool Left, FExpr Value, int Amount) : FExpr(Type);
internal sealed record FUn(VT Type, string Op, FExpr Value) : FExpr(Type);
internal sealed record FCast(VT Type, FExpr Value) : FExpr(Type);

/// <summary>A condition.</summary>
internal abstract record FCond;
internal sealed record FCmp(string Op, FExpr Left, FExpr Right) : FCond;
internal sealed record FAnd(FCond Left, FCond Right) : FCond;
internal sealed record FOr(FCond Left, FCond Right) : FCond;
internal sealed record FNot(FCond Value) : FCond;

/// <summary>A statement. Records compare by reference here (the renderer identifies the statement the DSL refused).</summary>
internal abstract record FStmt
{
    public virtual bool Equals(FStmt? other) => ReferenceEquals(this, other);
    public override int GetHashCode() => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(this);
}
internal sealed record SAssign(VT Type, int Local, FExpr Value) : FStmt;
internal sealed record SReply(FExpr Value) : FStmt;
internal sealed record STxHash(FExpr Value) : FStmt;
internal sealed record SIf(FCond Cond, FStmt[] Then, FStmt[]? Else) : FStmt;
internal sealed record SSwitch(FExpr? On, int[] Cases, FStmt[][] Bodies, FStmt[]? Default) : FStmt;
internal sealed record SReturn(int Value) : FStmt;
/// <summary><c>Return((I32)(field &amp; mask))</c> or <c>Return((I32)(field &gt;&gt; shift))</c>: the DSL accepts only provable 0/1.</summary>
internal sealed record SReturnExpr(int Field, bool Mask, int Operand) : FStmt;
internal sealed record SFor(int Count, FStmt[] Body) : FStmt;
/// <summary>setsockopt; <c>Option</c> indexes <see cref="FuzzTables.Options"/> (the invalid ones are refused by the DSL only).</summary>
internal sealed record SSetSockOpt(int Option, FExpr Value) : FStmt;
internal sealed record STime(int Which) : FStmt;
internal sealed record SCbFlags(FExpr Flags) : FStmt;
internal sealed record SMapLookup(bool Hash, FExpr Key, FExpr Add, FStmt[] Body) : FStmt;
internal sealed record SMapUpdate(bool Hash, FExpr Key, FExpr Value) : FStmt;
internal sealed record SSkStorage(FExpr Add, bool TcpSock) : FStmt;
/// <summary>Ring buffer reserve; Ending 0 submit, 1 discard, 2 nothing (leak), 3 submit on one branch only (leak).</summary>
internal sealed record SRingBuf(FExpr Value, int Ending, FCond When) : FStmt;
internal sealed record SPrintk(FExpr Arg) : FStmt;
/// <summary>A zeroed stack object of <see cref="FuzzTables.StackSizes"/>[Size] bytes.</summary>
internal sealed record SStack(int Size) : FStmt;
/// <summary><c>u64 = ctx.Read(offset, size)</c> at any offset/size: the DSL decides.</summary>
internal sealed record SCtxRead(int Offset, int Size) : FStmt;
/// <summary><c>ctx.Write(offset, size, value)</c> at any offset/size: the DSL decides.</summary>
internal sealed record SCtxWrite(int Offset, int Size, FExpr Value) : FStmt;
/// <summary>A shift by a constant that may be out of range (≥ the width).</summary>
internal sealed record SShift(int Field, bool Is64, int Amount) : FStmt;
/// <summary>A division by the constant zero.</summary>
internal sealed record SDivZero(int Field) : FStmt;
/// <summary>An uninitialised local assigned on one branch and read after it.</summary>
internal sealed record SUninit(FCond Cond) : FStmt;

/// <summary>A whole generated program.</summary>
internal sealed record FProgram(string License, FExpr[] LocalInits, FStmt[] Body, bool EndsWithReturn)
{
    public override string ToString() => FuzzPrinter.Print(this);
}

/// <summary>Tables shared by the generator, the printer and the renderer.</summary>
internal static class FuzzTables
{
    /// <summary>u32 ctx fields: name, offset, accessor.</summary>
    public static readonly (string Name, int Offset, Func<SockOpsCtx, U32> Get)[] Fields32 =
    [
        ("Op", 0, c => c.Op), ("Family", 20, c => c.Family), ("LocalPort", 68, c => c.LocalPort), ("RemotePortRaw", 64, c => c.RemotePortRaw),
        ("RemoteIp4", 24, c => c.RemoteIp4), ("LocalIp4", 28, c => c.LocalIp4), ("RemoteIp6[1]", 36, c => c.RemoteIp6[1]),
        ("LocalIp6[3]", 60, c => c.LocalIp6[3]), ("Args[0]", 4, c => c.Args[0]), ("Args[2]", 12, c => c.Args[2]),
        ("IsFullSock", 72, c => c.IsFullSock), ("SndCwnd", 76, c => c.SndCwnd), ("SrttUs", 80, c => c.SrttUs), ("State", 88, c => c.State),
        ("CbFlags", 84, c => c.CbFlags), ("SegsOut", 148, c => c.SegsOut), ("SkbLen", 208, c => c.SkbLen), ("SkbTcpFlags", 212, c => c.SkbTcpFlags),
        ("TotalRetrans", 136, c => c.TotalRetrans), ("SkTxHash", 164, c => c.SkTxHash), ("ReplyLong[3]", 16, c => c.ReplyLong[3]),
        ("MssCache", 112, c => c.MssCache), ("RateDelivered", 120, c => c.RateDelivered),
    ];

    /// <summary>u64 ctx fields.</summary>
    public static readonly (string Name, int Offset, Func<SockOpsCtx, U64> Get)[] Fields64 =
    [
        ("BytesReceived", 168, c => c.BytesReceived), ("BytesAcked", 176, c => c.BytesAcked), ("SkbHwTimestamp", 216, c => c.SkbHwTimestamp),
    ];

    /// <summary>setsockopt (level, optname): options the DSL's table knows and ones it refuses (the verifier never looks at them).</summary>
    public static readonly (int Level, int Name, string Text)[] Options =
    [
        (6, 1, "TCP_NODELAY"), (1, 36, "SO_MARK"), (1, 7, "SO_SNDBUF"), (6, 4, "TCP_KEEPIDLE"), (1, 8, "SO_RCVBUF"),
        (6, 999, "SOL_TCP 999"), (77, 1, "level 77"), (1, 3, "SO_TYPE"), (6, 3, "TCP_CORK"),
    ];

    /// <summary>Stack object sizes (types S8…S520 in the renderer).</summary>
    public static readonly int[] StackSizes = [8, 16, 64, 128, 256, 504, 520];

    public static readonly string[] Licenses = ["GPL", "GPL v2", "Dual MIT/GPL", "Dual BSD/GPL", "GPL and additional rights", "Proprietary", "MIT", "BSD"];
}

/// <summary>CsCheck generators of random DSL programs (composed generators, so failures shrink).</summary>
internal static class FuzzGen
{
    private static readonly Dictionary<(VT, int), Gen<FExpr>> ExprCache = [];
    private static readonly Dictionary<int, Gen<FCond>> CondCache = [];
    private static readonly Dictionary<int, Gen<FStmt>> StmtCache = [];
    private static readonly Dictionary<int, Gen<FStmt[]>> BlockCache = [];
    private static readonly object Lock = new();

    private static readonly VT[] Types = [VT.U32, VT.I32, VT.U64, VT.I64];

    public static int LocalCount(VT t) => t switch { VT.U32 => 2, VT.I32 => 2, _ => 1 };

    private static Gen<FExpr> Const(VT t) => t switch
    {
        VT.U32 => Gen.UInt[1, uint.MaxValue].Select(v => (FExpr)new FConst(t, v)),
        VT.I32 => Gen.Int.Where(v => v != 0).Select(v => (FExpr)new FConst(t, v)),
        VT.U64 => Gen.Long.Where(v => v != 0).Select(v => (FExpr)new FConst(t, v)),
        _ => Gen.Long[-100000, 100000].Where(v => v != 0).Select(v => (FExpr)new FConst(t, v)),
    };

    private static Gen<FExpr> Local(VT t) => Gen.Int[0, LocalCount(t) - 1].Select(i => (FExpr)new FLocal(t, i));

    /// <summary>A leaf that is not a constant (so comparisons never fold to a constant condition).</summary>
    private static Gen<FExpr> Variable(VT t) => t switch
    {
        VT.U32 => Gen.Frequency((3, Gen.Int[0, FuzzTables.Fields32.Length - 1].Select(i => (FExpr)new FField(t, i))), (2, Local(t))),
        VT.I32 => Gen.Frequency((2, Local(t)), (2, Gen.Int[0, FuzzTables.Fields32.Length - 1].Select(i => (FExpr)new FCast(t, new FField(VT.U32, i))))),
        VT.U64 => Gen.Frequency((2, Local(t)), (2, Gen.Int[0, FuzzTables.Fields64.Length - 1].Select(i => (FExpr)new FField(t, i))),
            (2, Gen.Int[0, FuzzTables.Fields32.Length - 1].Select(i => (FExpr)new FCast(t, new FField(VT.U32, i))))),
        _ => Gen.Frequency((2, Local(t)), (1, Local(VT.I32).Select(e => (FExpr)new FCast(t, e)))),
    };

    /// <summary>An initial value of a local (no locals in it: they are declared in order).</summary>
    private static Gen<FExpr> Init(VT t) => t switch
    {
        VT.U32 => Gen.Frequency((1, Const(t)), (3, Gen.Int[0, FuzzTables.Fields32.Length - 1].Select(i => (FExpr)new FField(t, i)))),
        VT.I32 => Gen.Frequency((1, Const(t)), (2, Gen.Int[0, FuzzTables.Fields32.Length - 1].Select(i => (FExpr)new FCast(t, new FField(VT.U32, i))))),
        VT.U64 => Gen.Frequency((1, Const(t)), (2, Gen.Int[0, FuzzTables.Fields64.Length - 1].Select(i => (FExpr)new FField(t, i)))),
        _ => Gen.Frequency((1, Const(t)), (2, Gen.Int[0, FuzzTables.Fields32.Length - 1].Select(i => (FExpr)new FCast(t, new FField(VT.U32, i))))),
    };

    private static Gen<FExpr> Leaf(VT t) => Gen.Frequency((1, Const(t)), (3, Variable(t)));

    public static Gen<FExpr> Expr(VT t, int depth)
    {
        lock (Lock)
        {
            if (ExprCache.TryGetValue((t, depth), out var cached)) return cached;
            Gen<FExpr> gen;
            if (depth == 0) gen = Leaf(t);
            else
            {
                var sub = Expr(t, depth - 1);
                var bin = Gen.Select(Gen.OneOfConst("+", "-", "*", "/", "%", "&", "|", "^"), sub, sub, (op, l, r) =>
                    (FExpr)new FBin(t, op, l, op is "/" or "%" ? new FBin(t, "|", r, new FConst(t, 1)) : r));
                int bits = t is VT.U32 or VT.I32 ? 32 : 64;
                var shift = Gen.Select(Gen.Bool, sub, Gen.Int[0, bits - 1], (left, v, n) => (FExpr)new FShift(t, left, v, n));
                var un = Gen.Select(t == VT.U32 ? Gen.OneOfConst("-", "~", "ntohl") : Gen.OneOfConst("-", "~"), sub, (op, v) => (FExpr)new FUn(t, op, v));
                var cast = Gen.OneOfConst(Types.Where(o => o != t).ToArray()).SelectMany(from => Expr(from, depth - 1)).Select(v => (FExpr)new FCast(t, v));
                gen = Gen.Frequency((3, Leaf(t)), (4, bin), (1, shift), (1, un), (1, cast));
            }
            ExprCache[(t, depth)] = gen;
            return gen;
        }
    }

    /// <summary>An expression with a variable in it (never folds to a constant).</summary>
    private static Gen<FExpr> NonConst(VT t) => Gen.Frequency((2, Variable(t)),
        (2, Gen.Select(Gen.OneOfConst("+", "-", "&", "|", "^"), Variable(t), Expr(t, 1), (op, l, r) =>
            (FExpr)new FBin(t, op, l, r is FConst { Value: 0 } ? new FConst(t, 1) : r))));

    public static Gen<FCond> Cond(int depth)
    {
        lock (Lock)
        {
            if (CondCache.TryGetValue(depth, out var cached)) return cached;
            var cmp = Gen.OneOfConst(Types).SelectMany(t => Gen.Select(Gen.OneOfConst("==", "!=", "<", "<=", ">", ">="), NonConst(t), Expr(t, 1),
                (op, l, r) => (FCond)new FCmp(op, l, r)));
            Gen<FCond> gen = depth == 0 ? cmp : Gen.Frequency((4, cmp),
                (1, Gen.Select(Cond(depth - 1), Cond(depth - 1), (a, b) => (FCond)new FAnd(a, b))),
                (1, Gen.Select(Cond(depth - 1), Cond(depth - 1), (a, b) => (FCond)new FOr(a, b))),
                (1, Cond(depth - 1).Select(a => (FCond)new FNot(a))));
            CondCache[depth] = gen;
            return gen;
        }
    }

    private static Gen<FStmt> Simple()
    {
        var assign = Gen.OneOfConst(Types).SelectMany(t => Gen.Select(Gen.Int[0, LocalCount(t) - 1], Expr(t, 2), (i, e) => (FStmt)new SAssign(t, i, e)));
        return Gen.Frequency(
            (6, assign),
            (2, Expr(VT.I32, 2).Select(e => (FStmt)new SReply(e))),
            (1, Expr(VT.U32, 1).Select(e => (FStmt)new STxHash(e))),
            (2, Gen.Select(Gen.Frequency((8, Gen.Int[0, 4]), (1, Gen.Int[5, FuzzTables.Options.Length - 1])), Expr(VT.I32, 1), (o, v) => (FStmt)new SSetSockOpt(o, v))),
            (1, Gen.Int[0, 2].Select(w => (FStmt)new STime(w))),
            (1, Expr(VT.U32, 1).Select(e => (FStmt)new SCbFlags(e))),
            (1, Gen.Select(Gen.Bool, Expr(VT.U64, 1), Expr(VT.U64, 1), (h, k, v) => (FStmt)new SMapUpdate(h, k, v))),
            (1, Gen.Select(Expr(VT.U64, 1), Gen.Bool, (e, t) => (FStmt)new SSkStorage(e, t))),
            (1, Gen.Select(Expr(VT.U64, 1), Gen.Frequency((12, Gen.Int[0, 1]), (1, Gen.Int[2, 3])), Cond(0), (e, end, c) => (FStmt)new SRingBuf(e, end, c))),
            (1, Expr(VT.U32, 1).Select(e => (FStmt)new SPrintk(e))),
            (1, Gen.Frequency((16, Gen.Int[0, 3]), (1, Gen.Int[4, 6])).Select(s => (FStmt)new SStack(s))),
            (1, Gen.Select(Gen.Frequency((6, Gen.Int[0, 59].Select(i => i * 4)), (1, Gen.Int[-8, 260])), Gen.Frequency((6, Gen.Const(4)), (1, Gen.OneOfConst(1, 2, 8))),
                (o, s) => (FStmt)new SCtxRead(o, s))),
            (1, Gen.Frequency((1, Gen.Select(Gen.Int[0, 59].Select(i => i * 4), Gen.OneOfConst(1, 2, 4, 8), Expr(VT.U32, 1), (o, s, v) => (FStmt)new SCtxWrite(o, s, v))),
                (4, Gen.Select(Gen.OneOfConst(4, 164), Expr(VT.U32, 1), (o, v) => (FStmt)new SCtxWrite(o, 4, v))))),
            (1, Gen.Select(Gen.Int[0, FuzzTables.Fields32.Length - 1], Gen.Bool, Gen.Frequency((10, Gen.Int[1, 31]), (1, Gen.Int[32, 70])),
                (f, w, n) => (FStmt)new SShift(f, w, n))));
    }

    private static Gen<FStmt> Rare() => Gen.Frequency(
        (1, Gen.Int[0, FuzzTables.Fields32.Length - 1].Select(f => (FStmt)new SDivZero(f))),
        (1, Cond(0).Select(c => (FStmt)new SUninit(c))));

    public static Gen<FStmt> Stmt(int depth)
    {
        lock (Lock)
        {
            if (StmtCache.TryGetValue(depth, out var cached)) return cached;
            Gen<FStmt> gen;
            if (depth == 0) gen = Gen.Frequency((60, Simple()), (1, Rare()));
            else
            {
                var block = Block(depth - 1);
                var ifs = Gen.Select(Cond(1), block, Gen.Frequency((1, block), (1, Gen.Const((FStmt[])null!))), (c, t, e) => (FStmt)new SIf(c, t, e));
                var sw = Gen.Select(Gen.Frequency((2, Gen.Const((FExpr)null!)), (1, Variable(VT.U32))), Gen.Int[0, 15].HashSet[1, 4],
                    Gen.Frequency((1, block), (1, Gen.Const((FStmt[])null!))), block.Array[4],
                    (on, cases, def, bodies) => (FStmt)new SSwitch(on, [.. cases], bodies[..cases.Count], def));
                var loop = Gen.Select(Gen.Int[1, 3], block, (n, b) => (FStmt)new SFor(n, b));
                var lookup = Gen.Select(Gen.Bool, Expr(VT.U64, 1), Expr(VT.U64, 1), block, (h, k, a, b) => (FStmt)new SMapLookup(h, k, a, b));
                gen = Gen.Frequency((60, Simple()), (1, Rare()), (12, ifs), (5, sw), (3, loop), (4, lookup));
            }
            StmtCache[depth] = gen;
            return gen;
        }
    }

    /// <summary>A block: statements, sometimes ending with a return, rarely with a statement after it (unreachable).</summary>
    public static Gen<FStmt[]> Block(int depth)
    {
        lock (Lock)
        {
            if (BlockCache.TryGetValue(depth, out var cached)) return cached;
            var ending = Gen.Frequency(
                (40, Gen.Const(Array.Empty<FStmt>())),
                (12, Gen.Int[0, 1].Select(v => new FStmt[] { new SReturn(v) })),
                (1, Gen.Select(Gen.Int[0, FuzzTables.Fields32.Length - 1], Gen.Bool, Gen.OneOfConst(0, 1, 2, 3, 5, 30, 31), (f, m, n) => new FStmt[] { new SReturnExpr(f, m, n) })),
                (1, Gen.OneOfConst(2, -1, 7).Select(v => new FStmt[] { new SReturn(v) })),
                (1, Gen.Select(Gen.Int[0, 1], Stmt(0), (v, s) => new FStmt[] { new SReturn(v), s })));
            var gen = Gen.Select(Stmt(depth).Array[1, 4], ending, (s, e) => (FStmt[])[.. s, .. e]);
            BlockCache[depth] = gen;
            return gen;
        }
    }

    public static readonly Gen<FProgram> Program = Gen.Select(
        Gen.Frequency((10, Gen.Const("GPL")), (3, Gen.OneOfConst(FuzzTables.Licenses))),
        Gen.Select(Init(VT.U32).Array[2], Init(VT.I32).Array[2], Init(VT.U64), Init(VT.I64), (a, b, c, d) => (FExpr[])[.. a, .. b, c, d]),
        Block(3),
        Gen.Frequency((40, Gen.Const(true)), (1, Gen.Const(false))),
        (license, inits, body, ends) => new FProgram(license, inits, body, ends));
}

/// <summary>Prints a generated program as the DSL code the renderer writes.</summary>
internal static class FuzzPrinter
{
    public static string Print(FProgram p)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"// license \"{p.License}\"\n");
        int i = 0;
        foreach (var t in new[] { VT.U32, VT.I32, VT.U64, VT.I64 })
            for (int k = 0; k < FuzzGen.LocalCount(t); k++)
                sb.Append(CultureInfo.InvariantCulture, $"var {Name(t, k)} = b.Local(\"{Name(t, k)}\", {E(p.LocalInits[i++])});\n");
        Block(sb, p.Body, 0);
        if (p.EndsWithReturn) sb.Append("b.Return(1); // where the end is reachable\n");
        else sb.Append("// (no final return)\n");
        return sb.ToString();
    }

    public static string Name(VT t, int i) => $"{t.ToString().ToLowerInvariant()}_{i}";

    private static void Block(StringBuilder sb, FStmt[] block, int indent)
    {
        foreach (var s in block) Stmt(sb, s, indent);
    }

    private static void Line(StringBuilder sb, int indent, string text) => sb.Append(' ', indent * 4).Append(text).Append('\n');

    private static void Stmt(StringBuilder sb, FStmt s, int n)
    {
        switch (s)
        {
            case SAssign a: Line(sb, n, $"{Name(a.Type, a.Local)}.Set({E(a.Value)});"); break;
            case SReply r: Line(sb, n, $"ctx.Reply.Set({E(r.Value)});"); break;
            case STxHash t: Line(sb, n, $"ctx.SkTxHash.Set({E(t.Value)});"); break;
            case SIf f:
                Line(sb, n, $"b.If({C(f.Cond)}, () => {{");
                Block(sb, f.Then, n + 1);
                if (f.Else is not null) { Line(sb, n, "}, @else: () => {"); Block(sb, f.Else, n + 1); }
                Line(sb, n, "});");
                break;
            case SSwitch w:
                Line(sb, n, $"b.Switch({(w.On is null ? "ctx.Op" : E(w.On))})");
                for (int i = 0; i < w.Cases.Length; i++) { Line(sb, n + 1, $".Case({w.Cases[i]}, () => {{"); Block(sb, w.Bodies[i], n + 2); Line(sb, n + 1, "})"); }
                if (w.Default is not null) { Line(sb, n + 1, ".Default(() => {"); Block(sb, w.Default, n + 2); Line(sb, n + 1, "});"); }
                else Line(sb, n + 1, ".End();");
                break;
            case SReturn r: Line(sb, n, $"b.Return({r.Value});"); break;
            case SReturnExpr r: Line(sb, n, $"b.Return((I32)(ctx.{FuzzTables.Fields32[r.Field].Name} {(r.Mask ? "&" : ">>")} {r.Operand}));"); break;
            case SFor f: Line(sb, n, $"b.For(0, {f.Count}, _ => {{"); Block(sb, f.Body, n + 1); Line(sb, n, "});"); break;
            case SSetSockOpt o: Line(sb, n, $"i32_0.Set(b.SetSockOpt({FuzzTables.Options[o.Option].Level}, {FuzzTables.Options[o.Option].Name} /* {FuzzTables.Options[o.Option].Text} */, {E(o.Value)}));"); break;
            case STime t: Line(sb, n, $"u64_0.Set(u64_0 + b.{(t.Which switch { 0 => "KtimeGetNs", 1 => "GetSocketCookie", _ => "GetNetnsCookie" })}());"); break;
            case SCbFlags c: Line(sb, n, $"i32_1.Set(b.SockOpsCbFlagsSet({E(c.Flags)}));"); break;
            case SMapLookup l:
                Line(sb, n, $"b.IfNotNull(b.MapLookup({(l.Hash ? "hash" : "array")}, {E(l.Key)}{(l.Hash ? "" : " & 15")}), v => {{");
                Line(sb, n + 1, $"v.U64().Set(v.U64() + {E(l.Add)});");
                Block(sb, l.Body, n + 1);
                Line(sb, n, "});");
                break;
            case SMapUpdate u: Line(sb, n, $"b.MapUpdate({(u.Hash ? "hash" : "array")}, {E(u.Key)}{(u.Hash ? "" : " & 15")}, {E(u.Value)});"); break;
            case SSkStorage k:
                Line(sb, n, "b.IfNotNull(ctx.Sk, sk => {");
                Line(sb, n + 1, $"b.IfNotNull(b.SkStorageGet(storage, sk, SkStorageGetFlags.Create), v => v.U64().Set(v.U64() + {E(k.Add)}));");
                if (k.TcpSock) Line(sb, n + 1, "b.IfNotNull(b.TcpSock(sk), tcp => u32_1.Set(tcp.SndCwnd + sk.DstPort));");
                Line(sb, n, "});");
                break;
            case SRingBuf r:
                Line(sb, n, "b.IfNotNull(b.RingBufReserve<ulong>(ring), rec => {");
                Line(sb, n + 1, $"rec.U64().Set({E(r.Value)});");
                Line(sb, n + 1, r.Ending switch { 0 => "b.RingBufSubmit(rec);", 1 => "b.RingBufDiscard(rec);", 2 => "// neither submitted nor discarded", _ => $"b.If({C(r.When)}, () => b.RingBufSubmit(rec));" });
                Line(sb, n, "});");
                break;
            case SPrintk p: Line(sb, n, $"b.Printk(\"v=%u\\n\", {E(p.Arg)});"); break;
            case SStack k: Line(sb, n, $"b.StackStruct<S{FuzzTables.StackSizes[k.Size]}>();"); break;
            case SCtxRead r: Line(sb, n, $"u64_0.Set(ctx.Read({r.Offset}, {r.Size}));"); break;
            case SCtxWrite w: Line(sb, n, $"ctx.Write({w.Offset}, {w.Size}, {E(w.Value)});"); break;
            case SShift h: Line(sb, n, h.Is64 ? $"u64_0.Set(ctx.BytesAcked << {h.Amount});" : $"u32_0.Set(ctx.{FuzzTables.Fields32[h.Field].Name} << {h.Amount});"); break;
            case SDivZero d: Line(sb, n, $"u32_0.Set(ctx.{FuzzTables.Fields32[d.Field].Name} / 0u);"); break;
            case SUninit u: Line(sb, n, $"var x = b.LocalI32(\"x\"); b.If({C(u.Cond)}, () => x.Set(1)); ctx.Reply.Set(x);"); break;
            default: Line(sb, n, s.ToString()); break;
        }
    }

    public static string E(FExpr e) => e switch
    {
        FConst c => c.Type switch { VT.U32 => $"{(uint)c.Value}u", VT.I32 => $"{(int)c.Value}", VT.U64 => $"{(ulong)c.Value}ul", _ => $"{c.Value}L" },
        FField f => f.Type == VT.U64 ? $"ctx.{FuzzTables.Fields64[f.Index].Name}" : $"ctx.{FuzzTables.Fields32[f.Index].Name}",
        FLocal l => Name(l.Type, l.Index),
        FBin b => $"({E(b.Left)} {b.Op} {E(b.Right)})",
        FShift s => $"({E(s.Value)} {(s.Left ? "<<" : ">>")} {s.Amount})",
        FUn { Op: "ntohl" } u => $"ByteOrder.Ntohl({E(u.Value)})",
        FUn u => $"{u.Op}({E(u.Value)})",
        FCast c => $"({c.Type}){E(c.Value)}",
        _ => e.ToString(),
    };

    public static string C(FCond c) => c switch
    {
        FCmp m => $"{E(m.Left)} {m.Op} {E(m.Right)}",
        FAnd a => $"({C(a.Left)} & {C(a.Right)})",
        FOr o => $"({C(o.Left)} | {C(o.Right)})",
        FNot n => $"!({C(n.Value)})",
        _ => c.ToString()!,
    };
}
