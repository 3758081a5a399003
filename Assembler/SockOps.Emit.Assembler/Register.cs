namespace SockOps.Emit.Assembler;

/// <summary>
/// A 64-bit BPF register r0..r10. r10 is the read-only frame pointer; r0 holds return values,
/// r1-r5 are arguments (clobbered by calls), r6-r9 are callee-saved.
/// </summary>
public readonly record struct Register
{
    /// <summary>Number of architectural registers (r0..r10).</summary>
    public const int Count = 11;

    private Register(byte index) => Index = index;

    /// <summary>The register number, 0..10.</summary>
    public byte Index { get; }

    /// <summary>Whether this is the read-only frame pointer r10.</summary>
    public bool IsFramePointer => Index == 10;

    /// <summary>The 32-bit view (wN) of this register, for ALU32 and JMP32 forms.</summary>
    public Register32 W => new(this);

    /// <summary>Returns the register with the given number.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The number is not 0..10.</exception>
    public static Register FromIndex(int index) =>
        (uint)index < Count ? new Register((byte)index)
            : throw new ArgumentOutOfRangeException(nameof(index), index, "BPF registers are r0..r10.");

    /// <summary>Return value and scratch.</summary>
    public static Register R0 => new(0);
    /// <summary>First argument; the context pointer on entry.</summary>
    public static Register R1 => new(1);
    /// <summary>Second argument.</summary>
    public static Register R2 => new(2);
    /// <summary>Third argument.</summary>
    public static Register R3 => new(3);
    /// <summary>Fourth argument.</summary>
    public static Register R4 => new(4);
    /// <summary>Fifth argument.</summary>
    public static Register R5 => new(5);
    /// <summary>Callee-saved.</summary>
    public static Register R6 => new(6);
    /// <summary>Callee-saved.</summary>
    public static Register R7 => new(7);
    /// <summary>Callee-saved.</summary>
    public static Register R8 => new(8);
    /// <summary>Callee-saved.</summary>
    public static Register R9 => new(9);
    /// <summary>The read-only frame pointer.</summary>
    public static Register R10 => new(10);

    /// <inheritdoc/>
    public override string ToString() => "r" + Index.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>The 32-bit view wN of a register, used by ALU32 and JMP32 instructions.</summary>
public readonly record struct Register32
{
    internal Register32(Register full) => Full = full;

    /// <summary>The underlying 64-bit register.</summary>
    public Register Full { get; }

    /// <summary>The register number, 0..10.</summary>
    public byte Index => Full.Index;

    /// <inheritdoc/>
    public override string ToString() => "w" + Index.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
