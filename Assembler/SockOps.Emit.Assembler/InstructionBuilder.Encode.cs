using System.Globalization;

namespace SockOps.Emit.Assembler;

public sealed partial class InstructionBuilder
{
    /// <summary>
    /// Resolves every label reference and returns the finished program. The builder is left as it
    /// was and may be extended and encoded again.
    /// </summary>
    /// <param name="options">Long-jump policy; <see cref="EncodeOptions.Default"/> when null.</param>
    /// <exception cref="AssemblerException">
    /// A referenced label is unmarked or marked after the last instruction, or a jump offset does not
    /// fit 16 bits and long jumps are not allowed (or the cpu version has no <c>gotol</c>).
    /// </exception>
    public EncodedProgram Encode(EncodeOptions? options = null)
    {
        options ??= EncodeOptions.Default;
        var result = GC.AllocateUninitializedArray<Instruction>(_count);
        _instructions.AsSpan(0, _count).CopyTo(result);
        bool needsLongJumps = false;
        for (int k = 0; k < _fixupCount; k++)
        {
            ref readonly var fixup = ref _fixups[k];
            int distance = TargetOf(fixup).Slot - (fixup.Slot + 1);
            ref var insn = ref result[fixup.Instruction];
            if (fixup.Kind == FixupKind.Offset16)
            {
                if ((uint)(distance - short.MinValue) > ushort.MaxValue)
                {
                    if (!options.AllowLongJumps || options.CpuVersion < 4) throw OutOfRange(fixup, distance, options);
                    needsLongJumps = true;
                    continue;
                }
                insn = insn.WithOffsetUnchecked((short)distance);
            }
            else
            {
                insn = insn.WithImmediateUnchecked(distance);
            }
        }
        return needsLongJumps
            ? EncodeWithLongJumps()
            : new EncodedProgram(result, _slots, MapReferencesShiftedBy(null, null), []);
    }

    private LabelPosition TargetOf(in Fixup fixup)
    {
        var target = _labels[fixup.LabelId - 1];
        if (target.Instruction < 0)
            throw new AssemblerException(
                string.Create(CultureInfo.InvariantCulture,
                    $"Label {LabelName(fixup.LabelId)} is the target of '{MnemonicAt(fixup.Instruction)}' at instruction {fixup.Instruction} but is never marked."),
                fixup.Instruction);
        if (target.Instruction == _count)
            throw new AssemblerException(
                string.Create(CultureInfo.InvariantCulture,
                    $"Label {LabelName(fixup.LabelId)} is marked after the last instruction; '{MnemonicAt(fixup.Instruction)}' at instruction {fixup.Instruction} would leave the program."),
                fixup.Instruction);
        return target;
    }

    private AssemblerException OutOfRange(in Fixup fixup, int distance, EncodeOptions options)
    {
        string advice = options.AllowLongJumps
            ? string.Create(CultureInfo.InvariantCulture, $"long jumps need gotol, which needs cpu v4 (CpuVersion is {options.CpuVersion})")
            : "set EncodeOptions.AllowLongJumps (cpu v4) to rewrite it with gotol, or shorten the jump";
        return new AssemblerException(
            string.Create(CultureInfo.InvariantCulture,
                $"'{MnemonicAt(fixup.Instruction)}' at instruction {fixup.Instruction} to label {LabelName(fixup.LabelId)} needs an offset of {distance} slots, outside the 16-bit offset field ({short.MinValue}..{short.MaxValue}); {advice}."),
            fixup.Instruction);
    }

    // The mnemonic of a label-using instruction, for messages.
    private string MnemonicAt(int index) => _instructions[index].Opcode switch
    {
        (byte)InstructionClass.Jmp => "goto",
        (byte)InstructionClass.Jmp32 => "gotol",
        (byte)JumpOperation.Jcond | (byte)InstructionClass.Jmp => "may_goto",
        (byte)JumpOperation.Call | (byte)InstructionClass.Jmp => "call",
        Opcode.LoadImmediate64 => "ld_func",
        _ => "if",
    };

    // Rewrites out-of-range 16-bit jumps with gotol. Inserting instructions moves later targets, so
    // this repeats until no further jump goes out of range (each jump is rewritten at most once).
    private EncodedProgram EncodeWithLongJumps()
    {
        int n = _fixupCount;
        var fixups = _fixups.AsSpan(0, n);
        var rewritten = new bool[n];
        var extra = new int[n];          // instructions inserted after fixup k's jump
        var extraPrefix = new int[n + 1]; // extras of fixups 0..k-1
        bool changed = true;
        while (changed)
        {
            changed = false;
            for (int k = 0; k < n; k++) extraPrefix[k + 1] = extraPrefix[k] + extra[k];
            for (int k = 0; k < n; k++)
            {
                ref readonly var fixup = ref fixups[k];
                if (fixup.Kind != FixupKind.Offset16 || rewritten[k]) continue;
                int source = fixup.Slot + extraPrefix[k];
                int distance = NewSlot(TargetOf(fixup), fixups, extraPrefix) - (source + 1);
                if ((uint)(distance - short.MinValue) <= ushort.MaxValue) continue;
                rewritten[k] = true;
                extra[k] = ExtraInstructionsFor(_instructions[fixup.Instruction].Opcode);
                changed = true;
            }
        }

        int inserted = extraPrefix[n];
        var output = new Instruction[_count + inserted];
        var insertedAfter = new int[inserted];
        int o = 0, k2 = 0, ins = 0;
        for (int i = 0; i < _count; i++)
        {
            var insn = _instructions[i];
            if (k2 == n || fixups[k2].Instruction != i)
            {
                output[o++] = insn;
                continue;
            }
            ref readonly var fixup = ref fixups[k2];
            int source = fixup.Slot + extraPrefix[k2];
            int target = NewSlot(TargetOf(fixup), fixups, extraPrefix);
            if (!rewritten[k2])
            {
                int distance = target - (source + 1);
                output[o++] = fixup.Kind == FixupKind.Offset16
                    ? insn.WithOffsetUnchecked((short)distance)
                    : insn.WithImmediateUnchecked(distance);
            }
            else
            {
                byte opcode = insn.Opcode;
                int extraCount = extra[k2];
                if (extraCount == 2)
                {
                    // jset / may_goto have no inverse: "if cond goto +1; goto +1; gotol target".
                    output[o++] = insn.WithOffsetUnchecked(1);
                    output[o++] = new Instruction((byte)InstructionClass.Jmp, 0, 0, 1, 0, 0, true);
                }
                else if (extraCount == 1)
                {
                    // "if !cond goto +1; gotol target".
                    byte inverse = (byte)((byte)InverseCondition((JumpOperation)(opcode & 0xf0)) | (opcode & 0x0f));
                    output[o++] = new Instruction(inverse, insn.DestinationIndex, insn.SourceIndex, 1, insn.Immediate, 0, true);
                }
                int gotolSlot = source + extraCount;
                output[o++] = new Instruction((byte)InstructionClass.Jmp32, 0, 0, 0, target - (gotolSlot + 1), 0, true);
                for (int e = 0; e < extraCount; e++) insertedAfter[ins++] = i;
            }
            k2++;
        }
        return new EncodedProgram(output, _slots + inserted, MapReferencesShiftedBy(fixups.ToArray(), extraPrefix), insertedAfter);
    }

    // Slot of a label after insertions: extras of jumps strictly before the label's instruction.
    private static int NewSlot(LabelPosition label, ReadOnlySpan<Fixup> fixups, int[] extraPrefix) =>
        label.Slot + extraPrefix[FirstFixupAtOrAfter(fixups, label.Instruction)];

    private static int FirstFixupAtOrAfter(ReadOnlySpan<Fixup> fixups, int instruction)
    {
        int lo = 0, hi = fixups.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (fixups[mid].Instruction < instruction) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    // ja becomes gotol in place; conditions with an inverse need one more instruction, jset and may_goto two.
    private static int ExtraInstructionsFor(byte opcode) =>
        (JumpOperation)(opcode & 0xf0) switch
        {
            JumpOperation.Ja => 0,
            JumpOperation.Jset or JumpOperation.Jcond => 2,
            _ => 1,
        };

    internal static JumpOperation InverseCondition(JumpOperation op) => op switch
    {
        JumpOperation.Jeq => JumpOperation.Jne,
        JumpOperation.Jne => JumpOperation.Jeq,
        JumpOperation.Jgt => JumpOperation.Jle,
        JumpOperation.Jle => JumpOperation.Jgt,
        JumpOperation.Jge => JumpOperation.Jlt,
        JumpOperation.Jlt => JumpOperation.Jge,
        JumpOperation.Jsgt => JumpOperation.Jsle,
        JumpOperation.Jsle => JumpOperation.Jsgt,
        JumpOperation.Jsge => JumpOperation.Jslt,
        JumpOperation.Jslt => JumpOperation.Jsge,
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "This jump operation has no inverse."),
    };

    private MapReference[] MapReferencesShiftedBy(Fixup[]? fixups, int[]? extraPrefix)
    {
        if (_mapReferences is null || _mapReferences.Count == 0) return [];
        var result = _mapReferences.ToArray();
        if (fixups is null || extraPrefix is null) return result;
        for (int i = 0; i < result.Length; i++)
        {
            int index = result[i].InstructionIndex;
            result[i] = result[i] with { InstructionIndex = index + extraPrefix[FirstFixupAtOrAfter(fixups, index)] };
        }
        return result;
    }
}
