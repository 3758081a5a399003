using static SockOps.Emit.ByteOrder;

namespace SockOps.Emit.Tests.Dsl;

/// <summary>The seed's three C examples, written with the DSL (line for line; the C is in the comments).</summary>
internal static class SeedPrograms
{
    /// <summary>"Clamping a connection" (samples/bpf/tcp_clamp_kern.c, DEBUG on).</summary>
    public static ProgramImage Clamp(bool debug = true) => SockOpsProgram.Build("bpf_clamp", b =>
    {
        var ctx = b.Context;
        const int bufsize = 150000, toInit = 10, clamp = 100;
        var rv = b.Local("rv", 0);                                                    // int rv = 0;
        // if (bpf_ntohl(skops->remote_port) != 55601 && skops->local_port != 55601) { skops->reply = -1; return 0; }
        b.If(ctx.RemotePort != 55601 & ctx.LocalPort != 55601, () =>
        {
            ctx.Reply.Set(-1);
            b.Return(0);
        });
        var op = b.Local("op", (I32)ctx.Op);                                         // op = (int) skops->op;
        if (debug) b.Printk("BPF command: %d\n", op);                                // bpf_printk("BPF command: %d\n", op);
        // Same data centre: the first 5.5 bytes of the IPv6 addresses match.
        b.If(ctx.Family == SockOpsCtx.AfInet6
             & ctx.LocalIp6[0] == ctx.RemoteIp6[0]
             & (Ntohl(ctx.LocalIp6[1]) & 0xfff00000) == (Ntohl(ctx.RemoteIp6[1]) & 0xfff00000),
            () => b.Switch(op)
                .Case(SockOp.TimeoutInit, () => rv.Set(toInit))
                .Case(SockOp.TcpConnectCb, () =>
                {
                    rv.Set(b.SetSockOpt(SocketLevelOption.SndBuf, bufsize));
                    rv.Set(rv + b.SetSockOpt(SocketLevelOption.RcvBuf, bufsize));
                })
                .Case(SockOp.ActiveEstablishedCb, () => rv.Set(b.SetSockOpt(TcpOption.BpfSndCwndClamp, clamp)))
                .Case(SockOp.PassiveEstablishedCb, () =>
                {
                    rv.Set(b.SetSockOpt(TcpOption.BpfSndCwndClamp, clamp));
                    rv.Set(rv + b.SetSockOpt(SocketLevelOption.SndBuf, bufsize));
                    rv.Set(rv + b.SetSockOpt(SocketLevelOption.RcvBuf, bufsize));
                })
                .Default(() => rv.Set(-1)),
            @else: () => rv.Set(-1));
        if (debug) b.Printk("Returning %d\n", rv);                                   // bpf_printk("Returning %d\n", rv);
        ctx.Reply.Set(rv);                                                            // skops->reply = rv;
        b.Return(1);                                                                  // return 1;
    });

    /// <summary>"Dump statistics" (samples/bpf/tcp_dumpstats_kern.c).</summary>
    public static ProgramImage DumpStats(bool printk = true) => SockOpsProgram.Build("_sockops", b =>
    {
        const ulong Interval = 1_000_000_000UL;
        var ctx = b.Context;
        var nextDump = b.Map<int, ulong>("bpf_next_dump", MapType.SkStorage, 0, MapFlags.NoPrealloc);
        b.Switch(ctx.Op)
            .Case(SockOp.TcpConnectCb, () =>
            {
                b.SockOpsCbFlagsSet(SockOpsCallbackFlags.Rtt);
                b.Return(1);
            })
            .Case(SockOp.RttCb, () => { })
            .Default(() => b.Return(1));
        b.IfNotNull(ctx.Sk, sk =>                                                      // sk = ctx->sk; if (!sk) return 1;
            b.IfNotNull(b.SkStorageGet(nextDump, sk, SkStorageGetFlags.Create), next =>
            {
                var now = b.Local("now", b.KtimeGetNs());                             // now = bpf_ktime_get_ns();
                b.If(now < next.U64(), () => b.Return(1));                           // if (now < *next_dump) return 1;
                b.IfNotNull(b.TcpSock(sk), tcp =>
                {
                    next.U64().Set(now + Interval);                                  // *next_dump = now + INTERVAL;
                    if (printk)
                    {
                        b.Printk("dsack_dups=%u delivered=%u\n", tcp.DsackDups, tcp.Delivered);
                        b.Printk("delivered_ce=%u icsk_retransmits=%u\n", tcp.DeliveredCe, tcp.IcskRetransmits);
                    }
                });
            }));
        b.Return(1);
    });

    /// <summary>"Adding socket to map" (test_sockmap_kern.h bpf_sockmap), SOCKHASH or SOCKMAP variant.</summary>
    public static ProgramImage Sockmap(bool sockmap = false) => SockOpsProgram.Build("bpf_sockmap", b =>
    {
        var ctx = b.Context;
        var map = b.Map<int, int>("sock_map", sockmap ? MapType.SockMap : MapType.SockHash, 20);
        void Add(int key)
        {
            if (sockmap) b.SockMapUpdate(map, key, MapUpdateFlags.NoExist);
            else b.SockHashUpdate(map, key, MapUpdateFlags.NoExist);
        }
        b.Switch(ctx.Op)
            .Case(SockOp.PassiveEstablishedCb, () => b.If(ctx.LocalPort == 10000, () => Add(1)))
            .Case(SockOp.ActiveEstablishedCb, () => b.If(ctx.RemotePort == 10001, () => Add(10)))
            .End();
        b.Return(0);
    });
}
