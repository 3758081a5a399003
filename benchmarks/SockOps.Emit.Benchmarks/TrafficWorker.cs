using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace SockOps.Emit.Benchmarks;

/// <summary>
/// The child process of <see cref="RuntimeVsClang"/>: started once per side, moved into that side's cgroup before it
/// creates any socket (sockets belong to the cgroup of the process that creates them; accepted ones to the listener's),
/// then it runs rounds of loopback TCP on command. Protocol on stdin/stdout, one line each:
/// <c>run CONNECTIONS EXCHANGES BYTES</c> → <c>done COMPLETED</c>; <c>exit</c> (or end of input) ends it.
/// </summary>
internal static class TrafficWorker
{
    /// <summary>The first argument that makes the benchmark executable a worker.</summary>
    public const string Verb = "runtime-traffic-worker";

    /// <summary>
    /// The listeners of one round, visited round-robin by the connections: clamp's port on IPv6 loopback (its
    /// same-/32 path: ::1 to ::1), IPv6 on a free port (clamp's early exit), sockmap's passive port 10000 and active
    /// port 10001 on IPv4, and IPv4 on a free port (every program's default path).
    /// </summary>
    private static readonly (IPAddress Address, int Port)[] Targets =
    [
        (IPAddress.IPv6Loopback, 55601),
        (IPAddress.IPv6Loopback, 0),
        (IPAddress.Loopback, 10000),
        (IPAddress.Loopback, 10001),
        (IPAddress.Loopback, 0),
    ];

    public static int Serve()
    {
        Console.Out.WriteLine("ready");
        Console.Out.Flush();
        while (Console.In.ReadLine() is { } line)
        {
            string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0) continue;
            if (words[0] == "exit") return 0;
            if (words.Length != 4 || words[0] != "run")
            {
                Console.Out.WriteLine($"error unknown command '{line}'");
                Console.Out.Flush();
                continue;
            }
            try
            {
                int done = Round(Parse(words[1]), Parse(words[2]), Parse(words[3]));
                Console.Out.WriteLine($"done {done.ToString(CultureInfo.InvariantCulture)}");
            }
            catch (SocketException e)
            {
                Console.Out.WriteLine($"error {e.SocketErrorCode}: {e.Message.ReplaceLineEndings(" ")}");
            }
            Console.Out.Flush();
        }
        return 0;
    }

    private static int Parse(string text) => int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);

    /// <summary>One round: binds the listeners, runs the connections, closes everything.</summary>
    private static int Round(int connections, int exchanges, int bytes)
    {
        var listeners = new List<Socket>(Targets.Length);
        try
        {
            foreach (var (address, port) in Targets) listeners.Add(Bind(address, port));
            byte[] payload = new byte[bytes];
            byte[] buffer = new byte[Math.Max(bytes, 4096)];
            int completed = 0;
            for (int i = 0; i < connections; i++)
            {
                var listener = listeners[i % listeners.Count];
                var target = (IPEndPoint)listener.LocalEndPoint!;
                using var client = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                client.Connect(target);
                // The connection must be the one just made, accepted by our own listener (in our cgroup).
                if (!listener.Poll(TimeSpan.FromSeconds(10), SelectMode.SelectRead)) throw new SocketException((int)SocketError.TimedOut);
                using var server = listener.Accept();
                if (!server.RemoteEndPoint!.Equals(client.LocalEndPoint)) throw new SocketException((int)SocketError.AddressAlreadyInUse);
                server.NoDelay = true;
                for (int e = 0; e < exchanges; e++)
                {
                    client.Send(payload);
                    ReceiveExactly(server, buffer, bytes);
                    server.Send(payload);
                    ReceiveExactly(client, buffer, bytes);
                }
                client.Shutdown(SocketShutdown.Send);
                while (server.Receive(buffer) > 0)
                {
                }
                server.Shutdown(SocketShutdown.Send);
                while (client.Receive(buffer) > 0)
                {
                }
                completed++;
            }
            return completed;
        }
        finally
        {
            foreach (var l in listeners) l.Dispose();
        }
    }

    private static void ReceiveExactly(Socket socket, byte[] buffer, int count)
    {
        for (int got = 0; got < count;)
        {
            int n = socket.Receive(buffer, got, count - got, SocketFlags.None);
            if (n == 0) throw new SocketException((int)SocketError.ConnectionReset);
            got += n;
        }
    }

    private const int SolSocket = 1, SoReuseAddr = 2;

    /// <summary>Binds a listener; a fixed port another process holds (CI's tests use the seed's ports too) is retried for 30 s.</summary>
    private static Socket Bind(IPAddress address, int port)
    {
        for (int attempt = 0; ; attempt++)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                // SO_REUSEADDR alone (TIME_WAIT leftovers of the previous round). .NET's ReuseAddress also sets
                // SO_REUSEPORT on Linux, which would share the port with another process's listener (CI's tests
                // listen on 55601 too) and let the kernel hand our connection to it.
                socket.SetRawSocketOption(SolSocket, SoReuseAddr, BitConverter.GetBytes(1));
                socket.Bind(new IPEndPoint(address, port));
                socket.Listen(16);
                return socket;
            }
            catch (SocketException) when (port != 0 && attempt < 600)
            {
                socket.Dispose();
                Thread.Sleep(50);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
    }
}
