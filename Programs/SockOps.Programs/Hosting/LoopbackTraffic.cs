using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace SockOps.Programs.Hosting;

/// <summary>
/// Built-in loopback TCP load for <c>sockops demo</c>: listeners on 127.0.0.1 and ::1 (port 55601 when free, so
/// the Clamp program applies) and a few client loops that connect, transfer a few megabytes in chunks, close and
/// start again until the time is up. Run it in a process inside the program's cgroup: sockets belong to the
/// cgroup of the process that creates them.
/// </summary>
public static class LoopbackTraffic
{
    /// <summary>Runs the load for <paramref name="duration"/>; returns the number of connections completed.</summary>
    public static int Run(TimeSpan duration, int clients = 4)
    {
        // Clients block in Send/Receive: give them their own threads so the servers' async reads are never starved.
        ThreadPool.GetMinThreads(out int workers, out int io);
        ThreadPool.SetMinThreads(Math.Max(workers, 4 * clients), io);
        using var stop = new CancellationTokenSource(duration);
        var listeners = new List<Socket> { Listen(IPAddress.IPv6Loopback, 55601), Listen(IPAddress.Loopback, 0) };
        try
        {
            var servers = listeners.Select(l => Task.Run(() => Serve(l, stop.Token))).ToArray();
            int completed = 0;
            var loops = Enumerable.Range(0, clients).Select(i => Task.Factory.StartNew(() =>
            {
                var random = new Random(i);
                var buffer = new byte[64 * 1024];
                while (!stop.IsCancellationRequested)
                {
                    var target = (IPEndPoint)listeners[i % listeners.Count].LocalEndPoint!;
                    try
                    {
                        using var client = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                        client.Connect(target);
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
            return completed;
        }
        finally
        {
            foreach (var l in listeners) l.Dispose();
        }
    }

    private static Socket Listen(IPAddress address, int port)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(address, port));
        }
        catch (SocketException) when (port != 0)
        {
            socket.Bind(new IPEndPoint(address, 0));
        }
        socket.Listen(64);
        return socket;
    }

    private static async Task Serve(Socket listener, CancellationToken stop)
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
        if (Path.GetFileNameWithoutExtension(host) == "dotnet") start.ArgumentList.Add(entry.Location);
        foreach (string a in arguments) start.ArgumentList.Add(a);
        return start;
    }
}
