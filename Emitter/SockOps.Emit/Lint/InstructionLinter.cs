using System.Globalization;
using SockOps.Emit.Assembler;

namespace SockOps.Emit.Lint;

/// <summary>
/// A static checker for raw BPF instruction streams (no DSL needed), reporting only what the kernel
/// verifier also refuses (see <see cref="LintRules"/>). It rebuilds the verifier's structural checks
/// exactly (subprogram boundaries, jump targets, the last instruction, reachability over the
/// syntactic control-flow graph) and runs a must-initialized dataflow over that graph (join =
/// intersection) for register reads.
/// </summary>
/// <remarks>
/// <para>Deliberately not flagged: back-edges (the verifier accepts bounded loops; whether a loop is
/// bounded is decided by its path exploration, which a static pass cannot reproduce exactly).</para>
/// <para>Path-sensitive limits: the verifier skips branches it proves dead, so a bad shift, a
/// division by zero, an uninitialized read or a bad ctx access that sits only on such a branch is
/// flagged here but accepted by the kernel. Register state entering a bpf-to-bpf callee is assumed
/// to be r1-r5 and r10 (what a caller may pass), so reads of arguments the caller did not set are
/// not flagged.</para>
/// </remarks>
public static class InstructionLinter
{
    private const int AllRegisters = (1 << Register.Count) - 1;
    private const int ArgumentRegisters = 0b111110; // r1-r5
    private const int FramePointer = 10;

    /// <summary>Checks <paramref name="program"/> and returns the findings ordered by instruction index.</summary>
    /// <param name="program">The instructions (an ld_imm64 is one element occupying two slots).</param>
    /// <param name="options">Program type, entry registers, licence and capabilities; null for <see cref="LintOptions.Default"/>.</param>
    public static IReadOnlyList<LintFinding> Lint(IReadOnlyList<Instruction> program, LintOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(program);
        return new Analysis(program, options ?? LintOptions.Default).Run();
    }

    private sealed class Analysis
    {
        private readonly IReadOnlyList<Instruction> _insns;
        private readonly LintOptions _options;
        private readonly List<LintFinding> _findings = [];
        private readonly int[] _slotOf;          // index -> first slot
        private readonly int[] _indexOfSlot;     // slot -> index, or -1 for the second slot of an ld_imm64
        private readonly int _slotCount;
        private readonly int[] _subprogramOf;    // index -> subprogram number
        private readonly List<int> _subprogramStarts = [];  // indices, ascending
        private readonly List<int>[] _successors;
        private readonly HashSet<int> _calleeEntries = [];

        public Analysis(IReadOnlyList<Instruction> insns, LintOptions options)
        {
            _insns = insns;
            _options = options;
            int n = insns.Count;
            _slotOf = new int[n];
            int slot = 0;
            for (int i = 0; i < n; i++) { _slotOf[i] = slot; slot += insns[i].Slots; }
            _slotCount = slot;
            _indexOfSlot = new int[_slotCount];
            for (int i = 0; i < n; i++)
            {
                _indexOfSlot[_slotOf[i]] = i;
                if (insns[i].IsWide) _indexOfSlot[_slotOf[i] + 1] = -1;
            }
            _subprogramOf = new int[n];
            _successors = new List<int>[n];
        }

        public List<LintFinding> Run()
        {
            if (_insns.Count == 0) return _findings;
            FindSubprograms();
            BuildControlFlow();
            bool[] reachable = FindReachable();
            for (int i = 0; i < _insns.Count; i++)
            {
                if (!reachable[i]) Add(i, LintRules.Unreachable, $"unreachable insn {Slot(i)}: no path from the entry or a called function reaches it");
                CheckEncoding(i);
            }
            RunDataflow(reachable);
            _findings.Sort((a, b) => a.InstructionIndex != b.InstructionIndex ? a.InstructionIndex.CompareTo(b.InstructionIndex) : string.CompareOrdinal(a.Rule, b.Rule));
            return _findings;
        }

        private string Slot(int index) => _slotOf[index].ToString(CultureInfo.InvariantCulture);

        private void Add(int index, string rule, string message) => _findings.Add(new LintFinding(index, rule, message));

        private static bool IsLocalCall(Instruction insn) =>
            insn.Opcode == Opcode.Jump(true, JumpOperation.Call, OperandSource.Immediate) && insn.SourceIndex == (byte)CallKind.Local;

        private static bool IsHelperCall(Instruction insn) =>
            insn.Opcode == Opcode.Jump(true, JumpOperation.Call, OperandSource.Immediate) && insn.SourceIndex == (byte)CallKind.Helper;

        private static bool IsPseudoFunc(Instruction insn) => insn.IsWide && insn.SourceIndex == (byte)PseudoSource.Func;

        /// <summary>Exit by operation, in either jump class (the kernel's CFG treats JMP32|EXIT as an exit too; it refuses the opcode later).</summary>
        private static bool IsExit(Instruction insn) => Opcode.IsJump(insn.Class) && (insn.Opcode & 0xf0) == (int)JumpOperation.Exit;

        private static bool IsJa(Instruction insn) =>
            Opcode.IsJump(insn.Class) && (insn.Opcode & 0xf0) == (int)JumpOperation.Ja;

        /// <summary><c>may_goto</c> (BPF_JMP | BPF_JCOND): a conditional jump that reads no register.</summary>
        private static bool IsMayGoto(Instruction insn) => insn.Opcode == 0xe5;

        private static bool IsCall(Instruction insn) => Opcode.IsJump(insn.Class) && (insn.Opcode & 0xf0) == (int)JumpOperation.Call;

        /// <summary>The slot a jump goes to (JMP32 ja, "gotol", uses the immediate).</summary>
        private int JumpTargetSlot(int i) =>
            _slotOf[i] + 1 + (_insns[i].Class == InstructionClass.Jmp32 && IsJa(_insns[i]) ? _insns[i].Immediate : _insns[i].Offset);

        private bool IsBranch(int i)
        {
            var insn = _insns[i];
            return Opcode.IsJump(insn.Class) && !IsCall(insn) && !IsExit(insn);
        }

        /// <summary>Subprogram starts: 0 and every bpf-to-bpf call or pseudo-func target (the kernel's add_subprog).</summary>
        private void FindSubprograms()
        {
            var starts = new SortedSet<int> { 0 };
            for (int i = 0; i < _insns.Count; i++)
            {
                if (!IsLocalCall(_insns[i]) && !IsPseudoFunc(_insns[i])) continue;
                int target = _slotOf[i] + 1 + _insns[i].Immediate;
                if (target < 0 || target >= _slotCount || _indexOfSlot[target] < 0)
                {
                    Add(i, LintRules.JumpOutOfRange, string.Create(CultureInfo.InvariantCulture,
                        $"call to invalid destination: slot {target} is {(target < 0 || target >= _slotCount ? "outside the program" : "inside an ld_imm64")}"));
                    continue;
                }
                starts.Add(_indexOfSlot[target]);
                _calleeEntries.Add(_indexOfSlot[target]);
            }
            _subprogramStarts.AddRange(starts);
            int sub = 0;
            for (int i = 0; i < _insns.Count; i++)
            {
                if (sub + 1 < _subprogramStarts.Count && _subprogramStarts[sub + 1] == i) sub++;
                _subprogramOf[i] = sub;
            }
        }

        private int SubprogramEnd(int sub) => sub + 1 < _subprogramStarts.Count ? _subprogramStarts[sub + 1] : _insns.Count;

        /// <summary>The kernel's check_subprogs (jump range, last insn) and the successor lists of check_cfg.</summary>
        private void BuildControlFlow()
        {
            for (int i = 0; i < _insns.Count; i++)
            {
                var insn = _insns[i];
                var next = new List<int>(2);
                _successors[i] = next;
                int sub = _subprogramOf[i];
                int start = _subprogramStarts[sub], end = SubprogramEnd(sub);
                if (i == end - 1 && insn.Opcode is not (0x95 or 0x05 or 0x06)) // BPF_JMP|BPF_EXIT, BPF_JMP|BPF_JA, BPF_JMP32|BPF_JA
                    Add(i, LintRules.FallsOffEnd, $"last insn is not an exit or jmp: execution would run off the end of {(sub == 0 ? "the program" : "a subprogram")}");
                if (IsExit(insn)) continue;
                if (IsBranch(i))
                {
                    int targetSlot = JumpTargetSlot(i);
                    int startSlot = _slotOf[start], endSlot = end < _insns.Count ? _slotOf[end] : _slotCount;
                    if (targetSlot < startSlot || targetSlot >= endSlot)
                    {
                        Add(i, LintRules.JumpOutOfRange, string.Create(CultureInfo.InvariantCulture,
                            $"jump out of range from insn {_slotOf[i]} to {targetSlot}: outside {(sub == 0 && _subprogramStarts.Count == 1 ? "the program" : "its (sub)program")} (slots {startSlot}..{endSlot - 1})"));
                    }
                    else if (_indexOfSlot[targetSlot] < 0)
                    {
                        int ld = _indexOfSlot[targetSlot - 1];
                        Add(i, LintRules.JumpIntoLoadImmediate64, string.Create(CultureInfo.InvariantCulture,
                            $"jump into the middle of ldimm64 insn {_slotOf[ld]}: slot {targetSlot} is the second half of instruction {ld}"));
                    }
                    else
                    {
                        next.Add(_indexOfSlot[targetSlot]);
                    }
                    if (IsJa(insn)) continue; // unconditional: no fall-through
                }
                if (i + 1 < end) next.Add(i + 1);
            }
        }

        private bool[] FindReachable()
        {
            var reachable = new bool[_insns.Count];
            var stack = new Stack<int>();
            stack.Push(0);
            reachable[0] = true;
            while (stack.Count > 0)
            {
                int i = stack.Pop();
                foreach (int s in Edges(i))
                {
                    if (reachable[s]) continue;
                    reachable[s] = true;
                    stack.Push(s);
                }
            }
            return reachable;
        }

        /// <summary>Reachability edges: successors plus the callee of a call or pseudo func (as the kernel's check_cfg walks them).</summary>
        private IEnumerable<int> Edges(int i)
        {
            foreach (int s in _successors[i]) yield return s;
            var insn = _insns[i];
            if (IsLocalCall(insn) || IsPseudoFunc(insn))
            {
                int target = _slotOf[i] + 1 + insn.Immediate;
                if (target >= 0 && target < _slotCount && _indexOfSlot[target] >= 0) yield return _indexOfSlot[target];
            }
        }

        /// <summary>Immediate-operand checks of check_alu_op and register-field validity.</summary>
        private void CheckEncoding(int i)
        {
            var insn = _insns[i];
            var cls = insn.Class;
            if (Opcode.IsAlu(cls) && (insn.Opcode & 0x08) == (int)OperandSource.Immediate)
            {
                var op = (AluOperation)(insn.Opcode & 0xf0);
                int width = cls == InstructionClass.Alu64 ? 64 : 32;
                if (op is AluOperation.Lsh or AluOperation.Rsh or AluOperation.Arsh && (insn.Immediate < 0 || insn.Immediate >= width))
                    Add(i, LintRules.InvalidShift, string.Create(CultureInfo.InvariantCulture,
                        $"invalid shift {insn.Immediate}: a {width}-bit shift immediate must be in 0..{width - 1}"));
                if (op is AluOperation.Div or AluOperation.Mod && insn.Immediate == 0)
                    Add(i, LintRules.DivisionByZero, "div by zero: the divisor immediate is 0");
            }
            if (cls == InstructionClass.Ld && (MemoryMode)(insn.Opcode & 0xe0) is MemoryMode.Abs or MemoryMode.Ind && _options.ProgramType == LintProgramType.SockOps)
                Add(i, LintRules.LegacyPacketLoad, "BPF_LD_[ABS|IND] instructions not allowed for this program type: sock_ops reads packets through skb_data/skb_data_end");
            foreach (int field in RegisterFields(insn))
            {
                if (field >= Register.Count)
                    Add(i, LintRules.InvalidRegister, string.Create(CultureInfo.InvariantCulture, $"R{field} is invalid: registers are r0..r10"));
            }
        }

        /// <summary>The register fields an instruction actually uses as registers.</summary>
        private static IEnumerable<int> RegisterFields(Instruction insn)
        {
            var cls = insn.Class;
            bool regSource = (insn.Opcode & 0x08) == (int)OperandSource.Register;
            switch (cls)
            {
                case InstructionClass.Alu:
                case InstructionClass.Alu64:
                    yield return insn.DestinationIndex;
                    if (regSource && (insn.Opcode & 0xf0) != (int)AluOperation.End) yield return insn.SourceIndex;
                    break;
                case InstructionClass.Ldx:
                case InstructionClass.Stx:
                    yield return insn.DestinationIndex;
                    yield return insn.SourceIndex;
                    break;
                case InstructionClass.St:
                    yield return insn.DestinationIndex;
                    break;
                case InstructionClass.Ld:
                    if (insn.IsWide) yield return insn.DestinationIndex;
                    break;
                default:
                    if (IsCall(insn) || IsExit(insn) || (insn.Opcode & 0xf0) == (int)JumpOperation.Ja || IsMayGoto(insn)) break;
                    yield return insn.DestinationIndex;
                    if (regSource) yield return insn.SourceIndex;
                    break;
            }
        }

        // ---- dataflow: must-initialized registers and must-be-unmodified-ctx registers ----

        /// <summary>Must-initialized and must-be-ctx register sets, and r0's value when it is the same constant on every path.</summary>
        private readonly record struct State(int Initialized, int Context, long? R0)
        {
            public State Join(State other) => new(Initialized & other.Initialized, Context & other.Context, R0 == other.R0 ? R0 : null);
        }

        private void RunDataflow(bool[] reachable)
        {
            int n = _insns.Count;
            var input = new State?[n];
            var entry = new State(_options.EntryRegisters | (1 << FramePointer), 1 << 1, null);
            var calleeEntry = new State(LintOptions.CalleeEntryRegisters, 0, null);
            var work = new Queue<int>();
            void Seed(int index, State state)
            {
                input[index] = input[index] is { } s ? s.Join(state) : state;
                work.Enqueue(index);
            }
            Seed(0, entry);
            foreach (int callee in _calleeEntries) Seed(callee, calleeEntry);
            var queued = new bool[n];
            while (work.Count > 0)
            {
                int i = work.Dequeue();
                queued[i] = false;
                var output = Transfer(i, input[i]!.Value, report: false);
                foreach (int s in _successors[i])
                {
                    State merged = input[s] is { } old ? old.Join(output) : output;
                    if (input[s] == merged) continue;
                    input[s] = merged;
                    if (!queued[s]) { queued[s] = true; work.Enqueue(s); }
                }
            }
            for (int i = 0; i < n; i++)
                if (reachable[i] && input[i] is { } state) Transfer(i, state, report: true);
        }

        private State Transfer(int i, State state, bool report)
        {
            var insn = _insns[i];
            int init = state.Initialized, ctx = state.Context;
            long? r0 = state.R0;
            void Read(int reg, string what)
            {
                if (!report || reg >= Register.Count || (init & (1 << reg)) != 0) return;
                Add(i, LintRules.UninitializedRegister, string.Create(CultureInfo.InvariantCulture,
                    $"R{reg} !read_ok: r{reg} ({what}) is read before it is written on some path"));
            }
            void Write(int reg)
            {
                if (reg >= Register.Count) return;
                if (reg == FramePointer)
                {
                    if (report) Add(i, LintRules.FramePointerWrite, "frame pointer is read only: r10 cannot be written");
                    return;
                }
                init |= 1 << reg;
                ctx &= ~(1 << reg);
                if (reg == 0) r0 = null;
            }
            bool IsCtx(int reg) => reg < Register.Count && (ctx & (1 << reg)) != 0;
            void CheckCtx(int baseReg, int size, bool write, bool atomic)
            {
                if (!report || _options.ProgramType != LintProgramType.SockOps || !IsCtx(baseReg)) return;
                string? reason = SockOpsContext.CheckAccess(insn.Offset, size, write, atomic);
                if (reason is not null) Add(i, LintRules.ContextAccess, reason);
            }

            int dst = insn.DestinationIndex, src = insn.SourceIndex;
            bool regSource = (insn.Opcode & 0x08) == (int)OperandSource.Register;
            int size = (MemorySize)(insn.Opcode & 0x18) switch { MemorySize.B => 1, MemorySize.H => 2, MemorySize.W => 4, _ => 8 };
            var mode = (MemoryMode)(insn.Opcode & 0xe0);
            switch (insn.Class)
            {
                case InstructionClass.Alu:
                case InstructionClass.Alu64:
                {
                    var op = (AluOperation)(insn.Opcode & 0xf0);
                    if (op == AluOperation.Mov)
                    {
                        if (regSource)
                        {
                            Read(src, "source");
                            bool copiesCtx = insn.Class == InstructionClass.Alu64 && insn.Offset == 0 && IsCtx(src);
                            Write(dst);
                            if (copiesCtx && dst != FramePointer) ctx |= 1 << dst;
                        }
                        else
                        {
                            Write(dst);
                            if (dst == 0) r0 = insn.Class == InstructionClass.Alu64 ? insn.Immediate : (uint)insn.Immediate;
                        }
                        break;
                    }
                    Read(dst, "destination operand");
                    if (regSource && op is not (AluOperation.Neg or AluOperation.End)) Read(src, "source");
                    Write(dst);
                    break;
                }
                case InstructionClass.Ldx:
                    Read(src, "base address");
                    CheckCtx(src, size, write: false, atomic: false);
                    Write(dst);
                    break;
                case InstructionClass.St:
                    Read(dst, "base address");
                    CheckCtx(dst, size, write: true, atomic: false);
                    break;
                case InstructionClass.Stx when mode == MemoryMode.Atomic:
                {
                    var op = (AtomicOperation)insn.Immediate;
                    if (op == AtomicOperation.LoadAcquire)
                    {
                        Read(src, "base address");
                        Write(dst);
                        break;
                    }
                    Read(dst, "base address");
                    Read(src, "source");
                    if (op == AtomicOperation.CmpXchg) Read(0, "expected value of cmpxchg");
                    if (op != AtomicOperation.StoreRelease) CheckCtx(dst, size, write: true, atomic: true);
                    else CheckCtx(dst, size, write: true, atomic: false);
                    if (op == AtomicOperation.CmpXchg) Write(0);
                    else if (((int)op & 0x01) != 0) Write(src); // fetch variants and xchg return the old value in src
                    break;
                }
                case InstructionClass.Stx:
                    Read(dst, "base address");
                    Read(src, "stored value");
                    CheckCtx(dst, size, write: true, atomic: false);
                    break;
                case InstructionClass.Ld:
                    if (insn.IsWide)
                    {
                        Write(dst);
                        if (dst == 0 && src == (int)PseudoSource.None) r0 = insn.Immediate64;
                    }
                    else if (mode is MemoryMode.Abs or MemoryMode.Ind)
                    {
                        Read(6, "implicit ctx of a legacy packet load");
                        if (mode == MemoryMode.Ind) Read(src, "packet offset");
                        init &= ~ArgumentRegisters;
                        ctx &= ~(ArgumentRegisters | 1);
                        init |= 1;
                        r0 = null;
                    }
                    break;
                default: // JMP, JMP32
                    if (IsExit(insn))
                    {
                        Read(0, "return value");
                        if (report && r0 is { } value and not (0 or 1) && _subprogramOf[i] == 0 && _options.ProgramType == LintProgramType.SockOps)
                            Add(i, LintRules.ReturnValue, string.Create(CultureInfo.InvariantCulture,
                                $"At program exit the register R0 has smin={value} smax={value} should have been in [0, 1]: sock_ops must return 0 or 1 (pass values through skops->reply)"));
                    }
                    else if (IsCall(insn))
                    {
                        int resultMask = 1;
                        if (IsHelperCall(insn))
                        {
                            var helper = Helpers.Find(insn.Immediate);
                            if (helper is not null)
                            {
                                for (int a = 0; a < helper.Arguments.Count; a++)
                                    if (helper.Arguments[a].Kind != HelperArgumentKind.Unchecked) Read(a + 1, $"argument {a + 1} of {helper.Name}");
                                if (helper.ReturnKind == HelperReturnKind.Void) resultMask = 0;
                            }
                            if (report && _options.ProgramType == LintProgramType.SockOps &&
                                Helpers.WhyRefused(insn.Immediate, _options.IsGplLicense, _options.Capabilities) is { } why)
                                Add(i, LintRules.HelperNotAllowed, why);
                        }
                        // Calls clobber r0-r5 (caller-saved) and define r0 unless the helper returns void.
                        init &= ~(ArgumentRegisters | 1);
                        ctx &= ~(ArgumentRegisters | 1);
                        init |= resultMask;
                        r0 = null;
                    }
                    else if (!IsJa(insn) && !IsMayGoto(insn))
                    {
                        Read(dst, "compared register");
                        if (regSource) Read(src, "compared register");
                    }
                    break;
            }
            return new State(init, ctx, r0);
        }
    }
}
