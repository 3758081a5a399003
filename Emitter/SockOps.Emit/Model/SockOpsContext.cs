using SockOps.Emit.Assembler;
using System.Globalization;

namespace SockOps.Emit;

/// <summary>
/// A member (or array element) of <c>struct bpf_sock_ops</c>, the sock_ops program context, with the
/// verifier's rules for it (<c>sock_ops_is_valid_access</c>, reference §1.1).
/// </summary>
public sealed class SockOpsContextField : StructField
{
    internal SockOpsContextField(string name, int offset, int size, AccessSizes readSizes, string description,
        bool writable = false, FieldByteOrder byteOrder = FieldByteOrder.Host, LoadedValueKind loadedKind = LoadedValueKind.Scalar,
        KernelVersion? minimumKernel = null, string? arrayName = null, int? elementIndex = null)
        : base(name, offset, size, readSizes, byteOrder, description, false, arrayName, elementIndex)
    {
        IsWritable = writable;
        LoadedKind = loadedKind;
        MinimumKernel = minimumKernel ?? FirstKernelWith(offset, arrayName ?? name);
    }

    /// <summary>
    /// Whether a program may store to it (4-byte <c>STX</c> or <c>ST</c>). Only <c>reply</c>
    /// (= <c>replylong[0]</c>, offset 4) and <c>sk_txhash</c> (offset 164) are writable.
    /// </summary>
    public bool IsWritable { get; }

    /// <summary>Width of an accepted store (4 bytes) or 0 when the field is read-only.</summary>
    public int WriteSize => IsWritable ? 4 : 0;

    /// <summary>What a register holds after a load of this field.</summary>
    public LoadedValueKind LoadedKind { get; }

    /// <summary>The first kernel whose <c>struct bpf_sock_ops</c> has the field (6.2 for <c>skb_hwtstamp</c>).</summary>
    public KernelVersion MinimumKernel { get; }

    /// <summary>
    /// When each part of <c>struct bpf_sock_ops</c> appeared (include/uapi/linux/bpf.h history, checked in the 5.10, 5.15,
    /// 6.1 and 6.12 trees): the v4.13 members up to local_port, args (4.16, sharing reply's word), the tcp_sock
    /// members from is_fullsock to bytes_acked (4.16), sk (5.3), skb_data … skb_tcp_flags (5.10).
    /// </summary>
    private static KernelVersion FirstKernelWith(int offset, string name) => offset switch
    {
        _ when name == "args" => new(4, 16),
        < 72 => new(4, 13),
        < 184 => new(4, 16),
        < 192 => new(5, 3),
        _ => new(5, 10),
    };

    private KernelFeature? _feature;

    /// <summary>The field as a kernel feature (a ctx access above the target kernel is refused at emit time).</summary>
    public KernelFeature Feature => _feature ??= new KernelFeature(KernelFeatureKind.ContextField, "bpf_sock_ops." + (ArrayName ?? Name), MinimumKernel,
        "include/uapi/linux/bpf.h struct bpf_sock_ops");

    /// <summary>The elements of an array member, typed.</summary>
    public IReadOnlyList<SockOpsContextField> ContextElements { get; private set; } = [];

    internal SockOpsContextField WithElements(bool firstWritable = false)
    {
        var elements = new SockOpsContextField[Size / ElementSize];
        for (int i = 0; i < elements.Length; i++)
        {
            elements[i] = new SockOpsContextField(ElementName(Name, i), Offset + (i * ElementSize), ElementSize, ReadSizes,
                Description, firstWritable && i == 0, ByteOrder, LoadedKind, MinimumKernel, Name, i);
        }
        ContextElements = elements;
        Elements = elements;
        return this;
    }
}

/// <summary>
/// The layout of <c>struct bpf_sock_ops</c> and the verifier's access rules for it, checked against
/// the running kernel's BTF and verifier by the tests. Offsets are x86-64 (the struct has no
/// architecture-dependent members: pointers are <c>__bpf_md_ptr</c>, always 8 bytes).
/// </summary>
public static class SockOpsContext
{
    /// <summary>The oldest kernel this model describes (6.1, the struct without <c>skb_hwtstamp</c>).</summary>
    public static KernelVersion BaselineKernel { get; } = new(6, 1);

    /// <summary>The kernel whose rules and layout the model was measured on.</summary>
    public static KernelVersion CurrentKernel { get; } = new(6, 18);

    /// <summary><c>sizeof(struct bpf_sock_ops)</c> on 6.2 and later.</summary>
    public const int Size = 224;

    /// <summary><c>sizeof(struct bpf_sock_ops)</c> on 6.1 (no <c>skb_hwtstamp</c>).</summary>
    public const int SizeBefore62 = 216;

    private const AccessSizes W = AccessSizes.Word;
    private const AccessSizes DW = AccessSizes.DoubleWord;

    /// <summary><c>op</c>: which callback this is (<see cref="SockOp"/>).</summary>
    public static SockOpsContextField Op { get; } = new("op", 0, 4, W, "the callback (BPF_SOCK_OPS_*)");
    /// <summary><c>args[4]</c>: callback arguments (meaning depends on the op).</summary>
    public static SockOpsContextField Args { get; } = new SockOpsContextField("args", 4, 16, W, "callback arguments (op-specific)").WithElements();
    /// <summary><c>reply</c>: the answer to TIMEOUT_INIT/RWND_INIT/NEEDS_ECN/BASE_RTT; the only writable word of the union.</summary>
    public static SockOpsContextField Reply { get; } = new("reply", 4, 4, W, "reply to a query op (shares the word with args[0])", writable: true);
    /// <summary><c>replylong[4]</c>: only element 0 (= <c>reply</c>) is writable.</summary>
    public static SockOpsContextField ReplyLong { get; } = new SockOpsContextField("replylong", 4, 16, W, "long reply; only [0] is writable").WithElements(firstWritable: true);
    /// <summary><c>family</c>: AF_INET (2) or AF_INET6 (10).</summary>
    public static SockOpsContextField Family { get; } = new("family", 20, 4, W, "address family (AF_INET=2, AF_INET6=10)");
    /// <summary><c>remote_ip4</c>, network order.</summary>
    public static SockOpsContextField RemoteIp4 { get; } = new("remote_ip4", 24, 4, W, "remote IPv4 address", byteOrder: FieldByteOrder.Network);
    /// <summary><c>local_ip4</c>, network order.</summary>
    public static SockOpsContextField LocalIp4 { get; } = new("local_ip4", 28, 4, W, "local IPv4 address", byteOrder: FieldByteOrder.Network);
    /// <summary><c>remote_ip6[4]</c>, each word network order.</summary>
    public static SockOpsContextField RemoteIp6 { get; } = new SockOpsContextField("remote_ip6", 32, 16, W, "remote IPv6 address", byteOrder: FieldByteOrder.Network).WithElements();
    /// <summary><c>local_ip6[4]</c>, each word network order.</summary>
    public static SockOpsContextField LocalIp6 { get; } = new SockOpsContextField("local_ip6", 48, 16, W, "local IPv6 address", byteOrder: FieldByteOrder.Network).WithElements();
    /// <summary><c>remote_port</c>: the network-order port in the upper 16 bits on little-endian; <c>bpf_ntohl(remote_port)</c> is the port.</summary>
    public static SockOpsContextField RemotePort { get; } = new("remote_port", 64, 4, W, "remote port (bpf_ntohl gives the port)", byteOrder: FieldByteOrder.Network);
    /// <summary><c>local_port</c>, host order.</summary>
    public static SockOpsContextField LocalPort { get; } = new("local_port", 68, 4, W, "local port (host order)");
    /// <summary><c>is_fullsock</c>: 1 for a full socket, 0 for a request socket.</summary>
    public static SockOpsContextField IsFullSock { get; } = new("is_fullsock", 72, 4, W, "1 if a full socket (tcp_sock fields valid)");
    /// <summary><c>snd_cwnd</c>.</summary>
    public static SockOpsContextField SndCwnd { get; } = Tcp("snd_cwnd", 76, "send congestion window");
    /// <summary><c>srtt_us</c>.</summary>
    public static SockOpsContextField SrttUs { get; } = Tcp("srtt_us", 80, "smoothed RTT << 3, in microseconds");
    /// <summary><c>bpf_sock_ops_cb_flags</c> (<see cref="SockOpsCallbackFlags"/>).</summary>
    public static SockOpsContextField CallbackFlags { get; } = Tcp("bpf_sock_ops_cb_flags", 84, "enabled optional callbacks (BPF_SOCK_OPS_*_CB_FLAG)");
    /// <summary><c>state</c> (<see cref="TcpState"/>).</summary>
    public static SockOpsContextField State { get; } = new("state", 88, 4, W, "TCP state (BPF_TCP_*)");
    /// <summary><c>rtt_min</c>.</summary>
    public static SockOpsContextField RttMin { get; } = Tcp("rtt_min", 92, "minimum RTT");
    /// <summary><c>snd_ssthresh</c>.</summary>
    public static SockOpsContextField SndSsthresh { get; } = Tcp("snd_ssthresh", 96, "slow-start threshold");
    /// <summary><c>rcv_nxt</c>.</summary>
    public static SockOpsContextField RcvNxt { get; } = Tcp("rcv_nxt", 100, "next sequence number expected");
    /// <summary><c>snd_nxt</c>.</summary>
    public static SockOpsContextField SndNxt { get; } = Tcp("snd_nxt", 104, "next sequence number to send");
    /// <summary><c>snd_una</c>.</summary>
    public static SockOpsContextField SndUna { get; } = Tcp("snd_una", 108, "first unacknowledged sequence number");
    /// <summary><c>mss_cache</c>.</summary>
    public static SockOpsContextField MssCache { get; } = Tcp("mss_cache", 112, "cached effective MSS");
    /// <summary><c>ecn_flags</c>.</summary>
    public static SockOpsContextField EcnFlags { get; } = Tcp("ecn_flags", 116, "ECN status bits");
    /// <summary><c>rate_delivered</c>.</summary>
    public static SockOpsContextField RateDelivered { get; } = Tcp("rate_delivered", 120, "saved rate sample: packets delivered");
    /// <summary><c>rate_interval_us</c>.</summary>
    public static SockOpsContextField RateIntervalUs { get; } = Tcp("rate_interval_us", 124, "saved rate sample: time elapsed");
    /// <summary><c>packets_out</c>.</summary>
    public static SockOpsContextField PacketsOut { get; } = Tcp("packets_out", 128, "packets in flight");
    /// <summary><c>retrans_out</c>.</summary>
    public static SockOpsContextField RetransOut { get; } = Tcp("retrans_out", 132, "retransmitted packets out");
    /// <summary><c>total_retrans</c>.</summary>
    public static SockOpsContextField TotalRetrans { get; } = Tcp("total_retrans", 136, "total retransmits for the connection");
    /// <summary><c>segs_in</c>.</summary>
    public static SockOpsContextField SegsIn { get; } = Tcp("segs_in", 140, "segments received");
    /// <summary><c>data_segs_in</c>.</summary>
    public static SockOpsContextField DataSegsIn { get; } = Tcp("data_segs_in", 144, "data segments received");
    /// <summary><c>segs_out</c>.</summary>
    public static SockOpsContextField SegsOut { get; } = Tcp("segs_out", 148, "segments sent");
    /// <summary><c>data_segs_out</c>.</summary>
    public static SockOpsContextField DataSegsOut { get; } = Tcp("data_segs_out", 152, "data segments sent");
    /// <summary><c>lost_out</c>.</summary>
    public static SockOpsContextField LostOut { get; } = Tcp("lost_out", 156, "lost packets");
    /// <summary><c>sacked_out</c>.</summary>
    public static SockOpsContextField SackedOut { get; } = Tcp("sacked_out", 160, "SACKed packets");
    /// <summary><c>sk_txhash</c>: readable and writable (4 bytes).</summary>
    public static SockOpsContextField SkTxHash { get; } = new("sk_txhash", 164, 4, W, "socket transmit hash (writable)", writable: true);
    /// <summary><c>bytes_received</c> (u64, 8-byte loads only).</summary>
    public static SockOpsContextField BytesReceived { get; } = new("bytes_received", 168, 8, DW, "bytes received");
    /// <summary><c>bytes_acked</c> (u64, 8-byte loads only).</summary>
    public static SockOpsContextField BytesAcked { get; } = new("bytes_acked", 176, 8, DW, "bytes acknowledged");
    /// <summary><c>sk</c>: <c>struct bpf_sock *</c>, NULL unless a full socket; must be NULL-checked.</summary>
    public static SockOpsContextField Sk { get; } = new("sk", 184, 8, DW, "the socket (struct bpf_sock *, may be NULL)", loadedKind: LoadedValueKind.SocketOrNull);
    /// <summary><c>skb_data</c>: start of the TCP header in the current skb.</summary>
    public static SockOpsContextField SkbData { get; } = new("skb_data", 192, 8, DW, "packet data start (TCP header)", loadedKind: LoadedValueKind.Packet);
    /// <summary><c>skb_data_end</c>: end of the readable packet data.</summary>
    public static SockOpsContextField SkbDataEnd { get; } = new("skb_data_end", 200, 8, DW, "packet data end", loadedKind: LoadedValueKind.PacketEnd);
    /// <summary><c>skb_len</c>.</summary>
    public static SockOpsContextField SkbLen { get; } = new("skb_len", 208, 4, W, "skb length (0 without an skb)");
    /// <summary><c>skb_tcp_flags</c>: the only field with narrow (1/2/4-byte) loads, at its start only.</summary>
    public static SockOpsContextField SkbTcpFlags { get; } = new("skb_tcp_flags", 212, 4, AccessSizes.Byte | AccessSizes.Half | W, "TCP flags of the skb");
    /// <summary><c>skb_hwtstamp</c> (u64, Linux 6.2+).</summary>
    public static SockOpsContextField SkbHwTimestamp { get; } = new("skb_hwtstamp", 216, 8, DW, "hardware timestamp of the skb", minimumKernel: new KernelVersion(6, 2));

    private static SockOpsContextField Tcp(string name, int offset, string description) =>
        new(name, offset, 4, W, description + " (reads 0 unless a locked full TCP socket)");

    /// <summary>
    /// The declared members of <c>struct bpf_sock_ops</c> in declaration order, exactly as the kernel's
    /// BTF names them: 43, with the union members <c>args</c>, <c>reply</c>, <c>replylong</c> each listed
    /// and the <c>__bpf_md_ptr</c> unions (<c>sk</c>, <c>skb_data</c>, <c>skb_data_end</c>) by their pointer member.
    /// </summary>
    public static IReadOnlyList<SockOpsContextField> Fields { get; } =
    [
        Op, Args, Reply, ReplyLong, Family, RemoteIp4, LocalIp4, RemoteIp6, LocalIp6, RemotePort, LocalPort, IsFullSock,
        SndCwnd, SrttUs, CallbackFlags, State, RttMin, SndSsthresh, RcvNxt, SndNxt, SndUna, MssCache, EcnFlags,
        RateDelivered, RateIntervalUs, PacketsOut, RetransOut, TotalRetrans, SegsIn, DataSegsIn, SegsOut, DataSegsOut,
        LostOut, SackedOut, SkTxHash, BytesReceived, BytesAcked, Sk, SkbData, SkbDataEnd, SkbLen, SkbTcpFlags, SkbHwTimestamp,
    ];

    /// <summary>
    /// Every loadable unit: scalar members and array elements, in offset order, one entry per
    /// offset. At offset 4 the entry is <c>reply</c> (its aliases <c>args[0]</c> and <c>replylong[0]</c>
    /// are found with <see cref="Find"/>); at 8..16 the entries are <c>args[1..3]</c>.
    /// </summary>
    public static IReadOnlyList<SockOpsContextField> AccessUnits { get; } = BuildAccessUnits();

    private static readonly Dictionary<string, SockOpsContextField> ByName = BuildByName();

    private static SockOpsContextField[] BuildAccessUnits()
    {
        var units = new SortedDictionary<int, SockOpsContextField>();
        foreach (var field in Fields)
        {
            if (field.IsArray)
            {
                foreach (var element in field.ContextElements) units.TryAdd(element.Offset, element);
            }
            else
            {
                units[field.Offset] = field; // a scalar (reply) wins over the array elements sharing its word
            }
        }
        return [.. units.Values];
    }

    private static Dictionary<string, SockOpsContextField> BuildByName()
    {
        var map = new Dictionary<string, SockOpsContextField>(StringComparer.Ordinal);
        foreach (var field in Fields)
        {
            map.Add(field.Name, field);
            foreach (var element in field.ContextElements) map.Add(element.Name, element);
        }
        return map;
    }

    /// <summary>The member or array element with the C name <paramref name="name"/> (e.g. <c>remote_ip6[3]</c>), or null.</summary>
    public static SockOpsContextField? Find(string name) => ByName.GetValueOrDefault(name);

    /// <summary>The access unit that covers byte <paramref name="offset"/> (see <see cref="AccessUnits"/>), or null past the end.</summary>
    public static SockOpsContextField? FindByOffset(int offset) =>
        (uint)offset < (uint)UnitByOffset.Length ? UnitByOffset[offset] : null;

    // The access unit of every byte offset, built once: the emitter asks for each ctx access it compiles.
    private static readonly SockOpsContextField?[] UnitByOffset = BuildUnitByOffset();

    private static SockOpsContextField?[] BuildUnitByOffset()
    {
        var byOffset = new SockOpsContextField?[Size];
        for (int offset = 0; offset < byOffset.Length; offset++)
            foreach (var unit in AccessUnits)
                if (unit.Contains(offset)) { byOffset[offset] = unit; break; }
        return byOffset;
    }

    /// <summary>The struct size for a target kernel: 224 from 6.2 on, 216 before.</summary>
    public static int SizeFor(KernelVersion? targetKernel) =>
        targetKernel is not null && targetKernel < SkbHwTimestamp.MinimumKernel ? SizeBefore62 : Size;

    /// <summary>
    /// Checks a ctx load or store against the verifier's rule (<c>sock_ops_is_valid_access</c> and
    /// <c>check_ctx_access</c>; reference §1.1 and §9 items 1-2).
    /// </summary>
    /// <param name="offset">Byte offset from the ctx pointer (the instruction's offset; the ctx pointer itself must be unmodified).</param>
    /// <param name="size">Access width in bytes: 1, 2, 4 or 8. Sign-extending loads (<c>BPF_MEMSX</c>) follow the same rule.</param>
    /// <param name="isWrite">A store (<c>STX</c> or <c>ST</c>) rather than a load.</param>
    /// <param name="isAtomic">A <c>BPF_ATOMIC</c> read-modify-write (always refused on ctx).</param>
    /// <param name="targetKernel">The kernel the program is for; null means the current one (6.18). Before 6.2 the struct ends at 216.</param>
    /// <returns>Null if the kernel accepts the access, else the reason, containing the verifier's own message.</returns>
    public static string? CheckAccess(int offset, int size, bool isWrite, bool isAtomic = false, KernelVersion? targetKernel = null)
    {
        string where = string.Create(CultureInfo.InvariantCulture, $"invalid bpf_context access off={offset} size={size}");
        if (size is not (1 or 2 or 4 or 8))
            return string.Create(CultureInfo.InvariantCulture, $"{where}: the access width must be 1, 2, 4 or 8 bytes");
        if (isAtomic)
            return "BPF_ATOMIC stores into R1 ctx is not allowed: the sock_ops context cannot be updated atomically";
        int structSize = SizeFor(targetKernel);
        if (offset < 0 || offset >= structSize)
        {
            string kernel = structSize == Size ? "" : " on a pre-6.2 target";
            return string.Create(CultureInfo.InvariantCulture, $"{where}: offset is outside struct bpf_sock_ops ({structSize} bytes{kernel})");
        }
        if (offset % size != 0)
            return string.Create(CultureInfo.InvariantCulture, $"{where}: misaligned (the offset must be a multiple of the width)");
        var unit = FindByOffset(offset)!;
        if (unit.Offset != offset)
            return string.Create(CultureInfo.InvariantCulture,
                $"{where}: inside {unit.Name} (offset {unit.Offset}); accesses must start at a field (narrow loads only at skb_tcp_flags@212)");
        if (isWrite)
        {
            if (!unit.IsWritable)
                return $"{where}: {unit.Name} is read-only (only reply@4 and sk_txhash@164 are writable)";
            if (size != unit.WriteSize)
                return $"{where}: {unit.Name} is written with 4-byte stores only";
            return null;
        }
        if (!unit.ReadSizes.Allows(size))
            return $"{where}: {unit.Name} is read with {unit.ReadSizes.Describe()}-byte loads only";
        return null;
    }
}
