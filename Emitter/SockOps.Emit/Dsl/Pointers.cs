using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SockOps.Emit.Assembler;

namespace SockOps.Emit;

/// <summary>
/// A pointer that may be NULL (<c>*_OR_NULL</c> in the kernel). It has no members: the only way to use it is
/// <see cref="SockOpsBuilder.IfNotNull{T}(MaybeNull{T}, Action{T}, Action?, string, int, string)"/>, so a missing
/// null check is a C# compile error.
/// </summary>
/// <typeparam name="T">The pointer type available inside the null check.</typeparam>
public readonly struct MaybeNull<T> : IEquatable<MaybeNull<T>>
{
    private readonly Func<SockOpsBuilder, SourceLocation, Variable>? _produce;
    private readonly Func<Variable, int, T>? _wrap;

    internal MaybeNull(Func<SockOpsBuilder, SourceLocation, Variable> produce, Func<Variable, int, T> wrap, bool isReference)
    {
        _produce = produce;
        _wrap = wrap;
        IsReference = isReference;
    }

    internal bool IsValid => _produce is not null;
    internal bool IsReference { get; }
    internal Variable Produce(SockOpsBuilder b, SourceLocation loc) => _produce!(b, loc);
    internal T Wrap(Variable v, int scope) => _wrap!(v, scope);

    /// <summary>Identity.</summary>
    public bool Equals(MaybeNull<T> other) => ReferenceEquals(_produce, other._produce);
    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is MaybeNull<T> other && Equals(other);
    /// <inheritdoc/>
    public override int GetHashCode() => _produce is null ? 0 : RuntimeHelpers.GetHashCode(_produce);
    /// <summary>Identity.</summary>
    public static bool operator ==(MaybeNull<T> left, MaybeNull<T> right) => left.Equals(right);
    /// <summary>Identity.</summary>
    public static bool operator !=(MaybeNull<T> left, MaybeNull<T> right) => !left.Equals(right);
}

/// <summary>Typed access to a block of memory: stack objects, map values, ring buffer records, packet bytes.</summary>
public abstract class MemoryView
{
    private protected MemoryView(MemoryBase memory, bool writable)
    {
        Memory = memory;
        Writable = writable;
    }

    internal MemoryBase Memory { get; }

    internal bool Writable { get; }

    /// <summary>The size of the memory in bytes.</summary>
    public int Size => Memory.Size;

    private protected LoadExpr Load(Ty type, int offset, int size, string what) =>
        new(type, Memory, offset, SockOpsBuilder.SizeFor(size), $"{Memory.Description}+{offset} ({what})", Writable);

    /// <summary>The byte at <paramref name="offset"/>.</summary>
    public U32 U8(int offset) => new(Load(Ty.U32, offset, 1, "u8"));
    /// <summary>The u16 at <paramref name="offset"/> (host order).</summary>
    public U32 U16(int offset) => new(Load(Ty.U32, offset, 2, "u16"));
    /// <summary>The u32 at <paramref name="offset"/>.</summary>
    public U32 U32(int offset) => new(Load(Ty.U32, offset, 4, "u32"));
    /// <summary>The s32 at <paramref name="offset"/>.</summary>
    public I32 I32(int offset) => new(Load(Ty.I32, offset, 4, "s32"));
    /// <summary>The u64 at <paramref name="offset"/>.</summary>
    public U64 U64(int offset = 0) => new(Load(Ty.U64, offset, 8, "u64"));
    /// <summary>The s64 at <paramref name="offset"/>.</summary>
    public I64 I64(int offset = 0) => new(Load(Ty.I64, offset, 8, "s64"));
}

/// <summary>Memory whose layout is the C# type <typeparamref name="T"/>: fields can be named.</summary>
/// <typeparam name="T">An unmanaged struct (sequential layout) or primitive.</typeparam>
public abstract class TypedMemory<T> : MemoryView where T : unmanaged
{
    private protected TypedMemory(MemoryBase memory, bool writable) : base(memory, writable) { }

    /// <summary>Byte offset of a field of <typeparamref name="T"/> (use <c>nameof</c>).</summary>
    public static int OffsetOf(string field) => (int)Marshal.OffsetOf<T>(field);

    /// <summary>The u32 field named <paramref name="field"/>.</summary>
    public U32 U32(string field) => U32(OffsetOf(field));
    /// <summary>The s32 field named <paramref name="field"/>.</summary>
    public I32 I32(string field) => I32(OffsetOf(field));
    /// <summary>The u64 field named <paramref name="field"/>.</summary>
    public U64 U64(string field) => U64(OffsetOf(field));
    /// <summary>The s64 field named <paramref name="field"/>.</summary>
    public I64 I64(string field) => I64(OffsetOf(field));
}

/// <summary>A <typeparamref name="T"/> on the program's stack, zero-initialised unless a helper fills all of it before any other use (see <see cref="SockOpsBuilder.StackStruct{T}(string, int, string)"/>).</summary>
/// <typeparam name="T">The object's type.</typeparam>
public sealed class StackRef<T> : TypedMemory<T> where T : unmanaged
{
    internal StackRef(MemoryBase memory) : base(memory, writable: true) { }
}

/// <summary>A map value reached through a null-checked lookup (writable, like the kernel's map value pointer).</summary>
/// <typeparam name="T">The map's value type.</typeparam>
public sealed class MapValueRef<T> : TypedMemory<T> where T : unmanaged
{
    internal MapValueRef(MemoryBase memory) : base(memory, writable: true) { }
}

/// <summary>A reserved ring buffer record: fill it, then submit or discard it on every path.</summary>
/// <typeparam name="T">The record's type.</typeparam>
public sealed class RingBufRecord<T> : TypedMemory<T> where T : unmanaged
{
    internal RingBufRecord(MemoryBase memory) : base(memory, writable: true) { }
}

/// <summary>Packet bytes after a bounds check (read-only; the kernel refuses packet writes in sock_ops).</summary>
public sealed class PacketRef : MemoryView
{
    internal PacketRef(MemoryBase memory) : base(memory, writable: false) { }

    /// <summary>The byte at <paramref name="offset"/>; outside the checked length is an emit error.</summary>
    public U32 ReadU8(int offset, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") => Read(offset, 1, file, line, member);
    /// <summary>The u16 at <paramref name="offset"/> as stored (network order for header fields).</summary>
    public U32 ReadU16(int offset, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") => Read(offset, 2, file, line, member);
    /// <summary>The u32 at <paramref name="offset"/> as stored.</summary>
    public U32 ReadU32(int offset, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") => Read(offset, 4, file, line, member);

    private U32 Read(int offset, int size, string file, int line, string member)
    {
        if (offset < 0 || offset + size > Memory.Size)
            throw new EmitException(EmitRule.PacketBounds, new SourceLocation(file, line, member),
                $"Packet read at offset {offset} size {size} is outside the checked {Memory.Size} bytes.");
        return size switch { 1 => U8(offset), 2 => U16(offset), _ => U32(offset) };
    }
}

/// <summary>The null-checked <c>struct bpf_sock</c> (from <c>ctx.Sk</c>); read-only.</summary>
public sealed class SockRef
{
    internal SockRef(Variable pointer, int scope) =>
        Memory = new MemoryBase { Kind = PointerKind.Socket, Pointer = pointer, Size = 80, ScopeId = scope, Description = "the socket (bpf_sock)" };

    internal MemoryBase Memory { get; }

    private U32 F(int offset, string name, int index = -1) =>
        new(new LoadExpr(Ty.U32, Memory, offset, MemorySize.W, name, writable: false) { FieldPrefix = "bpf_sock.", FieldIndex = index });

    /// <summary>bound_dev_if.</summary>
    public U32 BoundDevIf => F(0, "bound_dev_if");
    /// <summary>family (AF_INET 2, AF_INET6 10).</summary>
    public U32 Family => F(4, "family");
    /// <summary>type (SOCK_STREAM 1).</summary>
    public U32 Type => F(8, "type");
    /// <summary>protocol (IPPROTO_TCP 6).</summary>
    public U32 Protocol => F(12, "protocol");
    /// <summary>mark.</summary>
    public U32 Mark => F(16, "mark");
    /// <summary>priority.</summary>
    public U32 Priority => F(20, "priority");
    /// <summary>src_ip4 (network order).</summary>
    public U32 SrcIp4 => F(24, "src_ip4");
    /// <summary>src_ip6[i] (network order words).</summary>
    /// <param name="i">The word, 0..3; another index is refused naming the C# line.</param>
    /// <param name="file">The caller's file (filled in by the compiler).</param>
    /// <param name="line">The caller's line (filled in by the compiler).</param>
    /// <param name="member">The caller's member (filled in by the compiler).</param>
    public U32 SrcIp6(int i, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") =>
        F(28 + 4 * CheckIndex(i, "src_ip6", new SourceLocation(file, line, member)), "src_ip6", i);
    /// <summary>src_port (host order).</summary>
    public U32 SrcPort => F(44, "src_port");
    /// <summary>dst_port converted to host order.</summary>
    public U32 DstPort => ByteOrder.Ntohs(F(48, "dst_port"));
    /// <summary>dst_ip4 (network order).</summary>
    public U32 DstIp4 => F(52, "dst_ip4");
    /// <summary>dst_ip6[i] (network order words).</summary>
    /// <param name="i">The word, 0..3; another index is refused naming the C# line.</param>
    /// <param name="file">The caller's file (filled in by the compiler).</param>
    /// <param name="line">The caller's line (filled in by the compiler).</param>
    /// <param name="member">The caller's member (filled in by the compiler).</param>
    public U32 DstIp6(int i, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "") =>
        F(56 + 4 * CheckIndex(i, "dst_ip6", new SourceLocation(file, line, member)), "dst_ip6", i);
    /// <summary>state (BPF_TCP_*).</summary>
    public U32 State => F(72, "state");
    /// <summary>rx_queue_mapping.</summary>
    public I32 RxQueueMapping => new(new LoadExpr(Ty.I32, Memory, 76, MemorySize.W, "bpf_sock.rx_queue_mapping", writable: false));

    private static int CheckIndex(int i, string name, SourceLocation location) => i is >= 0 and < 4 ? i
        : throw new EmitException(EmitRule.ContextRead, location, $"bpf_sock.{name}[{i}] is outside the array: IPv6 address words are 0..3.");
}

/// <summary>The null-checked <c>struct bpf_tcp_sock</c> (from <c>bpf_tcp_sock</c>); read-only.</summary>
public sealed class TcpSockRef
{
    internal TcpSockRef(Variable pointer, int scope) =>
        Memory = new MemoryBase { Kind = PointerKind.TcpSocket, Pointer = pointer, Size = 112, ScopeId = scope, Description = "the TCP socket (bpf_tcp_sock)" };

    internal MemoryBase Memory { get; }

    private U32 F(int offset, string name) => new(new LoadExpr(Ty.U32, Memory, offset, MemorySize.W, "bpf_tcp_sock." + name, writable: false));
    private U64 F64(int offset, string name) => new(new LoadExpr(Ty.U64, Memory, offset, MemorySize.DW, "bpf_tcp_sock." + name, writable: false));

    /// <summary>snd_cwnd.</summary>
    public U32 SndCwnd => F(0, "snd_cwnd");
    /// <summary>srtt_us (smoothed RTT « 3, µs).</summary>
    public U32 SrttUs => F(4, "srtt_us");
    /// <summary>rtt_min.</summary>
    public U32 RttMin => F(8, "rtt_min");
    /// <summary>snd_ssthresh.</summary>
    public U32 SndSsthresh => F(12, "snd_ssthresh");
    /// <summary>rcv_nxt.</summary>
    public U32 RcvNxt => F(16, "rcv_nxt");
    /// <summary>snd_nxt.</summary>
    public U32 SndNxt => F(20, "snd_nxt");
    /// <summary>snd_una.</summary>
    public U32 SndUna => F(24, "snd_una");
    /// <summary>mss_cache.</summary>
    public U32 MssCache => F(28, "mss_cache");
    /// <summary>ecn_flags.</summary>
    public U32 EcnFlags => F(32, "ecn_flags");
    /// <summary>rate_delivered.</summary>
    public U32 RateDelivered => F(36, "rate_delivered");
    /// <summary>rate_interval_us.</summary>
    public U32 RateIntervalUs => F(40, "rate_interval_us");
    /// <summary>packets_out.</summary>
    public U32 PacketsOut => F(44, "packets_out");
    /// <summary>retrans_out.</summary>
    public U32 RetransOut => F(48, "retrans_out");
    /// <summary>total_retrans.</summary>
    public U32 TotalRetrans => F(52, "total_retrans");
    /// <summary>segs_in.</summary>
    public U32 SegsIn => F(56, "segs_in");
    /// <summary>data_segs_in.</summary>
    public U32 DataSegsIn => F(60, "data_segs_in");
    /// <summary>segs_out.</summary>
    public U32 SegsOut => F(64, "segs_out");
    /// <summary>data_segs_out.</summary>
    public U32 DataSegsOut => F(68, "data_segs_out");
    /// <summary>lost_out.</summary>
    public U32 LostOut => F(72, "lost_out");
    /// <summary>sacked_out.</summary>
    public U32 SackedOut => F(76, "sacked_out");
    /// <summary>bytes_received.</summary>
    public U64 BytesReceived => F64(80, "bytes_received");
    /// <summary>bytes_acked.</summary>
    public U64 BytesAcked => F64(88, "bytes_acked");
    /// <summary>dsack_dups.</summary>
    public U32 DsackDups => F(96, "dsack_dups");
    /// <summary>delivered.</summary>
    public U32 Delivered => F(100, "delivered");
    /// <summary>delivered_ce.</summary>
    public U32 DeliveredCe => F(104, "delivered_ce");
    /// <summary>icsk_retransmits.</summary>
    public U32 IcskRetransmits => F(108, "icsk_retransmits");
}
