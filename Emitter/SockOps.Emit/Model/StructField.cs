using System.Globalization;

namespace SockOps.Emit;

/// <summary>
/// One member of a kernel-defined struct a sock_ops program reads (<c>struct bpf_sock_ops</c>,
/// <c>struct bpf_sock</c>, <c>struct bpf_tcp_sock</c>): where it is, how wide it is, which load widths
/// the verifier accepts at its start and how its bytes are ordered. An array member (e.g.
/// <c>remote_ip6</c>) lists one entry per 4-byte element in <see cref="Elements"/>; the elements are
/// the units a program actually loads.
/// </summary>
public class StructField
{
    internal StructField(string name, int offset, int size, AccessSizes readSizes, FieldByteOrder byteOrder, string description,
        bool narrowReadsInside = false, string? arrayName = null, int? elementIndex = null)
    {
        Name = name;
        Offset = offset;
        Size = size;
        ReadSizes = readSizes;
        ByteOrder = byteOrder;
        Description = description;
        NarrowReadsInside = narrowReadsInside;
        ArrayName = arrayName;
        ElementIndex = elementIndex;
    }

    /// <summary>Size in bytes of one element of an array member.</summary>
    public const int ElementSize = 4;

    /// <summary>The C member name; for an array element with its index, e.g. <c>remote_ip6[2]</c>.</summary>
    public string Name { get; }

    /// <summary>Byte offset from the start of the struct.</summary>
    public int Offset { get; }

    /// <summary>Size in bytes (the whole array for an array member).</summary>
    public int Size { get; }

    /// <summary>Load widths the verifier accepts at <see cref="Offset"/> (per element for an array).</summary>
    public AccessSizes ReadSizes { get; }

    /// <summary>How the loaded value's bytes are ordered.</summary>
    public FieldByteOrder ByteOrder { get; }

    /// <summary>One-line meaning of the field.</summary>
    public string Description { get; }

    /// <summary>
    /// Whether narrow loads (of the widths in <see cref="ReadSizes"/>) are also accepted at aligned
    /// offsets inside the field, not only at its start (the address words of <c>bpf_sock</c>).
    /// </summary>
    public bool NarrowReadsInside { get; }

    /// <summary>The elements of an array member (4-byte words); empty for a scalar.</summary>
    public IReadOnlyList<StructField> Elements { get; internal set; } = [];

    /// <summary>Whether this member is an array (see <see cref="Elements"/>).</summary>
    public bool IsArray => Elements.Count > 0;

    /// <summary>For an array element: the array's name; else null.</summary>
    public string? ArrayName { get; }

    /// <summary>For an array element: its index; else null.</summary>
    public int? ElementIndex { get; }

    /// <summary>The end offset (exclusive).</summary>
    public int End => Offset + Size;

    /// <summary>Whether <paramref name="offset"/> lies inside this field.</summary>
    public bool Contains(int offset) => offset >= Offset && offset < End;

    internal static string ElementName(string arrayName, int index) =>
        arrayName + "[" + index.ToString(CultureInfo.InvariantCulture) + "]";

    /// <inheritdoc/>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Name}@{Offset} ({Size} B, reads {ReadSizes.Describe()})");
}
