using System.Runtime.InteropServices;
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
    /// <param name="labelCount">Label ids are below this.</param>
    /// <param name="spillSlots">Gives each spilled register a fresh, permanent 8-byte stack slot (a builder, not a delegate: no closure per Build).</param>
    /// <param name="workspace">Reused buffers; the returned colours live in it until the next Build.</param>
    public static int[] Allocate(List<IrInst> code, ref int registerCount, int labelCount, SockOpsBuilder spillSlots, BuildWorkspace workspace)
    {
        var liveOut = RemoveDeadCode(code, registerCount, labelCount, workspace);
        for (int attempt = 0; ; attempt++)
        {
            if (attempt > 64) throw new InvalidOperationException("Register allocation did not converge.");
            var (colors, spill) = TryColor(code, registerCount, liveOut ?? Liveness(code, registerCount, labelCount, workspace), workspace);
            liveOut = null;
            if (spill < 0) return colors;
            SpillRegister(code, spill, ref registerCount, spillSlots, workspace);
        }
    }

    private static bool Has(ReadOnlySpan<ulong> set, int r) => (set[r >> 6] & (1UL << (r & 63))) != 0;

    private static (int[] Colors, int Spill) TryColor(List<IrInst> code, int n, LiveSets liveOut, BuildWorkspace workspace)
    {
        int words = (n + 63) / 64;
        // Interference as a bit matrix, row v at [v * words, (v + 1) * words) (n is small: a few hundred registers at most).
        var adjacency = BuildWorkspace.Cleared(ref workspace.Adjacency, n * words);
        Span<ulong> Row(int r) => adjacency.AsSpan(r * words, words);
        if (workspace.Partners.Length < n)
        {
            var grown = new List<int>[Math.Max(n, workspace.Partners.Length * 2)];
            workspace.Partners.CopyTo(grown, 0);
            for (int i = workspace.Partners.Length; i < grown.Length; i++) grown[i] = [];
            workspace.Partners = grown;
        }
        // A register without move partners has an empty list.
        var partners = workspace.Partners;
        for (int i = 0; i < n; i++) partners[i].Clear();
        var defs = workspace.Defs;
        var uses = workspace.Uses;
        var order = workspace.Order;
        order.Clear();
        var seen = BuildWorkspace.Cleared(ref workspace.Seen, n);
        // By reference: an IrInst is ~100 bytes, and the list indexer would copy it at every read.
        var instructions = CollectionsMarshal.AsSpan(code);
        for (int i = 0; i < instructions.Length; i++)
        {
            ref readonly var insn = ref instructions[i];
            insn.Defs(defs);
            insn.Uses(uses);
            foreach (int r in uses) if (!seen[r] && r >= FirstVirtual) { seen[r] = true; order.Add(r); }
            foreach (int d in defs) if (!seen[d] && d >= FirstVirtual) { seen[d] = true; order.Add(d); }
            int moveSource = insn.Kind == IrKind.Mov && insn.Is64 ? insn.Src : -1;
            if (moveSource >= 0 && moveSource != 10)
            {
                partners[insn.Dst].Add(moveSource);
                partners[moveSource].Add(insn.Dst);
            }
            var live = liveOut[i];
            foreach (int d in defs)
            {
                var row = Row(d);
                for (int w = 0; w < words; w++)
                {
                    ulong bits = live[w];
                    while (bits != 0)
                    {
                        int r = w * 64 + System.Numerics.BitOperations.TrailingZeroCount(bits);
                        bits &= bits - 1;
                        if (r == d || r == moveSource) continue;
                        row[r >> 6] |= 1UL << (r & 63);
                        adjacency[r * words + (d >> 6)] |= 1UL << (d & 63);
                    }
                }
            }
        }

        // Values that live across a call are the most constrained (r6-r9 only): colour them first, so that
        // their move partners can then follow them into the same register.
        var reordered = workspace.Reordered;
        reordered.Clear();
        foreach (int v in order) if (Has(Row(v), 0) && Has(Row(v), 5)) reordered.Add(v);
        foreach (int v in order) if (!(Has(Row(v), 0) && Has(Row(v), 5))) reordered.Add(v);

        var colors = BuildWorkspace.Sized(ref workspace.Colors, n);
        for (int i = 0; i < n; i++) colors[i] = i < FirstVirtual ? i : -1;
        Span<bool> forbidden = stackalloc bool[11];
        foreach (int v in reordered)
        {
            forbidden.Clear();
            forbidden[10] = true;
            var row = Row(v);
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
            if (mine.Count > 0)
            {
                foreach (int p in mine)
                    if (colors[p] >= 0 && !forbidden[colors[p]]) { chosen = colors[p]; break; }
                if (chosen < 0)
                {
                    // Look one move further: a partner that will itself want a physical register.
                    foreach (int p in mine)
                    {
                        var theirs = partners[p];
                        if (theirs.Count == 0 || Has(Row(p), v)) continue;
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
    private static LiveSets RemoveDeadCode(List<IrInst> code, int n, int labelCount, BuildWorkspace workspace)
    {
        var defs = workspace.Defs;
        while (true)
        {
            bool changed = false;
            var liveOut = Liveness(code, n, labelCount, workspace);
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

    /// <summary>Bit sets of registers per instruction, in one flat array (reused from Build to Build).</summary>
    internal sealed class LiveSets
    {
        private ulong[] _data = [];

        public int Words { get; private set; }

        /// <summary>Makes room for <paramref name="count"/> empty sets of <paramref name="words"/> words.</summary>
        public void Reset(int count, int words)
        {
            Words = words;
            BuildWorkspace.Cleared(ref _data, Math.Max(1, count * words));
        }

        public Span<ulong> this[int index] => _data.AsSpan(index * Words, Words);

        public bool Contains(int index, int register) => (_data[index * Words + (register >> 6)] & (1UL << (register & 63))) != 0;
    }

    /// <summary>Live-out sets per instruction (backward data flow to a fixed point); valid until the next call.</summary>
    internal static LiveSets Liveness(List<IrInst> code, int n, int labelCount, BuildWorkspace workspace)
    {
        int words = (n + 63) / 64;
        int count = code.Count;
        var instructions = CollectionsMarshal.AsSpan(code);   // by reference: no ~100-byte copy per read
        var labelIndex = BuildWorkspace.Sized(ref workspace.LabelIndex, labelCount);
        for (int i = 0; i < count; i++) if (instructions[i].Kind == IrKind.Label) labelIndex[instructions[i].LabelId] = i;
        var liveIn = workspace.LiveIn;
        var liveOut = workspace.LiveOut;
        liveIn.Reset(count, words);
        liveOut.Reset(count, words);
        // Uses and defs of every instruction, flattened: [start[i], start[i + 1]) in one list each.
        var uses = workspace.Uses;
        var defs = workspace.Defs;
        var useStart = BuildWorkspace.Sized(ref workspace.UseStart, count + 1);
        var defStart = BuildWorkspace.Sized(ref workspace.DefStart, count + 1);
        var useList = workspace.UseList;
        var defList = workspace.DefList;
        useList.Clear();
        defList.Clear();
        var target = BuildWorkspace.Sized(ref workspace.JumpTarget, count);
        for (int i = 0; i < count; i++)
        {
            ref readonly var insn = ref instructions[i];
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
        // Without backward jumps (the DSL unrolls loops) one backward pass sees every successor's final
        // live-in set, so it is already the fixed point: no second pass to confirm it.
        bool backEdges = false;
        for (int i = 0; i < count; i++) if (target[i] >= 0 && target[i] <= i) backEdges = true;
        bool changed = true;
        Span<ulong> scratch = words <= 64 ? stackalloc ulong[words] : BuildWorkspace.Sized(ref workspace.LivenessScratch, words).AsSpan(0, words);
        while (changed)
        {
            changed = false;
            for (int i = count - 1; i >= 0; i--)
            {
                var kind = instructions[i].Kind;
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
            if (!backEdges) break;
        }
        return liveOut;
    }

    private static void Or(Span<ulong> into, ReadOnlySpan<ulong> from) { for (int i = 0; i < into.Length; i++) into[i] |= from[i]; }

    private static void SpillRegister(List<IrInst> code, int v, ref int registerCount, SockOpsBuilder spillSlots, BuildWorkspace workspace)
    {
        short slot = 0;
        bool allocated = false;
        var uses = workspace.Uses;
        var defs = workspace.Defs;
        for (int i = 0; i < code.Count; i++)
        {
            var insn = code[i];
            insn.Uses(uses);
            insn.Defs(defs);
            bool used = uses.Contains(v), defined = defs.Contains(v);
            if (!used && !defined) continue;
            if (!allocated) { slot = spillSlots.AllocateStack(8, 8, insn.Location, permanent: true); allocated = true; }
            int temp = registerCount++;
            if (insn.Dst == v) insn.Dst = temp;
            if (insn.Src == v) insn.Src = temp;
            code[i] = insn;
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
