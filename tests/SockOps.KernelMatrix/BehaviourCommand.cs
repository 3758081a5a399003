using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using SockOps.Emit;
using SockOps.Emit.Assembler;
using SockOps.Emit.Hosting;
using SockOps.Emit.Runtime;
using SockOps.Programs;

namespace SockOps.KernelMatrix;

/// <summary>
/// Behaviour of shipped programs on the running kernel: each is attached to a fresh temporary child cgroup, this
/// process moves itself into it (so listener and client sockets both belong to it), drives loopback TCP, moves back,
/// and the effect is checked. Everything created is removed, also when a check fails.
/// </summary>
internal static class BehaviourCommand
{
    private const int SolSocket = 1, SoCookie = 57;

    /// <summary>Every program is built for the running kernel.</summary>
    private static readonly KernelVersion Target = Program.RunningKernel();

    private static readonly (string Name, Func<Cgroup, string> Check)[] Checks =
    [
        ("clamp", ClampCheck),
        ("sockmap-adder", SockMapAdderCheck),
        ("rtt-metrics", RttMetricsCheck),
    ];

    public static int Run(string? cgroupParent, string? only, TextWriter output)
    {
        if (only is not null && !Checks.Any(c => c.Name == only))
            throw new UsageException($"--only: no check '{only}' (checks: {string.Join(", ", Checks.Select(c => c.Name))})");
        string parent = cgroupParent ?? Cgroup.FindMountPoint();
        if (!Directory.Exists(parent)) throw new UsageException($"--cgroup-parent {parent}: no such directory");
        int failed = 0;
        foreach (var (name, check) in Checks)
        {
            if (only is not null && name != only) continue;
            string verdict;
            try
            {
                using var cgroup = Cgroup.CreateTemporary(parent, "sockops-matrix");
                verdict = $"PASS (built for {Target}) " + check(cgroup);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                failed++;
                verdict = $"FAIL {e.GetType().Name}: {e.Message.Split('\n')[0]}";
            }
            output.WriteLine($"behaviour {name}: {verdict}");
            output.Flush();
        }
        return failed == 0 ? 0 : 1;
    }

    /// <summary>Clamp (defaults): an IPv6 loopback connection on port 55601 gets 150000-byte buffers on both ends (read back doubled); another port keeps the defaults.</summary>
    private static string ClampCheck(Cgroup cgroup)
    {
        using var loaded = SockOpsHost.Load(Clamp.Build(target: Target));
        loaded.AttachTo(cgroup);
        int[] clamped, other;
        using (CgroupScope.Enter(cgroup))
        {
            clamped = BufferSizes(IPAddress.IPv6Loopback, 55601);
            other = BufferSizes(IPAddress.IPv6Loopback, 0);
        }
        string Show(int[] v) => $"client snd/rcv {v[0]}/{v[1]}, server snd/rcv {v[2]}/{v[3]}";
        if (clamped.Any(v => v != 300000)) throw new CheckFailedException($"port 55601: {Show(clamped)}; expected 300000 everywhere");
        if (other.Any(v => v == 300000)) throw new CheckFailedException($"another port got the clamp: {Show(other)}");
        return $"[::1]:55601 {Show(clamped)}; another port keeps the defaults ({Show(other)})";
    }

    /// <summary>SO_SNDBUF, SO_RCVBUF of the client, then of the accepted server socket, for one connection.</summary>
    private static int[] BufferSizes(IPAddress address, int port)
    {
        using var listener = Listen(address, port);
        using var client = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndPoint!);
        using var server = AcceptWithin(listener);
        Handshake(client, server);
        return [client.SendBufferSize, client.ReceiveBufferSize, server.SendBufferSize, server.ReceiveBufferSize];
    }

    /// <summary>
    /// SockMapAdder (sockhash, then sockmap): three connections to port 10000 and three to port 10001 (all held
    /// open) and one to another port; the map holds exactly key 1 = the first socket accepted on 10000 and key 10 =
    /// the first client socket connected to 10001 (BPF_NOEXIST keeps the first), by SO_COOKIE.
    /// </summary>
    private static string SockMapAdderCheck(Cgroup cgroup)
    {
        var details = new List<string>();
        foreach (bool sockMap in new[] { false, true })
        {
            using var loaded = SockOpsHost.Load(SockMapAdder.Build(new SockMapAdder.Options { SockMap = sockMap }, Target));
            loaded.AttachTo(cgroup);
            var sockets = new List<Socket>();
            try
            {
                ulong passive, active;
                int connections = 0;
                using (CgroupScope.Enter(cgroup))
                {
                    var passiveListener = Listen(IPAddress.Loopback, 10000);
                    var activeListener = Listen(IPAddress.Loopback, 10001);
                    var otherListener = Listen(IPAddress.Loopback, 0);
                    sockets.AddRange([passiveListener, activeListener, otherListener]);
                    var firstPassive = default(Socket);
                    var firstActive = default(Socket);
                    foreach (var listener in new[] { passiveListener, activeListener, passiveListener, activeListener, passiveListener, activeListener, otherListener })
                    {
                        var (client, server) = Connect(listener);
                        sockets.Add(client);
                        sockets.Add(server);
                        connections++;
                        if (listener == passiveListener) firstPassive ??= server;
                        if (listener == activeListener) firstActive ??= client;
                    }
                    passive = Cookie(firstPassive!);
                    active = Cookie(firstActive!);
                }
                var map = loaded.Maps[SockMapAdder.MapName];
                var found = new SortedDictionary<int, ulong>();
                for (int key = 0; key < map.MaxEntries; key++)
                    if (map.LookupSocketCookie(BitConverter.GetBytes(key)) is ulong cookie) found[key] = cookie;
                string Show(IEnumerable<KeyValuePair<int, ulong>> m) => "{" + string.Join(", ", m.Select(p => $"{p.Key}: {p.Value}")) + "}";
                var expected = new SortedDictionary<int, ulong> { [1] = passive, [10] = active };
                string kind = sockMap ? "sockmap" : "sockhash";
                if (!found.SequenceEqual(expected))
                    throw new CheckFailedException($"{kind}: map {Show(found)}, expected the SO_COOKIEs {Show(expected)}");
                details.Add($"{kind} after {connections} connections = {Show(found)} (the SO_COOKIEs)");
            }
            finally
            {
                foreach (var s in sockets) s.Dispose();
            }
        }
        return string.Join("; ", details);
    }

    /// <summary>RttMetrics: three IPv4 connections echo 64 KiB four times; every socket of them streams RTT_CB events, all with srtt &gt; 0.</summary>
    private static string RttMetricsCheck(Cgroup cgroup)
    {
        using var loaded = SockOpsHost.Load(RttMetrics.Build(target: Target));
        loaded.AttachTo(cgroup);
        var cookies = new List<ulong>();
        using (CgroupScope.Enter(cgroup))
        {
            using var listener = Listen(IPAddress.Loopback, 0);
            for (int c = 0; c < 3; c++)
            {
                var (client, server) = Connect(listener);
                using (client)
                using (server)
                {
                    cookies.Add(Cookie(client));
                    cookies.Add(Cookie(server));
                    var buffer = new byte[64 * 1024];
                    for (int round = 0; round < 4; round++)
                    {
                        client.Send(buffer);
                        ReceiveExactly(server, buffer);
                        server.Send(buffer);
                        ReceiveExactly(client, buffer);
                    }
                    client.Shutdown(SocketShutdown.Both);
                }
            }
        }
        var events = new List<RttMetricsEvent>();
        var ring = loaded.RingBuffer(RttMetrics.RingBufferName);
        for (int i = 0; i < 10 && (events.Count == 0 || ring.Pending > 0); i++)
        {
            ring.Consume(record => events.Add(MemoryMarshal.Read<RttMetricsEvent>(record)));
            if (events.Count == 0) Thread.Sleep(50);
        }
        var rtt = events.Where(e => e.Op == (uint)SockOp.RttCb && cookies.Contains(e.Cookie)).ToList();
        var missing = cookies.Where(c => !rtt.Any(e => e.Cookie == c)).ToList();
        if (missing.Count > 0)
            throw new CheckFailedException($"{events.Count} events, {rtt.Count} RTT_CB of our sockets; none for cookies {string.Join(", ", missing)}");
        var zero = rtt.Where(e => e.SrttUs == 0).ToList();
        if (zero.Count > 0) throw new CheckFailedException($"{zero.Count} of {rtt.Count} RTT_CB events have srtt 0");
        return string.Create(CultureInfo.InvariantCulture,
            $"{events.Count} events, {rtt.Count} RTT_CB for all {cookies.Count} sockets, srtt {rtt.Min(e => e.SrttUs >> 3)}..{rtt.Max(e => e.SrttUs >> 3)} us");
    }

    /// <summary>A listener; a fixed port still held by another process (a test run beside this one) is retried for up to 10 s.</summary>
    private static Socket Listen(IPAddress address, int port)
    {
        for (int attempt = 1; ; attempt++)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.SetSocketOption(System.Net.Sockets.SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                socket.Bind(new IPEndPoint(address, port));
                socket.Listen(16);
                return socket;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse && port != 0 && attempt < 100)
            {
                socket.Dispose();
                Thread.Sleep(100);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
    }

    /// <summary>
    /// Accepts the connection just made, or fails the check after 10 s instead of hanging: another process listening on
    /// the same fixed port with SO_REUSEPORT takes a share of the connections, which this check would otherwise wait for forever.
    /// </summary>
    private static Socket AcceptWithin(Socket listener)
    {
        if (!listener.Poll(TimeSpan.FromSeconds(10), SelectMode.SelectRead))
            throw new CheckFailedException($"no connection arrived at {listener.LocalEndPoint} within 10 s (is another process listening on the same port with SO_REUSEPORT?)");
        return listener.Accept();
    }

    private static (Socket Client, Socket Server) Connect(Socket listener)
    {
        var endpoint = (IPEndPoint)listener.LocalEndPoint!;
        var client = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            client.Connect(endpoint);
            var server = AcceptWithin(listener);
            Handshake(client, server);
            return (client, server);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>
    /// One byte each way. Receiving on the accepted socket takes its lock, so the passive-established callback (run
    /// under that lock while the final ACK is processed) has finished before anything is read from the socket.
    /// </summary>
    private static void Handshake(Socket client, Socket server)
    {
        var one = new byte[1];
        client.Send(one);
        ReceiveExactly(server, one);
        server.Send(one);
        ReceiveExactly(client, one);
    }

    private static void ReceiveExactly(Socket socket, byte[] buffer)
    {
        for (int got = 0; got < buffer.Length;)
        {
            int n = socket.Receive(buffer, got, buffer.Length - got, SocketFlags.None);
            if (n == 0) throw new CheckFailedException("the peer closed the connection early");
            got += n;
        }
    }

    private static ulong Cookie(Socket socket)
    {
        var value = new byte[8];
        int length = socket.GetRawSocketOption(SolSocket, SoCookie, value);
        return length == 8 ? BitConverter.ToUInt64(value) : throw new CheckFailedException($"SO_COOKIE returned {length} bytes");
    }
}

/// <summary>A behaviour check saw something other than what it proves.</summary>
internal sealed class CheckFailedException(string message) : Exception(message);

/// <summary>Moves this whole process into a cgroup and, on dispose, back to the cgroup it came from.</summary>
internal sealed class CgroupScope : IDisposable
{
    private readonly string _home;

    private CgroupScope(string home) => _home = home;

    public static CgroupScope Enter(Cgroup cgroup)
    {
        string home = Cgroup.CurrentProcessPath();
        cgroup.AddProcess(Environment.ProcessId);
        return new CgroupScope(home);
    }

    public void Dispose() =>
        File.WriteAllText(Path.Combine(_home, "cgroup.procs"), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
}
