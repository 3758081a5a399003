using System.Globalization;
using System.IO.Compression;
using System.Runtime.InteropServices;
using SockOps.Emit;
using SockOps.Emit.Runtime;
using SockOps.Emit.TestSupport;

namespace SockOps.Programs.Tests;

/// <summary>
/// Each program attached to a temporary child cgroup, with real loopback TCP from a process inside it, and the
/// effect asserted as the kernel shows it (getsockopt, TCP_INFO, captured segments, timed retransmissions), not by
/// the program's own counters. The traffic processes (traffic.py, netns_probe.py) run in private network namespaces,
/// so the fixed ports (55601, 10000, 10001) cannot collide with anything else on the machine; the tests still run
/// one after another (<see cref="KernelCollection"/>) so that timings are not measured beside another test's load.
/// </summary>
[Collection(nameof(KernelCollection))]
public class BehaviourTests
{
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
        var c = run.Run("--family 4 --port 55601").Single();
        int snd = 2 * Math.Min(1500000, c.NetnsWmemMax);
        int rcv = 2 * Math.Min(1500000, c.NetnsRmemMax);
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
        Assert.Equal(2 * Math.Min(1500000, c.NetnsWmemMax), c.Client.SndBuf);
        var other = run.Run("--family 4").Single();
        Assert.NotEqual(37u, other.Client.SndCwnd);
    }

    [Fact]
    public void Cong_switches_both_ends_to_the_chosen_congestion_control()
    {
        KernelGate.Require();
        // The default of the traffic's private network namespace, seen by a connection without the program.
        string current;
        using (var bare = Cgroup.CreateTemporary(prefix: "sockops-programs"))
            current = Traffic.Run(bare, "--family 4").Single().Client.Congestion;
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
        // The kernel's own count (TCP_INFO tcpi_bytes_acked, read after the last ping-pong): the last RTT sample saw it.
        Assert.Contains(client, e => e.Op == (uint)SockOp.RttCb && e.BytesAcked == c.ClientAfter.BytesAcked);
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
        // tp->delivered only grows: no record is ahead of the kernel's TCP_INFO tcpi_delivered read after the traffic.
        Assert.All(records, r => Assert.True(r.Delivered <= c.ClientAfter.Delivered, $"{r.Delivered} > tcpi_delivered {c.ClientAfter.Delivered}"));
    }

    /// <summary>
    /// The kernel's tick rate (CONFIG_HZ from /proc/config.gz or /boot/config-$(uname -r)): TIMEOUT_INIT replies are
    /// jiffies. Unknown → 1000, the highest rate, which makes the lower bounds below the weakest.
    /// </summary>
    private static int Hz()
    {
        static string? Config()
        {
            if (File.Exists("/proc/config.gz"))
            {
                using var gz = new GZipStream(File.OpenRead("/proc/config.gz"), CompressionMode.Decompress);
                using var reader = new StreamReader(gz);
                return reader.ReadToEnd();
            }
            string boot = "/boot/config-" + File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
            return File.Exists(boot) ? File.ReadAllText(boot) : null;
        }
        string? line = Config()?.Split('\n').FirstOrDefault(l => l.StartsWith("CONFIG_HZ=", StringComparison.Ordinal));
        return line is null ? 1000 : int.Parse(line["CONFIG_HZ=".Length..], CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// In a private network namespace an nftables rule drops the first SYN of every connection to port 55601, so
    /// connect() returns when the SYN is retransmitted: after the kernel's initial RTO of 1 s (TCP_TIMEOUT_INIT)
    /// without a program, after the program's TIMEOUT_INIT reply of 10 jiffies with it. IPv4 is not "same data
    /// centre": both programs decline and the kernel keeps 1 s.
    /// </summary>
    [Theory]
    [InlineData("clamp")]
    [InlineData("syn-rto")]
    public void A_dropped_first_syn_is_retransmitted_after_10_jiffies_instead_of_1_s(string program)
    {
        KernelGate.RequireNetworkNamespaces();
        const int Connections = 2;
        double programRto = 10.0 / Hz();
        var image = program == "clamp" ? Clamp.Build(target: HostKernel.Target) : SynRto.Build(target: HostKernel.Target);
        SynRtoObservation without;
        using (var bare = Cgroup.CreateTemporary(prefix: "sockops-programs"))
            without = NetnsProbe.SynRto(bare, family: 6, Connections);
        SynRtoObservation with, ipv4;
        using (var run = new Attached(image))
        {
            with = NetnsProbe.SynRto(run.Cgroup, family: 6, Connections);
            ipv4 = NetnsProbe.SynRto(run.Cgroup, family: 4, Connections);
        }
        string seen = $"without {Format(without)}, with {Format(with)}, IPv4 with {Format(ipv4)}; 10 jiffies = {programRto:0.000} s";
        TestContext.Current.TestOutputHelper?.WriteLine(seen);
        // Every connection lost exactly its first SYN: the times below are retransmission timeouts.
        Assert.All(new[] { without, with, ipv4 }, o => Assert.Equal(Connections, o.SynsDropped));
        // A timer never fires early (at most the first jiffy may already have passed), and the 1 s default is 25 times
        // 10 jiffies at HZ 250: the bounds cannot flake and still separate the two by an order of magnitude.
        Assert.All(without.ConnectSeconds.Concat(ipv4.ConnectSeconds), s => Assert.True(s >= 0.9, seen));
        Assert.All(with.ConnectSeconds, s => Assert.True(s >= 0.75 * programRto && s < 0.5, seen));
    }

    private static string Format(SynRtoObservation o) =>
        "[" + string.Join(", ", o.ConnectSeconds.Select(s => s.ToString("0.000", CultureInfo.InvariantCulture))) + "] s";

    /// <summary>
    /// The SYN and SYN-ACK carry the initial receive window unscaled. With lo's MTU at 1500 (MSS 1440) the kernel's
    /// default (45 segments here, capped at 65535) is larger than 40 segments, so a RWND_INIT reply of 40 shows on the
    /// wire: the active side advertises 40 × its MSS, the passive side 40 × (MSS − 12 bytes of timestamps).
    /// </summary>
    private static void AssertFortySegments(Segment segment, string seen)
    {
        Assert.NotNull(segment.Mss);
        int mss = segment.Mss!.Value;
        Assert.True(segment.Window >= 40 * (mss - 12) && segment.Window <= 40 * mss, seen);
    }

    private static string Format(HandshakeWindows w) =>
        string.Create(CultureInfo.InvariantCulture, $"{w.Syn.Source}→{w.Syn.Destination}: SYN window {w.Syn.Window} (MSS {w.Syn.Mss}), SYN-ACK window {w.SynAck.Window} (MSS {w.SynAck.Mss})");

    [Fact]
    public void Rwnd_advertises_40_segments_in_the_handshake_between_data_centres_and_the_default_within_one()
    {
        KernelGate.RequireNetworkNamespaces();
        // Private lo addresses in two /32 prefixes ("data centres" differ in the first 5.5 bytes) and one in the same.
        HandshakeWindows without;
        using (var bare = Cgroup.CreateTemporary(prefix: "sockops-programs"))
            without = NetnsProbe.Window(bare, "fd00:1::1", "fd00:2::1");
        HandshakeWindows across, within;
        using (var run = new Attached(Rwnd.Build(target: HostKernel.Target)))
        {
            across = NetnsProbe.Window(run.Cgroup, "fd00:1::1", "fd00:2::1");
            within = NetnsProbe.Window(run.Cgroup, "fd00:1::1", "fd00:1::2");
        }
        string seen = $"without: {Format(without)}; with: {Format(across)}; {Format(within)}";
        TestContext.Current.TestOutputHelper?.WriteLine(seen);
        AssertFortySegments(across.Syn, seen);
        AssertFortySegments(across.SynAck, seen);
        // The kernel's default is larger than 40 segments (else the test could not tell), and stays within a data centre.
        Assert.True(without.Syn.Window > 40 * without.Syn.Mss!.Value && without.SynAck.Window > 40 * without.SynAck.Mss!.Value, seen);
        Assert.Equal((without.Syn.Window, without.SynAck.Window), (within.Syn.Window, within.SynAck.Window));
    }

    [Theory]
    [InlineData("bufs")]
    [InlineData("iw")]
    public void Bufs_and_Iw_advertise_40_segments_in_the_handshake_on_port_55601(string program)
    {
        KernelGate.RequireNetworkNamespaces();
        HandshakeWindows without;
        using (var bare = Cgroup.CreateTemporary(prefix: "sockops-programs"))
            without = NetnsProbe.Window(bare, "::1", "::1");
        var image = program == "bufs" ? Bufs.Build(target: HostKernel.Target) : Iw.Build(target: HostKernel.Target);
        HandshakeWindows with;
        using (var run = new Attached(image))
            with = NetnsProbe.Window(run.Cgroup, "::1", "::1");
        string seen = $"without: {Format(without)}; with: {Format(with)}";
        TestContext.Current.TestOutputHelper?.WriteLine(seen);
        AssertFortySegments(with.Syn, seen);
        AssertFortySegments(with.SynAck, seen);
        Assert.True(without.Syn.Window > 40 * without.Syn.Mss!.Value && without.SynAck.Window > 40 * without.SynAck.Mss!.Value, seen);
    }

    /// <summary>
    /// A 64 MiB transfer over ::1 port 55601 with lo's MTU at 1500, the client's tcpi_snd_cwnd (TCP_INFO) sampled after
    /// every 64 KiB write. Without a program slow start takes it far past 100 segments; with clamp
    /// (TCP_BPF_SNDCWND_CLAMP 100) it reaches 100 and never exceeds it.
    /// </summary>
    [Fact]
    public void Clamp_keeps_a_bulk_transfers_congestion_window_at_100_segments()
    {
        KernelGate.RequireNetworkNamespaces();
        CwndObservation without;
        using (var bare = Cgroup.CreateTemporary(prefix: "sockops-programs"))
            without = NetnsProbe.Cwnd(bare);
        CwndObservation with;
        using (var run = new Attached(Clamp.Build(target: HostKernel.Target)))
            with = NetnsProbe.Cwnd(run.Cgroup);
        string seen = string.Create(CultureInfo.InvariantCulture,
            $"largest tcpi_snd_cwnd of {without.Samples} samples without: {without.MaxSndCwnd}; of {with.Samples} with: {with.MaxSndCwnd}");
        TestContext.Current.TestOutputHelper?.WriteLine(seen);
        Assert.All(new[] { without, with }, o => Assert.Equal(o.BytesSent, o.BytesReceived));
        Assert.True(without.MaxSndCwnd > 100, seen);
        Assert.InRange(with.MaxSndCwnd, 50u, 100u);
    }

    [Fact]
    public void HeaderOption_the_syn_on_the_wire_carries_the_experimental_option()
    {
        KernelGate.RequireNetworkNamespaces();
        const uint Value = 0x0badcafe;
        HandshakeWindows without;
        using (var bare = Cgroup.CreateTemporary(prefix: "sockops-programs"))
            without = NetnsProbe.Window(bare, "127.0.0.1", "127.0.0.1");
        HandshakeWindows with;
        using (var run = new Attached(HeaderOption.Build(new HeaderOption.Options { Value = Value })))
            with = NetnsProbe.Window(run.Cgroup, "127.0.0.1", "127.0.0.1");
        // Kind 254, then the experiment id and the value in network order (the length byte is not in "data").
        Assert.Contains(with.Syn.Options, o => o.Kind == HeaderOption.ExperimentalKind && o.Data == "eb9f0badcafe");
        Assert.DoesNotContain(without.Syn.Options, o => o.Kind == HeaderOption.ExperimentalKind);
    }

    /// <summary>
    /// Only TCP-NV asks BASE_RTT (tcpnv_init), so the reply has a kernel-visible effect only under nv. Where nv is
    /// built or loadable (setsockopt(TCP_CONGESTION, "nv") autoloads tcp_nv where modules exist) the test uses it and
    /// expects replies; otherwise (this project's 6.18 host: CONFIG_TCP_CONG_NV is not set and the kernel has no
    /// modules) it can only prove that the program ran (run count) and that nothing asked BASE_RTT.
    /// </summary>
    [Fact]
    public void BaseRtt_runs_and_answers_base_rtt_only_for_tcp_nv()
    {
        KernelGate.Require();
        bool nv = CongestionControlUsable("nv");
        if (!nv)
            TestContext.Current.TestOutputHelper?.WriteLine(
                "TCP-NV is not available on this kernel (tcp_available_congestion_control: "
                + File.ReadAllText("/proc/sys/net/ipv4/tcp_available_congestion_control").Trim()
                + "; setsockopt(TCP_CONGESTION, \"nv\") failed): BASE_RTT is never asked, only the run count is proven");
        using var stats = BpfStats.Enable();
        using var run = new Attached(BaseRtt.Build(target: HostKernel.Target));
        run.Run(nv ? "--family 6 --cc nv --bytes 100000" : "--family 6 --bytes 100000");
        Assert.True(run.Program.Info.RunCount > 0, "the program did not run");
        var replies = run.Program.Map<int, ulong>(ReplyCounter.MapName);
        if (nv) Assert.True(replies.Lookup(ReplyCounter.Replied) > 0);
        else Assert.Equal(0UL, replies.Lookup(ReplyCounter.Replied) + replies.Lookup(ReplyCounter.Declined)); // only TCP-NV asks BASE_RTT
    }

    /// <summary>Whether a TCP socket accepts <paramref name="name"/> as TCP_CONGESTION (which autoloads its module where the kernel can).</summary>
    private static bool CongestionControlUsable(string name)
    {
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        try
        {
            socket.SetRawSocketOption(6 /* IPPROTO_TCP */, 13 /* TCP_CONGESTION */, System.Text.Encoding.ASCII.GetBytes(name + "\0"));
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
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
