namespace SockOps.Emit.Testing;

/// <summary>What <see cref="LoopbackHarness.Run"/> does: the address family, the port, how many connections and what traffic.</summary>
public sealed record LoopbackOptions
{
    /// <summary>Use ::1 instead of 127.0.0.1.</summary>
    public bool Ipv6 { get; init; }

    /// <summary>The listener's port (a program that matches a port needs that one); 0: a free port.</summary>
    public int Port { get; init; }

    /// <summary>Sequential connections to make, each reported (default 1).</summary>
    public int Connections { get; init; } = 1;

    /// <summary>Bytes the client sends in one write and the server reads, before both ends are read back (default 0).</summary>
    public int Bytes { get; init; }

    /// <summary>How long the ends then ping-pong small messages, each waiting for the answer (RTT samples, default none).</summary>
    public TimeSpan Duration { get; init; }

    /// <summary>A TCP_CONGESTION the client sets before connecting (e.g. <c>reno</c>), or null.</summary>
    public string? CongestionControl { get; init; }

    /// <summary>
    /// Run in a private network namespace with its own lo (default true): a fixed <see cref="Port"/> then never meets
    /// another process's socket, and nothing is left behind. Needs CAP_SYS_ADMIN; without it the client stays in the
    /// shared namespace and retries a busy fixed port for up to 10 s (<see cref="LoopbackResult.PrivateNetworkNamespace"/> says which).
    /// </summary>
    public bool PrivateNetworkNamespace { get; init; } = true;

    /// <summary>Extra integer socket options to read on both ends after the traffic, as (level, name) pairs, e.g. (6, 2) for TCP_MAXSEG.</summary>
    public IReadOnlyList<(int Level, int Name)> ExtraOptions { get; init; } = [];

    /// <summary>How long the client process may take (default 30 s).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>What a loopback run saw: every connection's two ends, and the network namespace's settings.</summary>
public sealed class LoopbackResult
{
    /// <summary>One entry per connection, in order.</summary>
    public IReadOnlyList<LoopbackConnection> Connections { get; init; } = [];

    /// <summary>True when the client ran in a private network namespace of its own.</summary>
    public bool PrivateNetworkNamespace { get; init; }

    /// <summary><c>net.core.wmem_max</c> of the namespace the sockets lived in (a cap on SO_SNDBUF set by a program).</summary>
    public int WmemMax { get; init; }

    /// <summary><c>net.core.rmem_max</c> of that namespace.</summary>
    public int RmemMax { get; init; }

    /// <summary><c>net.ipv4.tcp_congestion_control</c> of that namespace: what a socket gets without a program.</summary>
    public string DefaultCongestionControl { get; init; } = "";
}

/// <summary>A loopback connection: the port, the connecting end and the accepted end.</summary>
public sealed class LoopbackConnection
{
    /// <summary>The listener's port.</summary>
    public int Port { get; init; }

    /// <summary>The client socket (the active open: ACTIVE_ESTABLISHED_CB).</summary>
    public SocketReport Client { get; init; } = new();

    /// <summary>The accepted socket (the passive open: PASSIVE_ESTABLISHED_CB).</summary>
    public SocketReport Server { get; init; } = new();
}

/// <summary>One socket as getsockopt reported it after the traffic.</summary>
public sealed class SocketReport
{
    /// <summary>SO_COOKIE: the id sock_ops programs see as <c>bpf_get_socket_cookie</c>.</summary>
    public ulong Cookie { get; init; }

    /// <summary>SO_SNDBUF as the kernel reports it (twice what setsockopt was given).</summary>
    public int SendBuffer { get; init; }

    /// <summary>SO_RCVBUF as the kernel reports it.</summary>
    public int ReceiveBuffer { get; init; }

    /// <summary>TCP_CONGESTION: the congestion control algorithm's name.</summary>
    public string CongestionControl { get; init; } = "";

    /// <summary>IP_TOS (IPv4) or IPV6_TCLASS (IPv6).</summary>
    public int TrafficClass { get; init; }

    /// <summary>The socket's own port.</summary>
    public int LocalPort { get; init; }

    /// <summary>The peer's port.</summary>
    public int RemotePort { get; init; }

    /// <summary>TCP_INFO.</summary>
    public TcpInfo TcpInfo { get; init; } = new();

    /// <summary>The <see cref="LoopbackOptions.ExtraOptions"/> values, keyed <c>"level:name"</c>; see <see cref="GetOption"/>.</summary>
    public IReadOnlyDictionary<string, int> Options { get; init; } = new Dictionary<string, int>();

    /// <summary>The value of an extra option that <see cref="LoopbackOptions.ExtraOptions"/> asked for.</summary>
    /// <param name="level">The option's level (e.g. 6, IPPROTO_TCP).</param>
    /// <param name="name">The option's name (e.g. 2, TCP_MAXSEG).</param>
    /// <exception cref="KeyNotFoundException">The option was not asked for.</exception>
    public int GetOption(int level, int name) =>
        Options.TryGetValue(OptionKey(level, name), out int value) ? value
            : throw new KeyNotFoundException($"socket option {level}:{name} was not read: add it to LoopbackOptions.ExtraOptions");

    internal static string OptionKey(int level, int name) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{level}:{name}");
}

/// <summary>The fields of <c>struct tcp_info</c> (include/uapi/linux/tcp.h) that sock_ops programs influence or observe.</summary>
public sealed class TcpInfo
{
    /// <summary>tcpi_state (1 = ESTABLISHED).</summary>
    public byte State { get; init; }

    /// <summary>tcpi_ca_state.</summary>
    public byte CaState { get; init; }

    /// <summary>tcpi_options (TCPI_OPT_TIMESTAMPS 1, SACK 2, WSCALE 4, ECN 8, ...).</summary>
    public byte Options { get; init; }

    /// <summary>tcpi_rto in microseconds (what a program's RTO_CB or the SYN RTO settings change).</summary>
    public uint RtoMicroseconds { get; init; }

    /// <summary>tcpi_snd_mss.</summary>
    public uint SendMss { get; init; }

    /// <summary>tcpi_rcv_mss.</summary>
    public uint ReceiveMss { get; init; }

    /// <summary>tcpi_rtt, smoothed, in microseconds.</summary>
    public uint RttMicroseconds { get; init; }

    /// <summary>tcpi_rttvar in microseconds.</summary>
    public uint RttVarMicroseconds { get; init; }

    /// <summary>tcpi_snd_ssthresh.</summary>
    public uint SendSsthresh { get; init; }

    /// <summary>tcpi_snd_cwnd in segments.</summary>
    public uint SendCwnd { get; init; }

    /// <summary>tcpi_advmss.</summary>
    public uint AdvertisedMss { get; init; }

    /// <summary>tcpi_total_retrans.</summary>
    public uint TotalRetransmits { get; init; }

    /// <summary>tcpi_bytes_acked.</summary>
    public ulong BytesAcked { get; init; }

    /// <summary>tcpi_bytes_received.</summary>
    public ulong BytesReceived { get; init; }

    /// <summary>tcpi_segs_out.</summary>
    public uint SegmentsOut { get; init; }

    /// <summary>tcpi_segs_in.</summary>
    public uint SegmentsIn { get; init; }

    /// <summary>tcpi_min_rtt in microseconds.</summary>
    public uint MinRttMicroseconds { get; init; }

    /// <summary>tcpi_delivered.</summary>
    public uint Delivered { get; init; }

    /// <summary>How many bytes of tcp_info the kernel returned (older kernels return fewer; missing fields read 0).</summary>
    public int Length { get; init; }
}

/// <summary>The loopback client process failed (it could not bind, connect or report); the message has its standard error.</summary>
public sealed class LoopbackHarnessException : Exception
{
    /// <summary>Creates the exception with a generic message.</summary>
    public LoopbackHarnessException()
        : this("the loopback client failed")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What failed.</param>
    public LoopbackHarnessException(string message)
        : this(message, null)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The cause.</param>
    public LoopbackHarnessException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
