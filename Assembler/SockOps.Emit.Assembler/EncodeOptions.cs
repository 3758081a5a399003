namespace SockOps.Emit.Assembler;

/// <summary>How <see cref="InstructionBuilder.Encode(EncodeOptions?)"/> resolves jumps.</summary>
public sealed record EncodeOptions
{
    /// <summary>Strict defaults: no long jumps, cpu v3.</summary>
    public static EncodeOptions Default { get; } = new();

    /// <summary>
    /// Whether a jump whose offset does not fit the 16-bit field may be rewritten to use
    /// <c>gotol</c> (JMP32 | JA with a 32-bit immediate): an unconditional jump becomes <c>gotol</c>
    /// in place; a conditional jump becomes the inverse condition over a <c>gotol</c> (one more
    /// instruction; <c>jset</c> and <c>may_goto</c> need two). Needs <see cref="CpuVersion"/> ≥ 4.
    /// </summary>
    public bool AllowLongJumps { get; init; }

    /// <summary>The BPF cpu version the program targets (1..4); <c>gotol</c> needs 4 (Linux 6.6+).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The version is not 1..4.</exception>
    public int CpuVersion
    {
        get => _cpuVersion;
        init => _cpuVersion = value is >= 1 and <= 4 ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "BPF cpu versions are 1 to 4.");
    }

    private readonly int _cpuVersion = 3;
}
