using SockOps.Emit.Assembler;

namespace SockOps.Emit;

/// <summary>
/// Graph-colouring register allocation over the intermediate code. Virtual registers live across a
/// helper call interfere with r0–r5 (the call clobbers them), so they land in r6–r9 or are spilled to
/// the stack; a caller-saved register can therefore never be read after a call. Moves are coalesced by
/// preferring a move partner's register, which removes most copies (e.g. the ctx stays in r1 until a
/// call forces it into a callee-saved register).
/// </summary>
internal static class RegisterAllocator
{
    internal const int FirstVirtual = 16;
    private static readonly int[] ColorOrder = [1, 2, 3, 4, 5, 0, 6, 7, 8, 9];

    /// <summary>Allocates registers; returns the colour of every register number (physical ones map to themselves).</summary>
    /// <param name="code">The code; spill loads and stores are inserted into it.</param>
    /// <param name="registerCount">Number of register numbers in use (max id + 1); grows with spills.</param>
    /// <param name="allocateSpillSlot">Returns a fresh 8-byte stack slot offset (negative, from r10).</param>
    public static int[] Allocate(List<IrInst> code, ref int registerCount, Func<SourceLocation, short> allocateSpillSlot)
    {
        var liveOut = RemoveDeadCode(code, registerCount);
        for (int attempt = 0; ; attempt++)
        {
            if (attempt > 64) throw new InvalidOperationException("Register allocation did not converge.");
            var (colors, spill) = TryColor(code, registerCount, liveOut ?? Liveness(code, registerCount));
            liveOut = null;
            if (spill < 0) return colors;
            SpillRegister(code, spill, ref registerCount, allocateSpillSlot);
        }
    }

    private static bool Has(ulong[] set, int r) => (set[r >> 6] & (1UL << (r & 63))) != 0;

    private static (int[] Colors, int Spill) TryColor(List<IrInst> code, int n, LiveSets liveOut)
    {
        int words = (n + 63) / 64;
        // Interference as a bit matrix (n is small: a few hundred registers at most for real programs).
        var adjacency = new ulong[n][];
        for (int i = 0; i < n; i++) adjacency[i] = new ulong[words];
        var partners = new List<int>?[n];
        var defs = new List<int>(6);
        var order = new List<int>();
        var seen = new bool[n];
        var uses = new List<int>(6);
        for (int i = 0; i < code.Count; i++)
        {
            var insn = code[i];
            insn.Defs(defs);
            insn.Uses(uses);
            foreach (int r in uses) if (!seen[r] && r >= FirstVirtual) { seen[r] = true; order.Add(r); }
            foreach (int d in defs) if (!seen[d] && d >= FirstVirtual) { seen[d] = true; order.Add(d); }
            int moveSource = insn.Kind == IrKind.Mov && insn.Is64 ? insn.Src : -1;
            if (moveSource >= 0 && moveSource != 10)
            {
                (partners[insn.Dst] ??= []).Add(moveSource);
                (partners[moveSource] ??= []).Add(insn.Dst);
            }
            var live = liveOut[i];
            foreach (int d in defs)
            {
                var row = adjacency[d];
                for (int w = 0; w < words; w++)
                {
                    ulong bits = live[w];
                    while (bits != 0)
                    {
                        int r = w * 64 + System.Numerics.BitOperations.TrailingZeroCount(bits);
                        bits &= bits - 1;
                        if (r == d || r == moveSource) continue;
                        row[r >> 6] |= 1UL << (r & 63);
                        adjacency[r][d >> 6] |= 1UL << (d & 63);
                    }
                }
            }
        }

        // Values that live across a call are the most constrained (r6-r9 only): colour them first, so that
        // their move partners can then follow them into the same register.
        order = [.. order.Where(v => Has(adjacency[v], 0) && Has(adjacency[v], 5)), .. order.Where(v => !(Has(adjacency[v], 0) && Has(adjacency[v], 5)))];

        var colors = new int[n];
        for (int i = 0; i < n; i++) colors[i] = i < FirstVirtual ? i : -1;
        Span<bool> forbidden = stackalloc bool[11];
        foreach (int v in order)
        {
            forbidden.Clear();
            forbidden[10] = true;
            var row = adjacency[v];
            for (int w = 0; w < words; w++)
            {
                ulong bits = row[w];
                while (bits != 0)
                {
                    int neighbour = w * 64 + System.Numerics.BitOperations.TrailingZeroCount(bits);
                    bits &= bits - 1;
                    if (colors[neighbour] >= 0) forbidden[colors[neighbour]] = true;
                }
            }
            int chosen = -1;
            var mine = partners[v];
            if (mine is not null)
            {
                foreach (int p in mine)
                    if (colors[p] >= 0 && !forbidden[colors[p]]) { chosen = colors[p]; break; }
                if (chosen < 0)
                {
                    // Look one move further: a partner that will itself want a physical register.
                    foreach (int p in mine)
                    {
                        if (partners[p] is not { } theirs || Has(adjacency[p], v)) continue;
                        foreach (int q in theirs)
                            if (q != v && colors[q] >= 0 && !forbidden[colors[q]]) { chosen = colors[q]; break; }
                        if (chosen >= 0) break;
                    }
                }
            }
            if (chosen < 0)
                foreach (int c in ColorOrder)
                    if (!forbidden[c]) { chosen = c; break; }
            if (chosen < 0) return (colors, v);
            colors[v] = chosen;
        }
        return (colors, -1);
    }

    /// <summary>Removes side-effect-free instructions whose results are never read (e.g. a dead initial value).</summary>
    private static LiveSets RemoveDeadCode(List<IrInst> code, int n)
    {
        var defs = new List<int>();
        while (true)
        {
            bool changed = false;
            var liveOut = Liveness(code, n);
            for (int i = code.Count - 1; i >= 0; i--)
            {
                var insn = code[i];
                if (insn.Kind is not (IrKind.Mov or IrKind.MovImm or IrKind.MovSx32 or IrKind.Alu or IrKind.AluImm or IrKind.Neg
                    or IrKind.Swap or IrKind.LdImm64 or IrKind.StackAddr or IrKind.Load)) continue;
                insn.Defs(defs);
                if (defs.Count != 1 || defs[0] < FirstVirtual) continue;
                int d = defs[0];
                if (liveOut.Contains(i, d)) continue;
                code.RemoveAt(i);
                changed = true;
            }
            if (!changed) return liveOut;
        }
    }

    /// <summary>Bit sets of registers per instruction, in one flat array.</summary>
    internal sealed class LiveSets(int count, int words)
    {
        private readonly ulong[] _data = new ulong[Math.Max(1, count * words)];

        public int Words { get; } = words;

        public Span<ulong> this[int index] => _data.AsSpan(index * Words, Words);

        public bool Contains(int index, int register) => (_data[index * Words + (register >> 6)] & (1UL << (register & 63))) != 0;
    }

    /// <summary>Live-out sets per instruction (backward data flow to a fixed point).</summary>
    internal static LiveSets Liveness(List<IrInst> code, int n)
    {
        int words = (n + 63) / 64;
        int count = code.Count;
        var labelIndex = new Dictionary<int, int>();
        for (int i = 0; i < count; i++) if (code[i].Kind == IrKind.Label) labelIndex[code[i].LabelId] = i;
        var liveIn = new LiveSets(count, words);
        var liveOut = new LiveSets(count, words);
        // Uses and defs of every instruction, flattened: [start[i], start[i + 1]) in one array each.
        var uses = new List<int>(6);
        var defs = new List<int>(6);
        var useStart = new int[count + 1];
        var defStart = new int[count + 1];
        var useList = new List<int>(count * 2);
        var defList = new List<int>(count);
        var target = new int[count];
        for (int i = 0; i < count; i++)
        {
            var insn = code[i];
            insn.Uses(uses);
            insn.Defs(defs);
            useStart[i] = useList.Count;
            defStart[i] = defList.Count;
            useList.AddRange(uses);
            defList.AddRange(defs);
            target[i] = insn.Kind is IrKind.Jump or IrKind.CondJump or IrKind.CondJumpImm ? labelIndex[insn.Target] : -1;
        }
        useStart[count] = useList.Count;
        defStart[count] = defList.Count;
        bool changed = true;
        Span<ulong> scratch = words <= 64 ? stackalloc ulong[words] : new ulong[words];
        while (changed)
        {
            changed = false;
            for (int i = count - 1; i >= 0; i--)
            {
                var kind = code[i].Kind;
                scratch.Clear();
                if (kind is not (IrKind.Jump or IrKind.Exit) && i + 1 < count) Or(scratch, liveIn[i + 1]);
                if (target[i] >= 0) Or(scratch, liveIn[target[i]]);
                var outSet = liveOut[i];
                if (!scratch.SequenceEqual(outSet)) { scratch.CopyTo(outSet); changed = true; }
                for (int k = defStart[i]; k < defStart[i + 1]; k++) { int d = defList[k]; scratch[d >> 6] &= ~(1UL << (d & 63)); }
                for (int k = useStart[i]; k < useStart[i + 1]; k++) { int u = useList[k]; scratch[u >> 6] |= 1UL << (u & 63); }
                var inSet = liveIn[i];
                if (!scratch.SequenceEqual(inSet)) { scratch.CopyTo(inSet); changed = true; }
            }
        }
        return liveOut;
    }

    private static void Or(Span<ulong> into, ReadOnlySpan<ulong> from) { for (int i = 0; i < into.Length; i++) into[i] |= from[i]; }

    private static void SpillRegister(List<IrInst> code, int v, ref int registerCount, Func<SourceLocation, short> allocateSpillSlot)
    {
        short slot = 0;
        bool allocated = false;
        var uses = new List<int>();
        var defs = new List<int>();
        for (int i = 0; i < code.Count; i++)
        {
            var insn = code[i];
            insn.Uses(uses);
            insn.Defs(defs);
            bool used = uses.Contains(v), defined = defs.Contains(v);
            if (!used && !defined) continue;
            if (!allocated) { slot = allocateSpillSlot(insn.Location); allocated = true; }
            int temp = registerCount++;
            if (insn.Dst == v) insn.Dst = temp;
            if (insn.Src == v) insn.Src = temp;
            if (used)
            {
                code.Insert(i, new IrInst { Kind = IrKind.Load, Dst = temp, Src = 10, Offset = slot, Size = MemorySize.DW, Location = insn.Location });
                i++;
            }
            if (defined)
            {
                code.Insert(i + 1, new IrInst { Kind = IrKind.Store, Dst = 10, Src = temp, Offset = slot, Size = MemorySize.DW, Location = insn.Location });
                i++;
            }
        }
    }
}
