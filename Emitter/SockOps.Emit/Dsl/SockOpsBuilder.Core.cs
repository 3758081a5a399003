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

    private readonly BuildWorkspace _workspace;
    private readonly List<IrInst> _code;
    private readonly List<IrInst> _prologue;
    // Tables of this build, in the workspace (emptied between builds).
    private readonly Dictionary<long, short> _constantSlots;
    private readonly Dictionary<int, int> _returnLabels;
    private readonly Dictionary<int, SourceLocation> _returnLocations;
    private readonly Dictionary<string, MapDeclaration> _maps;
    private readonly List<int> _activeScopes;
    private readonly List<int> _packetScopes;
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

    internal SockOpsBuilder(string name, string license, BpfCapabilities capabilities, KernelVersion target, SourceLocation location, BuildWorkspace workspace)
    {
        Target = target;
        _requiredFeatures = workspace.RequiredFeatures;
        _workspace = workspace;
        _code = workspace.Code;
        _prologue = workspace.Prologue;
        _constantSlots = workspace.ConstantSlots;
        _returnLabels = workspace.ReturnLabels;
        _returnLocations = workspace.ReturnLocations;
        _maps = workspace.Maps;
        _activeScopes = workspace.ActiveScopes;
        _activeScopes.Add(0);   // scope 0: the whole program
        _packetScopes = workspace.PacketScopes;
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

    /// <summary>The kernel the program is built for (<see cref="SockOpsProgram.Build"/>'s target): programs may branch on it in C#.</summary>
    public KernelVersion Target { get; }

    private readonly List<KernelFeature> _requiredFeatures;

    /// <summary>Whether the target kernel has <paramref name="feature"/> (nothing is recorded or refused).</summary>
    public bool TargetHas(KernelFeature feature)
    {
        ArgumentNullException.ThrowIfNull(feature);
        return Target.IsAtLeast(feature.MinimumKernel);
    }

    private List<SockOp>? _pendingOps;

    /// <summary>An op constant was written (e.g. <c>ctx.Op == SockOp.RttCb</c>); the next statement checks it against the target.</summary>
    internal void NoteOp(SockOp op)
    {
        if (SockOpInfo.Of(op).MinimumKernel.CompareTo(KernelTargets.Oldest) > 0) (_pendingOps ??= []).Add(op);
    }

    /// <summary>Handling an op the target kernel never calls would be dead code that looks alive: refused.</summary>
    internal void RequireOp(SockOp op, SourceLocation loc)
    {
        if ((uint)op < (uint)SockOpInfo.All.Count) RequireKernel(SockOpInfo.Of(op).Feature, loc);
    }

    /// <summary>Records that the program uses <paramref name="feature"/>, or refuses it when the target kernel is older.</summary>
    internal void RequireKernel(KernelFeature feature, SourceLocation loc)
    {
        if (!Target.IsAtLeast(feature.MinimumKernel))
            throw new EmitException(EmitRule.TargetKernel, loc, $"{feature.Name} needs Linux {feature.MinimumKernel}; this program targets {Target}.") { Feature = feature };
        foreach (var known in _requiredFeatures) if (ReferenceEquals(known, feature)) return;
        _requiredFeatures.Add(feature);
    }

    internal int ContextRegister { get; }

    /// <summary>
    /// Path-sensitive facts the verifier also tracks: reachability, assigned locals, open references. Cloned at
    /// every branch, so the common parts are cheap: assigned variables are a bit set over their (unique) virtual
    /// registers, and the rarely used sets exist only once something is in them.
    /// </summary>
    internal sealed class PathState
    {
        public bool Reachable = true;
        // Assigned virtual registers as a bit set: the first 128 inline (no array per clone), the rest in _more.
        private ulong _word0, _word1;
        private ulong[] _more = [];
        /// <summary>Ring buffer reservations not yet submitted or discarded (null: none).</summary>
        public List<(Variable Reservation, SourceLocation Where)>? OpenReferences;
        /// <summary>Packet checks whose pointers a helper invalidated (bpf_store_hdr_opt may change the packet); null: none.</summary>
        public HashSet<int>? InvalidPackets;

        public bool IsAssigned(Variable v)
        {
            int word = v.Register >> 6;
            ulong bit = 1UL << (v.Register & 63);
            return word switch
            {
                0 => (_word0 & bit) != 0,
                1 => (_word1 & bit) != 0,
                _ => word - 2 < _more.Length && (_more[word - 2] & bit) != 0,
            };
        }

        public void Assign(Variable v)
        {
            int word = v.Register >> 6;
            ulong bit = 1UL << (v.Register & 63);
            if (word == 0) _word0 |= bit;
            else if (word == 1) _word1 |= bit;
            else
            {
                if (word - 2 >= _more.Length) Array.Resize(ref _more, word - 1);
                _more[word - 2] |= bit;
            }
        }

        public PathState Clone() => new()
        {
            Reachable = Reachable,
            _word0 = _word0,
            _word1 = _word1,
            _more = _more.Length == 0 ? [] : (ulong[])_more.Clone(),
            OpenReferences = OpenReferences is { Count: > 0 } open ? [.. open] : null,
            InvalidPackets = InvalidPackets is { Count: > 0 } invalid ? [.. invalid] : null,
        };

        /// <summary>Assigned on both paths.</summary>
        public void IntersectAssigned(PathState a, PathState b)
        {
            _word0 = a._word0 & b._word0;
            _word1 = a._word1 & b._word1;
            int more = Math.Min(a._more.Length, b._more.Length);
            var result = more == 0 ? [] : new ulong[more];
            for (int i = 0; i < more; i++) result[i] = a._more[i] & b._more[i];
            _more = result;
        }
    }

    internal static SockOpsBuilder Current(SourceLocation location) =>
        s_current ?? throw new EmitException(EmitRule.Usage, location, "DSL values can only be used inside SockOpsProgram.Build while the program is being built.");

    internal static SockOpsBuilder? Active => s_current;

    internal static Restore Activate(SockOpsBuilder builder)
    {
        var previous = s_current;
        s_current = builder;
        return new Restore(previous);
    }

    /// <summary>Puts the previous current builder back (a struct: <c>using</c> on it allocates nothing).</summary>
    internal readonly struct Restore(SockOpsBuilder? previous) : IDisposable
    {
        public void Dispose() => s_current = previous;
    }

    // ---------------------------------------------------------------- low-level emission

    internal int NewRegister() => _nextRegister++;

    /// <summary>After Build (also a failed one): the workspace goes to the next Build, so this builder takes no more statements.</summary>
    internal void Detach() => _finished = true;

    internal void MarkAssigned(Variable v) => _path.Assign(v);

    /// <summary>Assigned on every path to here (and a value of this program: registers are numbered per program).</summary>
    internal bool IsAssigned(Variable v) => ReferenceEquals(v.Owner, this) && _path.IsAssigned(v);

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
        if (_pendingOps is { Count: > 0 } ops)
        {
            foreach (var op in ops) RequireOp(op, loc);
            ops.Clear();
        }
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
        // Both inputs are the branches' own states, dead after the merge: the result is written into a.
        var merged = a;
        merged.IntersectAssigned(a, b);
        var aRefs = a.OpenReferences;
        var bRefs = b.OpenReferences;
        if (aRefs is { Count: > 0 } || bRefs is { Count: > 0 })
        {
            aRefs ??= [];
            bRefs ??= [];
            bool InBoth(Variable v) => aRefs.Exists(r => r.Reservation == v) && bRefs.Exists(r => r.Reservation == v);
            foreach (var r in aRefs.Concat(bRefs))
                if (!InBoth(r.Reservation))
                    throw new EmitException(EmitRule.ReferenceLeak, loc,
                        $"The ring buffer reservation made at {r.Where} is submitted or discarded on one path but not on the other.");
            merged.OpenReferences = aRefs;
        }
        if (b.InvalidPackets is { Count: > 0 })
        {
            merged.InvalidPackets ??= [];
            merged.InvalidPackets.UnionWith(b.InvalidPackets);
        }
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
