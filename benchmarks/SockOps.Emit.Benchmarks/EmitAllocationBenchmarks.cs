extern alias emitter;
using BenchmarkDotNet.Attributes;
using emitter::SockOps.Emit;
using static emitter::SockOps.Emit.ByteOrder;

namespace SockOps.Emit.Benchmarks;

/// <summary>
/// Time and allocation of one <c>SockOpsProgram.Build</c> (DSL lowering, register allocation, clean-ups,
/// label resolution, the final <c>ProgramImage</c>) for the seed's programs; divide by the instruction count
/// (checked in Setup) for the per-instruction figures in docs/performance-emitter.md.
/// Target (issue 4): at most 64 bytes allocated per emitted instruction for Clamp.
/// The program bodies are copies of tests/SockOps.Emit.Tests/Dsl/SeedPrograms.cs (benchmarks don't reference tests).
/// </summary>
[MemoryDiagnoser]
public class EmitAllocationBenchmarks
{
    [GlobalSetup]
    public void Setup()
    {
        // Instruction counts of the snapshots (tests/SockOps.Emit.Tests/Dsl/snapshots): a changed count means the
        // benchmark no longer measures the programs the documentation quotes.
        Check(Clamp(debug: false), 74);
        Check(Clamp(debug: true), 84);
        Check(DumpStats(printk: true), 40);
        Check(Sockmap(sockmap: false), 18);
    }

    private static void Check(ProgramImage image, int slots)
    {
        if (image.Slots != slots) throw new InvalidOperationException($"{image.Name}: {image.Slots} slots, expected {slots}.");
    }

    /// <summary>Clamp without its two bpf_printk calls.</summary>
    [Benchmark(Baseline = true)]
    public ProgramImage ClampNoPrintk() => Clamp(debug: false);

    /// <summary>Clamp as the seed writes it (DEBUG on: two bpf_printk calls).</summary>
    [Benchmark]
    public ProgramImage ClampPrintk() => Clamp(debug: true);

    /// <summary>Dump statistics with its two bpf_printk calls.</summary>
    [Benchmark]
    public ProgramImage DumpStatsPrintk() => DumpStats(printk: true);

    /// <summary>Adding a socket to a SOCKHASH.</summary>
    [Benchmark]
    public ProgramImage SockmapSockHash() => Sockmap(sockmap: false);

    private static ProgramImage Clamp(bool debug) => SockOpsProgram.Build("bpf_clamp", b =>
    {
        var ctx = b.Context;
        const int bufsize = 150000, toInit = 10, clamp = 100;
        var rv = b.Local("rv", 0);
        b.If(ctx.RemotePort != 55601 & ctx.LocalPort != 55601, () =>
        {
            ctx.Reply.Set(-1);
            b.Return(0);
        });
        var op = b.Local("op", (I32)ctx.Op);
        if (debug) b.Printk("BPF command: %d\n", op);
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
        if (debug) b.Printk("Returning %d\n", rv);
        ctx.Reply.Set(rv);
        b.Return(1);
    });

    private static ProgramImage DumpStats(bool printk) => SockOpsProgram.Build("_sockops", b =>
    {
        const ulong Interval = 1_000_000_000UL;
        var ctx = b.Context;
        var nextDump = b.Map<int, ulong>("bpf_next_dump", MapKind.SkStorage, 0, MapFlags.NoPrealloc);
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
                    next.U64().Set(now + Interval);
                    if (printk)
                    {
                        b.Printk("dsack_dups=%u delivered=%u\n", tcp.DsackDups, tcp.Delivered);
                        b.Printk("delivered_ce=%u icsk_retransmits=%u\n", tcp.DeliveredCe, tcp.IcskRetransmits);
                    }
                });
            }));
        b.Return(1);
    });

    private static ProgramImage Sockmap(bool sockmap) => SockOpsProgram.Build("bpf_sockmap", b =>
    {
        var ctx = b.Context;
        var map = b.Map<int, int>("sock_map", sockmap ? MapKind.SockMap : MapKind.SockHash, 20);
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
