using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using NetLevel = System.Net.Sockets.SocketOptionLevel;

namespace SockOps.Emit.Testing;

/// <summary>
/// The client process of <see cref="LoopbackHarness"/>: it waits for "go" on standard input (by then the harness has
/// moved it into the cgroup), optionally enters a private network namespace, makes the connections, prints one JSON
/// <see cref="LoopbackResult"/> and closes everything. It uses only the base class library, so it runs from the kit's
/// assembly without the rest of the test's dependencies.
/// </summary>
internal static partial class LoopbackClient
{
    internal const string Verb = "loopback-client";
    internal const string Go = "go";

    internal static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase, IncludeFields = false };

    private const int SolSocket = 1, SoCookie = 57, IpprotoIp = 0, IpTos = 1, IpprotoTcp = 6, TcpInfoOption = 11, TcpCongestion = 13;
    private const int IpprotoIpv6 = 41, Ipv6Tclass = 67;
    private const int CloneNewNet = 0x40000000, Eperm = 1;
    private const ulong SiocGifFlags = 0x8913, SiocSifFlags = 0x8914;
    private const short IffUp = 0x1;

    /// <summary>The command-line arguments that make the client do what <paramref name="options"/> says.</summary>
    internal static IEnumerable<string> Arguments(LoopbackOptions options)
    {
        var c = CultureInfo.InvariantCulture;
        yield return "--family"; yield return options.Ipv6 ? "6" : "4";
        yield return "--port"; yield return options.Port.ToString(c);
        yield return "--connections"; yield return options.Connections.ToString(c);
        yield return "--bytes"; yield return options.Bytes.ToString(c);
        yield return "--duration-ms"; yield return ((long)options.Duration.TotalMilliseconds).ToString(c);
        yield return "--netns"; yield return options.PrivateNetworkNamespace ? "1" : "0";
        if (options.CongestionControl is { } cc) { yield return "--cc"; yield return cc; }
        foreach (var (level, name) in options.ExtraOptions) { yield return "--opt"; yield return SocketReport.OptionKey(level, name); }
    }

    /// <summary>Runs the client; returns its exit code (0 success, 1 failure with a message on stderr, 2 usage, 3 no "go").</summary>
    internal static int Run(string[] args)
    {
        int family = 4, port = 0, connections = 1, bytes = 0;
        long durationMs = 0;
        bool netns = true;
        string? cc = null;
        var extra = new List<(int Level, int Name)>();
        try
        {
            for (int i = 0; i < args.Length; i += 2)
            {
                string value = args[i + 1];
                switch (args[i])
                {
                    case "--family": family = int.Parse(value, CultureInfo.InvariantCulture); break;
                    case "--port": port = int.Parse(value, CultureInfo.InvariantCulture); break;
                    case "--connections": connections = int.Parse(value, CultureInfo.InvariantCulture); break;
                    case "--bytes": bytes = int.Parse(value, CultureInfo.InvariantCulture); break;
                    case "--duration-ms": durationMs = long.Parse(value, CultureInfo.InvariantCulture); break;
                    case "--netns": netns = value == "1"; break;
                    case "--cc": cc = value; break;
                    case "--opt":
                        string[] parts = value.Split(':');
                        extra.Add((int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture)));
                        break;
                    default: throw new FormatException($"unknown option {args[i]}");
                }
            }
        }
        catch (Exception e) when (e is FormatException or IndexOutOfRangeException or OverflowException)
        {
            Console.Error.WriteLine($"{Verb}: {e.Message}");
            return 2;
        }

        if (Console.In.ReadLine() != Go) return 3;
        try
        {
            // Everything below runs on this one thread: unshare(CLONE_NEWNET) moves only the calling thread, and every
            // socket and /proc/sys/net read must happen in the namespace it entered.
            bool isPrivate = netns && EnterPrivateNetworkNamespace();
            var address = family == 6 ? IPAddress.IPv6Loopback : IPAddress.Loopback;
            var sockets = new List<Socket>();
            var results = new List<LoopbackConnection>();
            try
            {
                for (int n = 0; n < connections; n++)
                {
                    var listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                    sockets.Add(listener);
                    listener.SetSocketOption(NetLevel.Socket, SocketOptionName.ReuseAddress, true);
                    Bind(listener, new IPEndPoint(address, port), retry: !isPrivate && port != 0);
                    listener.Listen(8);
                    var client = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                    sockets.Add(client);
                    if (cc is not null) client.SetRawSocketOption(IpprotoTcp, TcpCongestion, Encoding.ASCII.GetBytes(cc));
                    client.Connect(listener.LocalEndPoint!);
                    var server = listener.Accept();
                    sockets.Add(server);
                    Thread.Sleep(50); // the final ACK's callbacks on both sides
                    if (bytes > 0)
                    {
                        client.Send(new byte[bytes]);
                        var buffer = new byte[65536];
                        for (int got = 0; got < bytes;) got += server.Receive(buffer);
                    }
                    var deadline = DateTime.UtcNow.AddMilliseconds(durationMs);
                    var small = new byte[16];
                    while (DateTime.UtcNow < deadline)
                    {
                        client.Send("ping"u8);
                        _ = server.Receive(small);
                        server.Send("pong"u8);
                        _ = client.Receive(small);
                        Thread.Sleep(10);
                    }
                    results.Add(new LoopbackConnection
                    {
                        Port = ((IPEndPoint)listener.LocalEndPoint!).Port,
                        Client = Describe(client, family, extra),
                        Server = Describe(server, family, extra),
                    });
                    client.Shutdown(SocketShutdown.Send);
                    var drain = new byte[4096];
                    while (server.Receive(drain) > 0)
                    {
                    }
                    server.Close();
                    client.Close();
                    listener.Close();
                }
            }
            finally
            {
                foreach (var s in sockets) s.Dispose();
            }
            var result = new LoopbackResult
            {
                Connections = results,
                PrivateNetworkNamespace = isPrivate,
                WmemMax = int.Parse(File.ReadAllText("/proc/sys/net/core/wmem_max").Trim(), CultureInfo.InvariantCulture),
                RmemMax = int.Parse(File.ReadAllText("/proc/sys/net/core/rmem_max").Trim(), CultureInfo.InvariantCulture),
                DefaultCongestionControl = File.ReadAllText("/proc/sys/net/ipv4/tcp_congestion_control").Trim(),
            };
            Console.Out.WriteLine(JsonSerializer.Serialize(result, Json));
            Console.Out.Flush();
            Thread.Sleep(100); // FIN/ACK state changes of the closing sockets run while the process is still in the cgroup
            return 0;
        }
        catch (Exception e) when (e is SocketException or IOException or InvalidOperationException)
        {
            Console.Error.WriteLine($"{Verb}: {e.GetType().Name}: {e.Message}");
            return 1;
        }
    }

    private static void Bind(Socket listener, IPEndPoint endpoint, bool retry)
    {
        // In the shared namespace another process may briefly hold a fixed port.
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                listener.Bind(endpoint);
                return;
            }
            catch (SocketException e) when (retry && attempt < 200 && e.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                Thread.Sleep(50);
            }
        }
    }

    private static SocketReport Describe(Socket socket, int family, List<(int Level, int Name)> extra)
    {
        Span<byte> buffer = stackalloc byte[256];
        int cookieLength = socket.GetRawSocketOption(SolSocket, SoCookie, buffer);
        ulong cookie = cookieLength >= 8 ? BinaryPrimitives.ReadUInt64LittleEndian(buffer) : 0;
        int ccLength = socket.GetRawSocketOption(IpprotoTcp, TcpCongestion, buffer[..16]);
        string congestion = Encoding.ASCII.GetString(buffer[..ccLength]).Split('\0')[0];
        var options = new Dictionary<string, int>();
        foreach (var (level, name) in extra) options[SocketReport.OptionKey(level, name)] = ReadInt(socket, level, name);
        return new SocketReport
        {
            Cookie = cookie,
            SendBuffer = (int)socket.GetSocketOption(NetLevel.Socket, SocketOptionName.SendBuffer)!,
            ReceiveBuffer = (int)socket.GetSocketOption(NetLevel.Socket, SocketOptionName.ReceiveBuffer)!,
            CongestionControl = congestion,
            TrafficClass = family == 6 ? ReadInt(socket, IpprotoIpv6, Ipv6Tclass) : ReadInt(socket, IpprotoIp, IpTos),
            LocalPort = ((IPEndPoint)socket.LocalEndPoint!).Port,
            RemotePort = ((IPEndPoint)socket.RemoteEndPoint!).Port,
            TcpInfo = ReadTcpInfo(socket),
            Options = options,
        };
    }

    private static int ReadInt(Socket socket, int level, int name)
    {
        Span<byte> value = stackalloc byte[4];
        int length = socket.GetRawSocketOption(level, name, value);
        return length switch
        {
            4 => BinaryPrimitives.ReadInt32LittleEndian(value),
            1 => value[0],
            _ => throw new InvalidOperationException($"getsockopt({level}, {name}) returned {length} bytes, not an int"),
        };
    }

    private static TcpInfo ReadTcpInfo(Socket socket)
    {
        var info = new byte[256];
        int n = socket.GetRawSocketOption(IpprotoTcp, TcpInfoOption, info);
        // struct tcp_info offsets (include/uapi/linux/tcp.h); a field beyond what this kernel returned reads 0.
        uint U32(int offset) => offset + 4 <= n ? BinaryPrimitives.ReadUInt32LittleEndian(info.AsSpan(offset)) : 0;
        ulong U64(int offset) => offset + 8 <= n ? BinaryPrimitives.ReadUInt64LittleEndian(info.AsSpan(offset)) : 0;
        return new TcpInfo
        {
            State = info[0],
            CaState = info[1],
            Options = info[5],
            RtoMicroseconds = U32(8),
            SendMss = U32(16),
            ReceiveMss = U32(20),
            RttMicroseconds = U32(68),
            RttVarMicroseconds = U32(72),
            SendSsthresh = U32(76),
            SendCwnd = U32(80),
            AdvertisedMss = U32(84),
            TotalRetransmits = U32(100),
            BytesAcked = U64(120),
            BytesReceived = U64(128),
            SegmentsOut = U32(136),
            SegmentsIn = U32(140),
            MinRttMicroseconds = U32(148),
            Delivered = U32(192),
            Length = n,
        };
    }

    /// <summary>unshare(CLONE_NEWNET) for this thread and lo up; false (shared namespace) without CAP_SYS_ADMIN.</summary>
    private static unsafe bool EnterPrivateNetworkNamespace()
    {
        if (Unshare(CloneNewNet) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno == Eperm) return false;
            throw new IOException($"unshare(CLONE_NEWNET) failed: errno {errno}");
        }
        using var control = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        // struct ifreq: char ifr_name[16], then short ifr_flags (40 bytes in all).
        byte* ifreq = stackalloc byte[40];
        new Span<byte>(ifreq, 40).Clear();
        "lo"u8.CopyTo(new Span<byte>(ifreq, 16));
        int fd = (int)control.Handle;
        if (Ioctl(fd, SiocGifFlags, ifreq) != 0) throw new IOException($"ioctl(SIOCGIFFLAGS, lo) failed: errno {Marshal.GetLastPInvokeError()}");
        *(short*)(ifreq + 16) |= IffUp;
        if (Ioctl(fd, SiocSifFlags, ifreq) != 0) throw new IOException($"ioctl(SIOCSIFFLAGS, lo) failed: errno {Marshal.GetLastPInvokeError()}");
        return true;
    }

    [LibraryImport("libc", EntryPoint = "unshare", SetLastError = true)]
    private static partial int Unshare(int flags);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static unsafe partial int Ioctl(int fd, ulong request, byte* argument);
}
