using SockOps.Emit.Assembler;
using System.Runtime.InteropServices;

namespace SockOps.Emit.Tests.Fuzz;

[StructLayout(LayoutKind.Sequential, Size = 8)] internal struct S8;
[StructLayout(LayoutKind.Sequential, Size = 16)] internal struct S16;
[StructLayout(LayoutKind.Sequential, Size = 64)] internal struct S64;
[StructLayout(LayoutKind.Sequential, Size = 128)] internal struct S128;
[StructLayout(LayoutKind.Sequential, Size = 256)] internal struct S256;
[StructLayout(LayoutKind.Sequential, Size = 504)] internal struct S504;
[StructLayout(LayoutKind.Sequential, Size = 520)] internal struct S520;

/// <summary>
/// How to render the "forced" twin of a program the DSL refused: the refused statement becomes a marker
/// (<c>ctx.Reply.Set(Marker)</c>, one <c>st</c> instruction the patcher replaces with the raw refused code), and
/// every risky statement after it is rendered in a harmless form (the kernel must refuse the program because
/// of the target, not because of something later).
/// </summary>
internal sealed record ForcedPlan(EmitRule Rule, FStmt? Target);

/// <summary>Interprets a generated program into DSL calls.</summary>
internal sealed class FuzzRenderer
{
    /// <summary>The value the marker stores into reply (unique enough never to occur in generated code).</summary>
    public const int Marker = 0x5AFE1234;

    private readonly FProgram _program;
    private readonly ForcedPlan? _plan;
    private SockOpsBuilder _b = null!;
    private readonly List<U32> _u32 = [];
    private readonly List<I32> _i32 = [];
    private readonly List<U64> _u64 = [];
    private readonly List<I64> _i64 = [];
    private Map<uint, ulong>? _array, _hash;
    private Map<int, ulong>? _storage;
    private Map<NoData, NoData>? _ring;
    private bool _passedTarget;

    private FuzzRenderer(FProgram program, ForcedPlan? plan)
    {
        _program = program;
        _plan = plan;
    }

    /// <summary>Refusals after the forced target that were left out (the builder went on after them).</summary>
    public List<EmitException> Swallowed { get; } = [];

    /// <summary>The innermost statement that was being rendered when the DSL threw (null: thrown at the end).</summary>
    public FStmt? Failed { get; private set; }

    /// <summary>Renders the program as written (the DSL may refuse it).</summary>
    public static ProgramImage Render(FProgram program, out FuzzRenderer renderer, KernelVersion? target = null)
    {
        renderer = new FuzzRenderer(program, null);
        var r = renderer;
        return SockOpsProgram.Build("fuzz", b => r.Body(b), program.License, target: target ?? TestSupport.HostKernel.Target);
    }

    /// <summary>Renders the forced twin (license GPL when the refusal was the license).</summary>
    public static ProgramImage RenderForced(FProgram program, ForcedPlan plan) => RenderForced(program, plan, out _);

    /// <summary>Renders the forced twin and returns the renderer (for what it left out).</summary>
    public static ProgramImage RenderForced(FProgram program, ForcedPlan plan, out FuzzRenderer renderer)
    {
        var r = renderer = new FuzzRenderer(program, plan);
        string license = plan.Rule == EmitRule.HelperNotAllowed ? "GPL" : program.License;
        return SockOpsProgram.Build("fuzz_forced", b => r.Body(b), license, target: TestSupport.HostKernel.Target);
    }

    private bool Forced => _plan is not null;
    private bool Safe => _passedTarget;

    private void Body(SockOpsBuilder b)
    {
        _b = b;
        int i = 0;
        for (int k = 0; k < FuzzGen.LocalCount(VT.U32); k++) _u32.Add(b.Local(FuzzPrinter.Name(VT.U32, k), U32(_program.LocalInits[i++])));
        for (int k = 0; k < FuzzGen.LocalCount(VT.I32); k++) _i32.Add(b.Local(FuzzPrinter.Name(VT.I32, k), I32(_program.LocalInits[i++])));
        _u64.Add(b.Local(FuzzPrinter.Name(VT.U64, 0), U64(_program.LocalInits[i++])));
        _i64.Add(b.Local(FuzzPrinter.Name(VT.I64, 0), I64(_program.LocalInits[i++])));
        Block(_program.Body);
        if (_plan is { Rule: EmitRule.FallThrough })
        {
            if (!TryStatement(() => b.Context.Reply.Set(Marker))) return;
            b.Return(1);
            return;
        }
        // The closing return is written only where the end is reachable (a generator convenience, not a test of Unreachable).
        if (_program.EndsWithReturn || Forced) ReturnIfReachable();
    }

    private void ReturnIfReachable()
    {
        try
        {
            _b.Return(1);
        }
        catch (EmitException e) when (e.Rule == EmitRule.Unreachable)
        {
        }
    }

    /// <summary>Runs a statement; after the forced target an unreachable statement is skipped (returns false).</summary>
    private bool TryStatement(Action statement)
    {
        try
        {
            statement();
            return true;
        }
        catch (EmitException e) when (Safe)
        {
            // After the target only its refusal matters: a statement refused now (e.g. out of stack, because stack
            // is not shared between branches) is left out; an unreachable one ends its block.
            Swallowed.Add(e);
            return e.Rule != EmitRule.Unreachable;
        }
    }

    private bool Record(FStmt s)
    {
        Failed ??= s;
        return false;
    }

    private void Block(FStmt[] block)
    {
        foreach (var s in block)
        {
            if (Forced && ReferenceEquals(s, _plan!.Target) && !_passedTarget)
            {
                bool goOn = Target(s);
                _passedTarget = true;
                if (!goOn) return;
                continue;
            }
            bool reached;
            try
            {
                reached = TryStatement(() => Stmt(s));
            }
            catch (EmitException) when (!Forced && Record(s))
            {
                throw;
            }
            if (!reached) return;
        }
    }

    /// <summary>Renders the refused statement's stand-in; false when the rest of its block must be dropped.</summary>
    private bool Target(FStmt s)
    {
        var ctx = _b.Context;
        switch (_plan!.Rule)
        {
            case EmitRule.Unreachable:
                return false; // the patcher appends unreachable instructions
            case EmitRule.ReferenceLeak when s is SRingBuf r:
                var ring = _ring ??= _b.RingBuf("ring", 4096);
                _b.IfNotNull(_b.RingBufReserve<ulong>(ring), rec =>
                {
                    rec.U64().Set(U64(r.Value));
                    if (r.Ending == 3) _b.If(Cond(r.When), () => _b.RingBufSubmit(rec), () => { ctx.Reply.Set(Marker); _b.RingBufSubmit(rec); });
                    else { ctx.Reply.Set(Marker); _b.RingBufSubmit(rec); }
                });
                return true;
            case EmitRule.HelperArgument when s is SSetSockOpt o:
                ctx.Reply.Set(Marker);
                _i32[0].Set(_b.SetSockOpt(6, 1, I32(o.Value)));
                return true;
            case EmitRule.HelperNotAllowed:
                ctx.Reply.Set(Marker); // only to see whether the verifier explores this point
                Stmt(s); // rendered as written; the program is built under GPL and loaded under its own license
                return true;
            default:
                ctx.Reply.Set(Marker);
                _b.Return(1);
                return false;
        }
    }

    private void Stmt(FStmt s)
    {
        var b = _b;
        var ctx = b.Context;
        switch (s)
        {
            case SAssign a:
                switch (a.Type)
                {
                    case VT.U32: _u32[a.Local].Set(U32(a.Value)); break;
                    case VT.I32: _i32[a.Local].Set(I32(a.Value)); break;
                    case VT.U64: _u64[a.Local].Set(U64(a.Value)); break;
                    default: _i64[a.Local].Set(I64(a.Value)); break;
                }
                break;
            case SReply r: ctx.Reply.Set(I32(r.Value)); break;
            case STxHash t: ctx.SkTxHash.Set(U32(t.Value)); break;
            case SIf f: b.If(Cond(f.Cond), () => Block(f.Then), f.Else is null ? null : () => Block(f.Else)); break;
            case SSwitch w:
                var sw = b.Switch(w.On is null ? ctx.Op : U32(w.On));
                for (int i = 0; i < w.Cases.Length; i++)
                {
                    var body = w.Bodies[i];
                    sw.Case(w.Cases[i], () => Block(body));
                }
                if (w.Default is not null) sw.Default(() => Block(w.Default)); else sw.End();
                break;
            case SReturn r: b.Return(Safe && r.Value is not (0 or 1) ? 1 : r.Value); break;
            case SReturnExpr r:
                if (Safe) { b.Return(1); break; }
                var field = FuzzTables.Fields32[r.Field].Get(ctx);
                b.Return((I32)(r.Mask ? field & (uint)r.Operand : field >> r.Operand));
                break;
            case SFor f: b.For(0, f.Count, _ => Block(f.Body)); break;
            case SSetSockOpt o:
                var opt = FuzzTables.Options[Safe ? 0 : o.Option];
                _i32[0].Set(b.SetSockOpt(opt.Level, opt.Name, I32(o.Value)));
                break;
            case STime t: _u64[0].Set(_u64[0] + t.Which switch { 0 => b.KtimeGetNs(), 1 => b.GetSocketCookie(), _ => b.GetNetnsCookie() }); break;
            case SCbFlags c: _i32[1].Set(b.SockOpsCbFlagsSet(U32(c.Flags))); break;
            case SMapLookup l:
                var map = Plain(l.Hash);
                b.IfNotNull(b.MapLookup(map, l.Hash ? U64(l.Key) : U64(l.Key) & 15), v =>
                {
                    v.U64().Set(v.U64() + U64(l.Add));
                    Block(l.Body);
                });
                break;
            case SMapUpdate u: b.MapUpdate(Plain(u.Hash), u.Hash ? U64(u.Key) : U64(u.Key) & 15, U64(u.Value)); break;
            case SSkStorage k:
                var storage = _storage ??= b.Map<int, ulong>("storage", MapType.SkStorage, 0, MapFlags.NoPrealloc);
                b.IfNotNull(ctx.Sk, sk =>
                {
                    b.IfNotNull(b.SkStorageGet(storage, sk, SkStorageGetFlags.Create), v => v.U64().Set(v.U64() + U64(k.Add)));
                    if (k.TcpSock) b.IfNotNull(b.TcpSock(sk), tcp => _u32[1].Set(tcp.SndCwnd + sk.DstPort));
                });
                break;
            case SRingBuf r:
                var ring = _ring ??= b.RingBuf("ring", 4096);
                b.IfNotNull(b.RingBufReserve<ulong>(ring), rec =>
                {
                    rec.U64().Set(U64(r.Value));
                    switch (Safe ? 0 : r.Ending)
                    {
                        case 0: b.RingBufSubmit(rec); break;
                        case 1: b.RingBufDiscard(rec); break;
                        case 2: break;
                        default: b.If(Cond(r.When), () => b.RingBufSubmit(rec)); break;
                    }
                });
                break;
            case SPrintk p:
                if (!Safe) b.Printk("v=%u\n", U32(p.Arg));
                break;
            case SStack k:
                if (Safe) break;
                switch (FuzzTables.StackSizes[k.Size])
                {
                    case 8: b.StackStruct<S8>(); break;
                    case 16: b.StackStruct<S16>(); break;
                    case 64: b.StackStruct<S64>(); break;
                    case 128: b.StackStruct<S128>(); break;
                    case 256: b.StackStruct<S256>(); break;
                    case 504: b.StackStruct<S504>(); break;
                    default: b.StackStruct<S520>(); break;
                }
                break;
            case SCtxRead r:
                if (!Safe) _u64[0].Set(ctx.Read(r.Offset, r.Size));
                break;
            case SCtxWrite w:
                if (!Safe) ctx.Write(w.Offset, w.Size, U32(w.Value));
                break;
            case SShift h:
                if (Safe) break;
                if (h.Is64) _u64[0].Set(ctx.BytesAcked << h.Amount);
                else _u32[0].Set(FuzzTables.Fields32[h.Field].Get(ctx) << h.Amount);
                break;
            case SDivZero d:
                if (!Safe) _u32[0].Set(FuzzTables.Fields32[d.Field].Get(ctx) / 0u);
                break;
            case SUninit u:
                if (Safe) break;
                var x = b.LocalI32("x");
                b.If(Cond(u.Cond), () => x.Set(1));
                ctx.Reply.Set(x);
                break;
            default: throw new InvalidOperationException(s.ToString());
        }
    }

    private Map<uint, ulong> Plain(bool hash) => hash
        ? _hash ??= _b.Map<uint, ulong>("hash", MapType.Hash, 64)
        : _array ??= _b.Map<uint, ulong>("array", MapType.Array, 16);

    private Condition Cond(FCond c) => c switch
    {
        FCmp m => Compare(m),
        FAnd a => Cond(a.Left) & Cond(a.Right),
        FOr o => Cond(o.Left) | Cond(o.Right),
        FNot n => !Cond(n.Value),
        _ => throw new InvalidOperationException(c.ToString()),
    };

    private Condition Compare(FCmp m)
    {
        switch (m.Left.Type)
        {
            case VT.U32: { U32 l = U32(m.Left), r = U32(m.Right); return m.Op switch { "==" => l == r, "!=" => l != r, "<" => l < r, "<=" => l <= r, ">" => l > r, _ => l >= r }; }
            case VT.I32: { I32 l = I32(m.Left), r = I32(m.Right); return m.Op switch { "==" => l == r, "!=" => l != r, "<" => l < r, "<=" => l <= r, ">" => l > r, _ => l >= r }; }
            case VT.U64: { U64 l = U64(m.Left), r = U64(m.Right); return m.Op switch { "==" => l == r, "!=" => l != r, "<" => l < r, "<=" => l <= r, ">" => l > r, _ => l >= r }; }
            default: { I64 l = I64(m.Left), r = I64(m.Right); return m.Op switch { "==" => l == r, "!=" => l != r, "<" => l < r, "<=" => l <= r, ">" => l > r, _ => l >= r }; }
        }
    }

    private U32 U32(FExpr e) => e switch
    {
        FConst c => (uint)c.Value,
        FField f => FuzzTables.Fields32[f.Index].Get(_b.Context),
        FLocal l => _u32[l.Index],
        FBin x => Bin(x.Op, U32(x.Left), U32(x.Right)),
        FShift s => s.Left ? U32(s.Value) << s.Amount : U32(s.Value) >> s.Amount,
        FUn u => u.Op switch { "-" => -U32(u.Value), "~" => ~U32(u.Value), _ => ByteOrder.Ntohl(U32(u.Value)) },
        FCast c => c.Value.Type switch { VT.I32 => (U32)I32(c.Value), VT.U64 => (U32)U64(c.Value), VT.I64 => (U32)I64(c.Value), _ => U32(c.Value) },
        _ => throw new InvalidOperationException(e.ToString()),
    };

    private I32 I32(FExpr e) => e switch
    {
        FConst c => (int)c.Value,
        FLocal l => _i32[l.Index],
        FBin x => Bin(x.Op, I32(x.Left), I32(x.Right)),
        FShift s => s.Left ? I32(s.Value) << s.Amount : I32(s.Value) >> s.Amount,
        FUn u => u.Op == "-" ? -I32(u.Value) : ~I32(u.Value),
        FCast c => c.Value.Type switch { VT.U32 => (I32)U32(c.Value), VT.U64 => (I32)U64(c.Value), VT.I64 => (I32)I64(c.Value), _ => I32(c.Value) },
        _ => throw new InvalidOperationException(e.ToString()),
    };

    private U64 U64(FExpr e) => e switch
    {
        FConst c => (ulong)c.Value,
        FField f => FuzzTables.Fields64[f.Index].Get(_b.Context),
        FLocal l => _u64[l.Index],
        FBin x => Bin(x.Op, U64(x.Left), U64(x.Right)),
        FShift s => s.Left ? U64(s.Value) << s.Amount : U64(s.Value) >> s.Amount,
        FUn u => u.Op == "-" ? -U64(u.Value) : ~U64(u.Value),
        FCast c => c.Value.Type switch { VT.U32 => U32(c.Value), VT.I32 => (U64)I32(c.Value), VT.I64 => (U64)I64(c.Value), _ => U64(c.Value) },
        _ => throw new InvalidOperationException(e.ToString()),
    };

    private I64 I64(FExpr e) => e switch
    {
        FConst c => c.Value,
        FLocal l => _i64[l.Index],
        FBin x => Bin(x.Op, I64(x.Left), I64(x.Right)),
        FShift s => s.Left ? I64(s.Value) << s.Amount : I64(s.Value) >> s.Amount,
        FUn u => u.Op == "-" ? -I64(u.Value) : ~I64(u.Value),
        FCast c => c.Value.Type switch { VT.U32 => (I64)U32(c.Value), VT.I32 => I32(c.Value), VT.U64 => (I64)U64(c.Value), _ => I64(c.Value) },
        _ => throw new InvalidOperationException(e.ToString()),
    };

    private static U32 Bin(string op, U32 l, U32 r) => op switch { "+" => l + r, "-" => l - r, "*" => l * r, "/" => l / r, "%" => l % r, "&" => l & r, "|" => l | r, _ => l ^ r };
    private static I32 Bin(string op, I32 l, I32 r) => op switch { "+" => l + r, "-" => l - r, "*" => l * r, "/" => l / r, "%" => l % r, "&" => l & r, "|" => l | r, _ => l ^ r };
    private static U64 Bin(string op, U64 l, U64 r) => op switch { "+" => l + r, "-" => l - r, "*" => l * r, "/" => l / r, "%" => l % r, "&" => l & r, "|" => l | r, _ => l ^ r };
    private static I64 Bin(string op, I64 l, I64 r) => op switch { "+" => l + r, "-" => l - r, "*" => l * r, "/" => l / r, "%" => l % r, "&" => l & r, "|" => l | r, _ => l ^ r };
}
