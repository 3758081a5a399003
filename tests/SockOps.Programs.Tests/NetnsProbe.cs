using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using SockOps.Emit.Runtime;

namespace SockOps.Programs.Tests;

/// <summary>connect() times with the first SYN of each connection dropped by an nftables rule.</summary>
internal sealed record SynRtoObservation(
    [property: JsonPropertyName("connect_seconds")] IReadOnlyList<double> ConnectSeconds,
    [property: JsonPropertyName("syns_dropped")] int SynsDropped);

/// <summary>A SYN or SYN-ACK as an AF_PACKET capture on lo saw it.</summary>
internal sealed record Segment(
    [property: JsonPropertyName("src")] string Source,
    [property: JsonPropertyName("dst")] string Destination,
    [property: JsonPropertyName("sport")] int SourcePort,
    [property: JsonPropertyName("dport")] int DestinationPort,
    [property: JsonPropertyName("window")] int Window,
    [property: JsonPropertyName("mss")] int? Mss,
    [property: JsonPropertyName("wscale")] int? WindowScale,
    [property: JsonPropertyName("timestamps")] bool Timestamps,
    [property: JsonPropertyName("options")] IReadOnlyList<TcpOption> Options);

/// <summary>One TCP option of a captured segment: its kind and the bytes after the length byte (hex).</summary>
internal sealed record TcpOption(
    [property: JsonPropertyName("kind")] int Kind,
    [property: JsonPropertyName("data")] string Data);

/// <summary>The two handshake segments that carry an unscaled receive window.</summary>
internal sealed record HandshakeWindows(
    [property: JsonPropertyName("syn")] Segment Syn,
    [property: JsonPropertyName("syn_ack")] Segment SynAck);

/// <summary>A bulk transfer's sampled sender congestion window (TCP_INFO tcpi_snd_cwnd).</summary>
internal sealed record CwndObservation(
    [property: JsonPropertyName("bytes_sent")] long BytesSent,
    [property: JsonPropertyName("bytes_received")] long BytesReceived,
    [property: JsonPropertyName("samples")] int Samples,
    [property: JsonPropertyName("max_snd_cwnd")] uint MaxSndCwnd,
    [property: JsonPropertyName("last_snd_cwnd")] uint LastSndCwnd);

/// <summary>
/// Runs netns_probe.py in a process inside <c>cgroup</c>; the script unshares its network namespace first, so its
/// lo address, MTU and nftables changes are private and vanish with the process (also when a test fails).
/// </summary>
internal static class NetnsProbe
{
    public static SynRtoObservation SynRto(Cgroup cgroup, int family, int count) =>
        Run<SynRtoObservation>(cgroup, string.Create(CultureInfo.InvariantCulture, $"syn-rto --family {family} --count {count}"));

    public static HandshakeWindows Window(Cgroup cgroup, string source, string destination) =>
        Run<HandshakeWindows>(cgroup, $"window --src {source} --dst {destination}");

    public static CwndObservation Cwnd(Cgroup cgroup) => Run<CwndObservation>(cgroup, "cwnd");

    private static T Run<T>(Cgroup cgroup, string arguments)
    {
        var (process, line) = Traffic.Launch(cgroup, "netns_probe.py", arguments);
        try
        {
            if (!process.WaitForExit(TimeSpan.FromSeconds(60))) throw new TimeoutException($"netns_probe.py {arguments} did not exit");
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"netns_probe.py {arguments} exited with {process.ExitCode.ToString(CultureInfo.InvariantCulture)}: {process.StandardError.ReadToEnd()}");
            return JsonSerializer.Deserialize<T>(line) ?? throw new InvalidOperationException($"netns_probe.py {arguments} printed null");
        }
        finally
        {
            Traffic.Kill(process);
        }
    }
}
