using SockOps.Emit;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using SockOps.Emit.Runtime;
using SockOps.Emit.TestSupport;

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
        Assert.Contains("--set buffer-size=<int>  (default 150000)", CliRun.Invoke(["list", "--parameters"]).Out, StringComparison.Ordinal);
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
}
