using SockOps.Emit.Assembler;

namespace SockOps.Emit;

/// <summary>A machine instruction before label resolution: jump targets are label ids.</summary>
internal sealed class MInst
{
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

    public static List<MInst> Lower(List<IrInst> ir, int[] colors)
    {
        var output = new List<MInst>(ir.Count + 8);
        byte R(int r) => (byte)(r < 0 ? 0 : colors[r]);
        void Add(Instruction insn, SourceLocation loc, int target = -1, string? map = null) =>
            output.Add(new MInst { Insn = insn, Location = loc, Target = target, MapName = map });
        foreach (var i in ir)
        {
            var loc = i.Location;
            switch (i.Kind)
            {
                case IrKind.Label: output.Add(new MInst { LabelId = i.LabelId, Location = loc }); break;
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
    public static void Optimize(List<MInst> code, ref int nextLabel)
    {
        for (int round = 0; round < 100; round++)
        {
            bool changed = ThreadJumps(code);
            changed |= InvertBranchOverJump(code);
            changed |= RemoveJumpsToNext(code);
            changed |= RemoveUnreachable(code);
            changed |= RemoveUnusedLabels(code);
            changed |= MergeTails(code, ref nextLabel);
            changed |= InlineSingleUseExits(code);
            if (!changed) return;
        }
    }

    private static Dictionary<int, int> LabelPositions(List<MInst> code)
    {
        var map = new Dictionary<int, int>();
        for (int i = 0; i < code.Count; i++) if (code[i].IsLabel) map[code[i].LabelId] = i;
        return map;
    }

    private static int FirstInstructionAt(List<MInst> code, int index)
    {
        while (index < code.Count && code[index].IsLabel) index++;
        return index;
    }

    /// <summary>A jump to an unconditional jump goes straight to its target.</summary>
    private static bool ThreadJumps(List<MInst> code)
    {
        bool changed = false;
        var labels = LabelPositions(code);
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

    private static bool RemoveUnreachable(List<MInst> code)
    {
        bool changed = false;
        var targeted = new HashSet<int>();
        foreach (var m in code) if (m.IsJump) targeted.Add(m.Target);
        for (int i = 0; i < code.Count; i++)
        {
            if (!code[i].EndsFlow) continue;
            int j = i + 1;
            while (j < code.Count && !(code[j].IsLabel && targeted.Contains(code[j].LabelId)))
            {
                if (!code[j].IsLabel) changed = true;
                j++;
            }
            if (j > i + 1) code.RemoveRange(i + 1, j - i - 1);
        }
        return changed;
    }

    private static bool RemoveUnusedLabels(List<MInst> code)
    {
        var targeted = new HashSet<int>();
        foreach (var m in code) if (m.IsJump) targeted.Add(m.Target);
        return code.RemoveAll(m => m.IsLabel && !targeted.Contains(m.LabelId)) > 0;
    }

    /// <summary>
    /// Two blocks that both continue at the same label and end with the same instructions share one copy:
    /// one keeps the suffix, the other jumps to it.
    /// </summary>
    private static bool MergeTails(List<MInst> code, ref int nextLabel)
    {
        var labels = LabelPositions(code);
        foreach (var (label, position) in labels)
        {
            // Predecessor ends: every "goto label", plus the fall-through into the label.
            var ends = new List<int>();
            for (int i = 0; i < code.Count; i++) if (code[i].IsUnconditionalJump && code[i].Target == label) ends.Add(i);
            int fall = position - 1;
            while (fall >= 0 && code[fall].IsLabel) fall--;
            bool hasFall = fall >= 0 && !code[fall].EndsFlow;
            if (ends.Count + (hasFall ? 1 : 0) < 2) continue;
            // Tail of a predecessor: the instructions before its jump (or before the label for the fall-through).
            var tails = new List<(int End, bool IsJump)>();
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
                    if (dropStart < insertAt)
                    {
                        code.Insert(insertAt, new MInst { LabelId = newLabel, Location = code[insertAt].Location });
                        code.RemoveRange(dropStart, k);
                    }
                    else
                    {
                        code.RemoveRange(dropStart, k);
                        code.Insert(insertAt, new MInst { LabelId = newLabel, Location = code[insertAt].Location });
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
    private static bool InlineSingleUseExits(List<MInst> code)
    {
        var references = new Dictionary<int, int>();
        foreach (var m in code) if (m.IsJump) references[m.Target] = references.GetValueOrDefault(m.Target) + 1;
        var labels = LabelPositions(code);
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
            for (int k = at; k < start; k++) if (code[k].LabelId != jump.Target && references.ContainsKey(code[k].LabelId)) otherLabels = true;
            if (otherLabels) continue;
            var copy = code.GetRange(start, end - start + 1).Select(m => new MInst { Insn = m.Insn, MapName = m.MapName, KfuncName = m.KfuncName, Location = m.Location }).ToList();
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
    public static (Instruction[] Instructions, MapReference[] Maps, SourceLocation[] Locations, KfuncReference[] Kfuncs) Resolve(List<MInst> code)
    {
        using var builder = new InstructionBuilder(code.Count);
        var labels = new Dictionary<int, Label>();
        Label LabelFor(int id)
        {
            if (!labels.TryGetValue(id, out var label)) labels[id] = label = builder.CreateLabel("L" + id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return label;
        }
        var locations = new List<SourceLocation>(code.Count);
        var kfuncs = new List<(int BuilderIndex, string Name)>();
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
            encoded = builder.Encode(new EncodeOptions { AllowLongJumps = true, CpuVersion = 4 });
        }
        catch (AssemblerException e)
        {
            var at = e.InstructionIndex is int i && i >= 0 && i < locations.Count ? locations[i] : SourceLocation.None;
            throw new EmitException(EmitRule.Operand, at, e.Message);
        }
        // Long-jump rewrites insert instructions after the jump they extend: they share its location.
        var mapped = new SourceLocation[encoded.Instructions.Length];
        for (int i = 0; i < locations.Count; i++) mapped[encoded.GetInstructionIndex(i)] = locations[i];
        for (int i = 1; i < mapped.Length; i++) if (mapped[i] == default) mapped[i] = mapped[i - 1];
        return ([.. encoded.Instructions], [.. encoded.MapReferences], mapped,
            [.. kfuncs.Select(k => new KfuncReference(encoded.GetInstructionIndex(k.BuilderIndex), k.Name))]);
    }
}
