using SockOps.Emit.Assembler;

namespace SockOps.Emit.Tests.Fuzz;

/// <summary>Edits an emitted program at instruction level, keeping jumps, map references and the source map consistent.</summary>
internal static class RawPatch
{
    /// <summary>Index of the marker store <c>*(u32 *)(ctx + 4) = Marker</c>, or -1.</summary>
    public static int FindMarker(IReadOnlyList<Instruction> code)
    {
        for (int i = 0; i < code.Count; i++)
        {
            var insn = code[i];
            if (insn.Class == InstructionClass.St && insn.Offset == 4 && insn.Immediate == FuzzRenderer.Marker) return i;
        }
        return -1;
    }

    private static bool IsRelativeJump(Instruction insn)
    {
        if (!Opcode.IsJump(insn.Class)) return false;
        int op = insn.Opcode & 0xf0;
        return op != (int)JumpOperation.Call && op != (int)JumpOperation.Exit;
    }

    /// <summary>Replaces instruction <paramref name="index"/> with <paramref name="replacement"/> (any length).</summary>
    public static ProgramImage Replace(ProgramImage image, int index, IReadOnlyList<Instruction> replacement)
    {
        var old = image.Instructions;
        var oldSlot = new int[old.Count + 1];
        for (int i = 0; i < old.Count; i++) oldSlot[i + 1] = oldSlot[i] + old[i].Slots;
        int removed = old[index].Slots, added = replacement.Sum(r => r.Slots);
        int delta = added - removed;
        int markerSlot = oldSlot[index];
        int NewSlot(int slot) => slot > markerSlot ? slot + delta : slot;

        var code = new List<Instruction>(old.Count + replacement.Count);
        var map = new List<SourceLocation>(old.Count + replacement.Count);
        for (int i = 0; i < old.Count; i++)
        {
            if (i == index)
            {
                code.AddRange(replacement);
                map.AddRange(Enumerable.Repeat(image.SourceMap[i], replacement.Count));
                continue;
            }
            var insn = old[i];
            if (IsRelativeJump(insn))
            {
                int target = oldSlot[i] + 1 + insn.Offset;
                int from = NewSlot(oldSlot[i]) + 1;
                insn = new Instruction(insn.Opcode, insn.DestinationIndex, insn.SourceIndex, checked((short)(NewSlot(target) - from)), insn.Immediate);
            }
            code.Add(insn);
            map.Add(image.SourceMap[i]);
        }
        var refs = image.MapReferences
            .Select(r => r.InstructionIndex > index ? r with { InstructionIndex = r.InstructionIndex + replacement.Count - 1 } : r)
            .ToArray();
        var kfuncs = image.KfuncReferences
            .Select(r => r.InstructionIndex > index ? r with { InstructionIndex = r.InstructionIndex + replacement.Count - 1 } : r)
            .ToArray();
        return new ProgramImage(image.Name, [.. code], refs, [.. image.Maps], image.License, [.. map], image.StackSize, kfuncs, image.Target, [.. image.RequiredFeatures]);
    }

    /// <summary>Appends instructions after the last one.</summary>
    public static ProgramImage Append(ProgramImage image, IReadOnlyList<Instruction> extra) =>
        new(image.Name, [.. image.Instructions, .. extra], [.. image.MapReferences], [.. image.Maps], image.License,
            [.. image.SourceMap, .. Enumerable.Repeat(SourceLocation.None, extra.Count)], image.StackSize, [.. image.KfuncReferences], image.Target, [.. image.RequiredFeatures]);

    /// <summary>The same program under another license.</summary>
    public static ProgramImage WithLicense(ProgramImage image, string license) =>
        new(image.Name, [.. image.Instructions], [.. image.MapReferences], [.. image.Maps], license, [.. image.SourceMap], image.StackSize, [.. image.KfuncReferences], image.Target, [.. image.RequiredFeatures]);

    /// <summary>Replaces one instruction in place (same slot count).</summary>
    public static ProgramImage Set(ProgramImage image, int index, Instruction insn)
    {
        var code = image.Instructions.ToArray();
        code[index] = insn;
        return new ProgramImage(image.Name, code, [.. image.MapReferences], [.. image.Maps], image.License, [.. image.SourceMap], image.StackSize, [.. image.KfuncReferences], image.Target, [.. image.RequiredFeatures]);
    }
}
