using System.Buffers.Binary;

namespace SockOps.Emit;

/// <summary>Access widths of a load or store, as a set (bit value = width in bytes).</summary>
[Flags]
public enum AccessSizes
{
    /// <summary>No width is allowed.</summary>
    None = 0,
    /// <summary>1 byte (<c>u8</c>, <c>BPF_B</c>).</summary>
    Byte = 1,
    /// <summary>2 bytes (<c>u16</c>, <c>BPF_H</c>).</summary>
    Half = 2,
    /// <summary>4 bytes (<c>u32</c>, <c>BPF_W</c>).</summary>
    Word = 4,
    /// <summary>8 bytes (<c>u64</c>, <c>BPF_DW</c>).</summary>
    DoubleWord = 8,
}

/// <summary>Helpers for <see cref="AccessSizes"/>.</summary>
public static class AccessSizesExtensions
{
    /// <summary>Whether the set contains the width <paramref name="size"/> (1, 2, 4 or 8 bytes).</summary>
    public static bool Allows(this AccessSizes sizes, int size) =>
        size is 1 or 2 or 4 or 8 && ((int)sizes & size) != 0;

    /// <summary>The widths in the set, smallest first, e.g. "1/2/4".</summary>
    public static string Describe(this AccessSizes sizes)
    {
        if (sizes == AccessSizes.None) return "none";
        var parts = new List<string>(4);
        foreach (int s in (ReadOnlySpan<int>)[1, 2, 4, 8])
            if (sizes.Allows(s)) parts.Add(s.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return string.Join('/', parts);
    }
}

/// <summary>How the bytes of a field's value are ordered, as seen by a program after a load.</summary>
public enum FieldByteOrder
{
    /// <summary>Host order: compare with plain constants (e.g. <c>local_port</c>, <c>bpf_sock.src_port</c>).</summary>
    Host,
    /// <summary>
    /// The whole 32-bit word is in network order: convert with <c>bpf_ntohl</c>. IPv4/IPv6 address words,
    /// and <c>bpf_sock_ops.remote_port</c>, whose network-order 16-bit port sits in the upper 16 bits on
    /// little-endian hosts, so that <c>bpf_ntohl(remote_port)</c> is the port.
    /// </summary>
    Network,
    /// <summary>The low 16 bits hold a network-order u16 (<c>bpf_sock.dst_port</c>): <c>bpf_ntohs((u16)value)</c>.</summary>
    NetworkLow16,
}

/// <summary>What a register holds after loading a field (the verifier's register type).</summary>
public enum LoadedValueKind
{
    /// <summary>A plain number (<c>SCALAR_VALUE</c>).</summary>
    Scalar,
    /// <summary><c>PTR_TO_SOCKET_OR_NULL</c> (<c>sock_or_null</c>): must be NULL-checked before use.</summary>
    SocketOrNull,
    /// <summary><c>PTR_TO_PACKET</c> (<c>pkt</c>): readable only after a bounds check against <see cref="PacketEnd"/>.</summary>
    Packet,
    /// <summary><c>PTR_TO_PACKET_END</c> (<c>pkt_end</c>): only for comparisons, never dereferenced.</summary>
    PacketEnd,
}

/// <summary>
/// Converts between a field's natural (host-order) value and the raw 32-bit value a program loads, so
/// that the DSL can compare loaded fields with constants written naturally (port 55601, 10.0.0.1).
/// BPF runs in the host's byte order; these conversions are for little-endian hosts (x86-64, arm64).
/// </summary>
public static class FieldByteOrderExtensions
{
    /// <summary>The raw value a 4-byte load of a field with this byte order yields for the natural value <paramref name="hostValue"/>.</summary>
    /// <example><c>FieldByteOrder.Network.Encode(41977)</c> is 0xF9A30000, what <c>skops-&gt;remote_port</c> reads for port 41977.</example>
    public static uint Encode(this FieldByteOrder order, uint hostValue)
    {
        EnsureLittleEndian();
        return order switch
        {
            FieldByteOrder.Network => BinaryPrimitives.ReverseEndianness(hostValue),
            FieldByteOrder.NetworkLow16 => BinaryPrimitives.ReverseEndianness((ushort)hostValue),
            _ => hostValue,
        };
    }

    /// <summary>The natural value of a raw 4-byte load (the inverse of <see cref="Encode"/>; for <see cref="FieldByteOrder.NetworkLow16"/> only the low 16 bits count).</summary>
    public static uint Decode(this FieldByteOrder order, uint rawValue)
    {
        EnsureLittleEndian();
        return order switch
        {
            FieldByteOrder.Network => BinaryPrimitives.ReverseEndianness(rawValue),
            FieldByteOrder.NetworkLow16 => BinaryPrimitives.ReverseEndianness((ushort)rawValue),
            _ => rawValue,
        };
    }

    private static void EnsureLittleEndian()
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("The byte-order model describes little-endian hosts (BPF runs in the host's byte order).");
    }
}
