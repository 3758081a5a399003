using System.Runtime.InteropServices;
using SockOps.Emit.Assembler;

namespace SockOps.Emit;

/// <summary>A machine instruction before label resolution: jump targets are label ids. Pooled in <see cref="BuildWorkspace"/>.</summary>
internal sealed class MInst
{
    public void Reset()
    {
        Insn = default;
        Target = -1;
        LabelId = -1;
        MapName = null;
        KfuncName = null;
        Location = default;
    }

    public Instruction Insn;
    public int Target = -1;   // label id for jumps
    public int LabelId = -1;  // ≥ 0: this entry is a label, not an instruction
    public string? MapName;
    public string? KfuncName;
    public SourceLocation Location;

    public bool IsLabel => LabelId >= 0;
    public bool IsJump => Target >= 0;
    public bool IsUnconditionalJump => Target >= 0 && Insn.Opcode == 0x05;
    public bool IsExit => LabelId < 0 && Insn.Opcode == 0x95;
    public bool EndsFlow => IsUnconditionalJump || IsExit;

    public bool SameAs(MInst other) =>
        !IsLabel && !other.IsLabel && Insn == other.Insn && Target == other.Target && MapName == other.MapName && KfuncName == other.KfuncName;
}

/// <summary>
/// The last, swappable stage: intermediate code with allocated registers → machine instructions, local
/// clean-ups (jump threading, branch inversion, tail merging, dead code), then label resolution.
/// </summary>
internal static class MachineCode
{
    private static byte Alu(bool is64, AluOperation op, bool register) => Opcode.Alu(is64, op, register ? OperandSource.Register : OperandSource.Immediate);

    public static List<MInst> Lower(List<IrInst> ir, int[] colors, BuildWorkspace workspace)
    {
        var output = workspace.Machine;
        output.Clear();
        byte R(int r) => (byte)(r < 0 ? 0 : colors[r]);
        void Add(Instruction insn, SourceLocation loc, int target = -1, string? map = null)
        {
            var m = workspace.NewMachine();
            m.Insn = insn;
            m.Location = loc;
            m.Target = target;
            m.MapName = map;
            output.Add(m);
        }
        foreach (ref readonly var i in CollectionsMarshal.AsSpan(ir))   // by reference: IrInst is ~100 bytes
        {
            var loc = i.Location;
            switch (i.Kind)
            {
                case IrKind.Label:
                {
                    var label = workspace.NewMachine();
                    label.LabelId = i.LabelId;
                    label.Location = loc;
                    output.Add(label);
                    break;
                }
                case IrKind.Mov:
                    if (R(i.Dst) == R(i.Src) && i.Is64) break;
                    Add(new Instruction(Alu(i.Is64, AluOperation.Mov, true), R(i.Dst), R(i.Src), 0, 0), loc);
                    break;
                case IrKind.MovSx32:
                    Add(new Instruction(Alu(true, AluOperation.Mov, true), R(i.Dst), R(i.Src), 32, 0), loc);
                    break;
                case IrKind.MovImm:
                    if (!i.Is64) Add(new Instruction(Alu(false, AluOperation.Mov, false), R(i.Dst), 0, 0, unchecked((int)i.Imm)), loc);
                    else if (i.Imm is >= int.MinValue and <= int.MaxValue) Add(new Instruction(Alu(true, AluOperation.Mov, false), R(i.Dst), 0, 0, (int)i.Imm), loc);
                    else Add(Instruction.LoadImmediate64(Register.FromIndex(R(i.Dst)), i.Imm), loc);
                    break;
                case IrKind.Alu:
                    Add(new Instruction(Alu(i.Is64, i.AluOp, true), R(i.Dst), R(i.Src), i.Offset, 0), loc);
                    break;
                case IrKind.AluImm:
                    Add(new Instruction(Alu(i.Is64, i.AluOp, false), R(i.Dst), 0, i.Offset, unchecked((int)i.Imm)), loc);
                    break;
                case IrKind.Neg:
                    Add(new Instruction(Alu(i.Is64, AluOperation.Neg, false), R(i.Dst), 0, 0, 0), loc);
                    break;
                case IrKind.Swap:
                    Add(new Instruction((byte)((byte)InstructionClass.Alu | (byte)AluOperation.End | (byte)OperandSource.Register), R(i.Dst), 0, 0, (int)i.Imm), loc);
                    break;
                case IrKind.LdImm64:
                    Add(Instruction.LoadImmediate64(Register.FromIndex(R(i.Dst)), i.MapName is null ? i.Imm : i.MapValue ? i.Imm << 32 : 0,
                        i.MapName is null ? PseudoSource.None : i.MapValue ? PseudoSource.MapValue : PseudoSource.MapFd), loc, map: i.MapName);
                    break;
                case IrKind.StackAddr:
                    Add(new Instruction(Alu(true, AluOperation.Mov, true), R(i.Dst), 10, 0, 0), loc);
                    Add(new Instruction(Alu(true, AluOperation.Add, false), R(i.Dst), 0, 0, i.Offset), loc);
                    break;
                case IrKind.Load:
                    Add(new Instruction(Opcode.Memory(InstructionClass.Ldx, MemoryMode.Mem, i.Size), R(i.Dst), R(i.Src), i.Offset, 0), loc);
                    break;
                case IrKind.Store:
                    Add(new Instruction(Opcode.Memory(InstructionClass.Stx, MemoryMode.Mem, i.Size), R(i.Dst), R(i.Src), i.Offset, 0), loc);
                    break;
                case IrKind.StoreImm:
                    Add(new Instruction(Opcode.Memory(InstructionClass.St, MemoryMode.Mem, i.Size), R(i.Dst), 0, i.Offset, unchecked((int)i.Imm)), loc);
                    break;
                case IrKind.Jump:
                    Add(new Instruction(Opcode.Jump(true, JumpOperation.Ja, OperandSource.Immediate), 0, 0, 0, 0), loc, i.Target);
                    break;
                case IrKind.CondJump:
                    Add(new Instruction(Opcode.Jump(i.Is64, i.Cond, OperandSource.Register), R(i.Dst), R(i.Src), 0, 0), loc, i.Target);
                    break;
                case IrKind.CondJumpImm:
                    Add(new Instruction(Opcode.Jump(i.Is64, i.Cond, OperandSource.Immediate), R(i.Dst), 0, 0, unchecked((int)i.Imm)), loc, i.Target);
                    break;
                case IrKind.Call when i.KfuncName is not null:
                    Add(new Instruction(Opcode.Jump(true, JumpOperation.Call, OperandSource.Immediate), 0, (byte)CallKind.Kfunc, 0, 0), loc);
                    output[^1].KfuncName = i.KfuncName;
                    break;
                case IrKind.Call:
                    Add(new Instruction(Opcode.Jump(true, JumpOperation.Call, OperandSource.Immediate), 0, 0, 0, (int)i.Imm), loc);
                    break;
                case IrKind.Exit:
                    Add(new Instruction(Opcode.Jump(true, JumpOperation.Exit, OperandSource.Immediate), 0, 0, 0, 0), loc);
                    break;
                default: throw new InvalidOperationException($"Unknown IR kind {i.Kind}.");
            }
        }
        return output;
    }

    /// <summary>Runs the clean-up passes until nothing changes.</summary>
    public static void Optimize(List<MInst> code, ref int nextLabel, BuildWorkspace workspace)
    {
        for (int round = 0; round < 100; round++)
        {
            bool changed = ThreadJumps(code, nextLabel, workspace);
            changed |= InvertBranchOverJump(code);
            changed |= RemoveJumpsToNext(code);
            changed |= RemoveUnreachable(code, nextLabel, workspace);
            changed |= RemoveUnusedLabels(code, nextLabel, workspace);
            changed |= MergeTails(code, ref nextLabel, workspace);
            changed |= InlineSingleUseExits(code, nextLabel, workspace);
            if (!changed) return;
        }
    }

    /// <summary>Position of every label in <paramref name="code"/>, by label id (-1: not in the code).</summary>
    private static int[] LabelPositions(List<MInst> code, int labelCount, BuildWorkspace workspace)
    {
        var positions = BuildWorkspace.Sized(ref workspace.LabelPosition, labelCount);
        Array.Fill(positions, -1, 0, labelCount);
        for (int i = 0; i < code.Count; i++) if (code[i].IsLabel) positions[code[i].LabelId] = i;
        return positions;
    }

    /// <summary>How many jumps target each label, by label id.</summary>
    private static int[] LabelReferences(List<MInst> code, int labelCount, BuildWorkspace workspace)
    {
        var references = BuildWorkspace.Cleared(ref workspace.LabelReferences, labelCount);
        foreach (var m in code) if (m.IsJump) references[m.Target]++;
        return references;
    }

    private static int FirstInstructionAt(List<MInst> code, int index)
    {
        while (index < code.Count && code[index].IsLabel) index++;
        return index;
    }

    /// <summary>A jump to an unconditional jump goes straight to its target.</summary>
    private static bool ThreadJumps(List<MInst> code, int labelCount, BuildWorkspace workspace)
    {
        bool changed = false;
        var labels = LabelPositions(code, labelCount, workspace);
        foreach (var m in code)
        {
            if (!m.IsJump) continue;
            for (int hops = 0; hops < 16; hops++)
            {
                int at = FirstInstructionAt(code, labels[m.Target]);
                if (at >= code.Count || !code[at].IsUnconditionalJump || code[at].Target == m.Target) break;
                m.Target = code[at].Target;
                changed = true;
            }
        }
        return changed;
    }

    private static JumpOperation? Inverse(JumpOperation op) => op switch
    {
        JumpOperation.Jeq => JumpOperation.Jne, JumpOperation.Jne => JumpOperation.Jeq,
        JumpOperation.Jgt => JumpOperation.Jle, JumpOperation.Jle => JumpOperation.Jgt,
        JumpOperation.Jge => JumpOperation.Jlt, JumpOperation.Jlt => JumpOperation.Jge,
        JumpOperation.Jsgt => JumpOperation.Jsle, JumpOperation.Jsle => JumpOperation.Jsgt,
        JumpOperation.Jsge => JumpOperation.Jslt, JumpOperation.Jslt => JumpOperation.Jsge,
        _ => null,
    };

    /// <summary><c>if c goto A; goto B; A:</c> becomes <c>if !c goto B; A:</c>.</summary>
    private static bool InvertBranchOverJump(List<MInst> code)
    {
        bool changed = false;
        for (int i = 0; i + 2 < code.Count; i++)
        {
            var cond = code[i];
            if (!cond.IsJump || cond.IsUnconditionalJump) continue;
            var next = code[i + 1];
            if (!next.IsUnconditionalJump) continue;
            int j = i + 2;
            bool reachesTarget = false;
            while (j < code.Count && code[j].IsLabel) { if (code[j].LabelId == cond.Target) reachesTarget = true; j++; }
            if (!reachesTarget) continue;
            var op = (JumpOperation)(cond.Insn.Opcode & 0xf0);
            if (Inverse(op) is not { } inverse) continue;
            var insn = cond.Insn;
            cond.Insn = new Instruction((byte)((insn.Opcode & 0x0f) | (byte)inverse), insn.DestinationIndex, insn.SourceIndex, 0, insn.Immediate);
            cond.Target = next.Target;
            code.RemoveAt(i + 1);
            changed = true;
        }
        return changed;
    }

    private static bool RemoveJumpsToNext(List<MInst> code)
    {
        bool changed = false;
        for (int i = 0; i < code.Count; i++)
        {
            if (!code[i].IsJump) continue;
            bool toNext = false;
            for (int j = i + 1; j < code.Count && code[j].IsLabel; j++) if (code[j].LabelId == code[i].Target) toNext = true;
            if (!toNext) continue;
            code.RemoveAt(i);
            i--;
            changed = true;
        }
        return changed;
    }

    private static bool RemoveUnreachable(List<MInst> code, int labelCount, BuildWorkspace workspace)
    {
        bool changed = false;
        var references = LabelReferences(code, labelCount, workspace);
        for (int i = 0; i < code.Count; i++)
        {
            if (!code[i].EndsFlow) continue;
            int j = i + 1;
            while (j < code.Count && !(code[j].IsLabel && references[code[j].LabelId] > 0))
            {
                if (!code[j].IsLabel) changed = true;
                j++;
            }
            if (j > i + 1) code.RemoveRange(i + 1, j - i - 1);
        }
        return changed;
    }

    private static bool RemoveUnusedLabels(List<MInst> code, int labelCount, BuildWorkspace workspace)
    {
        var references = LabelReferences(code, labelCount, workspace);
        int kept = 0;
        for (int i = 0; i < code.Count; i++)
        {
            var m = code[i];
            if (m.IsLabel && references[m.LabelId] == 0) continue;
            code[kept++] = m;
        }
        int removed = code.Count - kept;
        code.RemoveRange(kept, removed);
        return removed > 0;
    }

    /// <summary>
    /// Two blocks that both continue at the same label and end with the same instructions share one copy:
    /// one keeps the suffix, the other jumps to it.
    /// </summary>
    private static bool MergeTails(List<MInst> code, ref int nextLabel, BuildWorkspace workspace)
    {
        var ends = workspace.TailEnds;
        var tails = workspace.Tails;
        for (int position = 0; position < code.Count; position++)
        {
            if (!code[position].IsLabel) continue;
            int label = code[position].LabelId;
            // Predecessor ends: every "goto label", plus the fall-through into the label.
            ends.Clear();
            for (int i = 0; i < code.Count; i++) if (code[i].IsUnconditionalJump && code[i].Target == label) ends.Add(i);
            int fall = position - 1;
            while (fall >= 0 && code[fall].IsLabel) fall--;
            bool hasFall = fall >= 0 && !code[fall].EndsFlow;
            if (ends.Count + (hasFall ? 1 : 0) < 2) continue;
            // Tail of a predecessor: the instructions before its jump (or before the label for the fall-through).
            tails.Clear();
            foreach (int e in ends) tails.Add((e - 1, true));
            if (hasFall) tails.Add((fall, false));
            for (int a = 0; a < tails.Count; a++)
            {
                for (int b = a + 1; b < tails.Count; b++)
                {
                    // Keep the copy that falls into the label (or, among jumps, the later one: its jump is the
                    // likeliest to become a fall-through); the other copy becomes a jump.
                    bool keepB = (tails[a].IsJump && !tails[b].IsJump) || (tails[a].IsJump == tails[b].IsJump && tails[b].End > tails[a].End);
                    var (keep, drop) = keepB ? (tails[b], tails[a]) : (tails[a], tails[b]);
                    int k = CommonSuffix(code, keep.End, drop.End);
                    if (k == 0) continue;
                    int slots = 0;
                    for (int s = 0; s < k; s++) slots += code[drop.End - s].Insn.Slots;
                    if (slots < 1) continue;
                    // Label before the kept suffix; the dropped copy becomes "goto" that label.
                    int newLabel = nextLabel++;
                    int insertAt = keep.End - k + 1;
                    int dropStart = drop.End - k + 1;
                    var jump = code[drop.End + 1];
                    jump.Target = newLabel;
                    var labelEntry = workspace.NewMachine();
                    labelEntry.LabelId = newLabel;
                    labelEntry.Location = code[insertAt].Location;
                    if (dropStart < insertAt)
                    {
                        code.Insert(insertAt, labelEntry);
                        code.RemoveRange(dropStart, k);
                    }
                    else
                    {
                        code.RemoveRange(dropStart, k);
                        code.Insert(insertAt, labelEntry);
                    }
                    return true;
                }
            }
        }
        return false;
    }

    /// <summary>
    /// <c>goto L</c> where L is a short block ending in <c>exit</c> that nothing else reaches (no other jump,
    /// no fall-through): the block moves to the jump, saving the jump.
    /// </summary>
    private static bool InlineSingleUseExits(List<MInst> code, int labelCount, BuildWorkspace workspace)
    {
        var references = LabelReferences(code, labelCount, workspace);
        var labels = LabelPositions(code, labelCount, workspace);
        for (int i = 0; i < code.Count; i++)
        {
            var jump = code[i];
            if (!jump.IsUnconditionalJump || references[jump.Target] != 1) continue;
            int at = labels[jump.Target];
            int before = at - 1;
            while (before >= 0 && code[before].IsLabel) before--;
            if (before >= 0 && !code[before].EndsFlow) continue;     // something falls into the block
            int start = FirstInstructionAt(code, at);
            int end = start;
            while (end < code.Count && !code[end].IsLabel && !code[end].IsJump && !code[end].IsExit && end - start < 3) end++;
            if (end >= code.Count || !code[end].IsExit || end - start > 2) continue;
            // Other labels on the block must not be referenced either.
            bool otherLabels = false;
            for (int k = at; k < start; k++) if (code[k].LabelId != jump.Target && references[code[k].LabelId] > 0) otherLabels = true;
            if (otherLabels) continue;
            var copy = workspace.InlineCopy;
            copy.Clear();
            for (int k = start; k <= end; k++)
            {
                var original = code[k];
                var duplicate = workspace.NewMachine();
                duplicate.Insn = original.Insn;
                duplicate.MapName = original.MapName;
                duplicate.KfuncName = original.KfuncName;
                duplicate.Location = original.Location;
                copy.Add(duplicate);
            }
            code.RemoveAt(i);
            code.InsertRange(i, copy);
            return true;   // positions changed; the caller's loop runs the passes again (the old block is now unreachable)
        }
        return false;
    }

    private static int CommonSuffix(List<MInst> code, int x, int y)
    {
        int k = 0;
        while (x - k >= 0 && y - k >= 0 && x - k != y - k)
        {
            var p = code[x - k];
            var q = code[y - k];
            if (p.IsLabel || q.IsLabel || p.IsJump || q.IsJump || p.IsExit || !p.SameAs(q)) break;
            k++;
            // Never let the two ranges overlap.
            if (Math.Abs(x - y) <= k) break;
        }
        return k;
    }

    /// <summary>
    /// Resolves labels through the Assembler's <see cref="InstructionBuilder"/> (fix-ups, 16-bit range checks,
    /// and — for programs whose jumps outgrow 16 bits — <c>gotol</c> relaxation on cpu v4).
    /// </summary>
    public static (Instruction[] Instructions, MapReference[] Maps, IReadOnlyList<SourceLocation> Locations, KfuncReference[] Kfuncs) Resolve(
        List<MInst> code, int labelCount, BuildWorkspace workspace)
    {
        var builder = workspace.Assembler;
        builder.Clear();
        var labels = BuildWorkspace.Sized(ref workspace.AssemblerLabels, labelCount);
        var created = BuildWorkspace.Cleared(ref workspace.AssemblerLabelCreated, labelCount);
        Label LabelFor(int id)
        {
            // Unnamed: only the compiler's own labels, which are always marked and in range.
            if (!created[id]) { labels[id] = builder.CreateLabel(); created[id] = true; }
            return labels[id];
        }
        var locations = workspace.Locations;
        locations.Clear();
        var kfuncs = workspace.Kfuncs;
        kfuncs.Clear();
        foreach (var m in code)
        {
            if (m.IsLabel) { builder.MarkLabel(LabelFor(m.LabelId)); continue; }
            if (m.KfuncName is not null) kfuncs.Add((builder.Count, m.KfuncName));
            var insn = m.Insn;
            if (m.IsUnconditionalJump) builder.Jump(LabelFor(m.Target));
            else if (m.IsJump)
            {
                var condition = (JumpCondition)(insn.Opcode & 0xf0);
                bool is64 = insn.Class == InstructionClass.Jmp;
                bool register = (insn.Opcode & (byte)OperandSource.Register) != 0;
                var dst = Register.FromIndex(insn.DestinationIndex);
                var target = LabelFor(m.Target);
                if (is64 && register) builder.JumpIf(dst, condition, insn.Source, target);
                else if (is64) builder.JumpIf(dst, condition, insn.Immediate, target);
                else if (register) builder.JumpIf(dst.W, condition, insn.Source.W, target);
                else builder.JumpIf(dst.W, condition, insn.Immediate, target);
            }
            else if (m.MapName is not null && insn.SourceIndex == (byte)PseudoSource.MapValue) builder.LoadMapValue(insn.Destination, m.MapName, insn.ImmediateHigh);
            else if (m.MapName is not null) builder.LoadMap(insn.Destination, m.MapName);
            else builder.Raw(insn);
            locations.Add(m.Location);
        }
        EncodedProgram encoded;
        try
        {
            encoded = builder.Encode(s_encodeOptions);
        }
        catch (AssemblerException e)
        {
            var at = e.InstructionIndex is int i && i >= 0 && i < locations.Count ? locations[i] : SourceLocation.None;
            throw new EmitException(EmitRule.Operand, at, e.Message);
        }
        // Long-jump rewrites insert instructions after the jump they extend: they share its location.
        var distinct = workspace.DistinctLocations;
        distinct.Clear();
        // The indexes are built in a reused buffer; the source map copies them at their final width.
        var indexes = BuildWorkspace.Sized(ref workspace.SourceIndexes, encoded.InstructionSpan.Length).AsSpan(0, encoded.InstructionSpan.Length);
        indexes.Fill(-1);
        static int IndexOf(Dictionary<SourceLocation, int> distinct, SourceLocation location)
        {
            if (!distinct.TryGetValue(location, out int index)) distinct.Add(location, index = distinct.Count);
            return index;
        }
        // An instruction without a location (none, or inserted) takes the one before it.
        for (int i = 0; i < locations.Count; i++)
            if (locations[i] != default) indexes[encoded.GetInstructionIndex(i)] = IndexOf(distinct, locations[i]);
        for (int i = 0; i < indexes.Length; i++) if (indexes[i] < 0) indexes[i] = i == 0 ? IndexOf(distinct, default) : indexes[i - 1];
        var table = new SourceLocation[distinct.Count];
        foreach (var (location, index) in distinct) table[index] = location;
        var mapped = new CompactSourceMap(table, indexes);
        var kfuncReferences = kfuncs.Count == 0 ? [] : new KfuncReference[kfuncs.Count];
        for (int i = 0; i < kfuncs.Count; i++) kfuncReferences[i] = new KfuncReference(encoded.GetInstructionIndex(kfuncs[i].BuilderIndex), kfuncs[i].Name);
        // The encoded program is ours alone and dropped here: its arrays become the image's without a copy.
        return (ImmutableCollectionsMarshal.AsArray(encoded.Instructions)!, ImmutableCollectionsMarshal.AsArray(encoded.MapReferences)!,
            mapped, kfuncReferences);
    }

    private static readonly EncodeOptions s_encodeOptions = new() { AllowLongJumps = true, CpuVersion = 4 };
}
