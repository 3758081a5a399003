using SockOps.Emit.Assembler;

namespace SockOps.Emit.Benchmarks;

/// <summary>
/// An experiment of <see cref="RuntimeVsClang"/> (<c>--program dump-stats-rtt-first</c>): the catalog's DumpStats with
/// <c>ring-buffer=false printk=true</c>, but the op switch tests <c>BPF_SOCK_OPS_RTT_CB</c> before
/// <c>BPF_SOCK_OPS_TCP_CONNECT_CB</c>, as clang -O2 orders dump_stats.c's switch. Same semantics, same helpers; the
/// only difference from the catalog build is the order of the two compares on the way in.
/// </summary>
internal static class DumpStatsRttFirst
{
    public static ProgramImage Build(KernelVersion target) =>
        SockOpsProgram.Build("dump_stats_rtt1", b =>
        {
            var ctx = b.Context;
            var nextDump = b.Map<int, ulong>("bpf_next_dump", MapType.SkStorage, 0, MapFlags.NoPrealloc);
            b.Switch(ctx.Op)
                .Case(SockOp.RttCb, () => { })
                .Case(SockOp.TcpConnectCb, () =>
                {
                    b.SockOpsCbFlagsSet(SockOpsCallbackFlags.Rtt);
                    b.Return(1);
                })
                .Default(() => b.Return(1));
            b.IfNotNull(ctx.Sk, sk =>
                b.IfNotNull(b.SkStorageGet(nextDump, sk, SkStorageGetFlags.Create), next =>
                {
                    var now = b.Local("now", b.KtimeGetNs());
                    b.If(now < next.U64(), () => b.Return(1));
                    b.IfNotNull(b.TcpSock(sk), tcp =>
                    {
                        next.U64().Set(now + 1_000_000_000UL);
                        b.Printk("dsack_dups=%u delivered=%u\n", tcp.DsackDups, tcp.Delivered);
                        b.Printk("delivered_ce=%u icsk_retransmits=%u\n", tcp.DeliveredCe, tcp.IcskRetransmits);
                    });
                }));
            b.Return(1);
        }, target: target);
}
