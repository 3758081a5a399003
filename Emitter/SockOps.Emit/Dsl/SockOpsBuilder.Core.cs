using SockOps.Emit.Assembler;

namespace SockOps.Emit;

/// <summary>
/// Builds one sock_ops program. Statement methods (<c>If</c>, <c>Switch</c>, <c>Return</c>, helper calls…) run
/// in the order the C# code calls them and lower straight to intermediate code; the verifier rules are
/// checked as they go, so a refused construct names the C# line that wrote it.
/// </summary>
public sealed partial class SockOpsBuilder
{
    [ThreadStatic] private static SockOpsBuilder? s_current;

    private readonly List<IrInst> _code = [];
    private readonly List<IrInst> _prologue = [];
    private readonly Dictionary<long, short> _constantSlots = [];
    private readonly Dictionary<int, int> _returnLabels = [];
    private readonly Dictionary<int, SourceLocation> _returnLocations = [];
    private readonly Dictionary<string, MapDeclaration> _maps = new(StringComparer.Ordinal);
    private readonly List<int> _activeScopes = [0];
    private readonly List<int> _packetScopes = [];
    private readonly SourceLocation _programLocation;
    private int _nextRegister = RegisterAllocator.FirstVirtual;
    private int _nextLabel;
    private int _nextScope = 1;
    private int _stackDepth;      // bytes in use below r10
    private int _maxStackDepth;
    private PathState _path = new();
    private OpenSwitch? _openSwitch;
    private int _blockDepth;
    private bool _finished;

    internal SockOpsBuilder(string name, string license, BpfCapabilities capabilities, SourceLocation location)
    {
        Name = name;
        License = license;
        Capabilities = capabilities;
        _programLocation = location;
        ContextRegister = NewRegister();
        _prologue.Add(new IrInst { Kind = IrKind.Mov, Dst = ContextRegister, Src = 1, Location = location });
        Context = new SockOpsCtx(this);
    }

    /// <summary>The program's name.</summary>
    public string Name { get; }

    /// <summary>The license string (GPL-only helpers need a GPL-compatible one).</summary>
    public string License { get; }

    /// <summary>The capabilities the program will be loaded with (they decide which helpers exist, e.g. trace_printk needs CAP_PERFMON).</summary>
    public BpfCapabilities Capabilities { get; }

    /// <summary>The typed <c>struct bpf_sock_ops</c> context.</summary>
    public SockOpsCtx Context { get; }

    internal int ContextRegister { get; }

    /// <summary>Path-sensitive facts the verifier also tracks: reachability, assigned locals, open references.</summary>
    internal sealed class PathState
    {
        public bool Reachable = true;
        public HashSet<Variable> Assigned = [];
        public List<(Variable Reservation, SourceLocation Where)> OpenReferences = [];
        /// <summary>Packet checks whose pointers a helper invalidated (bpf_store_hdr_opt may change the packet).</summary>
        public HashSet<int> InvalidPackets = [];

        public PathState Clone() => new() { Reachable = Reachable, Assigned = [.. Assigned], OpenReferences = [.. OpenReferences], InvalidPackets = [.. InvalidPackets] };
    }

    internal static SockOpsBuilder Current(SourceLocation location) =>
        s_current ?? throw new EmitException(EmitRule.Usage, location, "DSL values can only be used inside SockOpsProgram.Build while the program is being built.");

    internal static SockOpsBuilder? Active => s_current;

    internal static IDisposable Activate(SockOpsBuilder builder)
    {
        var previous = s_current;
        s_current = builder;
        return new Restore(previous);
    }

    private sealed class Restore(SockOpsBuilder? previous) : IDisposable
    {
        public void Dispose() => s_current = previous;
    }

    // ---------------------------------------------------------------- low-level emission

    internal int NewRegister() => _nextRegister++;

    internal void MarkAssigned(Variable v) => _path.Assigned.Add(v);

    internal int NewLabel() => _nextLabel++;

    internal void Emit(IrInst insn) => _code.Add(insn);

    internal void MarkLabel(int label, SourceLocation loc) => _code.Add(new IrInst { Kind = IrKind.Label, LabelId = label, Location = loc });

    internal void EmitJump(int label, SourceLocation loc) => Emit(new IrInst { Kind = IrKind.Jump, Target = label, Location = loc });

    internal void EmitMove(int dst, int src, bool is64, SourceLocation loc)
    {
        if (dst == src && is64) return;
        Emit(new IrInst { Kind = IrKind.Mov, Dst = dst, Src = src, Is64 = is64, Location = loc });
    }

    internal void EmitMoveImm(int dst, long value, bool is64, SourceLocation loc) =>
        Emit(new IrInst { Kind = IrKind.MovImm, Dst = dst, Imm = value, Is64 = is64, Location = loc });

    // ---------------------------------------------------------------- statements: bookkeeping

    /// <summary>Every statement starts here: the builder must be live, the path reachable.</summary>
    internal void BeginStatement(SourceLocation loc)
    {
        if (_finished) throw new EmitException(EmitRule.Usage, loc, "This builder's program is already built; statements can only be added inside the Build callback.");
        if (!ReferenceEquals(s_current, this)) throw new EmitException(EmitRule.Usage, loc, "This builder belongs to another program or is not being built.");
        CloseSwitchAtCurrentDepth();
        if (!_path.Reachable)
            throw new EmitException(EmitRule.Unreachable, loc, "Unreachable statement: every path before it has already returned.");
    }

    private void RunBlock(Action body)
    {
        _blockDepth++;
        try
        {
            body();
            CloseSwitchAtCurrentDepth();
        }
        finally
        {
            _blockDepth--;
        }
    }

    private PathState Merge(PathState a, PathState b, SourceLocation loc)
    {
        if (!a.Reachable) return b;
        if (!b.Reachable) return a;
        var merged = new PathState { Reachable = true, Assigned = [.. a.Assigned] };
        merged.Assigned.IntersectWith(b.Assigned);
        var aRefs = a.OpenReferences.Select(r => r.Reservation).ToHashSet();
        var bRefs = b.OpenReferences.Select(r => r.Reservation).ToHashSet();
        if (!aRefs.SetEquals(bRefs))
        {
            var leaked = a.OpenReferences.Concat(b.OpenReferences).First(r => !(aRefs.Contains(r.Reservation) && bRefs.Contains(r.Reservation)));
            throw new EmitException(EmitRule.ReferenceLeak, loc,
                $"The ring buffer reservation made at {leaked.Where} is submitted or discarded on one path but not on the other.");
        }
        merged.OpenReferences = [.. a.OpenReferences];
        merged.InvalidPackets = [.. a.InvalidPackets];
        merged.InvalidPackets.UnionWith(b.InvalidPackets);
        return merged;
    }

    // ---------------------------------------------------------------- stack

    /// <summary>
    /// Reserves <paramref name="size"/> bytes of stack aligned to <paramref name="align"/>; returns the r10 offset.
    /// Temporary space (a printk format, a helper buffer) is released after its statement; permanent space
    /// (locals, constants, spill slots) goes below everything used so far and is never reused.
    /// </summary>
    internal short AllocateStack(int size, int align, SourceLocation loc, bool permanent = false)
    {
        int start = permanent ? Math.Max(_maxStackDepth, _stackDepth) : _stackDepth;
        int depth = (start + size + align - 1) / align * align;
        if (depth > KernelNumbers.MaxStack)
            throw new EmitException(EmitRule.StackBounds, loc,
                $"The program needs {depth} bytes of stack here; the kernel allows {KernelNumbers.MaxStack}.");
        _stackDepth = depth;
        _maxStackDepth = Math.Max(_maxStackDepth, depth);
        if (permanent) _permanentFloor = depth;
        return (short)-depth;
    }

    /// <summary>A mark to release temporary stack after the statement that used it.</summary>
    internal int StackMark => _stackDepth;

    internal void ReleaseStack(int mark) => _stackDepth = Math.Max(mark, _permanentFloor);

    /// <summary>A 4- or 8-byte constant placed on the stack once, at program entry (setsockopt values, map keys).</summary>
    internal short ConstantSlot(long value, int size, SourceLocation loc)
    {
        long key = (value << 4) ^ size;
        if (_constantSlots.TryGetValue(key, out short offset)) return offset;
        offset = AllocateStack(size, size, loc, permanent: true);
        if (size == 8 && value is < int.MinValue or > int.MaxValue)
        {
            int temp = NewRegister();
            _prologue.Add(new IrInst { Kind = IrKind.MovImm, Dst = temp, Imm = value, Is64 = true, Location = loc });
            _prologue.Add(new IrInst { Kind = IrKind.Store, Dst = 10, Src = temp, Offset = offset, Size = MemorySize.DW, Location = loc });
        }
        else
        {
            _prologue.Add(new IrInst { Kind = IrKind.StoreImm, Dst = 10, Imm = (int)value, Offset = offset, Size = size == 8 ? MemorySize.DW : MemorySize.W, Location = loc });
        }
        _constantSlots[key] = offset;
        return offset;
    }

    private int _permanentFloor;
}
