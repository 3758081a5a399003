using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using SockOps.Emit.Assembler;

namespace SockOps.Emit;

public sealed partial class SockOpsBuilder
{
    private enum HelperArgKind : byte { Ctx = 1, Scalar, Map, Stack, Pointer, ReadOnlyData }

    /// <summary>
    /// One helper argument: the ctx, a scalar expression, a map, a stack slot address, a checked pointer, or a pointer
    /// into the read-only data. A struct, so that passing arguments allocates nothing.
    /// </summary>
    private readonly struct HelperArg
    {
        private HelperArg(HelperArgKind kind, object? reference, int number)
        {
            Kind = kind;
            _reference = reference;
            Number = number;
        }

        private readonly object? _reference;

        public HelperArgKind Kind { get; }
        /// <summary>The stack offset (Stack) or the offset into the read-only data (ReadOnlyData).</summary>
        public int Number { get; }
        public Expr Value => (Expr)_reference!;
        public MapDeclaration Map => (MapDeclaration)_reference!;
        public MemoryBase Memory => (MemoryBase)_reference!;

        public static HelperArg Ctx => new(HelperArgKind.Ctx, null, 0);
        public static HelperArg Scalar(Expr value) => new(HelperArgKind.Scalar, value, 0);
        public static HelperArg MapOf(MapDeclaration map) => new(HelperArgKind.Map, map, 0);
        public static HelperArg Stack(short offset) => new(HelperArgKind.Stack, null, offset);
        public static HelperArg Pointer(MemoryBase memory) => new(HelperArgKind.Pointer, memory, 0);
        /// <summary>A pointer into the program's read-only data (<see cref="MapDeclaration.ReadOnlyDataName"/>) at an offset.</summary>
        public static HelperArg ReadOnlyData(int offset) => new(HelperArgKind.ReadOnlyData, null, offset);
    }

    /// <summary>Emits a helper call; returns the variable holding r0.</summary>
    private Variable Call(int helper, SourceLocation loc, Ty resultType, PointerKind resultPointer, params ReadOnlySpan<HelperArg> args) =>
        Call(helper, null, loc, resultType, resultPointer, args);

    /// <summary>Emits a helper call, or with <paramref name="kfunc"/> a kfunc call (source 2, BTF id patched by the loader).</summary>
    private Variable Call(int helper, string? kfunc, SourceLocation loc, Ty resultType, PointerKind resultPointer, params ReadOnlySpan<HelperArg> args)
    {
        if (kfunc is null && Helpers.WhyRefused(helper, KernelNumbers.IsGplCompatible(License), Capabilities) is { } refused)
            throw new EmitException(EmitRule.HelperNotAllowed, loc, $"{refused} (license \"{License}\", capabilities {Capabilities}).");
        if (kfunc is null) RequireKernel(Helpers.Find(helper)!.Feature, loc);
        Span<int> regs = stackalloc int[args.Length];
        // Computed scalars first (they may read the ctx through r1), then the cheap operands (constants,
        // stack addresses, map pointers) right before the call, so that each can be built in its argument
        // register. The operands are pure, so the order does not change the meaning. (One pass per rank keeps
        // the argument order within a rank.)
        for (int rank = 0; rank <= 2; rank++)
        for (int i = 0; i < args.Length; i++)
        {
            if (ArgumentRank(args[i]) != rank) continue;
            var arg = args[i];
            switch (arg.Kind)
            {
                case HelperArgKind.Ctx:
                    regs[i] = ContextRegister;
                    break;
                case HelperArgKind.Scalar:
                    regs[i] = EvalClean(arg.Value, loc);
                    break;
                case HelperArgKind.Map:
                    regs[i] = NewRegister();
                    Emit(new IrInst { Kind = IrKind.LdImm64, Dst = regs[i], MapName = arg.Map.Name, Location = loc });
                    break;
                case HelperArgKind.ReadOnlyData:
                    regs[i] = NewRegister();
                    Emit(new IrInst { Kind = IrKind.LdImm64, Dst = regs[i], MapName = MapDeclaration.ReadOnlyDataName, MapValue = true, Imm = arg.Number, Location = loc });
                    break;
                case HelperArgKind.Stack:
                    regs[i] = NewRegister();
                    Emit(new IrInst { Kind = IrKind.StackAddr, Dst = regs[i], Offset = (short)arg.Number, Location = loc });
                    break;
                case HelperArgKind.Pointer:
                    var memory = arg.Memory;
                    if (memory.ScopeId != 0 && !_activeScopes.Contains(memory.ScopeId))
                        throw new EmitException(EmitRule.NullCheck, loc, $"{memory.Description} is used outside the null check that produced it.");
                    regs[i] = memory.Pointer!.Register;
                    break;
                default:
                    throw new InvalidOperationException($"Helper argument {i} was not set.");
            }
        }
        for (int i = 0; i < args.Length; i++) EmitMove(i + 1, regs[i], true, loc);
        Emit(new IrInst { Kind = IrKind.Call, Imm = helper, KfuncName = kfunc, ArgCount = args.Length, Location = loc });
        var result = new Variable(NewRegister(), resultType, kfunc ?? KernelNumbers.HelperName(helper), false)
        {
            Owner = this,
            DirtyUpper = !resultType.Is64(),
            Pointer = resultPointer,
        };
        EmitMove(result.Register, 0, true, loc);
        _path.Assign(result);
        return result;
    }

    private static int ArgumentRank(HelperArg arg) => arg.Kind switch
    {
        HelperArgKind.Scalar when arg.Value is not ConstExpr => 0,
        HelperArgKind.Pointer or HelperArgKind.Ctx => 1,
        _ => 2,
    };

    private MapDeclaration Use<TKey, TValue>(Map<TKey, TValue> map, SourceLocation loc, string helper, params MapType[] kinds)
        where TKey : unmanaged where TValue : unmanaged
    {
        ArgumentNullException.ThrowIfNull(map);
        if (!ReferenceEquals(map.Owner, this))
            throw new EmitException(EmitRule.Usage, loc, $"Map '{map.Name}' was declared by another program.");
        if (!kinds.Contains(map.Kind))
            throw new EmitException(EmitRule.HelperArgument, loc,
                $"{helper} cannot use map '{map.Name}' of kind {map.Kind} (cannot pass map_type {(int)map.Kind} into func {helper}); it needs {string.Join(" or ", kinds)}.");
        return map.Declaration;
    }

    private static readonly MapType[] PlainMaps = [MapType.Hash, MapType.Array, MapType.PerCpuHash, MapType.PerCpuArray, MapType.LruHash];

    /// <summary>Puts a scalar key/value of <paramref name="size"/> bytes on the stack (constants once, at entry).</summary>
    private short ScalarOnStack(Expr value, int size, SourceLocation loc)
    {
        if (size is not (4 or 8)) throw new EmitException(EmitRule.HelperArgument, loc, $"A scalar can stand for a {size}-byte key or value only through a StackRef.");
        short offset = AllocateStack(size, size, loc);
        if (Fold.IsConst(value, out long k) && (size == 4 || k is >= int.MinValue and <= int.MaxValue))
        {
            // A store right before the call (not a shared slot): identical call sequences can then share code.
            Emit(new IrInst { Kind = IrKind.StoreImm, Dst = 10, Src = -1, Offset = offset, Size = SizeFor(size), Imm = unchecked((int)k), Location = loc });
            return offset;
        }
        int reg = size == 8 ? EvalClean(value, loc) : Eval(value, loc).Reg;
        Emit(new IrInst { Kind = IrKind.Store, Dst = 10, Src = reg, Offset = offset, Size = SizeFor(size), Location = loc });
        return offset;
    }

    private HelperArg StackObject(MemoryView view, int expectedSize, string what, SourceLocation loc, bool helperFillsAll = false)
    {
        if (view.Memory.Kind != PointerKind.Stack)
            throw new EmitException(EmitRule.HelperArgument, loc, $"{what} must be a stack object (b.StackStruct); the kernel refuses {view.Memory.Description} here.");
        if (expectedSize >= 0 && view.Size != expectedSize)
            throw new EmitException(EmitRule.HelperArgument, loc, $"{what} is {view.Size} bytes; the map needs {expectedSize}.");
        UseStackObject(view.Memory, helperFillsAll, loc);
        return HelperArg.Stack(view.Memory.StackOffset);
    }

    private I32 Statement(Func<SourceLocation, Variable> body, SourceLocation loc)
    {
        BeginStatement(loc);
        int mark = StackMark;
        var v = body(loc);
        ReleaseStack(mark);
        return new I32(v.Expr);
    }

    // ---------------------------------------------------------------- maps

    /// <summary>Declares a map with C# key and value types (<c>struct { __uint(type, …) … } name SEC(".maps")</c>).</summary>
    public Map<TKey, TValue> Map<TKey, TValue>(string name, MapType kind, uint maxEntries, MapFlags flags = MapFlags.None,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
        where TKey : unmanaged where TValue : unmanaged
    {
        var loc = At(file, line, member);
        if (string.IsNullOrEmpty(name)) throw new EmitException(EmitRule.Usage, loc, "A map needs a name.");
        if (name == MapDeclaration.ReadOnlyDataName)
            throw new EmitException(EmitRule.Usage, loc, $"Map name '{name}' is reserved for the program's read-only data (printk formats).");
        // The map becomes a BTF VAR (object files, line info) and a kernel object name: both want a C identifier.
        if (ProgramDebugInfo.FunctionName(name) != name)
            throw new EmitException(EmitRule.Usage, loc, $"Map name '{name}' is not a C identifier (letters, digits and '_', not starting with a digit).");
        if (_maps.ContainsKey(name)) throw new EmitException(EmitRule.Usage, loc, $"Map '{name}' is declared twice.");
        int keySize = typeof(TKey) == typeof(NoData) ? 0 : Unsafe.SizeOf<TKey>();
        int valueSize = typeof(TValue) == typeof(NoData) ? 0 : Unsafe.SizeOf<TValue>();
        if (!KernelTargets.DeclarableMapTypes.Contains(kind))
            throw new EmitException(EmitRule.Usage, loc, $"The DSL does not declare {kind} maps; it declares {string.Join(", ", KernelTargets.DeclarableMapTypes)}.");
        switch (kind)
        {
            case MapType.SkStorage when maxEntries != 0 || (flags & MapFlags.NoPrealloc) == 0 || keySize != 4:
                throw new EmitException(EmitRule.HelperArgument, loc, "An SK_STORAGE map has an int key, max_entries 0 and BPF_F_NO_PREALLOC.");
            case MapType.RingBuf when keySize != 0 || valueSize != 0 || maxEntries == 0 || (maxEntries & (maxEntries - 1)) != 0 || maxEntries % 4096 != 0:
                throw new EmitException(EmitRule.HelperArgument, loc, "A RINGBUF map has no key or value (NoData) and a power-of-two size that is a multiple of the page size.");
            case MapType.SockMap or MapType.SockHash when valueSize is not (4 or 8):
                throw new EmitException(EmitRule.HelperArgument, loc, "A SOCKMAP/SOCKHASH value is a 4- or 8-byte socket fd/cookie.");
            case MapType.SockMap or MapType.Array or MapType.PerCpuArray or MapType.PerfEventArray when keySize != 4:
                throw new EmitException(EmitRule.HelperArgument, loc, $"A {kind} map has a 4-byte index key.");
        }
        RequireKernel(KernelTargets.MapTypeFeature(kind), loc);
        var declaration = new MapDeclaration(name, kind, keySize == 0 ? null : typeof(TKey), valueSize == 0 ? null : typeof(TValue), keySize, valueSize, maxEntries, flags);
        _maps.Add(name, declaration);
        return new Map<TKey, TValue>(declaration, this);
    }

    /// <summary>Declares a ring buffer of <paramref name="sizeBytes"/> bytes (a power of two, multiple of 4096).</summary>
    public Map<NoData, NoData> RingBuf(string name, uint sizeBytes, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") =>
        Map<NoData, NoData>(name, MapType.RingBuf, sizeBytes, MapFlags.None, file, line, member);

    /// <summary><c>bpf_map_lookup_elem(map, &amp;key)</c> with a 4- or 8-byte scalar key; the value exists only inside <c>IfNotNull</c>.</summary>
    public MaybeNull<MapValueRef<TValue>> MapLookup<TKey, TValue>(Map<TKey, TValue> map, U64 key,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
        where TKey : unmanaged where TValue : unmanaged
    {
        var loc = At(file, line, member);
        BeginStatement(loc);
        var decl = Use(map, loc, "bpf_map_lookup_elem", PlainMaps);
        short keySlot = ScalarOnStack(key.Expr, decl.KeySize, loc);
        return LookupResult<TValue>(Call(KernelNumbers.MapLookupElem, loc, Ty.U64, PointerKind.MapValue, HelperArg.MapOf(decl), HelperArg.Stack(keySlot)), decl);
    }

    /// <summary><c>bpf_map_lookup_elem(map, key)</c> with a key object on the stack.</summary>
    public MaybeNull<MapValueRef<TValue>> MapLookup<TKey, TValue>(Map<TKey, TValue> map, StackRef<TKey> key,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
        where TKey : unmanaged where TValue : unmanaged
    {
        var loc = At(file, line, member);
        BeginStatement(loc);
        var decl = Use(map, loc, "bpf_map_lookup_elem", PlainMaps);
        return LookupResult<TValue>(Call(KernelNumbers.MapLookupElem, loc, Ty.U64, PointerKind.MapValue, HelperArg.MapOf(decl), StackObject(key, decl.KeySize, "The key", loc)), decl);
    }

    private static MaybeNull<MapValueRef<TValue>> LookupResult<TValue>(Variable v, MapDeclaration decl) where TValue : unmanaged =>
        new((_, _) => v, (p, scope) => new MapValueRef<TValue>(new MemoryBase
        {
            Kind = PointerKind.MapValue, Pointer = p, Size = decl.ValueSize, ScopeId = scope, Description = $"the value of map '{decl.Name}'",
        }), isReference: false);

    /// <summary><c>bpf_map_update_elem(map, &amp;key, &amp;value, flags)</c> with scalar key and value.</summary>
    public I32 MapUpdate<TKey, TValue>(Map<TKey, TValue> map, U64 key, U64 value, MapUpdateFlags flags = MapUpdateFlags.Any,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
        where TKey : unmanaged where TValue : unmanaged =>
        Statement(loc =>
        {
            var decl = Use(map, loc, "bpf_map_update_elem", PlainMaps);
            short k = ScalarOnStack(key.Expr, decl.KeySize, loc);
            short v = ScalarOnStack(value.Expr, decl.ValueSize, loc);
            return Call(KernelNumbers.MapUpdateElem, loc, Ty.I32, PointerKind.None, HelperArg.MapOf(decl), HelperArg.Stack(k), HelperArg.Stack(v), HelperArg.Scalar(Fold.Const(Ty.U64, (long)flags)));
        }, At(file, line, member));

    /// <summary><c>bpf_map_update_elem(map, &amp;key, &amp;value, flags)</c> with stack objects.</summary>
    public I32 MapUpdate<TKey, TValue>(Map<TKey, TValue> map, StackRef<TKey> key, StackRef<TValue> value, MapUpdateFlags flags = MapUpdateFlags.Any,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
        where TKey : unmanaged where TValue : unmanaged =>
        Statement(loc =>
        {
            var decl = Use(map, loc, "bpf_map_update_elem", PlainMaps);
            return Call(KernelNumbers.MapUpdateElem, loc, Ty.I32, PointerKind.None, HelperArg.MapOf(decl),
                StackObject(key, decl.KeySize, "The key", loc), StackObject(value, decl.ValueSize, "The value", loc), HelperArg.Scalar(Fold.Const(Ty.U64, (long)flags)));
        }, At(file, line, member));

    /// <summary><c>bpf_map_delete_elem(map, &amp;key)</c> (also allowed on SOCKMAP/SOCKHASH).</summary>
    public I32 MapDelete<TKey, TValue>(Map<TKey, TValue> map, U64 key,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
        where TKey : unmanaged where TValue : unmanaged =>
        Statement(loc =>
        {
            var decl = Use(map, loc, "bpf_map_delete_elem", [.. PlainMaps, MapType.SockMap, MapType.SockHash]);
            short k = ScalarOnStack(key.Expr, decl.KeySize, loc);
            return Call(KernelNumbers.MapDeleteElem, loc, Ty.I32, PointerKind.None, HelperArg.MapOf(decl), HelperArg.Stack(k));
        }, At(file, line, member));

    /// <summary><c>bpf_sock_map_update(skops, map, &amp;key, flags)</c> — SOCKMAP only; works in the ESTABLISHED and LISTEN callbacks.</summary>
    public I32 SockMapUpdate<TKey, TValue>(Map<TKey, TValue> map, U32 key, MapUpdateFlags flags = MapUpdateFlags.Any,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
        where TKey : unmanaged where TValue : unmanaged =>
        Statement(loc =>
        {
            var decl = Use(map, loc, "bpf_sock_map_update", MapType.SockMap);
            short k = ScalarOnStack(key.Expr, 4, loc);
            return Call(KernelNumbers.SockMapUpdate, loc, Ty.I32, PointerKind.None, HelperArg.Ctx, HelperArg.MapOf(decl), HelperArg.Stack(k), HelperArg.Scalar(Fold.Const(Ty.U64, (long)flags)));
        }, At(file, line, member));

    /// <summary><c>bpf_sock_hash_update(skops, map, &amp;key, flags)</c> — SOCKHASH only, with a 4- or 8-byte scalar key.</summary>
    public I32 SockHashUpdate<TKey, TValue>(Map<TKey, TValue> map, U64 key, MapUpdateFlags flags = MapUpdateFlags.Any,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
        where TKey : unmanaged where TValue : unmanaged =>
        Statement(loc =>
        {
            var decl = Use(map, loc, "bpf_sock_hash_update", MapType.SockHash);
            short k = ScalarOnStack(key.Expr, decl.KeySize, loc);
            return Call(KernelNumbers.SockHashUpdate, loc, Ty.I32, PointerKind.None, HelperArg.Ctx, HelperArg.MapOf(decl), HelperArg.Stack(k), HelperArg.Scalar(Fold.Const(Ty.U64, (long)flags)));
        }, At(file, line, member));

    /// <summary><c>bpf_sk_storage_get(map, sk, NULL, flags)</c>; the value exists only inside <c>IfNotNull</c>.</summary>
    public MaybeNull<MapValueRef<TValue>> SkStorageGet<TKey, TValue>(Map<TKey, TValue> map, SockRef sk, SkStorageGetFlags flags = SkStorageGetFlags.None,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
        where TKey : unmanaged where TValue : unmanaged
    {
        ArgumentNullException.ThrowIfNull(sk);
        var loc = At(file, line, member);
        BeginStatement(loc);
        var decl = Use(map, loc, "bpf_sk_storage_get", MapType.SkStorage);
        var v = Call(KernelNumbers.SkStorageGet, loc, Ty.U64, PointerKind.MapValue, HelperArg.MapOf(decl), HelperArg.Pointer(sk.Memory),
            HelperArg.Scalar(Fold.Const(Ty.U64, 0)), HelperArg.Scalar(Fold.Const(Ty.U64, (long)flags)));
        return LookupResult<TValue>(v, decl);
    }

    /// <summary><c>bpf_sk_storage_delete(map, sk)</c>.</summary>
    public I32 SkStorageDelete<TKey, TValue>(Map<TKey, TValue> map, SockRef sk,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
        where TKey : unmanaged where TValue : unmanaged =>
        Statement(loc =>
        {
            ArgumentNullException.ThrowIfNull(sk);
            var decl = Use(map, loc, "bpf_sk_storage_delete", MapType.SkStorage);
            return Call(KernelNumbers.SkStorageDelete, loc, Ty.I32, PointerKind.None, HelperArg.MapOf(decl), HelperArg.Pointer(sk.Memory));
        }, At(file, line, member));

    /// <summary><c>bpf_tcp_sock(sk)</c>; the TCP socket exists only inside <c>IfNotNull</c>.</summary>
    public MaybeNull<TcpSockRef> TcpSock(SockRef sk, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
    {
        ArgumentNullException.ThrowIfNull(sk);
        var loc = At(file, line, member);
        BeginStatement(loc);
        var v = Call(KernelNumbers.TcpSock, loc, Ty.U64, PointerKind.TcpSocket, HelperArg.Pointer(sk.Memory));
        return new MaybeNull<TcpSockRef>((_, _) => v, (p, scope) => new TcpSockRef(p, scope), isReference: false);
    }

    // ---------------------------------------------------------------- socket options and callbacks

    /// <summary><c>bpf_setsockopt(skops, level, optname, &amp;value, 4)</c>; a constant value is placed on the stack once.</summary>
    public I32 SetSockOpt(int level, int optionName, I32 value, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
    {
        // Statement(…) written out: the most frequent helper, and a lambda here would allocate a closure per call.
        var loc = At(file, line, member);
        BeginStatement(loc);
        int mark = StackMark;
        CheckOption(SocketOptions.CheckSetsockopt(level, optionName, 4), loc);
        RequireOption(level, optionName, isSet: true, loc);
        short slot = Fold.IsConst(value.Expr, out long constant) ? ConstantSlot((int)constant, 4, loc) : ScalarOnStack(value.Expr, 4, loc);
        var v = Call(KernelNumbers.SetSockOpt, loc, Ty.I32, PointerKind.None, HelperArg.Ctx, HelperArg.Scalar(Fold.Const(Ty.U64, level)),
            HelperArg.Scalar(Fold.Const(Ty.U64, optionName)), HelperArg.Stack(slot), HelperArg.Scalar(Fold.Const(Ty.U64, 4)));
        ReleaseStack(mark);
        return new I32(v.Expr);
    }

    private static void CheckOption(string? problem, SourceLocation loc)
    {
        if (problem is not null) throw new EmitException(EmitRule.HelperArgument, loc, problem);
    }

    /// <summary>A socket option newer than the target kernel fails with -EINVAL there: refused like any newer feature.</summary>
    private void RequireOption(int level, int optionName, bool isSet, SourceLocation loc)
    {
        if (SocketOptions.Find(level, optionName) is { } option) RequireKernel(isSet ? option.SetFeature : option.GetFeature, loc);
    }

    /// <summary><c>bpf_setsockopt(skops, SOL_SOCKET, option, &amp;value, 4)</c>.</summary>
    public I32 SetSockOpt(SocketLevelOption option, I32 value, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") =>
        SetSockOpt((int)SocketOptionLevel.Socket, (int)option, value, file, line, member);

    /// <summary><c>bpf_setsockopt(skops, SOL_TCP, option, &amp;value, 4)</c>.</summary>
    public I32 SetSockOpt(TcpOption option, I32 value, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") =>
        SetSockOpt((int)SocketOptionLevel.Tcp, (int)option, value, file, line, member);

    /// <summary><c>bpf_setsockopt(skops, SOL_TCP, option, "string", strlen + 1)</c> (e.g. TCP_CONGESTION).</summary>
    public I32 SetSockOpt(TcpOption option, string value, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") =>
        SetSockOpt((int)SocketOptionLevel.Tcp, (int)option, value, file, line, member);

    /// <summary><c>bpf_setsockopt(skops, SOL_IP, option, &amp;value, 4)</c>.</summary>
    public I32 SetSockOpt(IpOption option, I32 value, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") =>
        SetSockOpt((int)SocketOptionLevel.Ip, (int)option, value, file, line, member);

    /// <summary><c>bpf_setsockopt(skops, SOL_IPV6, option, &amp;value, 4)</c>.</summary>
    public I32 SetSockOpt(Ipv6Option option, I32 value, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") =>
        SetSockOpt((int)SocketOptionLevel.Ipv6, (int)option, value, file, line, member);

    /// <summary><c>bpf_setsockopt</c> with enum level and option.</summary>
    public I32 SetSockOpt<TLevel, TOption>(TLevel level, TOption option, I32 value, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
        where TLevel : struct, Enum where TOption : struct, Enum =>
        SetSockOpt(Convert.ToInt32(level, CultureInfo.InvariantCulture), Convert.ToInt32(option, CultureInfo.InvariantCulture), value, file, line, member);

    /// <summary><c>bpf_setsockopt</c> with a NUL-terminated string value (e.g. TCP_CONGESTION "dctcp").</summary>
    public I32 SetSockOpt(int level, int optionName, string value, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") =>
        Statement(loc =>
        {
            var (offset, length) = StringOnStack(value, loc);
            CheckOption(SocketOptions.CheckSetsockopt(level, optionName, length), loc);
            RequireOption(level, optionName, isSet: true, loc);
            return Call(KernelNumbers.SetSockOpt, loc, Ty.I32, PointerKind.None, HelperArg.Ctx, HelperArg.Scalar(Fold.Const(Ty.U64, level)),
                HelperArg.Scalar(Fold.Const(Ty.U64, optionName)), HelperArg.Stack(offset), HelperArg.Scalar(Fold.Const(Ty.U64, length)));
        }, At(file, line, member));

    /// <summary><c>bpf_getsockopt(skops, level, optname, &amp;value, 4)</c>; <paramref name="value"/> reads the result.</summary>
    public I32 GetSockOpt(int level, int optionName, out I32 value, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
    {
        var loc = At(file, line, member);
        BeginStatement(loc);
        CheckOption(SocketOptions.CheckGetsockopt(level, optionName, 4), loc);
        RequireOption(level, optionName, isSet: false, loc);
        short slot = AllocateStack(4, 4, loc, permanent: true);
        var memory = new MemoryBase { Kind = PointerKind.Stack, StackOffset = slot, Size = 4, Description = "the getsockopt buffer" };
        var v = Call(KernelNumbers.GetSockOpt, loc, Ty.I32, PointerKind.None, HelperArg.Ctx, HelperArg.Scalar(Fold.Const(Ty.U64, level)),
            HelperArg.Scalar(Fold.Const(Ty.U64, optionName)), HelperArg.Stack(slot), HelperArg.Scalar(Fold.Const(Ty.U64, 4)));
        value = new I32(new LoadExpr(Ty.I32, memory, 0, MemorySize.W, "getsockopt value", writable: true));
        return new I32(v.Expr);
    }

    /// <summary><c>bpf_getsockopt</c> into a stack object (strings such as TCP_CONGESTION, TCP_SAVED_SYN bytes).</summary>
    public I32 GetSockOpt<T>(int level, int optionName, StackRef<T> buffer, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
        where T : unmanaged =>
        Statement(loc =>
        {
            RequireOption(level, optionName, isSet: false, loc);
            return Call(KernelNumbers.GetSockOpt, loc, Ty.I32, PointerKind.None, HelperArg.Ctx, HelperArg.Scalar(Fold.Const(Ty.U64, level)),
                HelperArg.Scalar(Fold.Const(Ty.U64, optionName)),
                // optval is ARG_PTR_TO_UNINIT_MEM and optlen the whole object: the verifier counts every byte written, and the
                // helper copies the value and zeroes the rest, or zeroes it all on an error (not for -EOPNOTSUPP above op 15).
                StackObject(buffer, -1, "The buffer", loc, helperFillsAll: true), HelperArg.Scalar(Fold.Const(Ty.U64, buffer.Size)));
        }, At(file, line, member));

    /// <summary><c>bpf_sock_ops_cb_flags_set(skops, flags)</c>.</summary>
    public I32 SockOpsCbFlagsSet(U32 flags, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") =>
        Statement(loc =>
        {
            // A constant flag the target does not know is returned as "not set" at run time: refuse it here.
            if (Fold.IsConst(flags.Expr, out long constant))
                foreach (var (flag, feature) in KernelTargets.CallbackFlags)
                    if ((constant & (long)flag) != 0) RequireKernel(feature, loc);
            return Call(KernelNumbers.SockOpsCbFlagsSet, loc, Ty.I32, PointerKind.None, HelperArg.Ctx, HelperArg.Scalar(flags.Expr));
        }, At(file, line, member));

    /// <summary><c>bpf_sock_ops_cb_flags_set</c> with an enum of callback flags.</summary>
    public I32 SockOpsCbFlagsSet<TFlags>(TFlags flags, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
        where TFlags : struct, Enum =>
        SockOpsCbFlagsSet((uint)Convert.ToUInt64(flags, CultureInfo.InvariantCulture), file, line, member);

    // ---------------------------------------------------------------- TCP header options

    /// <summary><c>bpf_load_hdr_opt(skops, buf, sizeof buf, flags)</c>: the buffer holds the searched kind (and magic) on input.</summary>
    public I32 LoadHdrOpt<T>(StackRef<T> buffer, U64 flags, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
        where T : unmanaged =>
        Statement(loc => Call(KernelNumbers.LoadHdrOpt, loc, Ty.I32, PointerKind.None, HelperArg.Ctx, StackObject(buffer, -1, "The buffer", loc),
            HelperArg.Scalar(Fold.Const(Ty.U64, buffer.Size)), HelperArg.Scalar(flags.Expr)), At(file, line, member));

    /// <summary><c>bpf_store_hdr_opt(skops, option, sizeof option, flags)</c> (in WRITE_HDR_OPT_CB).</summary>
    public I32 StoreHdrOpt<T>(StackRef<T> option, U64 flags, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
        where T : unmanaged =>
        Statement(loc =>
        {
            var v = Call(KernelNumbers.StoreHdrOpt, loc, Ty.I32, PointerKind.None, HelperArg.Ctx, StackObject(option, -1, "The option", loc),
                HelperArg.Scalar(Fold.Const(Ty.U64, option.Size)), HelperArg.Scalar(flags.Expr));
            // The kernel counts store_hdr_opt among the helpers that change packet data: every packet pointer dies.
            if (_packetScopes.Count > 0) (_path.InvalidPackets ??= []).UnionWith(_packetScopes);
            return v;
        }, At(file, line, member));

    /// <summary><c>bpf_reserve_hdr_opt(skops, length, flags)</c> (in HDR_OPT_LEN_CB).</summary>
    public I32 ReserveHdrOpt(U32 length, U64 flags, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") =>
        Statement(loc => Call(KernelNumbers.ReserveHdrOpt, loc, Ty.I32, PointerKind.None, HelperArg.Ctx, HelperArg.Scalar(Fold.Convert(length.Expr, Ty.U64)), HelperArg.Scalar(flags.Expr)), At(file, line, member));

    // ---------------------------------------------------------------- output

    /// <summary><c>bpf_ringbuf_output(map, data, sizeof data, flags)</c>.</summary>
    public I32 RingBufOutput<T>(Map<NoData, NoData> map, StackRef<T> data, U64 flags, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
        where T : unmanaged =>
        Statement(loc => Call(KernelNumbers.RingBufOutput, loc, Ty.I32, PointerKind.None, HelperArg.MapOf(Use(map, loc, "bpf_ringbuf_output", MapType.RingBuf)),
            StackObject(data, -1, "The data", loc), HelperArg.Scalar(Fold.Const(Ty.U64, data.Size)), HelperArg.Scalar(flags.Expr)), At(file, line, member));

    /// <summary>
    /// <c>bpf_ringbuf_reserve(map, sizeof(T), 0)</c>: inside <c>IfNotNull</c> the record must be submitted or
    /// discarded on every path before the block ends.
    /// </summary>
    public MaybeNull<RingBufRecord<T>> RingBufReserve<T>(Map<NoData, NoData> map, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
        where T : unmanaged
    {
        var loc = At(file, line, member);
        BeginStatement(loc);
        int size = Unsafe.SizeOf<T>();
        var v = Call(KernelNumbers.RingBufReserve, loc, Ty.U64, PointerKind.RingBufRecord, HelperArg.MapOf(Use(map, loc, "bpf_ringbuf_reserve", MapType.RingBuf)),
            HelperArg.Scalar(Fold.Const(Ty.U64, size)), HelperArg.Scalar(Fold.Const(Ty.U64, 0)));
        bool used = false;
        return new MaybeNull<RingBufRecord<T>>(
            (_, l) => used ? throw new EmitException(EmitRule.NullCheck, l, "A ring buffer reservation can be null-checked only once.") : (used = true, v).v,
            (p, scope) => new RingBufRecord<T>(new MemoryBase { Kind = PointerKind.RingBufRecord, Pointer = p, Size = size, ScopeId = scope, Description = "the ring buffer record" }),
            isReference: true);
    }

    /// <summary><c>bpf_ringbuf_submit(record, flags)</c>.</summary>
    public void RingBufSubmit<T>(RingBufRecord<T> record, ulong flags = 0, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
        where T : unmanaged => Release(KernelNumbers.RingBufSubmit, record, flags, At(file, line, member));

    /// <summary><c>bpf_ringbuf_discard(record, flags)</c>.</summary>
    public void RingBufDiscard<T>(RingBufRecord<T> record, ulong flags = 0, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
        where T : unmanaged => Release(KernelNumbers.RingBufDiscard, record, flags, At(file, line, member));

    private void Release(int helper, MemoryView record, ulong flags, SourceLocation loc)
    {
        ArgumentNullException.ThrowIfNull(record);
        BeginStatement(loc);
        int index = _path.OpenReferences?.FindIndex(r => r.Reservation == record.Memory.Pointer) ?? -1;
        if (index < 0) throw new EmitException(EmitRule.ReferenceLeak, loc, "This ring buffer record was already submitted or discarded on this path.");
        Call(helper, loc, Ty.U64, PointerKind.None, HelperArg.Pointer(record.Memory), HelperArg.Scalar(Fold.Const(Ty.U64, (long)flags)));
        _path.OpenReferences!.RemoveAt(index);
    }

    /// <summary><c>bpf_perf_event_output(skops, map, flags, data, sizeof data)</c> (GPL-only).</summary>
    public I32 PerfEventOutput<T>(Map<int, int> map, StackRef<T> data, ulong flags = 0xffffffff, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
        where T : unmanaged =>
        Statement(loc => Call(KernelNumbers.PerfEventOutput, loc, Ty.I32, PointerKind.None, HelperArg.Ctx, HelperArg.MapOf(Use(map, loc, "bpf_perf_event_output", MapType.PerfEventArray)),
            HelperArg.Scalar(Fold.Const(Ty.U64, (long)flags)), StackObject(data, -1, "The data", loc), HelperArg.Scalar(Fold.Const(Ty.U64, data.Size))), At(file, line, member));

    /// <summary><c>bpf_trace_printk(fmt, sizeof fmt, args…)</c> (<c>bpf_printk</c>; GPL-only, needs CAP_PERFMON). At most 3 arguments.</summary>
    public I32 TracePrintk(string format, PrintArg[] args, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
    {
        ArgumentNullException.ThrowIfNull(args);
        return TracePrintk(format, args.AsSpan(), At(file, line, member));
    }

    // The Printk overloads pass their arguments as a span on the stack: no array per call.
    private I32 TracePrintk(string format, ReadOnlySpan<PrintArg> args, SourceLocation loc)
    {
        // Statement(…) written out, as in SetSockOpt: no closure per call.
        BeginStatement(loc);
        int mark = StackMark;
        if (args.Length > 3) throw new EmitException(EmitRule.HelperArgument, loc, "bpf_trace_printk takes at most 3 arguments.");
        var (offset, length) = ReadOnlyString(format);
        Span<HelperArg> helperArgs = [HelperArg.ReadOnlyData(offset), HelperArg.Scalar(Fold.Const(Ty.U64, length)), default, default, default];
        for (int i = 0; i < args.Length; i++) helperArgs[2 + i] = HelperArg.Scalar(args[i].Value);
        var v = Call(KernelNumbers.TracePrintk, loc, Ty.I32, PointerKind.None, helperArgs[..(2 + args.Length)]);
        ReleaseStack(mark);
        return new I32(v.Expr);
    }

    /// <summary><c>bpf_printk(fmt)</c>.</summary>
    public I32 Printk(string format, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") =>
        TracePrintk(format, [], At(file, line, member));

    /// <summary><c>bpf_printk(fmt, a)</c>.</summary>
    public I32 Printk(string format, PrintArg a, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") =>
        TracePrintk(format, [a], At(file, line, member));

    /// <summary><c>bpf_printk(fmt, a, b, c)</c>.</summary>
    public I32 Printk(string format, PrintArg a, PrintArg b, PrintArg c, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") =>
        TracePrintk(format, [a, b, c], At(file, line, member));

    /// <summary><c>bpf_printk(fmt, a, b)</c>.</summary>
    public I32 Printk(string format, PrintArg a, PrintArg b, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") =>
        TracePrintk(format, [a, b], At(file, line, member));

    // The read-only data and its strings live in the workspace: no list or dictionary per Build.
    private List<byte> ReadOnlyData => _workspace.ReadOnlyData;
    private Dictionary<string, int> ReadOnlyStrings => _workspace.ReadOnlyStrings;

    /// <summary>
    /// Places a NUL-terminated string in the program's read-only data (once per distinct string), as clang puts
    /// bpf_printk formats in <c>.rodata</c>: the call then passes one <c>ld_imm64</c> map-value pointer instead of
    /// building the string on the stack.
    /// </summary>
    private (int Offset, int Length) ReadOnlyString(string text)
    {
        int length = Encoding.UTF8.GetByteCount(text) + 1;
        if (ReadOnlyStrings.TryGetValue(text, out int offset)) return (offset, length);
        var data = ReadOnlyData;
        offset = data.Count;
        CollectionsMarshal.SetCount(data, offset + length);
        var bytes = CollectionsMarshal.AsSpan(data)[offset..];
        Encoding.UTF8.GetBytes(text, bytes);
        bytes[^1] = 0;
        ReadOnlyStrings.Add(text, offset);
        return (offset, length);
    }

    /// <summary>
    /// The declaration of the program's read-only data, if it has any: a one-element array created with
    /// BPF_F_RDONLY_PROG, filled with the strings and frozen by the loader (what libbpf does with clang's <c>.rodata</c>).
    /// </summary>
    private MapDeclaration? ReadOnlyDataDeclaration() =>
        ReadOnlyData.Count == 0 ? null
            : new MapDeclaration(MapDeclaration.ReadOnlyDataName, MapType.Array, typeof(uint), null, 4, ReadOnlyData.Count, 1, MapFlags.ReadOnlyProgram)
            {
                InitialValue = ReadOnlyData.ToArray(),
                Frozen = true,
            };

    /// <summary>Writes a NUL-terminated string into temporary stack with 4-byte immediate stores.</summary>
    private (short Offset, int Length) StringOnStack(string text, SourceLocation loc)
    {
        // UTF-8 and a NUL, encoded on the stack of this method (formats are short).
        int count = Encoding.UTF8.GetByteCount(text) + 1;
        Span<byte> bytes = count <= 256 ? stackalloc byte[count] : new byte[count];
        Encoding.UTF8.GetBytes(text, bytes);
        bytes[^1] = 0;
        int padded = (bytes.Length + 3) / 4 * 4;
        short offset = AllocateStack(padded, 8, loc);
        for (int i = 0; i < padded; i += 4)
        {
            int word = 0;
            for (int j = 0; j < 4 && i + j < bytes.Length; j++) word |= bytes[i + j] << (8 * j);
            Emit(new IrInst { Kind = IrKind.StoreImm, Dst = 10, Offset = (short)(offset + i), Size = MemorySize.W, Imm = word, Location = loc });
        }
        return (offset, bytes.Length);
    }

    // ---------------------------------------------------------------- kfuncs

    /// <summary>
    /// <c>bpf_sock_ops_enable_tx_tstamp(bpf_cast_to_kern_ctx(skops), flags)</c> (kfuncs, Linux 6.15+, GPL): turns on
    /// the TSTAMP_* callbacks for the sendmsg being processed; only acts in TSTAMP_SENDMSG_CB (else -EOPNOTSUPP).
    /// The loader resolves both names in the kernel's BTF (<see cref="ProgramImage.KfuncReferences"/>).
    /// </summary>
    public I32 SockOpsEnableTxTimestamping(U64 flags, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") =>
        Statement(loc =>
        {
            if (!KernelNumbers.IsGplCompatible(License))
                throw new EmitException(EmitRule.HelperNotAllowed, loc, "cannot call kernel function from non-GPL compatible program (kfuncs need a GPL-compatible license).");
            RequireKernel(KernelTargets.EnableTxTimestamping, loc);
            RequireKernel(KernelTargets.CastToKernelContext, loc);
            var kernelContext = Call(0, "bpf_cast_to_kern_ctx", loc, Ty.U64, PointerKind.Context, HelperArg.Ctx);
            return Call(0, "bpf_sock_ops_enable_tx_tstamp", loc, Ty.I32, PointerKind.None,
                HelperArg.Scalar(kernelContext.Expr), HelperArg.Scalar(flags.Expr));
        }, At(file, line, member));

    // ---------------------------------------------------------------- scalars

    /// <summary><c>bpf_ktime_get_ns()</c>.</summary>
    public U64 KtimeGetNs([CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") =>
        Scalar64(KernelNumbers.KtimeGetNs, At(file, line, member));

    /// <summary><c>bpf_get_socket_cookie(skops)</c>.</summary>
    public U64 GetSocketCookie([CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") =>
        Scalar64(KernelNumbers.GetSocketCookie, At(file, line, member), HelperArg.Ctx);

    /// <summary><c>bpf_get_netns_cookie(skops)</c>.</summary>
    public U64 GetNetnsCookie([CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") =>
        Scalar64(KernelNumbers.GetNetnsCookie, At(file, line, member), HelperArg.Ctx);

    /// <summary><c>bpf_get_prandom_u32()</c>.</summary>
    public U32 GetPrandomU32([CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
    {
        var loc = At(file, line, member);
        BeginStatement(loc);
        return new U32(Call(KernelNumbers.GetPrandomU32, loc, Ty.U32, PointerKind.None).Expr);
    }

    private U64 Scalar64(int helper, SourceLocation loc, params ReadOnlySpan<HelperArg> args)
    {
        BeginStatement(loc);
        return new U64(Call(helper, loc, Ty.U64, PointerKind.None, args).Expr);
    }
}

/// <summary>An argument of <c>bpf_printk</c>: any integer value, passed as 64 bits (signed values sign-extended, as C's varargs promotion).</summary>
public readonly struct PrintArg : IEquatable<PrintArg>
{
    private PrintArg(Expr value) => Value = value;

    internal Expr Value { get; }

    /// <summary>An unsigned 32-bit argument (%u, %x).</summary>
    public static implicit operator PrintArg(U32 value) => new(Fold.Convert(value.Expr, Ty.U64));
    /// <summary>A signed 32-bit argument (%d).</summary>
    public static implicit operator PrintArg(I32 value) => new(Fold.Convert(value.Expr, Ty.I64));
    /// <summary>An unsigned 64-bit argument (%llu).</summary>
    public static implicit operator PrintArg(U64 value) => new(value.Expr);
    /// <summary>A signed 64-bit argument (%lld).</summary>
    public static implicit operator PrintArg(I64 value) => new(value.Expr);
    /// <summary>A constant.</summary>
    public static implicit operator PrintArg(long value) => new(Fold.Const(Ty.I64, value));

    /// <summary>Expression identity.</summary>
    public bool Equals(PrintArg other) => ReferenceEquals(Value, other.Value);
    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is PrintArg other && Equals(other);
    /// <inheritdoc/>
    public override int GetHashCode() => Value is null ? 0 : System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(Value);
    /// <summary>Expression identity.</summary>
    public static bool operator ==(PrintArg left, PrintArg right) => left.Equals(right);
    /// <summary>Expression identity.</summary>
    public static bool operator !=(PrintArg left, PrintArg right) => !left.Equals(right);
}
