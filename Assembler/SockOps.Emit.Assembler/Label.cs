using System.Globalization;

namespace SockOps.Emit.Assembler;

/// <summary>
/// A jump target created by <see cref="InstructionBuilder.CreateLabel"/> and bound to a position by
/// <see cref="InstructionBuilder.MarkLabel"/>. <c>default(Label)</c> is no label; using it throws.
/// </summary>
public readonly record struct Label
{
    internal Label(int builderId, int id)
    {
        BuilderId = builderId;
        Id = id;
    }

    // Which builder created the label, so a label of another builder is refused instead of resolved wrongly.
    internal int BuilderId { get; }

    /// <summary>The label's number within its builder, from 1; 0 for <c>default</c>.</summary>
    public int Id { get; }

    /// <summary>Whether this label was created by a builder (not <c>default</c>).</summary>
    public bool IsValid => Id != 0;

    /// <inheritdoc/>
    public override string ToString() => IsValid ? "L" + Id.ToString(CultureInfo.InvariantCulture) : "(no label)";
}
