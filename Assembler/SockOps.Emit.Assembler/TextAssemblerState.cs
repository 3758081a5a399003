using System.Globalization;

namespace SockOps.Emit.Assembler;

/// <summary>What a pending label reference patches once every label is known.</summary>
internal enum AsmFixupKind : byte
{
    /// <summary>The 16-bit jump offset (goto, conditional jumps).</summary>
    JumpOffset,
    /// <summary>The 32-bit immediate of a gotol (JMP32 | JA).</summary>
    LongJumpImmediate,
    /// <summary>The immediate of a bpf-to-bpf call (source field 1).</summary>
    CallImmediate,
    /// <summary>An ld_imm64 of a symbol: a label makes it a function pointer (pseudo func), anything else a map reference.</summary>
    Symbol,
}

/// <summary>A reference to a label that is patched after the whole text is read.</summary>
internal readonly record struct AsmFixup(int InstructionIndex, int Slot, string Label, AsmFixupKind Kind, int Line, int Column);

/// <summary>
/// The growing program of one assembly run: instructions, labels and pending label references.
/// Both dialect parsers feed it; <see cref="Finish"/> resolves the references.
/// </summary>
internal sealed class TextAssemblerState
{
    private const int MaxDiagnostics = 100;

    private Instruction[] _instructions;
    private int[] _lines;
    private int _count;
    private readonly Dictionary<string, (int Slot, int Line)> _labels = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (int Slot, int Line)>.AlternateLookup<ReadOnlySpan<char>> _labelLookup;
    private readonly List<AsmFixup> _fixups = [];
    private readonly List<AsmDiagnostic> _diagnostics = [];

    public TextAssemblerState(int expectedInstructions)
    {
        _instructions = new Instruction[Math.Max(8, expectedInstructions)];
        _lines = new int[_instructions.Length];
        _labelLookup = _labels.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The slot the next instruction will occupy.</summary>
    public int Slot { get; private set; }

    /// <summary>The index the next instruction will have.</summary>
    public int Count => _count;

    /// <summary>Slot of the first <c>exit</c> (the conformance dialect's implicit <c>exit</c> label), or -1.</summary>
    public int FirstExitSlot { get; private set; } = -1;

    /// <summary>Whether the conformance dialect's implicit <c>exit</c> label applies.</summary>
    public bool ImplicitExitLabel { get; init; }

    public bool HasErrors => _diagnostics.Count > 0;

    public bool TooManyErrors => _diagnostics.Count >= MaxDiagnostics;

    public IReadOnlyList<AsmDiagnostic> Diagnostics => _diagnostics;

    public void Report(AsmSyntaxException error)
    {
        foreach (var d in error.Diagnostics)
            if (_diagnostics.Count < MaxDiagnostics) _diagnostics.Add(d);
    }

    public void Emit(Instruction instruction, int line)
    {
        if (_count == _instructions.Length)
        {
            Array.Resize(ref _instructions, _count * 2);
            Array.Resize(ref _lines, _count * 2);
        }
        if (instruction.Opcode == 0x95 && FirstExitSlot < 0) FirstExitSlot = Slot;
        _instructions[_count] = instruction;
        _lines[_count] = line;
        _count++;
        Slot += instruction.Slots;
    }

    /// <summary>Records a label reference for the instruction that is emitted next.</summary>
    public void AddFixup(ReadOnlySpan<char> label, AsmFixupKind kind, int line, int column)
    {
        // Reuse the stored key when the label is already known, so backward jumps allocate nothing.
        string name = _labelLookup.TryGetValue(label, out string? known, out _) ? known : label.ToString();
        _fixups.Add(new AsmFixup(_count, Slot, name, kind, line, column));
    }

    public void DefineLabel(ReadOnlySpan<char> name, int line, int column)
    {
        if (_labelLookup.TryGetValue(name, out var previous))
        {
            throw new AsmSyntaxException(line, column, name.ToString(),
                string.Create(CultureInfo.InvariantCulture, $"duplicate label '{name}' (first defined on line {previous.Line})"));
        }
        _labelLookup[name] = (Slot, line);
    }

    /// <summary>Resolves label references and returns the program, or null when there were errors.</summary>
    public TextAssemblyResult? Finish()
    {
        List<MapReference>? maps = null;
        foreach (var fixup in _fixups)
        {
            try
            {
                Resolve(fixup, ref maps);
            }
            catch (AsmSyntaxException error)
            {
                Report(error);
            }
        }
        if (HasErrors) return null;

        var labels = new Dictionary<string, int>(_labels.Count, StringComparer.Ordinal);
        foreach (var (name, where) in _labels) labels[name] = where.Slot;
        return new TextAssemblyResult(_instructions[.._count], _lines[.._count], Slot, labels,
            maps is null ? Array.Empty<MapReference>() : maps.ToArray());
    }

    private void Resolve(AsmFixup fixup, ref List<MapReference>? maps)
    {
        var insn = _instructions[fixup.InstructionIndex];
        int target;
        if (_labels.TryGetValue(fixup.Label, out var where))
        {
            target = where.Slot;
        }
        else if (fixup.Kind == AsmFixupKind.Symbol)
        {
            // Not a label: a map the loader resolves by name (LLVM emits a relocation here).
            (maps ??= []).Add(new MapReference(fixup.InstructionIndex, fixup.Label, PseudoSource.MapFd));
            _instructions[fixup.InstructionIndex] = new Instruction(insn.Opcode, insn.DestinationIndex, (byte)PseudoSource.MapFd, 0, 0);
            return;
        }
        else if (ImplicitExitLabel && fixup.Label == "exit" && FirstExitSlot >= 0)
        {
            target = FirstExitSlot;
        }
        else
        {
            throw new AsmSyntaxException(fixup.Line, fixup.Column, fixup.Label, $"unknown label '{fixup.Label}'");
        }

        long relative = (long)target - fixup.Slot - 1;
        switch (fixup.Kind)
        {
            case AsmFixupKind.JumpOffset:
                if (relative is < short.MinValue or > short.MaxValue)
                {
                    throw new AsmSyntaxException(fixup.Line, fixup.Column, fixup.Label, string.Create(CultureInfo.InvariantCulture,
                        $"jump to '{fixup.Label}' needs offset {relative}, outside the 16-bit range -32768..32767 (use gotol)"));
                }
                _instructions[fixup.InstructionIndex] = new Instruction(insn.Opcode, insn.DestinationIndex, insn.SourceIndex, (short)relative, insn.Immediate);
                break;
            case AsmFixupKind.LongJumpImmediate:
            case AsmFixupKind.CallImmediate:
                _instructions[fixup.InstructionIndex] = new Instruction(insn.Opcode, insn.DestinationIndex, insn.SourceIndex, insn.Offset, (int)relative);
                break;
            case AsmFixupKind.Symbol:
                _instructions[fixup.InstructionIndex] = new Instruction(insn.Opcode, insn.DestinationIndex, (byte)PseudoSource.Func, 0, (int)relative);
                break;
            default:
                throw new InvalidOperationException("Unknown fix-up kind " + fixup.Kind);
        }
    }
}
