using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using SockOps.Emit.Runtime;
using SockOps.Emit.TestSupport;

namespace SockOps.Programs.Tests;

/// <summary>One end of a connection as traffic.py saw it.</summary>
internal sealed record SocketView(
    [property: JsonPropertyName("cookie")] ulong Cookie,
    [property: JsonPropertyName("sndbuf")] int SndBuf,
    [property: JsonPropertyName("rcvbuf")] int RcvBuf,
    [property: JsonPropertyName("congestion")] string Congestion,
    [property: JsonPropertyName("snd_cwnd")] uint SndCwnd,
    [property: JsonPropertyName("bytes_acked")] ulong BytesAcked,
    [property: JsonPropertyName("delivered")] uint Delivered,
    [property: JsonPropertyName("local_port")] int LocalPort,
    [property: JsonPropertyName("remote_port")] int RemotePort,
    [property: JsonPropertyName("tos")] int? Tos,
    [property: JsonPropertyName("tclass")] int? TClass);

/// <summary>
/// A loopback connection: the connecting client and the accepted server socket, and the settings of the private
/// network namespace it ran in (net.core.wmem_max/rmem_max, net.ipv4.tcp_congestion_control).
/// </summary>
internal sealed record ConnectionView(
    [property: JsonPropertyName("port")] int Port,
    [property: JsonPropertyName("client")] SocketView Client,
    [property: JsonPropertyName("client_after")] SocketView ClientAfter,
    [property: JsonPropertyName("server")] SocketView Server,
    [property: JsonPropertyName("netns_wmem_max")] int NetnsWmemMax,
    [property: JsonPropertyName("netns_rmem_max")] int NetnsRmemMax,
    [property: JsonPropertyName("netns_congestion")] string NetnsCongestion);

/// <summary>
/// Runs traffic.py in its own process, moved into <paramref name="cgroup"/> before it creates any socket
/// (a socket belongs to the cgroup of the process that creates it); the script then unshares its network namespace,
/// so its fixed ports never meet another process's. Dispose kills it if still running.
/// </summary>
internal sealed class Traffic : IDisposable
{
    private readonly Process _process;

    private Traffic(Process process, IReadOnlyList<ConnectionView> connections)
    {
        _process = process;
        Connections = connections;
    }

    public IReadOnlyList<ConnectionView> Connections { get; }

    /// <summary>Starts the script in the cgroup and returns once it printed its connections.</summary>
    public static Traffic Start(Cgroup cgroup, string arguments)
    {
        var (process, line) = Launch(cgroup, "traffic.py", arguments);
        try
        {
            return new Traffic(process, JsonSerializer.Deserialize<List<ConnectionView>>(line)!);
        }
        catch
        {
            Kill(process);
            throw;
        }
    }

    /// <summary>
    /// Starts <paramref name="script"/> (next to the test assembly) with python3, moves it into <paramref name="cgroup"/>,
    /// writes "go" and returns the process with the first line it printed; kills it when anything fails.
    /// </summary>
    internal static (Process Process, string Line) Launch(Cgroup cgroup, string script, string arguments)
    {
        var process = CgroupScript.Start(cgroup, script, arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        try
        {
            var line = process.StandardOutput.ReadLineAsync();
            if (!line.Wait(TimeSpan.FromSeconds(60)) || line.Result is null)
                throw new InvalidOperationException($"{script} {arguments} printed nothing: {Drain(process)}");
            return (process, line.Result);
        }
        catch
        {
            Kill(process);
            throw;
        }
    }

    /// <summary>Runs the script to completion (it closes its sockets) and returns the connections.</summary>
    public static IReadOnlyList<ConnectionView> Run(Cgroup cgroup, string arguments)
    {
        using var traffic = Start(cgroup, arguments);
        traffic.Finish();
        return traffic.Connections;
    }

    /// <summary>Lets a <c>--hold</c> run close its sockets and waits for the process to exit with 0.</summary>
    public void Finish()
    {
        try
        {
            _process.StandardInput.WriteLine("close");
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // Without --hold the script does not read again and may already have exited (broken pipe).
        }
        if (!_process.WaitForExit(TimeSpan.FromSeconds(30))) throw new TimeoutException("traffic.py did not exit");
        if (_process.ExitCode != 0)
            throw new InvalidOperationException($"traffic.py exited with {_process.ExitCode.ToString(CultureInfo.InvariantCulture)}: {_process.StandardError.ReadToEnd()}");
    }

    internal static string Drain(Process process)
    {
        try
        {
            if (!process.HasExited) process.Kill();
            process.WaitForExit(5000);
            return process.StandardError.ReadToEnd();
        }
        catch (InvalidOperationException)
        {
            return "";
        }
    }

    internal static void Kill(Process process) => CgroupScript.Kill(process);

    public void Dispose() => Kill(_process);
}

/// <summary>A temporary child cgroup with one program attached; everything is removed on dispose.</summary>
internal sealed class Attached : IDisposable
{
    public Attached(SockOps.Emit.ProgramImage image)
    {
        Cgroup = Cgroup.CreateTemporary(prefix: "sockops-programs");
        try
        {
            Program = SockOps.Emit.Hosting.SockOpsHost.Load(image);
            Program.AttachTo(Cgroup);
        }
        catch
        {
            Program?.Dispose();
            Cgroup.Dispose();
            throw;
        }
    }

    public Cgroup Cgroup { get; }

    public SockOps.Emit.Hosting.LoadedSockOpsProgram Program { get; }

    public IReadOnlyList<ConnectionView> Run(string arguments) => Traffic.Run(Cgroup, arguments);

    public void Dispose()
    {
        Program.Dispose();
        Cgroup.Dispose();
    }
}
