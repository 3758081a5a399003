using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using SockOps.Emit.Runtime;

namespace SockOps.Emit.Testing;

/// <summary>
/// Loopback TCP from a client process inside a cgroup, reporting getsockopt and TCP_INFO of both ends.
/// <para>
/// A sock_ops program runs for sockets whose creating process is in the attached cgroup, and cgroup v2 moves whole
/// processes — a test host cannot put one thread there. So the harness starts a child: this assembly itself, run with
/// <c>dotnet exec</c> (the kit's entry point is a small managed client, so no python or other tool is needed), moves it
/// into the cgroup before it creates any socket, and lets it open the listener, connect, accept, send, read both ends
/// and print them as JSON. Both ends are created inside the cgroup, so the program sees the active and the passive side.
/// </para>
/// </summary>
public static class LoopbackHarness
{
    /// <summary>The file name of the kit's assembly, which must be in the test's output directory (it is when referenced).</summary>
    public const string AssemblyFileName = "SockOps.Emit.Testing.dll";

    private static readonly Lazy<string> RuntimeConfig = new(WriteRuntimeConfig);

    /// <summary>Runs the traffic <paramref name="options"/> describes from a new process inside <paramref name="cgroup"/>.</summary>
    /// <param name="cgroup">The cgroup the client's sockets belong to (e.g. <see cref="AttachedProgram.Cgroup"/>).</param>
    /// <param name="options">Default: one IPv4 connection on a free port, in a private network namespace when possible.</param>
    /// <exception cref="LoopbackHarnessException">The client failed or did not finish within <see cref="LoopbackOptions.Timeout"/>.</exception>
    /// <exception cref="FileNotFoundException">The kit's assembly or the dotnet host cannot be found.</exception>
    public static LoopbackResult Run(Cgroup cgroup, LoopbackOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(cgroup);
        options ??= new LoopbackOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(options.Port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.Port, 65535);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Connections, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(options.Bytes);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Duration, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.Timeout, TimeSpan.Zero);

        var start = StartInfo(LoopbackClient.Arguments(options));
        using var process = Process.Start(start) ?? throw new LoopbackHarnessException($"could not start {start.FileName}");
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            // Into the cgroup before "go": the client creates its first socket only after reading that line.
            cgroup.AddProcess(process.Id);
            process.StandardInput.WriteLine(LoopbackClient.Go);
            process.StandardInput.Close();
            if (!process.WaitForExit(options.Timeout))
                throw new LoopbackHarnessException($"the loopback client did not finish within {options.Timeout.TotalSeconds:F0} s");
            process.WaitForExit();
            string output = stdout.Result, error = stderr.Result;
            if (process.ExitCode != 0)
                throw new LoopbackHarnessException($"the loopback client exited with {process.ExitCode}: {error.Trim()}");
            return JsonSerializer.Deserialize<LoopbackResult>(output, LoopbackClient.Json)
                ?? throw new LoopbackHarnessException($"the loopback client printed no result: {output.Trim()}");
        }
        catch (JsonException e)
        {
            throw new LoopbackHarnessException("the loopback client's output is not a result: " + e.Message, e);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }

    /// <summary>The command that runs the kit's client: <c>dotnet exec --runtimeconfig {generated} SockOps.Emit.Testing.dll …</c>.</summary>
    internal static ProcessStartInfo StartInfo(IEnumerable<string> arguments)
    {
        // The test's output directory; Assembly.Location is avoided (empty in single-file hosts, IL3000).
        string assembly = Path.Combine(AppContext.BaseDirectory, AssemblyFileName);
        if (!File.Exists(assembly))
            throw new FileNotFoundException($"{AssemblyFileName} is not in the test's output directory {AppContext.BaseDirectory}; reference the SockOps.Emit.Testing package from the test project.", assembly);
        var start = new ProcessStartInfo(FindDotnetHost())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in (string[])["exec", "--runtimeconfig", RuntimeConfig.Value, assembly, LoopbackClient.Verb]) start.ArgumentList.Add(a);
        foreach (string a in arguments) start.ArgumentList.Add(a);
        return start;
    }

    /// <summary>The dotnet host (muxer) that runs this process, or the one beside its shared framework.</summary>
    internal static string FindDotnetHost()
    {
        string? process = Environment.ProcessPath;
        if (process is not null && Path.GetFileNameWithoutExtension(process) == "dotnet") return process;
        // Set by the dotnet CLI for the processes it starts (dotnet test, MSBuild).
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath)) return hostPath;
        // {root}/shared/Microsoft.NETCore.App/{version}/ → {root}/dotnet
        string beside = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..", "dotnet"));
        if (File.Exists(beside)) return beside;
        if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } root && File.Exists(Path.Combine(root, "dotnet")))
            return Path.Combine(root, "dotnet");
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, "dotnet");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException("cannot find the dotnet host to run the loopback client (not the current process, DOTNET_HOST_PATH, beside the runtime, DOTNET_ROOT or PATH)", "dotnet");
    }

    /// <summary>A runtime config for the client: the framework this process runs on, so no other runtime is needed.</summary>
    private static string WriteRuntimeConfig()
    {
        string directory = Path.Combine(Path.GetTempPath(), "sockops-emit-testing");
        Directory.CreateDirectory(directory);
        string version = Environment.Version.ToString(3);
        // One file per runtime version, replaced atomically: parallel test processes may write it at the same time.
        string path = Path.Combine(directory, $"loopback-client.{version}.runtimeconfig.json");
        string temporary = Path.Combine(directory, $"loopback-client.{version}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        string tfm = string.Create(CultureInfo.InvariantCulture, $"net{Environment.Version.Major}.{Environment.Version.Minor}");
        string json = "{\"runtimeOptions\":{\"tfm\":\"" + tfm + "\",\"framework\":{\"name\":\"Microsoft.NETCore.App\",\"version\":\"" + version +
            "\"},\"configProperties\":{\"System.Globalization.Invariant\":true}}}";
        File.WriteAllText(temporary, json);
        File.Move(temporary, path, overwrite: true);
        return path;
    }
}
