using SockOps.Emit;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using SockOps.Emit.Hosting;
using SockOps.Emit.Runtime;
using SockOps.Emit.TestSupport;
using SockOps.Programs;
using SockOps.Programs.Hosting;

namespace SockOps.Cli.Tests;

/// <summary>list, dump and verify in-process; attach, exec and demo as real subprocesses (they move processes between cgroups and handle signals).</summary>
public sealed class ProgramCommandsTests
{
    [Fact]
    public void List_prints_every_program_with_its_summary()
    {
        var run = CliRun.Invoke(["list"]);
        Assert.Equal(0, run.ExitCode);
        string[] rows = run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("NAME", rows[0], StringComparison.Ordinal);
        string[] names = [.. rows.Skip(1).Select(l => l.Split(' ')[0])];
        // Each program's minimum kernel: every one reaches 5.10 (6.1 proven) but tx-timestamps (the 6.15 timestamping callbacks).
        Assert.All(rows.Skip(1), l => Assert.Matches(l.StartsWith("tx-timestamps", StringComparison.Ordinal) ? @"^\S+ +6\.15\+ " : @"^\S+ +5\.10\+ ", l));
        Assert.Equal(["clamp", "dump-stats", "sockmap-adder", "syn-rto", "bufs", "rwnd", "iw", "cong", "base-rtt", "tos-reflect", "header-option", "rtt-metrics", "tx-timestamps"], names);
        Assert.Contains("--set buffer-size=<int>  (default 150000; 1..2147483647)", CliRun.Invoke(["list", "--parameters"]).Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Dump_json_is_one_object_whose_hex_reassembles_to_the_llvm_text()
    {
        var run = CliRun.Invoke(["dump", "clamp", "--set", "port=8080", "--format", "json"]);
        Assert.Equal(0, run.ExitCode);
        using var json = JsonDocument.Parse(run.Out);
        var root = json.RootElement;
        Assert.Equal("clamp", root.GetProperty("name").GetString());
        string[] llvm = [.. root.GetProperty("instructions").EnumerateArray().Select(e => e.GetString()!)];
        string[] hex = [.. root.GetProperty("hex").EnumerateArray().Select(e => e.GetString()!)];
        Assert.Equal(llvm.Length, hex.Length);
        Assert.Equal(root.GetProperty("slots").GetInt32(), hex.Sum(h => h.Split(' ').Length / 8));
        // The other formats print the same instructions; disasm of the hex gives the llvm text back.
        Assert.Equal(llvm, CliRun.Invoke(["dump", "clamp", "--set", "port=8080"]).Out.TrimEnd('\n').Split('\n'));
        Assert.Equal(hex, CliRun.Invoke(["dump", "clamp", "--set", "port=8080", "--format", "hex"]).Out.TrimEnd('\n').Split('\n'));
        var kernel = CliRun.Invoke(["dump", "clamp", "--format", "kernel"]);
        Assert.Equal(0, kernel.ExitCode);
        Assert.Contains("(85) call bpf_setsockopt#49", kernel.Out, StringComparison.Ordinal);
        Assert.Contains(llvm, l => l.Contains("8080", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(new[] { "dump", "nope" }, "unknown program 'nope'")]
    [InlineData(new[] { "dump", "clamp", "--set", "port" }, "--set 'port': expected key=value.")]
    [InlineData(new[] { "dump", "clamp", "--set", "colour=red" }, "clamp: unknown parameter 'colour'")]
    [InlineData(new[] { "dump", "iw", "--set", "initial-cwnd=many" }, "iw: initial-cwnd must be an integer")]
    [InlineData(new[] { "dump", "clamp", "--format", "pdf" }, "pdf")]
    [InlineData(new[] { "verify" }, "verify takes a program NAME or --all (not both).")]
    [InlineData(new[] { "verify", "clamp", "--all" }, "verify takes a program NAME or --all (not both).")]
    [InlineData(new[] { "attach", "clamp" }, "--cgroup")]
    public void Usage_errors_exit_2_with_a_message_and_no_stack_trace(string[] args, string message)
    {
        var run = CliRun.Invoke(args);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_all_accepts_every_available_program_with_verifier_statistics()
    {
        KernelGate.Require();
        var run = CliRun.Invoke(["verify", "--all"]);
        Assert.True(run.ExitCode == 0, run.Out + run.Error);
        var lines = run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(13, lines.Length);
        Assert.All(lines, l =>
        {
            Assert.Contains(": accepted: target " + HostKernel.Target + ",", l, StringComparison.Ordinal);
            Assert.Contains("processed ", l, StringComparison.Ordinal);
        });
        var one = CliRun.Invoke(["verify", "dump-stats", "--set", "printk=true"]);
        Assert.Equal(0, one.ExitCode);
        Assert.StartsWith("dump-stats: accepted: target " + HostKernel.Target + ", 65 slots", one.Out, StringComparison.Ordinal);
        // For 6.1 every program but tx-timestamps is accepted (a 6.1 build loads on newer kernels too); tx-timestamps is
        // unsupported with the feature and version, which is not a failure.
        var old = CliRun.Invoke(["verify", "--all", "--target", "6.1"]);
        Assert.True(old.ExitCode == 0, old.Out + old.Error);
        var oldLines = old.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(12, oldLines.Count(l => l.Contains(": accepted: target 6.1,", StringComparison.Ordinal)));
        Assert.Contains("tx-timestamps: unsupported: uses bpf_setsockopt SK_BPF_CB_FLAGS; the target is 6.1 (needs Linux 6.15)", oldLines);
    }

    // ---------------------------------------------------------------- subprocess verbs

    private static ProcessStartInfo Sockops(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "sockops.dll"));
        foreach (string a in args) start.ArgumentList.Add(a);
        return start;
    }

    private static async Task<(int ExitCode, string Out, string Error)> RunToEnd(ProcessStartInfo start)
    {
        using var process = Process.Start(start)!;
        var (stdout, stderr) = await Finish(process);
        return (process.ExitCode, stdout, stderr);
    }

    private static async Task<(string Out, string Error)> Finish(Process process)
    {
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("sockops did not finish in 60 s");
        }
        return (await stdout, await stderr);
    }

    private static string[] FindCgroups(string prefix, int pid) => LeftoverCgroups(prefix, pid);

    private static string[] LeftoverCgroups(string prefix, int pid) =>
        [.. Directory.GetDirectories(Cgroup.FindMountPoint(), $"{prefix}-{pid.ToString(CultureInfo.InvariantCulture)}-*")];

    [Fact]
    public async Task Exec_runs_the_command_in_a_cgroup_reports_and_exits_with_its_code_leaving_nothing_behind()
    {
        KernelGate.Require();
        using var server = new LoopbackTcp.DrainingServer();
        using var process = Process.Start(Sockops("exec", "rtt-metrics", "--",
            "/bin/bash", "-c", $"exec 3<>/dev/tcp/127.0.0.1/{server.Port} && printf hello >&3 && exec 3>&- && sleep 0.2 && exit 7"))!;
        var (stdout, stderr) = await Finish(process);
        Assert.True(process.ExitCode == 7, $"exit {process.ExitCode}: {stderr}");
        string port = server.Port.ToString(CultureInfo.InvariantCulture);
        Assert.Contains(stdout.Split('\n'), l => l.StartsWith("ActiveEstablishedCb ", StringComparison.Ordinal) && l.Contains($"->{port} ", StringComparison.Ordinal));
        Assert.Contains(stdout.Split('\n'), l => l.StartsWith("StateCb ", StringComparison.Ordinal) && l.Contains("state=FinWait1->FinWait2", StringComparison.Ordinal));
        Assert.Empty(LeftoverCgroups("sockops-exec", process.Id));
    }

    [Fact]
    public async Task Exec_interrupted_by_sigint_stops_the_command_and_leaves_nothing_behind()
    {
        KernelGate.Require();
        using var process = Process.Start(Sockops("exec", "rtt-metrics", "--", "/bin/sleep", "30"))!;
        var output = Finish(process);
        var deadline = Stopwatch.StartNew();
        while (FindCgroups("sockops-exec", process.Id).Length == 0 && deadline.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(50, TestContext.Current.CancellationToken);
        string cgroupPath = Assert.Single(FindCgroups("sockops-exec", process.Id));
        // Wait for the command itself (sockops passes through the cgroup while it forks it).
        bool CommandInside() => File.ReadAllLines(Path.Combine(cgroupPath, "cgroup.procs")).Any(l => l.Length > 0 && l != process.Id.ToString(CultureInfo.InvariantCulture));
        while (!CommandInside() && deadline.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(50, TestContext.Current.CancellationToken);
        using (var kill = Process.Start("kill", ["-INT", process.Id.ToString(CultureInfo.InvariantCulture)])) await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
        var (_, error) = await output;
        Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(25), "the command was not stopped");
        Assert.Equal(137, process.ExitCode); // the command was killed (128 + SIGKILL)
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
        Assert.Empty(FindCgroups("sockops-exec", process.Id));
    }

    [Fact]
    public async Task Exec_of_a_missing_command_fails_cleanly()
    {
        KernelGate.Require();
        var (code, _, error) = await RunToEnd(Sockops("exec", "clamp", "--", "/nonexistent/command"));
        Assert.Equal(1, code);
        Assert.Contains("/nonexistent/command", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Attach_reports_until_sigint_then_detaches_and_exits_0()
    {
        KernelGate.Require();
        using var cgroup = Cgroup.CreateTemporary(prefix: "sockops-cli-attach");
        using var server = new LoopbackTcp.DrainingServer();
        using var process = Process.Start(Sockops("attach", "rtt-metrics", "--cgroup", cgroup.Path))!;
        try
        {
            var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            string? first = await process.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken);
            Assert.True(first?.StartsWith("attached rtt-metrics (program id ", StringComparison.Ordinal), $"{first} {(process.HasExited ? await stderr : "")}");
            Assert.Single(cgroup.QueryPrograms(AttachType.CgroupSockOps));
            LoopbackTcp.RunClientProcess(server.Port, 1, cgroup.AddProcess, TimeSpan.FromSeconds(30));
            var lines = new List<string>();
            var reading = Task.Run(() =>
            {
                while (process.StandardOutput.ReadLine() is { } line) lock (lines) lines.Add(line);
            }, TestContext.Current.CancellationToken);
            var deadline = Stopwatch.StartNew();
            bool Seen() { lock (lines) return lines.Any(l => l.StartsWith("StateCb ", StringComparison.Ordinal)); }
            while (!Seen() && deadline.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(50, TestContext.Current.CancellationToken);
            using (var kill = Process.Start("kill", ["-INT", process.Id.ToString(CultureInfo.InvariantCulture)])) await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await process.WaitForExitAsync(timeout.Token);
            await reading.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
            Assert.Equal(0, process.ExitCode);
            Assert.Contains(lines, l => l.StartsWith("StateCb ", StringComparison.Ordinal));
            Assert.Equal($"detached rtt-metrics from {cgroup.Path}", lines[^1]);
            Assert.Empty(cgroup.QueryPrograms(AttachType.CgroupSockOps));
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public async Task Demo_shows_a_connection_table_and_removes_its_cgroup()
    {
        KernelGate.Require();
        using var process = Process.Start(Sockops("demo", "--seconds", "2"))!;
        var (stdout, stderr) = await Finish(process);
        Assert.True(process.ExitCode == 0, stderr);
        string[] lines = stdout.Split('\n');
        int header = Array.FindIndex(lines, l => l.StartsWith("COOKIE ", StringComparison.Ordinal));
        Assert.True(header > 0, stdout);
        var rows = lines.Skip(header + 1).TakeWhile(l => char.IsDigit(l.FirstOrDefault())).ToList();
        Assert.NotEmpty(rows);
        Assert.Contains(lines, l => l.StartsWith("traffic: ", StringComparison.Ordinal) && l.Contains("connections completed", StringComparison.Ordinal));
        Assert.Empty(LeftoverCgroups("sockops-demo", process.Id));
    }

    [Fact]
    public async Task Demo_without_bpf_capabilities_says_so_and_exits_1()
    {
        KernelGate.Require(); // needs root to drop to a capability-less child
        var start = new ProcessStartInfo("setpriv") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { "--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=-all", "--", "dotnet", Path.Combine(AppContext.BaseDirectory, "sockops.dll"), "demo" })
            start.ArgumentList.Add(a);
        var (code, _, error) = await RunToEnd(start);
        Assert.Equal(1, code);
        Assert.Contains("'sockops demo' needs root or CAP_BPF and CAP_NET_ADMIN", error, StringComparison.Ordinal);
    }

    // ---------------------------------------------------------------- the demo's buffers, read back

    /// <summary>
    /// The kernel's answer, independent of the demo's code: getsockopt(SO_SNDBUF/SO_RCVBUF) on both ends of an IPv6
    /// loopback connection made by a python process inside a cgroup with clamp (default options but the port) attached.
    /// </summary>
    private static ((int Send, int Receive) Connecting, (int Send, int Receive) Accepted) KernelBuffersUnderClamp()
    {
        const string Script = """
            import socket, sys
            port = int(sys.argv[1])
            sys.stdin.readline()
            listener = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            listener.bind(("::1", port))
            listener.listen(1)
            client = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            client.connect(("::1", port))
            accepted, _ = listener.accept()
            for s in (client, accepted):
                print(s.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF), s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))
            """;
        int port;
        using (var probe = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.IPv6Loopback, 0));
            port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }
        using var cgroup = Cgroup.CreateTemporary(prefix: "sockops-cli-truth");
        using var clamp = SockOpsHost.Load(Clamp.Build(new Clamp.Options { Port = port }, HostKernel.Target));
        clamp.AttachTo(cgroup);
        var start = new ProcessStartInfo("python3") { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { "-c", Script, port.ToString(CultureInfo.InvariantCulture) }) start.ArgumentList.Add(a);
        using var python = Process.Start(start)!;
        try
        {
            cgroup.AddProcess(python.Id);
            python.StandardInput.WriteLine("go");
            python.StandardInput.Close();
            string output = python.StandardOutput.ReadToEnd();
            Assert.True(python.WaitForExit(30_000) && python.ExitCode == 0, python.StandardError.ReadToEnd());
            var pairs = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Split(' ').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToArray();
            return ((pairs[0][0], pairs[0][1]), (pairs[1][0], pairs[1][1]));
        }
        finally
        {
            if (!python.HasExited) python.Kill();
        }
    }

    /// <summary>The single SO_SNDBUF/SO_RCVBUF pair the demo printed for one kind of IPv6 socket, and its port.</summary>
    private static (int Port, int Send, int Receive) DemoBuffers(string[] lines, string kind)
    {
        string line = Assert.Single(lines, l => l.StartsWith("  IPv6 [::1]:", StringComparison.Ordinal) && l.Contains($"(clamp's port), {kind}: ", StringComparison.Ordinal));
        var m = Regex.Match(line, @"^  IPv6 \[::1\]:(\d+) \(clamp's port\), \w+: SO_SNDBUF (\d+), SO_RCVBUF (\d+) \((\d+) sockets?\)$");
        Assert.True(m.Success, line); // one pair: every socket of the kind read the same
        return (int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture));
    }

    private static void AssertDemoPrintedWhatTheKernelReports(string stdout, int expectedPort)
    {
        string[] lines = stdout.Split('\n');
        var truth = KernelBuffersUnderClamp();
        var connecting = DemoBuffers(lines, "connecting");
        var accepted = DemoBuffers(lines, "accepted");
        Assert.Equal(expectedPort, connecting.Port);
        Assert.Equal(truth.Connecting, (connecting.Send, connecting.Receive));
        Assert.Equal(truth.Accepted, (accepted.Send, accepted.Receive));
        // Where net.core.wmem_max/rmem_max allow 150000 bytes, clamp took effect: the kernel reports twice what was set.
        bool roomy = long.Parse(File.ReadAllText("/proc/sys/net/core/wmem_max"), CultureInfo.InvariantCulture) >= 150000
                     && long.Parse(File.ReadAllText("/proc/sys/net/core/rmem_max"), CultureInfo.InvariantCulture) >= 150000;
        if (roomy)
        {
            Assert.Equal((300000, 300000), truth.Connecting);
            Assert.Contains(lines, l => l.StartsWith("clamp set buffer-size=150000 with bpf_setsockopt on both IPv6 ends; Linux keeps and reports twice what is set", StringComparison.Ordinal));
        }
        Assert.DoesNotContain(lines, l => l.Contains("150000-byte buffers", StringComparison.Ordinal)); // the old unmeasured claim
    }

    [Fact]
    public async Task Demo_prints_the_buffers_the_kernel_reports_on_its_own_sockets()
    {
        KernelGate.Require();
        using var process = Process.Start(Sockops("demo", "--seconds", "1.5"))!;
        var (stdout, stderr) = await Finish(process);
        Assert.True(process.ExitCode == 0, stderr);
        var moved = Regex.Match(stdout, @"^port 55601 was in use: the IPv6 traffic listened on port (\d+) instead, and clamp was built with port=\1$", RegexOptions.Multiline);
        AssertDemoPrintedWhatTheKernelReports(stdout, moved.Success ? int.Parse(moved.Groups[1].Value, CultureInfo.InvariantCulture) : 55601);
        Assert.Empty(LeftoverCgroups("sockops-demo", process.Id));
    }

    [Fact]
    public async Task Demo_with_port_55601_taken_says_so_and_builds_clamp_for_the_port_it_got()
    {
        KernelGate.Require();
        using var blocker = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            blocker.Bind(new IPEndPoint(IPAddress.IPv6Loopback, LoopbackTraffic.PreferredPort));
            blocker.Listen(1);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            // Someone else holds it: the situation under test all the same.
        }
        using var process = Process.Start(Sockops("demo", "--seconds", "1.5"))!;
        var (stdout, stderr) = await Finish(process);
        Assert.True(process.ExitCode == 0, stderr);
        var moved = Regex.Match(stdout, @"^port 55601 was in use: the IPv6 traffic listened on port (\d+) instead, and clamp was built with port=\1$", RegexOptions.Multiline);
        Assert.True(moved.Success, stdout);
        int port = int.Parse(moved.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.NotEqual(LoopbackTraffic.PreferredPort, port);
        AssertDemoPrintedWhatTheKernelReports(stdout, port);
        Assert.Empty(LeftoverCgroups("sockops-demo", process.Id));
    }

    // ---------------------------------------------------------------- SIGTERM at any moment

    private static void Signal(Process process, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", process.Id.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>
    /// SIGTERM the moment the verb's temporary cgroup appears (it is still loading and attaching there, before the
    /// command or traffic starts), a few times: the verb stops with 128 + 15 (or 137 when its command was already
    /// killed) and the cgroup is gone. Without handlers from the start the runtime's default SIGTERM exits without
    /// running the verb's finally blocks and the cgroup stays.
    /// </summary>
    [Theory]
    [InlineData("exec", "sockops-exec")]
    [InlineData("demo", "sockops-demo")]
    public async Task Sigterm_while_the_verb_sets_up_still_removes_its_cgroup(string verb, string prefix)
    {
        KernelGate.Require();
        for (int round = 0; round < 3; round++)
        {
            using var process = Process.Start(verb == "exec" ? Sockops("exec", "rtt-metrics", "--", "/bin/sleep", "30") : Sockops("demo", "--seconds", "30"))!;
            var output = Finish(process);
            var deadline = Stopwatch.StartNew();
            while (FindCgroups(prefix, process.Id).Length == 0 && !process.HasExited && deadline.Elapsed < TimeSpan.FromSeconds(20)) Thread.Sleep(1);
            Assert.False(process.HasExited, "sockops exited before it created its cgroup");
            Signal(process, "TERM");
            var (_, error) = await output;
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(25), "the verb did not stop");
            Assert.True(process.ExitCode is 143 or 137, $"exit {process.ExitCode}: {error}");
            Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
            Assert.Empty(LeftoverCgroups(prefix, process.Id));
        }
    }

    [Fact]
    public async Task Exec_terminated_by_sigterm_while_the_command_runs_leaves_nothing_behind()
    {
        KernelGate.Require();
        using var process = Process.Start(Sockops("exec", "rtt-metrics", "--", "/bin/sleep", "30"))!;
        var output = Finish(process);
        var deadline = Stopwatch.StartNew();
        while (FindCgroups("sockops-exec", process.Id).Length == 0 && deadline.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(20, TestContext.Current.CancellationToken);
        string cgroupPath = Assert.Single(FindCgroups("sockops-exec", process.Id));
        bool CommandInside() => File.ReadAllLines(Path.Combine(cgroupPath, "cgroup.procs")).Any(l => l.Length > 0 && l != process.Id.ToString(CultureInfo.InvariantCulture));
        while (!CommandInside() && deadline.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(20, TestContext.Current.CancellationToken);
        Signal(process, "TERM");
        var (_, error) = await output;
        Assert.Equal(137, process.ExitCode); // the command was killed
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(cgroupPath));
    }

    [Fact]
    public async Task Attach_detaches_on_sigterm()
    {
        KernelGate.Require();
        using var cgroup = Cgroup.CreateTemporary(prefix: "sockops-cli-attach");
        using var process = Process.Start(Sockops("attach", "clamp", "--cgroup", cgroup.Path))!;
        try
        {
            string? first = await process.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken);
            Assert.StartsWith("attached clamp (program id ", first, StringComparison.Ordinal);
            Assert.Single(cgroup.QueryPrograms(AttachType.CgroupSockOps));
            Signal(process, "TERM");
            var (rest, error) = await Finish(process);
            Assert.Equal(0, process.ExitCode);
            Assert.Equal($"detached clamp from {cgroup.Path}", rest.TrimEnd('\n'));
            Assert.Empty(cgroup.QueryPrograms(AttachType.CgroupSockOps));
            Assert.Equal("", error);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }
}
