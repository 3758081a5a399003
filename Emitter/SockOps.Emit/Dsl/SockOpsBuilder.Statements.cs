using System.Runtime.CompilerServices;
using SockOps.Emit.Assembler;

namespace SockOps.Emit;

public sealed partial class SockOpsBuilder
{
    private static SourceLocation At(string file, int line, string member) => new(file, line, member);

    // ---------------------------------------------------------------- locals

    /// <summary>Declares a signed 32-bit local with an initial value (<c>int name = initial;</c>).</summary>
    public I32 Local(string name, int initial, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") =>
        new(DeclareLocal(name, Ty.I32, Fold.Const(Ty.I32, initial), At(file, line, member)));

    /// <summary>Declares an unsigned 32-bit local with an initial value.</summary>
    public U32 Local(string name, uint initial, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") =>
        new(DeclareLocal(name, Ty.U32, Fold.Const(Ty.U32, initial), At(file, line, member)));

    /// <summary>Declares a signed 64-bit local with an initial value.</summary>
    public I64 Local(string name, long initial, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") =>
        new(DeclareLocal(name, Ty.I64, Fold.Const(Ty.I64, initial), At(file, line, member)));

    /// <summary>Declares an unsigned 64-bit local with an initial value.</summary>
    public U64 Local(string name, ulong initial, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") =>
        new(DeclareLocal(name, Ty.U64, Fold.Const(Ty.U64, unchecked((long)initial)), At(file, line, member)));

    /// <summary>Declares a signed 32-bit local initialised from an expression.</summary>
    public I32 Local(string name, I32 initial, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") =>
        new(DeclareLocal(name, Ty.I32, initial.Expr, At(file, line, member)));

    /// <summary>Declares an unsigned 32-bit local.</summary>
    public U32 Local(string name, U32 initial, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") =>
        new(DeclareLocal(name, Ty.U32, initial.Expr, At(file, line, member)));

    /// <summary>Declares an unsigned 64-bit local.</summary>
    public U64 Local(string name, U64 initial, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") =>
        new(DeclareLocal(name, Ty.U64, initial.Expr, At(file, line, member)));

    /// <summary>Declares a signed 64-bit local.</summary>
    public I64 Local(string name, I64 initial, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") =>
        new(DeclareLocal(name, Ty.I64, initial.Expr, At(file, line, member)));

    /// <summary>Declares a signed 32-bit local without a value; reading it before every path assigns it is an emit error.</summary>
    public I32 LocalI32(string name, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") =>
        new(DeclareLocal(name, Ty.I32, null, At(file, line, member)));

    /// <summary>Declares an unsigned 32-bit local without a value.</summary>
    public U32 LocalU32(string name, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") =>
        new(DeclareLocal(name, Ty.U32, null, At(file, line, member)));

    /// <summary>Declares an unsigned 64-bit local without a value.</summary>
    public U64 LocalU64(string name, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") =>
        new(DeclareLocal(name, Ty.U64, null, At(file, line, member)));

    private Variable DeclareLocal(string name, Ty type, Expr? initial, SourceLocation loc)
    {
        BeginStatement(loc);
        var v = new Variable(NewRegister(), type, name, isLocal: true) { Owner = this };
        var expr = v.Expr;
        if (initial is not null)
        {
            EvalInto(v.Register, Fold.Convert(initial, type), loc);
            _path.Assign(v);
        }
        return expr;
    }

    /// <summary>
    /// Reserves a zero-initialised <typeparamref name="T"/> on the stack (for helper buffers, map keys and values).
    /// The zeroing is left out when every use of the object follows, on its path, a helper that fills all of it
    /// (<c>bpf_getsockopt</c>'s optval: ARG_PTR_TO_UNINIT_MEM), since nothing can then see the zeros; after such a
    /// call the bytes are the helper's (on failure the kernel zeroes them, except that getsockopt in an op above
    /// WRITE_HDR_OPT_CB returns -EOPNOTSUPP untouched: read the buffer only when the call returned 0).
    /// </summary>
    public StackRef<T> StackStruct<T>([CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
        where T : unmanaged
    {
        var loc = At(file, line, member);
        BeginStatement(loc);
        int size = Unsafe.SizeOf<T>();
        short offset = AllocateStack(size, 8, loc, permanent: true);
        int start = _code.Count;
        for (int i = 0; i < size; i += 8)
        {
            int chunk = Math.Min(8, size - i);
            var width = chunk >= 8 ? MemorySize.DW : chunk >= 4 ? MemorySize.W : chunk >= 2 ? MemorySize.H : MemorySize.B;
            for (int j = i; j < i + chunk; j += SizeOf(width))
            {
                while (j + SizeOf(width) > i + chunk) width = width switch { MemorySize.DW => MemorySize.W, MemorySize.W => MemorySize.H, _ => MemorySize.B };
                Emit(new IrInst { Kind = IrKind.StoreImm, Dst = 10, Offset = (short)(offset + j), Size = width, Imm = 0, Location = loc });
            }
        }
        string name = typeof(T).Name;
        var zeroing = new StackZeroing(start, _code.Count - start,
            new Variable(NewRegister(), Ty.U64, name + " (created)", isLocal: false) { Owner = this },
            new Variable(NewRegister(), Ty.U64, name + " (written)", isLocal: false) { Owner = this });
        (_zeroings ??= []).Add(zeroing);
        _path.Assign(zeroing.Created);
        var memory = new MemoryBase { Kind = PointerKind.Stack, StackOffset = offset, Size = size, Description = $"stack {name}", Zeroing = zeroing };
        return new StackRef<T>(memory);
    }

    private List<StackZeroing>? _zeroings;

    /// <summary>
    /// A use of a stack object: <paramref name="fillsAll"/> when a helper writes all of it without reading
    /// (ARG_PTR_TO_UNINIT_MEM with the object's size); anything else reads it or writes part of it.
    /// </summary>
    private void UseStackObject(MemoryBase memory, bool fillsAll, SourceLocation loc)
    {
        if (memory.Zeroing is not { } z || z.Needed || _path.IsAssigned(z.Written)) return;
        if (fillsAll)
        {
            _path.Assign(z.Written);
            return;
        }
        if (!_path.IsAssigned(z.Created))
            throw new EmitException(EmitRule.Uninitialized, loc,
                $"{memory.Description} is used where nothing wrote it on every path (its StackStruct ran inside a branch this path did not take).");
        z.Needed = true;
    }

    /// <summary>Drops the zero stores no use needs (from the last, so the earlier indices hold).</summary>
    private void DropUnneededZeroing()
    {
        if (_zeroings is null) return;
        for (int i = _zeroings.Count - 1; i >= 0; i--)
            if (!_zeroings[i].Needed) _code.RemoveRange(_zeroings[i].Start, _zeroings[i].Count);
        _zeroings = null;
    }

    // ---------------------------------------------------------------- control flow

    /// <summary><c>if (condition) then(); else @else();</c></summary>
    public void If(Condition condition, Action then, Action? @else = null,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
    {
        var loc = At(file, line, member);
        BeginStatement(loc);
        if (condition.Cond is ConstCond k)
        {
            // Folded away: only the taken branch exists (the other one is not even built).
            if (k.Value) RunBlock(then);
            else if (@else is not null) RunBlock(@else);
            return;
        }
        int elseLabel = NewLabel();
        JumpIfFalse(condition.Cond, elseLabel, loc);
        Branches(then, @else, elseLabel, loc);
    }

    /// <summary>Runs then/else after the conditional jump to <paramref name="elseLabel"/> has been emitted.</summary>
    private void Branches(Action then, Action? @else, int elseLabel, SourceLocation loc, Action? beforeThen = null, Action? afterThen = null)
    {
        var before = _path.Clone();
        beforeThen?.Invoke();
        RunBlock(then);
        afterThen?.Invoke();
        var afterThenState = _path;
        if (@else is null)
        {
            MarkLabel(elseLabel, loc);
            _path = Merge(afterThenState, before, loc);
            return;
        }
        int end = NewLabel();
        if (afterThenState.Reachable) EmitJump(end, loc);
        MarkLabel(elseLabel, loc);
        _path = before; // its last use: no copy needed
        RunBlock(@else);
        MarkLabel(end, loc);
        _path = Merge(afterThenState, _path, loc);
    }

    /// <summary><c>return value;</c> — sock_ops programs must return 0 or 1 (1 = use <c>reply</c>).</summary>
    public void Return(int value, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
    {
        var loc = At(file, line, member);
        BeginStatement(loc);
        if (value is not (0 or 1))
            throw new EmitException(EmitRule.ReturnValue, loc, $"A sock_ops program must return 0 or 1, not {value} (communicate other values through reply).");
        CheckNoOpenReferences(loc);
        if (!_returnLabels.TryGetValue(value, out int label))
        {
            _returnLabels[value] = label = NewLabel();
            _returnLocations[value] = loc;
        }
        EmitJump(label, loc);
        _path.Reachable = false;
    }

    /// <summary><c>return value;</c> with a computed value; it must be provably 0 or 1 (a condition, <c>x &amp; 1</c>, …).</summary>
    public void Return(I32 value, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
    {
        var loc = At(file, line, member);
        if (value.Expr is ConstExpr c) { Return((int)c.Value, file, line, member); return; }
        BeginStatement(loc);
        if (Fold.Range(value.Expr) is not { } range || range.Min < 0 || range.Max > 1)
            throw new EmitException(EmitRule.ReturnValue, loc,
                "The return value is not provably 0 or 1; the kernel requires R0 in [0, 1] at every exit (use a condition or mask with & 1).");
        CheckNoOpenReferences(loc);
        int reg = EvalClean(value.Expr, loc);
        EmitMove(0, reg, true, loc);
        Emit(new IrInst { Kind = IrKind.Exit, Location = loc });
        _path.Reachable = false;
    }

    private void CheckNoOpenReferences(SourceLocation loc)
    {
        if (_path.OpenReferences is { Count: > 0 } open)
            throw new EmitException(EmitRule.ReferenceLeak, loc,
                $"Returning while the ring buffer reservation made at {open[0].Where} is neither submitted nor discarded.");
    }

    /// <summary>
    /// <c>switch (value) { case …: … }</c> as a compare chain. Add cases with <see cref="SwitchBuilder.Case(long, Action, string, int, string)"/>;
    /// the switch ends with <see cref="SwitchBuilder.Default"/> or at the next statement. Cases do not fall through.
    /// </summary>
    public SwitchBuilder Switch(U32 value, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
    {
        var loc = At(file, line, member);
        BeginStatement(loc);
        var (reg, _) = Eval(value.Expr, loc);
        var sw = new OpenSwitch(this, reg, Ty.U32, loc, _blockDepth, _path.Clone()) { Fresh = _path };
        _openSwitch = sw;
        return new SwitchBuilder(sw);
    }

    /// <summary><c>switch</c> over a signed value.</summary>
    public SwitchBuilder Switch(I32 value, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
    {
        var loc = At(file, line, member);
        BeginStatement(loc);
        var (reg, _) = Eval(value.Expr, loc);
        var sw = new OpenSwitch(this, reg, Ty.I32, loc, _blockDepth, _path.Clone()) { Fresh = _path };
        _openSwitch = sw;
        return new SwitchBuilder(sw);
    }

    internal sealed class OpenSwitch(SockOpsBuilder owner, int register, Ty type, SourceLocation location, int depth, PathState before)
    {
        public SockOpsBuilder Owner { get; } = owner;
        public int Register { get; } = register;
        public Ty Type { get; } = type;
        public SourceLocation Location { get; } = location;
        public int Depth { get; } = depth;
        public PathState Before { get; } = before;
        public int EndLabel { get; } = owner.NewLabel();
        // A list, not a set: a switch has a handful of cases, and the set's buckets cost more than the search.
        public List<long> Values { get; } = new(4);
        public List<PathState> Ends { get; } = [];
        public bool Closed { get; set; }
        /// <summary>The label after the last case written so far (-1: no case yet).</summary>
        public int LastCaseEnd { get; set; } = -1;

        /// <summary>
        /// The current path state while it still equals <see cref="Before"/> (nothing ran since the switch opened or
        /// the last case ended: any statement in between closes the switch), so the next case can start from it
        /// without another copy.
        /// </summary>
        public PathState? Fresh { get; set; }
    }

    internal void SwitchCase(OpenSwitch sw, long value, Action body, SourceLocation loc)
    {
        if (sw.Closed || !ReferenceEquals(_openSwitch, sw))
            throw new EmitException(EmitRule.Usage, loc, "This switch is already closed (a Default or another statement ended it).");
        value = TyInfo.Normalize(sw.Type, value);
        if (sw.Values.Contains(value)) throw new EmitException(EmitRule.Usage, loc, $"Duplicate case {value}.");
        sw.Values.Add(value);
        int next = NewLabel();
        _workspace.SwitchCaseEnds.Add(next);
        sw.LastCaseEnd = next;
        Emit(new IrInst { Kind = IrKind.CondJumpImm, Cond = JumpOperation.Jne, Dst = sw.Register, Imm = unchecked((int)value), Is64 = false, Target = next, Location = loc });
        if (!ReferenceEquals(_path, sw.Fresh)) _path = sw.Before.Clone();
        sw.Fresh = null;
        _openSwitch = null;
        RunBlock(body);
        _openSwitch = sw;
        if (_path.Reachable) { EmitJump(sw.EndLabel, loc); sw.Ends.Add(_path); }
        MarkLabel(next, loc);
        _path = sw.Before.Clone();
        sw.Fresh = _path;
    }

    internal void SwitchDefault(OpenSwitch sw, Action? body, SourceLocation loc)
    {
        if (sw.Closed || !ReferenceEquals(_openSwitch, sw))
            throw new EmitException(EmitRule.Usage, loc, "This switch is already closed.");
        _openSwitch = null;
        sw.Closed = true;
        // The switch's last use of Before: it can become the path itself.
        if (!ReferenceEquals(_path, sw.Fresh)) _path = sw.Before;
        sw.Fresh = null;
        // Without a default the last case stays in place behind an inverted test (clang's shape too): the path
        // through no case takes that one branch, and the case's jump to the end becomes a jump to the next
        // instruction, which the clean-up removes. With a default, every case moves and the default runs straight.
        if (body is null && sw.LastCaseEnd >= 0) _workspace.SwitchCaseEnds.Remove(sw.LastCaseEnd);
        if (body is not null) RunBlock(body);
        MarkLabel(sw.EndLabel, loc);
        var merged = _path;
        foreach (var end in sw.Ends) merged = Merge(merged, end, loc);
        _path = merged;
    }

    /// <summary>
    /// Case bodies are written in place (<c>if (v != case) goto next; body; goto end; next:</c>), which makes a
    /// value that matches no case take one branch per case. Here each body moves behind the program (after the
    /// return blocks, so that straight-line code still flows into them) and its test
    /// becomes <c>if (v == case) goto body</c>, clang's shape: the path through no case (in sock_ops the common
    /// one, most ops being of no interest) takes at most one branch, and a case pays one. Labels keep the
    /// control flow, so the register allocator's liveness and the verifier see the same program.
    /// </summary>
    private void MoveSwitchCaseBodies(List<IrInst> code)
    {
        var ends = _workspace.SwitchCaseEnds;
        var moved = _workspace.MovedCode;
        // In the order written: an outer case moves (with the inner switch inside it) before its inner cases do.
        foreach (int next in ends)
        {
            int test = -1, end = -1;
            for (int i = 0; i < code.Count; i++)
            {
                var insn = code[i];
                if (insn.Kind == IrKind.CondJumpImm && insn.Target == next) test = i;
                else if (insn.Kind == IrKind.Label && insn.LabelId == next) { end = i; break; }
            }
            if (test < 0 || end < 0) throw new InvalidOperationException($"Switch case label {next} lost before lowering.");
            int bodyLabel = NewLabel();
            var jump = code[test];
            jump.Cond = JumpOperation.Jeq;
            jump.Target = bodyLabel;
            code[test] = jump;
            moved.Clear();
            moved.Add(new IrInst { Kind = IrKind.Label, LabelId = bodyLabel, Location = jump.Location });
            for (int i = test + 1; i < end; i++) moved.Add(code[i]);
            // A body always ends in a jump or an exit when its end is reachable; if it ends in a label no path
            // reaches, this jump keeps the old meaning and the machine-code clean-up removes it as unreachable.
            if (moved[^1].Kind is not (IrKind.Jump or IrKind.Exit))
                moved.Add(new IrInst { Kind = IrKind.Jump, Target = next, Location = jump.Location });
            code.RemoveRange(test + 1, end - test - 1);
            code.AddRange(moved);
        }
    }

    private void CloseSwitchAtCurrentDepth()
    {
        if (_openSwitch is { } sw && sw.Depth == _blockDepth) SwitchDefault(sw, null, sw.Location);
    }

    /// <summary><c>for (i = from; i &lt; to; i++) body(i);</c> unrolled: the bound is a constant, so the kernel sees no loop.</summary>
    public void For(int from, int to, Action<int> body, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
    {
        var loc = At(file, line, member);
        BeginStatement(loc);
        ArgumentNullException.ThrowIfNull(body);
        const int MaxUnroll = 256;
        // In long: to - from overflows int for bounds of opposite sign (e.g. -2e9..2e9) and would slip past the limit.
        long iterations = (long)to - from;
        if (iterations > MaxUnroll)
            throw new EmitException(EmitRule.Unbounded, loc, $"A loop is unrolled; {iterations} iterations exceed the limit of {MaxUnroll}.");
        for (int i = from; i < to; i++)
        {
            int index = i;
            RunBlock(() => body(index));
            if (!_path.Reachable) break;
        }
    }

    // ---------------------------------------------------------------- null-checked pointers

    /// <summary>
    /// <c>if (p) then(p);</c> — the only way to use a pointer that may be NULL (<c>ctx.Sk</c>, map lookups,
    /// sk_storage_get, bpf_tcp_sock, ring buffer reservations). The pointer exists only inside <paramref name="then"/>.
    /// </summary>
    public void IfNotNull<T>(MaybeNull<T> pointer, Action<T> then, Action? @else = null,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
    {
        ArgumentNullException.ThrowIfNull(then);
        var loc = At(file, line, member);
        BeginStatement(loc);
        if (!pointer.IsValid) throw new EmitException(EmitRule.Usage, loc, "A default MaybeNull has no pointer.");
        var variable = pointer.Produce(this, loc);
        if (!IsAssigned(variable))
            throw new EmitException(EmitRule.Uninitialized, loc, $"The result of {variable.Name} is used where its call did not run on every path (it was made inside a branch).");
        int scope = _nextScope++;
        int elseLabel = NewLabel();
        JumpIfFalse(new NullCond(variable, isNull: false), elseLabel, loc);
        T value = pointer.Wrap(variable, scope);
        Branches(() => then(value), @else, elseLabel, loc,
            beforeThen: () =>
            {
                _activeScopes.Add(scope);
                if (pointer.IsReference) (_path.OpenReferences ??= []).Add((variable, loc));
            },
            afterThen: () =>
            {
                _activeScopes.Remove(scope);
                if (_path.Reachable && _path.OpenReferences?.Exists(r => r.Reservation == variable) == true)
                    throw new EmitException(EmitRule.ReferenceLeak, loc,
                        "The ring buffer reservation is neither submitted nor discarded before its null-checked block ends.");
            });
    }

    /// <summary>
    /// <c>if (skb_data + length &lt;= skb_data_end) then(packet);</c> — packet bytes can only be read inside, and only
    /// within <paramref name="length"/>.
    /// </summary>
    public void IfPacketHas(int length, Action<PacketRef> then, Action? @else = null,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
    {
        ArgumentNullException.ThrowIfNull(then);
        var loc = At(file, line, member);
        BeginStatement(loc);
        if (length is <= 0 or > 0xffff) throw new EmitException(EmitRule.PacketBounds, loc, $"Packet length {length} must be 1..65535.");
        var data = new Variable(NewRegister(), Ty.U64, "skb_data", false) { Pointer = PointerKind.Packet, Owner = this };
        var end = new Variable(NewRegister(), Ty.U64, "skb_data_end", false) { Pointer = PointerKind.Packet, Owner = this };
        RequireContextField(KernelNumbers.CtxSkbData, loc);
        RequireContextField(KernelNumbers.CtxSkbDataEnd, loc);
        Emit(new IrInst { Kind = IrKind.Load, Dst = data.Register, Src = ContextRegister, Offset = KernelNumbers.CtxSkbData, Size = MemorySize.DW, Location = loc });
        Emit(new IrInst { Kind = IrKind.Load, Dst = end.Register, Src = ContextRegister, Offset = KernelNumbers.CtxSkbDataEnd, Size = MemorySize.DW, Location = loc });
        int scope = _nextScope++;
        int elseLabel = NewLabel();
        JumpIfFalse(new PacketCond(data, end, length), elseLabel, loc);
        var memory = new MemoryBase { Kind = PointerKind.Packet, Pointer = data, Size = length, ScopeId = scope, Description = $"the packet (checked for {length} bytes)" };
        var packet = new PacketRef(memory);
        Branches(() => then(packet), @else, elseLabel, loc,
            beforeThen: () => { _activeScopes.Add(scope); _packetScopes.Add(scope); },
            afterThen: () => { _activeScopes.Remove(scope); _packetScopes.Remove(scope); });
    }

    private void EmitPacketCheck(PacketCond pc, int label, bool jumpWhenInside, SourceLocation loc)
    {
        int limit = NewRegister();
        EmitMove(limit, pc.Data.Register, true, loc);
        Emit(new IrInst { Kind = IrKind.AluImm, AluOp = AluOperation.Add, Dst = limit, Imm = pc.Length, Location = loc });
        Emit(new IrInst
        {
            Kind = IrKind.CondJump, Cond = jumpWhenInside ? JumpOperation.Jle : JumpOperation.Jgt,
            Dst = limit, Src = pc.End.Register, Target = label, Location = loc,
        });
    }

    // ---------------------------------------------------------------- finishing

    internal ProgramImage Finish()
    {
        CloseSwitchAtCurrentDepth();
        if (_path.Reachable)
            throw new EmitException(EmitRule.FallThrough, _programLocation,
                $"Program '{Name}' can reach its end without a Return; every path must end with Return(0) or Return(1).");
        _finished = true;
        DropUnneededZeroing();
        var code = _workspace.Program;
        code.Clear();
        code.AddRange(_prologue);
        code.AddRange(_code);
        // Return blocks, "return 1" first (values are only 0 and 1).
        for (int value = 1; value >= 0; value--)
        {
            if (!_returnLabels.TryGetValue(value, out int label)) continue;
            var at = _returnLocations[value];
            code.Add(new IrInst { Kind = IrKind.Label, LabelId = label, Location = at });
            code.Add(new IrInst { Kind = IrKind.MovImm, Dst = 0, Imm = value, Is64 = true, Location = at });
            code.Add(new IrInst { Kind = IrKind.Exit, Location = at });
        }
        MoveSwitchCaseBodies(code);
        int registers = _nextRegister;
        var colors = RegisterAllocator.Allocate(code, ref registers, _nextLabel, this, _workspace);
        var machine = MachineCode.Lower(code, colors, _workspace);
        int nextLabel = _nextLabel;
        MachineCode.Optimize(machine, ref nextLabel, _workspace);
        var (instructions, maps, locations, kfuncs) = MachineCode.Resolve(machine, nextLabel, _workspace);
        // The lowering picks forms the target has; this proves it (and records the forms newer than the base set).
        for (int i = 0; i < instructions.Length; i++)
        {
            var form = InstructionKernelSupport.FormOf(instructions[i]);
            if (form != InstructionKernelSupport.Base)
                RequireKernel(KernelTargets.InstructionForm(form), locations[i]);
        }
        var readOnlyData = ReadOnlyDataDeclaration();
        MapDeclaration[] declarations = readOnlyData is null ? [.. _maps.Values] : [.. _maps.Values, readOnlyData];
        return new ProgramImage(Name, instructions, maps, declarations, License, locations, _maxStackDepth, kfuncs, Target, [.. _requiredFeatures]);
    }
}

/// <summary>The cases of a <see cref="SockOpsBuilder.Switch(U32, string, int, string)"/>.</summary>
public sealed class SwitchBuilder
{
    private readonly SockOpsBuilder.OpenSwitch _switch;

    internal SwitchBuilder(SockOpsBuilder.OpenSwitch sw) => _switch = sw;

    /// <summary><c>case value: body(); break;</c></summary>
    public SwitchBuilder Case(long value, Action body, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
    {
        _switch.Owner.SwitchCase(_switch, value, body, new SourceLocation(file, line, member));
        return this;
    }

    /// <summary><c>case value: body(); break;</c> for an enum constant (e.g. an op).</summary>
    public SwitchBuilder Case<TEnum>(TEnum value, Action body, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
        where TEnum : struct, Enum
    {
        if (typeof(TEnum) == typeof(SockOp)) _switch.Owner.RequireOp(Unsafe.As<TEnum, SockOp>(ref value), new SourceLocation(file, line, member));
        return Case(EnumValue(value), body, file, line, member);
    }

    // Convert.ToInt64 would box the enum; this reads the underlying integer as Convert does (unsigned zero-extended).
    private static long EnumValue<TEnum>(TEnum value) where TEnum : struct, Enum => Type.GetTypeCode(typeof(TEnum)) switch
    {
        TypeCode.SByte => Unsafe.As<TEnum, sbyte>(ref value),
        TypeCode.Byte => Unsafe.As<TEnum, byte>(ref value),
        TypeCode.Int16 => Unsafe.As<TEnum, short>(ref value),
        TypeCode.UInt16 => Unsafe.As<TEnum, ushort>(ref value),
        TypeCode.Int32 => Unsafe.As<TEnum, int>(ref value),
        TypeCode.UInt32 => Unsafe.As<TEnum, uint>(ref value),
        TypeCode.Int64 => Unsafe.As<TEnum, long>(ref value),
        _ => checked((long)Unsafe.As<TEnum, ulong>(ref value)),
    };

    /// <summary><c>default: body();</c> — ends the switch.</summary>
    public void Default(Action body, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") =>
        _switch.Owner.SwitchDefault(_switch, body, new SourceLocation(file, line, member));

    /// <summary>Ends the switch without a default.</summary>
    public void End([CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") =>
        _switch.Owner.SwitchDefault(_switch, null, new SourceLocation(file, line, member));
}
