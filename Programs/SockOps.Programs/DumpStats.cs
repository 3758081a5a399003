using SockOps.Emit.Assembler;
using System.Runtime.InteropServices;
using SockOps.Emit;

namespace SockOps.Programs;

/// <summary>One DumpStats ring buffer record: the socket and its <c>bpf_tcp_sock</c> counters.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct DumpStatsRecord
{
    /// <summary>The socket cookie (as <c>getsockopt(SO_COOKIE)</c> reads it).</summary>
    public ulong Cookie;
    /// <summary>bpf_ktime_get_ns() when the record was written.</summary>
    public ulong TimeNs;
    /// <summary>dsack_dups.</summary>
    public uint DsackDups;
    /// <summary>delivered.</summary>
    public uint Delivered;
    /// <summary>delivered_ce.</summary>
    public uint DeliveredCe;
    /// <summary>icsk_retransmits.</summary>
    public uint IcskRetransmits;
}

/// <summary>
/// The seed's "Dump statistics" (samples/bpf/tcp_dumpstats_kern.c): turns on RTT callbacks at connect and, at
/// most once per <see cref="Options.IntervalNs"/> per socket (the next dump time lives in sk_storage), publishes
/// the socket's dsack_dups, delivered, delivered_ce and icsk_retransmits as a <see cref="DumpStatsRecord"/> in
/// the ring buffer <see cref="RingBufferName"/> (and, optionally, with the seed's two <c>bpf_printk</c> lines).
/// </summary>
public static class DumpStats
{
    /// <summary>One-line summary.</summary>
    public const string Summary = "RTT callbacks on; at most once a second per socket, publish dsack_dups/delivered/delivered_ce/retransmits (seed example)";

    /// <summary>The oldest kernel the program can be built for (the model's answer; 6.1, 6.12 and 6.18 are proven in the kernel matrix, 5.10 and 5.15 are declared from the sources).</summary>
    public static KernelVersion MinimumKernel { get; } = new(5, 10);

    /// <summary>The ring buffer map.</summary>
    public const string RingBufferName = "stats";

    /// <summary>The sk_storage map holding each socket's next dump time.</summary>
    public const string NextDumpMapName = "bpf_next_dump";

    /// <summary>Parameters; defaults are the seed's values.</summary>
    public sealed record Options
    {
        /// <summary>Minimum time between two dumps of one socket, in nanoseconds.</summary>
        public ulong IntervalNs { get; init; } = 1_000_000_000UL;
        /// <summary>Publish records to the ring buffer.</summary>
        public bool RingBuffer { get; init; } = true;
        /// <summary>Also print the seed's two <c>bpf_printk</c> lines (GPL; needs CAP_PERFMON).</summary>
        public bool Printk { get; init; }
        /// <summary>Ring buffer size in bytes (a power of two, multiple of the page size).</summary>
        public uint RingBufferBytes { get; init; } = 64 * 1024;
    }

    /// <summary>Builds the program for <paramref name="target"/> (default <see cref="KernelTargets.Default"/>; at least <see cref="MinimumKernel"/>).</summary>
    /// <param name="options">Parameters (defaults when null).</param>
    /// <param name="target">The kernel the program will run on.</param>
    public static ProgramImage Build(Options? options = null, KernelVersion? target = null)
    {
        var o = options ?? new Options();
        return SockOpsProgram.Build("dump_stats", b =>
        {
            var ctx = b.Context;
            var nextDump = b.Map<int, ulong>(NextDumpMapName, MapType.SkStorage, 0, MapFlags.NoPrealloc);
            var stats = o.RingBuffer ? b.RingBuf(RingBufferName, o.RingBufferBytes) : null;
            b.Switch(ctx.Op)
                .Case(SockOp.TcpConnectCb, () =>
                {
                    b.SockOpsCbFlagsSet(SockOpsCallbackFlags.Rtt);
                    b.Return(1);
                })
                .Case(SockOp.RttCb, () => { })
                .Default(() => b.Return(1));
            b.IfNotNull(ctx.Sk, sk =>
                b.IfNotNull(b.SkStorageGet(nextDump, sk, SkStorageGetFlags.Create), next =>
                {
                    var now = b.Local("now", b.KtimeGetNs());
                    b.If(now < next.U64(), () => b.Return(1));
                    b.IfNotNull(b.TcpSock(sk), tcp =>
                    {
                        next.U64().Set(now + o.IntervalNs);
                        if (stats is not null)
                        {
                            var cookie = b.Local("cookie", b.GetSocketCookie());
                            b.IfNotNull(b.RingBufReserve<DumpStatsRecord>(stats), record =>
                            {
                                record.U64(nameof(DumpStatsRecord.Cookie)).Set(cookie);
                                record.U64(nameof(DumpStatsRecord.TimeNs)).Set(now);
                                record.U32(nameof(DumpStatsRecord.DsackDups)).Set(tcp.DsackDups);
                                record.U32(nameof(DumpStatsRecord.Delivered)).Set(tcp.Delivered);
                                record.U32(nameof(DumpStatsRecord.DeliveredCe)).Set(tcp.DeliveredCe);
                                record.U32(nameof(DumpStatsRecord.IcskRetransmits)).Set(tcp.IcskRetransmits);
                                b.RingBufSubmit(record);
                            });
                        }
                        if (o.Printk)
                        {
                            b.Printk("dsack_dups=%u delivered=%u\n", tcp.DsackDups, tcp.Delivered);
                            b.Printk("delivered_ce=%u icsk_retransmits=%u\n", tcp.DeliveredCe, tcp.IcskRetransmits);
                        }
                    });
                }));
            b.Return(1);
        }, target: target);
    }
}
