using System.Globalization;

namespace SockOps.Emit;

/// <summary>
/// <c>struct bpf_sock</c> (80 bytes), read through the NULL-checked <c>skops-&gt;sk</c>
/// (<c>PTR_TO_SOCKET</c>). Read-only; per-field load widths of <c>bpf_sock_is_valid_access</c> (reference §1.3).
/// </summary>
public static class BpfSock
{
    /// <summary><c>sizeof(struct bpf_sock)</c>.</summary>
    public const int Size = 80;

    private const AccessSizes Narrow = AccessSizes.Byte | AccessSizes.Half | AccessSizes.Word;
    private const AccessSizes W = AccessSizes.Word;

    /// <summary><c>bound_dev_if</c> (4-byte loads only).</summary>
    public static StructField BoundDevIf { get; } = new("bound_dev_if", 0, 4, W, FieldByteOrder.Host, "bound device index");
    /// <summary><c>family</c>.</summary>
    public static StructField Family { get; } = new("family", 4, 4, Narrow, FieldByteOrder.Host, "address family");
    /// <summary><c>type</c> (SOCK_STREAM = 1).</summary>
    public static StructField Type { get; } = new("type", 8, 4, Narrow, FieldByteOrder.Host, "socket type");
    /// <summary><c>protocol</c> (IPPROTO_TCP = 6).</summary>
    public static StructField Protocol { get; } = new("protocol", 12, 4, Narrow, FieldByteOrder.Host, "protocol");
    /// <summary><c>mark</c> (4-byte loads only).</summary>
    public static StructField Mark { get; } = new("mark", 16, 4, W, FieldByteOrder.Host, "SO_MARK");
    /// <summary><c>priority</c> (4-byte loads only).</summary>
    public static StructField Priority { get; } = new("priority", 20, 4, W, FieldByteOrder.Host, "SO_PRIORITY");
    /// <summary><c>src_ip4</c>, network order; narrow loads anywhere inside.</summary>
    public static StructField SrcIp4 { get; } = new("src_ip4", 24, 4, Narrow, FieldByteOrder.Network, "source IPv4 address", narrowReadsInside: true);
    /// <summary><c>src_ip6[4]</c>, network order; narrow loads anywhere inside.</summary>
    public static StructField SrcIp6 { get; } = Array("src_ip6", 28, "source IPv6 address");
    /// <summary><c>src_port</c>, host order.</summary>
    public static StructField SrcPort { get; } = new("src_port", 44, 4, Narrow, FieldByteOrder.Host, "source (local) port, host order");
    /// <summary><c>dst_port</c>: a <c>__be16</c> (2 bytes) followed by 2 padding bytes; a 4-byte load gives the port in the low 16 bits.</summary>
    public static StructField DstPort { get; } = new("dst_port", 48, 2, Narrow, FieldByteOrder.NetworkLow16,
        "destination (remote) port, network order; 4-byte load at 48, 2 at 48, 1 at 48/49", narrowReadsInside: true);
    /// <summary><c>dst_ip4</c>, network order; narrow loads anywhere inside.</summary>
    public static StructField DstIp4 { get; } = new("dst_ip4", 52, 4, Narrow, FieldByteOrder.Network, "destination IPv4 address", narrowReadsInside: true);
    /// <summary><c>dst_ip6[4]</c>, network order; narrow loads anywhere inside.</summary>
    public static StructField DstIp6 { get; } = Array("dst_ip6", 56, "destination IPv6 address");
    /// <summary><c>state</c> (<see cref="TcpState"/>).</summary>
    public static StructField State { get; } = new("state", 72, 4, Narrow, FieldByteOrder.Host, "TCP state (BPF_TCP_*)");
    /// <summary><c>rx_queue_mapping</c> (<c>__s32</c>).</summary>
    public static StructField RxQueueMapping { get; } = new("rx_queue_mapping", 76, 4, Narrow, FieldByteOrder.Host, "receive queue (-1 if none)");

    /// <summary>The members in declaration order.</summary>
    public static IReadOnlyList<StructField> Fields { get; } =
        [BoundDevIf, Family, Type, Protocol, Mark, Priority, SrcIp4, SrcIp6, SrcPort, DstPort, DstIp4, DstIp6, State, RxQueueMapping];

    private static StructField Array(string name, int offset, string description)
    {
        var array = new StructField(name, offset, 16, Narrow, FieldByteOrder.Network, description, narrowReadsInside: true);
        var elements = new StructField[4];
        for (int i = 0; i < 4; i++)
            elements[i] = new StructField(StructField.ElementName(name, i), offset + (4 * i), 4, Narrow, FieldByteOrder.Network, description, true, name, i);
        array.Elements = elements;
        return array;
    }

    /// <summary>The member or array element with the C name <paramref name="name"/>, or null.</summary>
    public static StructField? Find(string name) => KernelStructs.Find(Fields, name);

    /// <summary>The member covering byte <paramref name="offset"/>, or null (padding 50..51, or past the end).</summary>
    public static StructField? FindByOffset(int offset) => KernelStructs.FindByOffset(Fields, offset);

    /// <summary>Checks a load or store through a <c>PTR_TO_SOCKET</c> against <c>bpf_sock_is_valid_access</c>.</summary>
    /// <returns>Null if the kernel accepts it, else the reason (with the verifier's message).</returns>
    public static string? CheckAccess(int offset, int size, bool isWrite) =>
        KernelStructs.Check("sock", Size, Fields, offset, size, isWrite);
}

/// <summary>
/// <c>struct bpf_tcp_sock</c> (112 bytes), returned (NULL-checked) by <c>bpf_tcp_sock(sk)</c>
/// (<c>PTR_TO_TCP_SOCK</c>). Read-only; u32 fields load with 4 bytes only, u64 fields with 8 only.
/// (A 4-byte load of the upper half of a u64 field, offsets 84 and 92, passes the kernel's access
/// check but fails its access rewrite with EFAULT, "error during ctx access conversion"; the model
/// refuses it up front.)
/// </summary>
public static class BpfTcpSock
{
    /// <summary><c>sizeof(struct bpf_tcp_sock)</c>.</summary>
    public const int Size = 112;

    /// <summary>The members in declaration order.</summary>
    public static IReadOnlyList<StructField> Fields { get; } = Build();

    /// <summary><c>snd_cwnd</c>.</summary>
    public static StructField SndCwnd => Fields[0];
    /// <summary><c>srtt_us</c>.</summary>
    public static StructField SrttUs => Fields[1];
    /// <summary><c>rtt_min</c>.</summary>
    public static StructField RttMin => Fields[2];
    /// <summary><c>snd_ssthresh</c>.</summary>
    public static StructField SndSsthresh => Fields[3];
    /// <summary><c>rcv_nxt</c>.</summary>
    public static StructField RcvNxt => Fields[4];
    /// <summary><c>snd_nxt</c>.</summary>
    public static StructField SndNxt => Fields[5];
    /// <summary><c>snd_una</c>.</summary>
    public static StructField SndUna => Fields[6];
    /// <summary><c>mss_cache</c>.</summary>
    public static StructField MssCache => Fields[7];
    /// <summary><c>ecn_flags</c>.</summary>
    public static StructField EcnFlags => Fields[8];
    /// <summary><c>rate_delivered</c>.</summary>
    public static StructField RateDelivered => Fields[9];
    /// <summary><c>rate_interval_us</c>.</summary>
    public static StructField RateIntervalUs => Fields[10];
    /// <summary><c>packets_out</c>.</summary>
    public static StructField PacketsOut => Fields[11];
    /// <summary><c>retrans_out</c>.</summary>
    public static StructField RetransOut => Fields[12];
    /// <summary><c>total_retrans</c>.</summary>
    public static StructField TotalRetrans => Fields[13];
    /// <summary><c>segs_in</c>.</summary>
    public static StructField SegsIn => Fields[14];
    /// <summary><c>data_segs_in</c>.</summary>
    public static StructField DataSegsIn => Fields[15];
    /// <summary><c>segs_out</c>.</summary>
    public static StructField SegsOut => Fields[16];
    /// <summary><c>data_segs_out</c>.</summary>
    public static StructField DataSegsOut => Fields[17];
    /// <summary><c>lost_out</c>.</summary>
    public static StructField LostOut => Fields[18];
    /// <summary><c>sacked_out</c>.</summary>
    public static StructField SackedOut => Fields[19];
    /// <summary><c>bytes_received</c>.</summary>
    public static StructField BytesReceived => Fields[20];
    /// <summary><c>bytes_acked</c>.</summary>
    public static StructField BytesAcked => Fields[21];
    /// <summary><c>dsack_dups</c>.</summary>
    public static StructField DsackDups => Fields[22];
    /// <summary><c>delivered</c>.</summary>
    public static StructField Delivered => Fields[23];
    /// <summary><c>delivered_ce</c>.</summary>
    public static StructField DeliveredCe => Fields[24];
    /// <summary><c>icsk_retransmits</c>.</summary>
    public static StructField IcskRetransmits => Fields[25];

    private static StructField[] Build()
    {
        string[] u32Before = ["snd_cwnd", "srtt_us", "rtt_min", "snd_ssthresh", "rcv_nxt", "snd_nxt", "snd_una", "mss_cache",
            "ecn_flags", "rate_delivered", "rate_interval_us", "packets_out", "retrans_out", "total_retrans", "segs_in",
            "data_segs_in", "segs_out", "data_segs_out", "lost_out", "sacked_out"];
        string[] u32After = ["dsack_dups", "delivered", "delivered_ce", "icsk_retransmits"];
        var fields = new List<StructField>();
        int offset = 0;
        foreach (string name in u32Before) { fields.Add(U32(name, offset)); offset += 4; }
        fields.Add(new StructField("bytes_received", offset, 8, AccessSizes.DoubleWord, FieldByteOrder.Host, "bytes received (u64)"));
        fields.Add(new StructField("bytes_acked", offset + 8, 8, AccessSizes.DoubleWord, FieldByteOrder.Host, "bytes acknowledged (u64)"));
        offset += 16;
        foreach (string name in u32After) { fields.Add(U32(name, offset)); offset += 4; }
        return [.. fields];
    }

    private static StructField U32(string name, int offset) => new(name, offset, 4, AccessSizes.Word, FieldByteOrder.Host, name);

    /// <summary>The member named <paramref name="name"/>, or null.</summary>
    public static StructField? Find(string name) => KernelStructs.Find(Fields, name);

    /// <summary>The member covering byte <paramref name="offset"/>, or null past the end.</summary>
    public static StructField? FindByOffset(int offset) => KernelStructs.FindByOffset(Fields, offset);

    /// <summary>Checks a load or store through a <c>PTR_TO_TCP_SOCK</c> against <c>bpf_tcp_sock_is_valid_access</c>.</summary>
    /// <returns>Null if the kernel accepts it, else the reason (with the verifier's message).</returns>
    public static string? CheckAccess(int offset, int size, bool isWrite) =>
        KernelStructs.Check("tcp_sock", Size, Fields, offset, size, isWrite);
}

/// <summary>Shared lookup and access logic for the read-only socket structs.</summary>
internal static class KernelStructs
{
    public static StructField? Find(IReadOnlyList<StructField> fields, string name)
    {
        foreach (var f in fields)
        {
            if (f.Name == name) return f;
            foreach (var e in f.Elements) if (e.Name == name) return e;
        }
        return null;
    }

    public static StructField? FindByOffset(IReadOnlyList<StructField> fields, int offset)
    {
        foreach (var f in fields)
        {
            if (!f.Contains(offset)) continue;
            foreach (var e in f.Elements) if (e.Contains(offset)) return e;
            return f;
        }
        return null;
    }

    public static string? Check(string typeName, int structSize, IReadOnlyList<StructField> fields, int offset, int size, bool isWrite)
    {
        string access = string.Create(CultureInfo.InvariantCulture, $"invalid {typeName} access off={offset} size={size}");
        if (isWrite) return $"cannot write into {typeName}: struct bpf_{typeName} is read-only";
        if (size is not (1 or 2 or 4 or 8)) return $"{access}: the access width must be 1, 2, 4 or 8 bytes";
        if (offset < 0 || offset >= structSize)
            return string.Create(CultureInfo.InvariantCulture, $"{access}: offset is outside struct bpf_{typeName} ({structSize} bytes)");
        if (offset % size != 0) return $"{access}: misaligned (the offset must be a multiple of the width)";
        var field = FindByOffset(fields, offset);
        if (field is null) return $"{access}: padding, not a field";
        if (!field.ReadSizes.Allows(size)) return $"{access}: {field.Name} is read with {field.ReadSizes.Describe()}-byte loads only";
        if (field.Offset != offset && !field.NarrowReadsInside)
            return string.Create(CultureInfo.InvariantCulture, $"{access}: inside {field.Name} (offset {field.Offset}); loads must start at the field");
        return null;
    }
}
