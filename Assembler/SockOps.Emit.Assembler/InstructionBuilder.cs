using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace SockOps.Emit.Assembler;

/// <summary>
/// Builds a BPF instruction stream, one method per mnemonic (dst first, as in the llvm syntax), with
/// labels for jumps and calls resolved by <see cref="Encode(EncodeOptions?)"/>. 64-bit forms take
/// <see cref="Register"/>, 32-bit forms (ALU32, JMP32) take <see cref="Register32"/>.
/// </summary>
/// <remarks>
/// <para>
/// Refused when the instruction is built (<see cref="InvalidInstructionException"/>): what cannot be
/// encoded (see <see cref="Isa"/>), sizes an operation does not have, immediates outside the values an
/// operation defines, and r10 as a destination (ALU, loads, ld_imm64, the register a fetching atomic
/// writes back): the frame pointer is read-only in every program. Left to the verifier, because they
/// are encodable and their meaning depends on the program: shift amounts at or above the width,
/// division by a constant zero, helper ids, map sizes.
/// </para>
/// <para>
/// Refused at <see cref="Encode(EncodeOptions?)"/> (<see cref="AssemblerException"/>): a label used but
/// never marked or marked after the last instruction, a jump offset outside the 16-bit field (unless
/// <see cref="EncodeOptions.AllowLongJumps"/>). Marking a label twice throws at once.
/// </para>
/// <para>
/// Storage comes from <see cref="ArrayPool{T}"/>: building and encoding allocate only the result.
/// <see cref="Dispose"/> returns the buffers; <see cref="Clear"/> reuses them.
/// </para>
/// </remarks>
[SkipLocalsInit] // no code here reads locals before writing them; saves zeroing in every emitter
public sealed partial class InstructionBuilder : IDisposable
{
    private static int s_nextBuilderId;

    // Identifies the builder and its current generation: Clear() renews it so old labels are refused.
    private int _builderId = Interlocked.Increment(ref s_nextBuilderId);
    private Instruction[] _instructions;
    private int _count;
    private int _slots;
    private Fixup[] _fixups;
    private int _fixupCount;
    // Per label (index Id - 1): the instruction index and slot it is marked at; -1 while unmarked.
    private LabelPosition[] _labels;
    private int _labelCount;
    private Dictionary<int, string>? _labelNames;
    private List<MapReference>? _mapReferences;

    /// <summary>Creates a builder.</summary>
    /// <param name="capacity">Expected number of instructions (the buffer grows as needed).</param>
    public InstructionBuilder(int capacity = 256)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _instructions = ArrayPool<Instruction>.Shared.Rent(Math.Max(capacity, 16));
        _fixups = ArrayPool<Fixup>.Shared.Rent(16);
        _labels = ArrayPool<LabelPosition>.Shared.Rent(16);
    }

    /// <summary>Number of instructions emitted so far (the index the next one gets).</summary>
    public int Count => _count;

    /// <summary>Number of 8-byte slots emitted so far (ld_imm64 counts 2).</summary>
    public int SlotCount => _slots;

    /// <summary>The instruction at <paramref name="index"/> as emitted (label targets not yet resolved).</summary>
    public Instruction this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _count);
            return _instructions[index];
        }
    }

    /// <summary>Creates a new, unmarked label.</summary>
    /// <param name="name">Optional name used in error messages.</param>
    public Label CreateLabel(string? name = null)
    {
        if (_labelCount == _labels.Length) Grow(ref _labels, _labelCount + 1);
        _labels[_labelCount++] = new LabelPosition(-1, -1);
        if (name is not null) (_labelNames ??= [])[_labelCount] = name;
        return new Label(_builderId, _labelCount);
    }

    /// <summary>Binds <paramref name="label"/> to the next instruction to be emitted.</summary>
    /// <exception cref="ArgumentException">The label is <c>default</c> or belongs to another builder.</exception>
    /// <exception cref="AssemblerException">The label is already marked.</exception>
    public InstructionBuilder MarkLabel(Label label)
    {
        ref var position = ref LabelSlot(label, nameof(label));
        if (position.Instruction >= 0)
            throw new AssemblerException(
                string.Create(CultureInfo.InvariantCulture,
                    $"Label {LabelName(label.Id)} is already marked at instruction {position.Instruction}; it cannot be marked again at instruction {_count}."),
                _count);
        position = new LabelPosition(_count, _slots);
        return this;
    }

    /// <summary>Whether <paramref name="label"/> has been marked.</summary>
    public bool IsMarked(Label label) => LabelSlot(label, nameof(label)).Instruction >= 0;

    /// <summary>Forgets all instructions, labels and map references, keeping the buffers. Labels created before are refused afterwards.</summary>
    public void Clear()
    {
        _builderId = Interlocked.Increment(ref s_nextBuilderId);
        _count = 0;
        _slots = 0;
        _fixupCount = 0;
        _labelCount = 0;
        _labelNames?.Clear();
        _mapReferences?.Clear();
    }

    /// <summary>Returns the pooled buffers. The builder is empty afterwards and may be used again.</summary>
    public void Dispose()
    {
        Clear();
        if (_instructions.Length != 0) ArrayPool<Instruction>.Shared.Return(_instructions);
        if (_fixups.Length != 0) ArrayPool<Fixup>.Shared.Return(_fixups);
        if (_labels.Length != 0) ArrayPool<LabelPosition>.Shared.Return(_labels);
        _instructions = [];
        _fixups = [];
        _labels = [];
    }

    /// <summary>
    /// Emits <paramref name="instruction"/> as it is (an escape hatch: jump offsets are raw slot
    /// counts, nothing is resolved). It must be encodable (<see cref="Isa.Validate"/>).
    /// </summary>
    /// <exception cref="InvalidInstructionException">The instruction is not encodable.</exception>
    public InstructionBuilder Raw(Instruction instruction)
    {
        if (Isa.Validate(instruction) is { } reason)
            throw new InvalidInstructionException("raw", instruction.ToString(), reason);
        return Emit(instruction);
    }

    // ---- emission -------------------------------------------------------------------------------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private InstructionBuilder Emit(in Instruction instruction)
    {
        var buffer = _instructions;
        int count = _count;
        if ((uint)count >= (uint)buffer.Length)
        {
            Grow(ref _instructions, count + 1);
            buffer = _instructions;
        }
        buffer[count] = instruction;
        _count = count + 1;
        _slots += instruction.IsWide ? 2 : 1;
        return this;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private InstructionBuilder Emit(byte opcode, byte dst, byte src, short offset, int immediate) =>
        Emit(new Instruction(opcode, dst, src, offset, immediate, 0, true));

    // Emits an instruction whose offset or immediate is the relative slot distance to a label.
    private InstructionBuilder EmitWithFixup(byte opcode, byte dst, byte src, int imm, int immediateHigh, Label target, FixupKind kind)
    {
        _ = LabelSlot(target, nameof(target));
        if (_fixupCount == _fixups.Length) Grow(ref _fixups, _fixupCount + 1);
        _fixups[_fixupCount++] = new Fixup(_count, _slots, target.Id, kind);
        return Emit(new Instruction(opcode, dst, src, 0, imm, immediateHigh, true));
    }

    private ref LabelPosition LabelSlot(Label label, string parameterName)
    {
        if (!label.IsValid)
            throw new ArgumentException("The label is default(Label); create labels with CreateLabel().", parameterName);
        if (label.BuilderId != _builderId || label.Id > _labelCount)
            throw new ArgumentException($"Label {label} was not created by this builder (or was created before Clear()).", parameterName);
        return ref _labels[label.Id - 1];
    }

    private string LabelName(int id) =>
        _labelNames is not null && _labelNames.TryGetValue(id, out var name)
            ? string.Create(CultureInfo.InvariantCulture, $"'{name}' (L{id})")
            : string.Create(CultureInfo.InvariantCulture, $"L{id}");

    private static void Grow<T>(ref T[] array, int needed)
    {
        var bigger = ArrayPool<T>.Shared.Rent(Math.Max(needed, array.Length * 2));
        array.AsSpan().CopyTo(bigger);
        if (array.Length != 0) ArrayPool<T>.Shared.Return(array);
        array = bigger;
    }

    // ---- failures -------------------------------------------------------------------------------

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static InvalidInstructionException Invalid(string mnemonic, string operands, string reason) =>
        new(mnemonic, operands, reason);

    private static string FramePointerReason(string role) =>
        $"r10 is the read-only frame pointer; it cannot be {role}.";

    internal readonly record struct LabelPosition(int Instruction, int Slot);

    internal enum FixupKind : byte
    {
        /// <summary>16-bit offset field: ja, conditional jumps, may_goto.</summary>
        Offset16,
        /// <summary>32-bit immediate of gotol.</summary>
        Gotol,
        /// <summary>32-bit immediate of a bpf-to-bpf call or an ld_imm64 of a function address.</summary>
        Immediate32,
    }

    // Blittable on purpose (no GC references): recording a fix-up is a plain 16-byte store.
    internal readonly record struct Fixup(int Instruction, int Slot, int LabelId, FixupKind Kind);
}
