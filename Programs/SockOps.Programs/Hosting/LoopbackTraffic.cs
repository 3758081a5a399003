using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace SockOps.Programs.Hosting;

/// <summary>What <c>getsockopt(SO_SNDBUF)</c> and <c>getsockopt(SO_RCVBUF)</c> read on some sockets: the pair and how many read it.</summary>
/// <param name="SendBuffer">SO_SNDBUF as the kernel reports it (twice what setsockopt was given, see <see cref="Clamp"/>).</param>
/// <param name="ReceiveBuffer">SO_RCVBUF as the kernel reports it.</param>
/// <param name="Sockets">How many sockets read this pair.</param>
public sealed record BufferReading(int SendBuffer, int ReceiveBuffer, int Sockets);

/// <summary>What a <see cref="LoopbackTraffic.Run"/> did and what the kernel reported on its sockets.</summary>
/// <param name="Connections">Connections that completed a transfer.</param>
/// <param name="Ipv6Connecting">Buffers of the IPv6 client sockets, read right after <c>connect()</c>.</param>
/// <param name="Ipv6Accepted">Buffers of the IPv6 accepted sockets, read right after <c>accept()</c>.</param>
/// <param name="Ipv4Connecting">Buffers of the IPv4 client sockets.</param>
/// <param name="Ipv4Accepted">Buffers of the IPv4 accepted sockets.</param>
public sealed record LoopbackTrafficResult(
    int Connections,
    IReadOnlyList<BufferReading> Ipv6Connecting,
    IReadOnlyList<BufferReading> Ipv6Accepted,
    IReadOnlyList<BufferReading> Ipv4Connecting,
    IReadOnlyList<BufferReading> Ipv4Accepted);

/// <summary>
/// Built-in loopback TCP load for <c>sockops demo</c>: listeners on ::1 (<see cref="PreferredPort"/> when it is free,
/// else a free port: <see cref="PortChanged"/>) and 127.0.0.1 (a free port), and a few client loops that connect,
/// transfer a few megabytes in chunks, close and start again until the time is up. Create it in a process inside the
/// program's cgroup: sockets belong to the cgroup of the process that creates them (accepted ones to the listener's).
/// </summary>
public sealed class LoopbackTraffic : IDisposable
{
    /// <summary>The port the demo's IPv6 traffic asks for: the seed programs' port (<see cref="Clamp.Options.Port"/>).</summary>
    public const int PreferredPort = 55601;

    private readonly Socket[] _listeners;
    private readonly ConcurrentDictionary<(int Kind, int Send, int Receive), int> _readings = new();
    private const int Ipv6Connecting = 0, Ipv6Accepted = 1, Ipv4Connecting = 2, Ipv4Accepted = 3;

    private LoopbackTraffic(Socket ipv6, Socket ipv4, int requestedPort)
    {
        _listeners = [ipv6, ipv4];
        RequestedPort = requestedPort;
        Ipv6Port = ((IPEndPoint)ipv6.LocalEndPoint!).Port;
        Ipv4Port = ((IPEndPoint)ipv4.LocalEndPoint!).Port;
    }

    /// <summary>The IPv6 port that was asked for.</summary>
    public int RequestedPort { get; }

    /// <summary>The port the IPv6 listener is bound to.</summary>
    public int Ipv6Port { get; }

    /// <summary>The port the IPv4 listener is bound to (always a free port: no program matches it).</summary>
    public int Ipv4Port { get; }

    /// <summary>The requested IPv6 port was in use, so the listener took a free one (<see cref="Ipv6Port"/>).</summary>
    public bool PortChanged => Ipv6Port != RequestedPort;

    /// <summary>Binds and listens: [::1]:<paramref name="ipv6Port"/> (a free port when that one is in use) and 127.0.0.1 on a free port.</summary>
    /// <param name="ipv6Port">The IPv6 port to ask for, 1..65535.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ipv6Port"/> is not a port.</exception>
    /// <exception cref="SocketException">A listener cannot be created at all (no loopback).</exception>
    public static LoopbackTraffic Listen(int ipv6Port = PreferredPort)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ipv6Port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ipv6Port, 65535);
        Socket ipv6 = Bind(IPAddress.IPv6Loopback, ipv6Port);
        try
        {
            return new LoopbackTraffic(ipv6, Bind(IPAddress.Loopback, 0), ipv6Port);
        }
        catch
        {
            ipv6.Dispose();
            throw;
        }
    }

    /// <summary>Runs the load for <paramref name="duration"/>; returns the connections completed and the buffers every socket read.</summary>
    /// <param name="duration">How long clients keep connecting (positive, finite).</param>
    /// <param name="clients">Concurrent client loops (half IPv6, half IPv4).</param>
    public LoopbackTrafficResult Run(TimeSpan duration, int clients = 4)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(duration, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(clients, 1);
        // Clients block in Send/Receive: give them their own threads so the servers' async reads are never starved.
        ThreadPool.GetMinThreads(out int workers, out int io);
        ThreadPool.SetMinThreads(Math.Max(workers, 4 * clients), io);
        using var stop = new CancellationTokenSource(duration);
        var servers = _listeners.Select((l, i) => Task.Run(() => Serve(l, i == 0 ? Ipv6Accepted : Ipv4Accepted, stop.Token))).ToArray();
        int completed = 0;
        var loops = Enumerable.Range(0, clients).Select(i => Task.Factory.StartNew(() =>
        {
            var random = new Random(i);
            var buffer = new byte[64 * 1024];
            int listener = i % _listeners.Length;
            while (!stop.IsCancellationRequested)
            {
                var target = (IPEndPoint)_listeners[listener].LocalEndPoint!;
                try
                {
                    using var client = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                    client.Connect(target);
                    Read(client, listener == 0 ? Ipv6Connecting : Ipv4Connecting);
                    long total = random.Next(1, 8) * 512L * 1024;
                    for (long sent = 0; sent < total && !stop.IsCancellationRequested; sent += buffer.Length)
                    {
                        client.Send(buffer);
                        if (random.Next(4) == 0) Thread.Sleep(random.Next(1, 20));
                    }
                    client.Shutdown(SocketShutdown.Send);
                    while (client.Receive(buffer) > 0)
                    {
                    }
                    Interlocked.Increment(ref completed);
                }
                catch (SocketException)
                {
                    if (!stop.IsCancellationRequested) throw;
                }
                Thread.Sleep(random.Next(50, 300));
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
        Task.WaitAll(loops);
        return new LoopbackTrafficResult(completed, Readings(Ipv6Connecting), Readings(Ipv6Accepted), Readings(Ipv4Connecting), Readings(Ipv4Accepted));
    }

    /// <summary>Closes the listeners.</summary>
    public void Dispose()
    {
        foreach (var l in _listeners) l.Dispose();
    }

    private void Read(Socket socket, int kind)
    {
        int send = (int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.SendBuffer)!;
        int receive = (int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReceiveBuffer)!;
        _readings.AddOrUpdate((kind, send, receive), 1, (_, n) => n + 1);
    }

    private List<BufferReading> Readings(int kind) =>
        [.. _readings.Where(r => r.Key.Kind == kind).OrderByDescending(r => r.Value).Select(r => new BufferReading(r.Key.Send, r.Key.Receive, r.Value))];

    private static Socket Bind(IPAddress address, int port)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            try
            {
                socket.Bind(new IPEndPoint(address, port));
            }
            catch (SocketException e) when (port != 0 && e.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                socket.Bind(new IPEndPoint(address, 0));
            }
            socket.Listen(64);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task Serve(Socket listener, int kind, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            Socket connection;
            try
            {
                connection = await listener.AcceptAsync(stop).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            try
            {
                Read(connection, kind);
            }
            catch (SocketException)
            {
                // Reset before we looked: nothing to read back.
            }
            _ = Task.Run(async () =>
            {
                using (connection)
                {
                    var buffer = new byte[64 * 1024];
                    try
                    {
                        while (await connection.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false) > 0)
                        {
                        }
                    }
                    catch (SocketException)
                    {
                    }
                }
            }, CancellationToken.None);
        }
    }

    /// <summary>The command line that re-runs the current executable (apphost or <c>dotnet x.dll</c>) with <paramref name="arguments"/>.</summary>
    public static ProcessStartInfo SelfStartInfo(System.Reflection.Assembly entry, params string[] arguments)
    {
        ArgumentNullException.ThrowIfNull(entry);
        string host = Environment.ProcessPath ?? throw new InvalidOperationException("The current executable is unknown.");
        var start = new ProcessStartInfo(host) { UseShellExecute = false };
        // Under `dotnet x.dll` the app's dll is beside the runtime config in AppContext.BaseDirectory; Assembly.Location
        // would be empty in a single-file app (IL3000), where the process path itself is the app.
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, entry.GetName().Name + ".dll"));
        foreach (string a in arguments) start.ArgumentList.Add(a);
        return start;
    }
}
