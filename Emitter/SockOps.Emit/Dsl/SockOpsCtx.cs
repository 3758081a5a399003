using System.Runtime.CompilerServices;
using SockOps.Emit.Assembler;

namespace SockOps.Emit;

/// <summary>
/// The typed <c>struct bpf_sock_ops</c> context. Fields are read where a statement uses them (one 4- or 8-byte
/// load each). Byte order is handled: <see cref="RemotePort"/> is the host-order port (the kernel stores it in
/// network order in the upper 16 bits), <see cref="LocalPort"/> is host order already; addresses stay in
/// network order as the kernel stores them (compare with <see cref="ByteOrder"/> conversions or constants from
/// <see cref="Ip4"/>). Only <see cref="Reply"/>, <see cref="ReplyLong"/>[0] and <see cref="SkTxHash"/> are writable.
/// </summary>
public sealed class SockOpsCtx
{
    /// <summary>AF_INET on Linux.</summary>
    public const uint AfInet = 2;
    /// <summary>AF_INET6 on Linux.</summary>
    public const uint AfInet6 = 10;

    private static readonly MemoryBase ContextMemory = new() { Kind = PointerKind.Context, Size = KernelNumbers.CtxSize, Description = "the ctx (bpf_sock_ops)" };
    private readonly SockOpsBuilder _builder;

    internal SockOpsCtx(SockOpsBuilder builder) => _builder = builder;

    private const string FieldPrefix = "bpf_sock_ops.";

    // A ctx field read is an immutable node that depends only on the field: one node per 4-byte field, shared by
    // every read and every program (two threads creating the same node at once is harmless).
    private static readonly LoadExpr?[] s_fieldReads = new LoadExpr?[KernelNumbers.CtxSize / 4];

    internal static U32 F(int offset, string name, bool writable = false, int index = -1)
    {
        ref var cached = ref s_fieldReads[offset / 4];
        var read = cached;
        if (read is null || read.Offset != offset || !ReferenceEquals(read.FieldName, name) || read.FieldIndex != index || read.Writable != writable)
            cached = read = new LoadExpr(Ty.U32, ContextMemory, offset, MemorySize.W, name, writable) { FieldPrefix = FieldPrefix, FieldIndex = index, Shared = true };
        return new(read);
    }

    private static U64 F64(int offset, string name) =>
        new(new LoadExpr(Ty.U64, ContextMemory, offset, MemorySize.DW, name, writable: false) { FieldPrefix = FieldPrefix });


    /// <summary>op: the callback (BPF_SOCK_OPS_*).</summary>
    public U32 Op => F(0, "op");
    /// <summary>args[0..3] of the callback.</summary>
    public CtxWords Args => new(4, "args", writableFirst: false);
    /// <summary>reply (signed; writable): the value the kernel uses when the program returns 1.</summary>
    public I32 Reply => new(new LoadExpr(Ty.I32, ContextMemory, 4, MemorySize.W, "bpf_sock_ops.reply", writable: true));
    /// <summary>replylong[0..3]; only [0] (the same word as reply) is writable.</summary>
    public CtxWords ReplyLong => new(4, "replylong", writableFirst: true);
    /// <summary>family (AF_INET 2, AF_INET6 10).</summary>
    public U32 Family => F(20, "family");
    /// <summary>remote_ip4 (network order as stored).</summary>
    public U32 RemoteIp4 => F(24, "remote_ip4");
    /// <summary>local_ip4 (network order as stored).</summary>
    public U32 LocalIp4 => F(28, "local_ip4");
    /// <summary>remote_ip6[0..3] (network order words).</summary>
    public CtxWords RemoteIp6 => new(32, "remote_ip6", writableFirst: false);
    /// <summary>local_ip6[0..3] (network order words).</summary>
    public CtxWords LocalIp6 => new(48, "local_ip6", writableFirst: false);
    /// <summary>The remote port in host order (<c>bpf_ntohl(remote_port)</c>); comparisons with constants cost no swap.</summary>
    public U32 RemotePort => ByteOrder.Ntohl(RemotePortRaw);
    /// <summary>remote_port exactly as stored (network-order port in the upper 16 bits on little-endian).</summary>
    public U32 RemotePortRaw => F(64, "remote_port");
    /// <summary>local_port (host order).</summary>
    public U32 LocalPort => F(68, "local_port");
    /// <summary>is_fullsock.</summary>
    public U32 IsFullSock => F(72, "is_fullsock");
    /// <summary>snd_cwnd.</summary>
    public U32 SndCwnd => F(76, "snd_cwnd");
    /// <summary>srtt_us.</summary>
    public U32 SrttUs => F(80, "srtt_us");
    /// <summary>bpf_sock_ops_cb_flags.</summary>
    public U32 CbFlags => F(84, "bpf_sock_ops_cb_flags");
    /// <summary>state (BPF_TCP_*).</summary>
    public U32 State => F(88, "state");
    /// <summary>rtt_min.</summary>
    public U32 RttMin => F(92, "rtt_min");
    /// <summary>snd_ssthresh.</summary>
    public U32 SndSsthresh => F(96, "snd_ssthresh");
    /// <summary>rcv_nxt.</summary>
    public U32 RcvNxt => F(100, "rcv_nxt");
    /// <summary>snd_nxt.</summary>
    public U32 SndNxt => F(104, "snd_nxt");
    /// <summary>snd_una.</summary>
    public U32 SndUna => F(108, "snd_una");
    /// <summary>mss_cache.</summary>
    public U32 MssCache => F(112, "mss_cache");
    /// <summary>ecn_flags.</summary>
    public U32 EcnFlags => F(116, "ecn_flags");
    /// <summary>rate_delivered.</summary>
    public U32 RateDelivered => F(120, "rate_delivered");
    /// <summary>rate_interval_us.</summary>
    public U32 RateIntervalUs => F(124, "rate_interval_us");
    /// <summary>packets_out.</summary>
    public U32 PacketsOut => F(128, "packets_out");
    /// <summary>retrans_out.</summary>
    public U32 RetransOut => F(132, "retrans_out");
    /// <summary>total_retrans.</summary>
    public U32 TotalRetrans => F(136, "total_retrans");
    /// <summary>segs_in.</summary>
    public U32 SegsIn => F(140, "segs_in");
    /// <summary>data_segs_in.</summary>
    public U32 DataSegsIn => F(144, "data_segs_in");
    /// <summary>segs_out.</summary>
    public U32 SegsOut => F(148, "segs_out");
    /// <summary>data_segs_out.</summary>
    public U32 DataSegsOut => F(152, "data_segs_out");
    /// <summary>lost_out.</summary>
    public U32 LostOut => F(156, "lost_out");
    /// <summary>sacked_out.</summary>
    public U32 SackedOut => F(160, "sacked_out");
    /// <summary>sk_txhash (writable).</summary>
    public U32 SkTxHash => F(164, "sk_txhash", writable: true);
    /// <summary>bytes_received (u64).</summary>
    public U64 BytesReceived => F64(168, "bytes_received");
    /// <summary>bytes_acked (u64).</summary>
    public U64 BytesAcked => F64(176, "bytes_acked");
    /// <summary>skb_len.</summary>
    public U32 SkbLen => F(208, "skb_len");
    /// <summary>skb_tcp_flags.</summary>
    public U32 SkbTcpFlags => F(212, "skb_tcp_flags");
    /// <summary>skb_hwtstamp (u64; Linux 6.2+).</summary>
    public U64 SkbHwTimestamp => F64(216, "skb_hwtstamp");

    /// <summary>sk: the full socket, or NULL for request sockets — usable only inside <c>IfNotNull</c>.</summary>
    public MaybeNull<SockRef> Sk => new(
        (b, loc) =>
        {
            b.RequireContextField(KernelNumbers.CtxSk, loc);
            var v = new Variable(b.NewRegister(), Ty.U64, "sk", false) { Pointer = PointerKind.Socket, Owner = b };
            b.Emit(new IrInst { Kind = IrKind.Load, Dst = v.Register, Src = b.ContextRegister, Offset = KernelNumbers.CtxSk, Size = MemorySize.DW, Location = loc });
            b.MarkAssigned(v);
            return v;
        },
        (v, scope) => new SockRef(v, scope), isReference: false);

    /// <summary>
    /// A raw ctx read of <paramref name="size"/> bytes at <paramref name="offset"/>, checked against the kernel's
    /// access rules (§1.1): an offset/size the kernel refuses is an emit error.
    /// </summary>
    public U64 Read(int offset, int size, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
    {
        var loc = new SourceLocation(file, line, member);
        if (ContextRules.CheckRead(offset, size) is { } problem) throw new EmitException(EmitRule.ContextRead, loc, problem);
        // sk, skb_data and skb_data_end load as pointers, not numbers: as a U64 they would allow the
        // arithmetic and comparisons the verifier refuses on them. Their typed accessors carry the rules.
        if (SockOpsContext.FindByOffset(offset) is { LoadedKind: not LoadedValueKind.Scalar } pointer)
            throw new EmitException(EmitRule.ContextRead, loc,
                $"{pointer.Name} (offset {offset}) loads as a {pointer.LoadedKind} pointer, not a number; use ctx.Sk with IfNotNull, or IfPacketHas for skb_data");
        var type = size == 8 ? Ty.U64 : Ty.U32;
        return new U64(new LoadExpr(type, ContextMemory, offset, SockOpsBuilder.SizeFor(size), $"bpf_sock_ops+{offset}", ContextRules.CheckWrite(offset, size) is null));
    }

    /// <summary>A raw ctx write, checked against the kernel's rules: only 4-byte writes to reply (4) and sk_txhash (164).</summary>
    public void Write(int offset, int size, U32 value, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
    {
        var loc = new SourceLocation(file, line, member);
        if (ContextRules.CheckWrite(offset, size) is { } problem) throw new EmitException(EmitRule.ContextWrite, loc, problem);
        _builder.Assign(new LoadExpr(Ty.U32, ContextMemory, offset, SockOpsBuilder.SizeFor(size), $"bpf_sock_ops+{offset}", writable: true), value.Expr, loc);
    }

    /// <summary>An IPv4 address as a constant in the byte order ctx fields hold it (network order in memory).</summary>
    public static uint Ip4(string address)
    {
        var ip = System.Net.IPAddress.Parse(address);
        if (ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork) throw new ArgumentException("Not an IPv4 address.", nameof(address));
        return BitConverter.ToUInt32(ip.GetAddressBytes());
    }
}

/// <summary>A u32[4] array of the ctx (args, replylong, IPv6 addresses), indexed with a constant.</summary>
public readonly struct CtxWords : IEquatable<CtxWords>
{
    private readonly int _offset;
    private readonly string _name;
    private readonly bool _writableFirst;

    internal CtxWords(int offset, string name, bool writableFirst)
    {
        _offset = offset;
        _name = name;
        _writableFirst = writableFirst;
    }

    /// <summary>Element <paramref name="index"/> (0..3); another index is refused naming the C# line.</summary>
    /// <param name="index">The element, 0..3.</param>
    /// <param name="file">The caller's file (filled in by the compiler).</param>
    /// <param name="line">The caller's line (filled in by the compiler).</param>
    /// <param name="member">The caller's member (filled in by the compiler).</param>
    public U32 this[int index, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = ""] =>
        index is >= 0 and < 4
            ? SockOpsCtx.F(_offset + 4 * index, _name, writable: _writableFirst && index == 0, index: index)
            : throw new EmitException(EmitRule.ContextRead, new SourceLocation(file, line, member),
                $"{_name}[{index}] is outside the array: {_name} has elements 0..3.");

    /// <summary>Identity.</summary>
    public bool Equals(CtxWords other) => _offset == other._offset && _name == other._name;
    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is CtxWords other && Equals(other);
    /// <inheritdoc/>
    public override int GetHashCode() => _offset;
    /// <summary>Identity.</summary>
    public static bool operator ==(CtxWords left, CtxWords right) => left.Equals(right);
    /// <summary>Identity.</summary>
    public static bool operator !=(CtxWords left, CtxWords right) => !left.Equals(right);
}

/// <summary>The kernel's ctx access rules, from the Model's field table (§1.1).</summary>
internal static class ContextRules
{
    public static string? CheckRead(int offset, int size) => SockOpsContext.CheckAccess(offset, size, isWrite: false);

    public static string? CheckWrite(int offset, int size) => SockOpsContext.CheckAccess(offset, size, isWrite: true);
}
