using System.Globalization;
using System.Runtime.InteropServices;
using SockOps.Emit;
using SockOps.Emit.Runtime;
using SockOps.Emit.TestSupport;

namespace SockOps.Programs.Tests;

/// <summary>
/// Each program attached to a temporary child cgroup, with real loopback TCP from a process inside it, and the
/// effect asserted. One class: the tests share fixed ports (55601, 10000, 10001) and run one after another.
/// </summary>
[Collection(nameof(KernelCollection))]
public class BehaviourTests
{
    private static int Sysctl(string path) => int.Parse(File.ReadAllText(path).Trim(), CultureInfo.InvariantCulture);

    [Fact]
    public void Clamp_sets_150000_byte_buffers_on_both_ends_of_a_same_datacentre_port_55601_connection()
    {
        KernelGate.Require();
        using var run = new Attached(Clamp.Build(target: HostKernel.Target));
        var clamped = run.Run("--family 6 --port 55601").Single();
        foreach (var end in new[] { clamped.Client, clamped.Server })
        {
            Assert.Equal(300000, end.SndBuf);
            Assert.Equal(300000, end.RcvBuf);
        }
        // Another port, and IPv4 on the right port (not "same data centre"): the kernel's defaults stay.
        var otherPort = run.Run("--family 6").Single();
        var ipv4 = run.Run("--family 4 --port 55601").Single();
        foreach (var end in new[] { otherPort.Client, otherPort.Server, ipv4.Client, ipv4.Server })
        {
            Assert.NotEqual(300000, end.SndBuf);
            Assert.NotEqual(300000, end.RcvBuf);
        }
    }

    [Fact]
    public void Bufs_sets_large_buffers_on_both_ends_of_a_port_55601_connection()
    {
        KernelGate.Require();
        using var run = new Attached(Bufs.Build(target: HostKernel.Target));
        int snd = 2 * Math.Min(1500000, Sysctl("/proc/sys/net/core/wmem_max"));
        int rcv = 2 * Math.Min(1500000, Sysctl("/proc/sys/net/core/rmem_max"));
        var c = run.Run("--family 4 --port 55601").Single();
        Assert.Equal([snd, snd, rcv, rcv], new[] { c.Client.SndBuf, c.Server.SndBuf, c.Client.RcvBuf, c.Server.RcvBuf });
        var other = run.Run("--family 4").Single();
        Assert.NotEqual(snd, other.Client.SndBuf);
    }

    [Fact]
    public void Iw_sets_the_initial_congestion_window_and_buffers()
    {
        KernelGate.Require();
        using var run = new Attached(Iw.Build(new Iw.Options { InitialCwnd = 37 }));
        var c = run.Run("--family 4 --port 55601").Single();
        Assert.Equal(37u, c.Client.SndCwnd);
        Assert.Equal(2 * Math.Min(1500000, Sysctl("/proc/sys/net/core/wmem_max")), c.Client.SndBuf);
        var other = run.Run("--family 4").Single();
        Assert.NotEqual(37u, other.Client.SndCwnd);
    }

    [Fact]
    public void Cong_switches_both_ends_to_the_chosen_congestion_control()
    {
        KernelGate.Require();
        string current = File.ReadAllText("/proc/sys/net/ipv4/tcp_congestion_control").Trim();
        string? chosen = File.ReadAllText("/proc/sys/net/ipv4/tcp_available_congestion_control").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .FirstOrDefault(a => a != current);
        if (chosen is null) KernelGate.Skip($"only one congestion control ({current}) is available; the test needs two (this kernel loads no modules)");
        using var run = new Attached(Cong.Build(new Cong.Options { Algorithm = chosen! }));
        var c = run.Run("--family 6 --port 55601").Single();
        Assert.Equal([chosen!, chosen!], new[] { c.Client.Congestion, c.Server.Congestion });
        var ipv4 = run.Run("--family 4 --port 55601").Single();
        Assert.Equal([current, current], new[] { ipv4.Client.Congestion, ipv4.Server.Congestion });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SockMapAdder_holds_exactly_the_cookies_of_the_sockets_it_should(bool sockMap)
    {
        KernelGate.Require();
        using var run = new Attached(SockMapAdder.Build(new SockMapAdder.Options { SockMap = sockMap }));
        using var traffic = Traffic.Start(run.Cgroup, "--family 4 --port 10000 --port 10001 --hold");
        var passive = traffic.Connections.Single(c => c.Port == 10000).Server;
        var active = traffic.Connections.Single(c => c.Port == 10001).Client;
        var map = run.Program.Maps[SockMapAdder.MapName];
        var found = new Dictionary<int, ulong>();
        for (int key = 0; key < map.MaxEntries; key++)
            if (map.LookupSocketCookie(BitConverter.GetBytes(key)) is ulong cookie) found[key] = cookie;
        Assert.Equal(new Dictionary<int, ulong> { [1] = passive.Cookie, [10] = active.Cookie }, found);
        traffic.Finish();
    }

    [Theory]
    [InlineData(4)]
    [InlineData(6)]
    public void HeaderOption_the_passive_side_records_the_value_the_active_side_wrote(int family)
    {
        KernelGate.Require();
        const uint Value = 0x0badcafe;
        using var run = new Attached(HeaderOption.Build(new HeaderOption.Options { Value = Value }));
        var c = run.Run($"--family {family} --bytes 3000").Single();
        var received = run.Program.Map<ulong, uint>(HeaderOption.ReceivedMapName);
        Assert.True(received.TryLookup(c.Server.Cookie, out uint value), "the passive socket recorded nothing");
        Assert.Equal(Value, value);
        Assert.False(received.TryLookup(c.Client.Cookie, out _));
        // The SYN carried it too: the accepted socket found it in the saved SYN.
        var onSyn = run.Program.Map<ulong, uint>(HeaderOption.ReceivedOnSynMapName);
        Assert.True(onSyn.TryLookup(c.Server.Cookie, out uint synValue), "the SYN had no option");
        Assert.Equal(Value, synValue);
    }

    [Fact]
    public void TosReflect_copies_the_syn_tos_onto_the_accepted_socket()
    {
        KernelGate.Require();
        using var run = new Attached(TosReflect.Build(target: HostKernel.Target));
        Assert.Equal(0x10, run.Run("--family 4 --tos 16").Single().Server.Tos);
        Assert.Equal(0x20, run.Run("--family 6 --tos 32").Single().Server.TClass);
        Assert.Equal(0, run.Run("--family 4").Single().Server.Tos);
    }

    [Fact]
    public void RttMetrics_events_of_one_connection_arrive_in_state_order_with_srtt()
    {
        KernelGate.Require();
        using var run = new Attached(RttMetrics.Build(target: HostKernel.Target));
        var c = run.Run("--family 4 --bytes 200000 --duration 0.2").Single();
        var events = Drain<RttMetricsEvent>(run.Program.RingBuffer(RttMetrics.RingBufferName));
        var client = events.Where(e => e.Cookie == c.Client.Cookie).ToList();
        var server = events.Where(e => e.Cookie == c.Server.Cookie).ToList();
        // The client closes first: SYN_SENT→ESTABLISHED→FIN_WAIT1→FIN_WAIT2→CLOSE (time-wait takes over).
        Assert.Equal(
            [(TcpState.SynSent, TcpState.Established), (TcpState.Established, TcpState.FinWait1), (TcpState.FinWait1, TcpState.FinWait2), (TcpState.FinWait2, TcpState.Close)],
            client.Where(e => e.Op == (uint)SockOp.StateCb).Select(e => ((TcpState)e.OldState, (TcpState)e.State)));
        Assert.Equal(
            [(TcpState.SynRecv, TcpState.Established), (TcpState.Established, TcpState.CloseWait), (TcpState.CloseWait, TcpState.LastAck), (TcpState.LastAck, TcpState.Close)],
            server.Where(e => e.Op == (uint)SockOp.StateCb).Select(e => ((TcpState)e.OldState, (TcpState)e.State)));
        foreach (var side in new[] { client, server })
        {
            // In order: each event's (old) state is the state the previous event left the socket in.
            for (int i = 1; i < side.Count; i++) Assert.Equal(side[i - 1].State, side[i].OldState);
            var rtt = side.Where(e => e.Op == (uint)SockOp.RttCb).ToList();
            Assert.NotEmpty(rtt);
            Assert.All(rtt, e => Assert.True(e.SrttUs > 0, $"RTT event in state {e.State}, cwnd {e.SndCwnd}, acked {e.BytesAcked}, client {e.Cookie == c.Client.Cookie}"));
        }
        Assert.Contains(client, e => e.BytesAcked >= 200000);
        Assert.Equal((uint)c.Client.LocalPort, client[0].LocalPort);
        Assert.Equal((uint)c.Port, client[0].RemotePort);
    }

    [Fact]
    public void DumpStats_publishes_at_most_one_record_per_second_per_socket_with_delivered()
    {
        KernelGate.Require();
        using var run = new Attached(DumpStats.Build(target: HostKernel.Target));
        var c = run.Run("--family 4 --duration 2.6").Single();
        var records = Drain<DumpStatsRecord>(run.Program.RingBuffer(DumpStats.RingBufferName));
        Assert.All(records, r => Assert.Equal(c.Client.Cookie, r.Cookie)); // RTT callbacks are turned on at connect: active sockets only
        Assert.InRange(records.Count, 2, 4);
        for (int i = 1; i < records.Count; i++) Assert.True(records[i].TimeNs - records[i - 1].TimeNs >= 1_000_000_000UL);
        Assert.All(records, r => Assert.True(r.Delivered > 0));
    }

    [Fact]
    public void SynRto_replies_for_same_datacentre_ipv6_and_declines_ipv4()
    {
        KernelGate.Require();
        // No observable effect on loopback (SYNs are answered long before any timeout): the counters prove it replied.
        using (var run = new Attached(SynRto.Build(target: HostKernel.Target)))
        {
            run.Run("--family 6 --port 55601");
            var replies = run.Program.Map<int, ulong>(ReplyCounter.MapName);
            Assert.True(replies.Lookup(ReplyCounter.Replied) >= 2, "client SYN and server SYN-ACK"); // request sock and client
            Assert.Equal(0UL, replies.Lookup(ReplyCounter.Declined));
        }
        using (var run = new Attached(SynRto.Build(target: HostKernel.Target)))
        {
            run.Run("--family 4 --port 55601");
            var replies = run.Program.Map<int, ulong>(ReplyCounter.MapName);
            Assert.Equal(0UL, replies.Lookup(ReplyCounter.Replied));
            Assert.True(replies.Lookup(ReplyCounter.Declined) >= 2);
        }
    }

    [Fact]
    public void Rwnd_declines_for_same_datacentre_peers_and_counts_it()
    {
        KernelGate.Require();
        // ::1 to ::1 is "same data centre", so the sample's condition (different data centres) never holds on one host.
        using var run = new Attached(Rwnd.Build(target: HostKernel.Target));
        run.Run("--family 6 --port 55601");
        var replies = run.Program.Map<int, ulong>(ReplyCounter.MapName);
        Assert.Equal(0UL, replies.Lookup(ReplyCounter.Replied));
        Assert.True(replies.Lookup(ReplyCounter.Declined) >= 2);
    }

    [Fact]
    public void BaseRtt_runs_and_answers_base_rtt_only_for_tcp_nv()
    {
        KernelGate.Require();
        bool nv = File.ReadAllText("/proc/sys/net/ipv4/tcp_available_congestion_control").Split(' ', StringSplitOptions.TrimEntries).Contains("nv");
        using var stats = BpfStats.Enable();
        using var run = new Attached(BaseRtt.Build(target: HostKernel.Target));
        run.Run(nv ? "--family 6 --cc nv --bytes 100000" : "--family 6 --bytes 100000");
        Assert.True(run.Program.Info.RunCount > 0, "the program did not run");
        var replies = run.Program.Map<int, ulong>(ReplyCounter.MapName);
        if (nv) Assert.True(replies.Lookup(ReplyCounter.Replied) > 0);
        else Assert.Equal(0UL, replies.Lookup(ReplyCounter.Replied) + replies.Lookup(ReplyCounter.Declined)); // only TCP-NV asks BASE_RTT
    }

    [Fact]
    public void TxTimestamps_measures_the_time_from_sendmsg_to_ack()
    {
        KernelGate.Require();
        // The kfunc exists from Linux 6.15: an older kernel legitimately cannot run this test, a newer one must have it.
        if (RunningKernel.Version < TxTimestamps.MinimumKernel) KernelGate.Skip($"{TxTimestamps.Kfunc} needs Linux {TxTimestamps.MinimumKernel}; this kernel is {RunningKernel.Version}");
        Assert.True(FeatureProbes.IsKfuncAvailable(TxTimestamps.Kfunc), $"Linux {RunningKernel.Version} has no {TxTimestamps.Kfunc} in its BTF");
        using var run = new Attached(TxTimestamps.Build(target: HostKernel.Target));
        var c = run.Run("--family 4 --duration 0.5").Single();
        var records = Drain<TxTimestampRecord>(run.Program.RingBuffer(TxTimestamps.RingBufferName));
        // Each ping (client) and pong (server) is one sendmsg, ACKed before the next: most are measured.
        var client = records.Where(r => r.Cookie == c.Client.Cookie).ToList();
        var server = records.Where(r => r.Cookie == c.Server.Cookie).ToList();
        Assert.True(client.Count >= 10, $"{client.Count} client measurements");
        Assert.True(server.Count >= 10, $"{server.Count} server measurements");
        Assert.All(records, r => Assert.InRange(r.LatencyNs, 1UL, 1_000_000_000UL));
    }

    private static List<T> Drain<T>(RingBuffer ring) where T : unmanaged
    {
        var list = new List<T>();
        ring.Consume(record => list.Add(MemoryMarshal.Read<T>(record)));
        return list;
    }
}
