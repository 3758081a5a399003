using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using SockOps.Emit;
using SockOps.Emit.Assembler;
using SockOps.Emit.Hosting;
using SockOps.Emit.Runtime;
using SockOps.Programs;
using SockOps.Programs.Hosting;

namespace SockOps.Cli;

/// <summary>The program verbs: list, dump, verify, attach, exec, demo (and the demo's hidden traffic child).</summary>
internal static partial class Commands
{
    private static Option<string[]> SetOption() => new("--set")
    {
        Description = "A program parameter, key=value (repeatable); 'sockops list --parameters' shows them.",
        Arity = ArgumentArity.ZeroOrMore,
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary>Builds a catalog program for a target; unknown names and bad settings are usage errors (exit 2).</summary>
    /// <exception cref="ProgramUnsupportedException">The program needs a newer kernel than the target.</exception>
    private static (CatalogEntry Entry, ProgramImage Image) BuildProgram(string name, string[]? settings, KernelVersion target)
    {
        CatalogEntry entry;
        try
        {
            entry = ProgramCatalog.Get(name);
            if (entry.UnavailableReason is not null) throw new CliInputException($"{entry.Name} is not available: {entry.UnavailableReason}");
            return (entry, entry.Build(CatalogEntry.ParseSettings(settings ?? []), target));
        }
        catch (ProgramParameterException e)
        {
            throw new CliUsageException(e.Message);
        }
        catch (EmitException e) when (e.Feature is { } feature)
        {
            throw new ProgramUnsupportedException(name, feature, target, e);
        }
    }

    /// <summary>The catalog entry named <paramref name="name"/>; an unknown name is a usage error (exit 2).</summary>
    private static CatalogEntry FindProgram(string name)
    {
        try
        {
            return ProgramCatalog.Get(name);
        }
        catch (ProgramParameterException e)
        {
            throw new CliUsageException(e.Message);
        }
    }

    /// <summary>A shipped program needs a newer kernel than the target (exit 1, one clear line).</summary>
    private sealed class ProgramUnsupportedException(string program, KernelFeature feature, KernelVersion target, Exception inner)
        : CliInputException($"{program} uses {feature.Name}, which needs Linux {feature.MinimumKernel}; the target is {target} (--target).", inner)
    {
        public KernelFeature Feature { get; } = feature;
    }

    private static Command List(CliConsole console)
    {
        var parameters = new Option<bool>("--parameters") { Description = "Also print each program's parameters (name, type, default)." };
        var command = new Command("list", "List the shipped sock_ops programs: name, the oldest kernel each can be built for, and a one-line summary.") { parameters };
        command.SetAction(parse =>
        {
            int width = ProgramCatalog.All.Max(e => e.Name.Length);
            console.Out.WriteLine($"{"NAME".PadRight(width)}  {"KERNEL",-6}  SUMMARY");
            foreach (var entry in ProgramCatalog.All)
            {
                console.Out.WriteLine($"{entry.Name.PadRight(width)}  {(entry.MinimumKernel + "+"),-6}  {entry.Summary}");
                if (!parse.GetValue(parameters)) continue;
                foreach (var p in entry.Parameters)
                    console.Out.WriteLine($"{"".PadRight(width)}    --set {p.Name}=<{p.TypeName}>  (default {p.Default}{(p.Range is null ? "" : $"; {p.Range}")})");
            }
            return 0;
        });
        return command;
    }

    private static Command Dump(CliConsole console)
    {
        var name = new Argument<string>("NAME") { Description = "The program (see 'sockops list')." };
        var set = SetOption();
        var format = new Option<string>("--format")
        {
            Description = "llvm, kernel (bpftool syntax), hex (bytes per instruction), json, or elf (a relocatable BPF object for bpftool/libbpf; needs -o).",
            DefaultValueFactory = _ => "llvm",
        };
        format.AcceptOnlyFromAmong("llvm", "kernel", "hex", "json", "elf");
        var output = new Option<string?>("--output", "-o") { Description = "With --format elf: the object file to write." };
        var target = TargetOption("The kernel the program is built for.", $"{KernelTargets.Default} (fixed, whatever kernel runs here)");
        var command = new Command("dump", "Print a program's bytecode, or write it as an ELF object (--format elf -o FILE).") { name, set, format, output, target };
        command.SetAction(parse =>
        {
            string? outputPath = parse.GetValue(output);
            bool elf = parse.GetValue(format) == "elf";
            if (elf && string.IsNullOrEmpty(outputPath)) throw new CliUsageException("--format elf writes a binary object: give the file with -o FILE.");
            if (!elf && outputPath is not null) throw new CliUsageException("-o applies to --format elf only.");
            var (entry, image) = BuildProgram(parse.GetValue(name)!, parse.GetValue(set), ParseTarget(parse.GetValue(target)) ?? KernelTargets.Default);
            switch (parse.GetValue(format))
            {
                case "elf":
                    byte[] bytes = Emit.Objects.ElfObjectWriter.ToBytes(image.ToObject());
                    File.WriteAllBytes(outputPath!, bytes);
                    console.Out.WriteLine($"{entry.Name}: wrote {outputPath} ({bytes.Length} bytes, section {ProgramImage.SockOpsSection}, {image.Maps.Count} maps)");
                    break;
                case "json":
                    console.Out.WriteLine(ProgramText.Json(entry.Name, image));
                    break;
                case "hex":
                    foreach (string line in ProgramText.Hex(image)) console.Out.WriteLine(line);
                    break;
                default:
                    var syntax = parse.GetValue(format) == "kernel" ? DisassemblySyntax.Kernel : DisassemblySyntax.Llvm;
                    foreach (string line in ProgramText.Instructions(image, syntax)) console.Out.WriteLine(line);
                    break;
            }
            return 0;
        });
        return command;
    }

    private static Command Verify(CliConsole console)
    {
        var name = new Argument<string?>("NAME") { Description = "The program (see 'sockops list'), or a BPF object file (FILE.o).", Arity = ArgumentArity.ZeroOrOne };
        var all = new Option<bool>("--all") { Description = "Verify every shipped program." };
        var set = SetOption();
        var target = TargetOption("The kernel the programs are built for.", "the running kernel");
        var command = new Command("verify",
            "Build programs for the target and load them into this kernel (not attached): one line per program, 'NAME: accepted: …', " +
            "'NAME: unsupported: <reason> (needs Linux X.Y)' or 'NAME: refused: …'; exit 1 only when one is refused.") { name, all, set, target };
        command.SetAction(parse =>
        {
            string? single = parse.GetValue(name);
            bool everything = parse.GetValue(all);
            if (single is null == !everything) throw new CliUsageException("verify takes a program NAME or --all (not both).");
            if (single is not null && ObjectFiles.IsObjectFile(single))
            {
                ObjectFiles.RefuseProgramOptions(single, parse.GetValue(set), parse.GetValue(target));
                RequireBpfAccess("verify");
                return ObjectFiles.Verify(console, single);
            }
            if (everything && parse.GetValue(set) is { Length: > 0 }) throw new CliUsageException("--set applies to one program; it cannot be combined with --all.");
            var kernel = LiveTarget(parse.GetValue(target));
            RequireBpfAccess("verify");
            var entries = everything ? ProgramCatalog.All : [FindProgram(single!)];
            int refused = 0;
            foreach (var entry in entries)
            {
                if (entry.UnavailableReason is not null)
                {
                    console.Out.WriteLine($"{entry.Name}: unsupported: {entry.UnavailableReason}");
                    continue;
                }
                ProgramImage image;
                try
                {
                    image = everything ? entry.Build(target: kernel) : BuildProgram(single!, parse.GetValue(set), kernel).Image;
                }
                catch (Exception e) when (e is ProgramUnsupportedException or EmitException { Feature: not null })
                {
                    var feature = e is ProgramUnsupportedException p ? p.Feature : ((EmitException)e).Feature!;
                    console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{entry.Name}: unsupported: uses {feature.Name}; the target is {kernel} (needs Linux {feature.MinimumKernel})"));
                    continue;
                }
                try
                {
                    using var loaded = SockOpsHost.Load(image, VerifierLogLevel.Statistics);
                    var info = loaded.Info;
                    string stats = loaded.VerifierLog?.Split('\n').FirstOrDefault(l => l.StartsWith("processed ", StringComparison.Ordinal))?.Trim() ?? "";
                    console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{entry.Name}: accepted: target {kernel}, {image.Slots} slots, {image.StackSize} bytes of stack, verified_insns {info.VerifiedInstructions}, jited {info.JitedSize} bytes; {stats}"));
                }
                catch (KernelNotSupportedException e)
                {
                    console.Out.WriteLine($"{entry.Name}: unsupported: {e.Reason} (needs Linux {e.Feature.MinimumKernel})");
                }
                catch (ProgramRefusedException e)
                {
                    refused++;
                    console.Out.WriteLine($"{entry.Name}: refused: {e.Message.ReplaceLineEndings(" ")}");
                }
            }
            return refused == 0 ? 0 : CliApp.ExitBadInput;
        });
        return command;
    }

    private static Command Attach(CliConsole console)
    {
        var name = new Argument<string>("NAME") { Description = "The program (see 'sockops list'), or a BPF object file (FILE.o)." };
        var cgroupPath = new Option<string>("--cgroup") { Description = "The cgroup v2 directory to attach to.", Required = true };
        var set = SetOption();
        var target = TargetOption("The kernel the program is built for.", "the running kernel");
        var command = new Command("attach", "Attach a program to a cgroup and print what it reports until SIGINT/SIGTERM, then detach.") { name, cgroupPath, set, target };
        command.SetAction(parse =>
        {
            if (ObjectFiles.IsObjectFile(parse.GetValue(name)!)) return AttachObject(console, parse.GetValue(name)!, parse.GetValue(cgroupPath)!, parse.GetValue(set), parse.GetValue(target));
            var (entry, image) = BuildProgram(parse.GetValue(name)!, parse.GetValue(set), LiveTarget(parse.GetValue(target)));
            string path = parse.GetValue(cgroupPath)!;
            if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"{path}: no such cgroup directory");
            RequireBpfAccess("attach");
            using var signals = new StopSignals();
            using var cgroup = Cgroup.Open(path);
            using var loaded = SockOpsHost.Load(image);
            loaded.AttachTo(cgroup);
            try
            {
                var reporter = new ProgramReporter(loaded, console.Out);
                console.Out.WriteLine($"attached {entry.Name} (program id {loaded.Info.Id}) to {path}; SIGINT or SIGTERM detaches" +
                                      (reporter.ReportsAnything ? "" : " (this program reports nothing; its effect is on the sockets)"));
                console.Out.Flush();
                while (!signals.Requested)
                {
                    if (reporter.Poll() > 0) console.Out.Flush();
                    signals.Token.WaitHandle.WaitOne(200);
                }
                reporter.Poll();
            }
            finally
            {
                // Whatever happened above, the program does not stay attached to the user's cgroup.
                loaded.Detach();
            }
            console.Out.WriteLine($"detached {entry.Name} from {path}");
            return 0;
        });
        return command;
    }

    private static Command Exec(CliConsole console)
    {
        var name = new Argument<string>("NAME") { Description = "The program (see 'sockops list'), or a BPF object file (FILE.o)." };
        var commandLine = new Argument<string[]>("CMD") { Description = "The command and its arguments, after '--'.", Arity = ArgumentArity.OneOrMore };
        var set = SetOption();
        var target = TargetOption("The kernel the program is built for.", "the running kernel");
        var command = new Command("exec", "Run a command in a temporary cgroup with a program attached; print what the program reported; exit with the command's exit code.") { name, set, target, commandLine };
        command.SetAction(parse =>
        {
            if (ObjectFiles.IsObjectFile(parse.GetValue(name)!)) return ExecObject(console, parse.GetValue(name)!, parse.GetValue(commandLine)!, parse.GetValue(set), parse.GetValue(target));
            var (entry, image) = BuildProgram(parse.GetValue(name)!, parse.GetValue(set), LiveTarget(parse.GetValue(target)));
            string[] argv = parse.GetValue(commandLine)!;
            RequireBpfAccess("exec");
            // Handlers before the cgroup exists: a signal at any point after it does not skip the finally below.
            using var signals = new StopSignals();
            using var cgroup = Cgroup.CreateTemporary(prefix: "sockops-exec");
            try
            {
                using var loaded = SockOpsHost.Load(image);
                loaded.AttachTo(cgroup);
                var reporter = new ProgramReporter(loaded, console.Out);
                if (signals.Requested) return Interrupted(console, signals, "before the command started");
                using var child = StartInCgroup(cgroup, argv);
                signals.OnStop(() => KillQuietly(child)); // now, when a signal arrived while it started
                while (!child.WaitForExit(100)) reporter.Poll();
                child.WaitForExit();
                reporter.Poll();
                if (!reporter.ReportsAnything) console.Out.WriteLine($"sockops: {entry.Name} reports nothing; its effect is on the command's sockets");
                return child.ExitCode;
            }
            finally
            {
                KillRemaining(cgroup);
            }
        });
        return command;
    }

    /// <summary><c>attach FILE.o --cgroup PATH</c>: every sock_ops program of the object, until SIGINT/SIGTERM.</summary>
    private static int AttachObject(CliConsole console, string file, string path, string[]? settings, string? target)
    {
        ObjectFiles.RefuseProgramOptions(file, settings, target);
        if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"{path}: no such cgroup directory");
        RequireBpfAccess("attach");
        using var signals = new StopSignals();
        using var cgroup = Cgroup.Open(path);
        var (loaded, attachments) = ObjectFiles.LoadAndAttach(file, cgroup);
        try
        {
            console.Out.WriteLine($"attached {string.Join(", ", attachments.Select((_, i) => loaded.Object.Programs.Where(p => p.Type == ProgramType.SockOps).ElementAt(i).Name))} from {file} to {path}; SIGINT or SIGTERM detaches (an object file: its effect is on the sockets)");
            console.Out.Flush();
            while (!signals.Requested) signals.Token.WaitHandle.WaitOne(200);
        }
        finally
        {
            // Whatever happened above, nothing stays attached to the user's cgroup.
            foreach (var a in attachments) a.Dispose();
            loaded.Dispose();
        }
        console.Out.WriteLine($"detached {file} from {path}");
        return 0;
    }

    /// <summary><c>exec FILE.o -- CMD</c>: the object's sock_ops programs on a temporary cgroup around the command.</summary>
    private static int ExecObject(CliConsole console, string file, string[] argv, string[]? settings, string? target)
    {
        ObjectFiles.RefuseProgramOptions(file, settings, target);
        RequireBpfAccess("exec");
        using var signals = new StopSignals();
        using var cgroup = Cgroup.CreateTemporary(prefix: "sockops-exec");
        try
        {
            var (loaded, attachments) = ObjectFiles.LoadAndAttach(file, cgroup);
            try
            {
                if (signals.Requested) return Interrupted(console, signals, "before the command started");
                using var child = StartInCgroup(cgroup, argv);
                signals.OnStop(() => KillQuietly(child));
                child.WaitForExit();
                return child.ExitCode;
            }
            finally
            {
                foreach (var a in attachments) a.Dispose();
                loaded.Dispose();
            }
        }
        finally
        {
            KillRemaining(cgroup);
        }
    }

    /// <summary>A verb stopped by SIGINT/SIGTERM before its work began: one line on stderr, the shell's 128 + signal status.</summary>
    private static int Interrupted(CliConsole console, StopSignals signals, string when)
    {
        console.Error.WriteLine($"sockops: interrupted {when}");
        return signals.ExitCode;
    }

    private static Option<double> SecondsOption(string? description) => new("--seconds")
    {
        Description = description,
        DefaultValueFactory = _ => 5.0,
        Validators = { result =>
        {
            // Only what parsed as a number (the parser itself reports the rest); NaN and infinities are refused here.
            if (result.Tokens.Count == 0 || !double.TryParse(result.Tokens[^1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)) return;
            if (!(value > 0 && value <= 3600))
                result.AddError(string.Create(CultureInfo.InvariantCulture, $"--seconds must be in (0, 3600], got {value}."));
        } },
    };

    private static Command Demo(CliConsole console)
    {
        var seconds = SecondsOption("How long the built-in loopback traffic runs, in (0, 3600].");
        var command = new Command("demo",
            "Attach rtt-metrics and clamp to a temporary cgroup, drive loopback TCP from a process inside it, show a live per-connection table " +
            "and the socket buffers the kernel reports on the traffic's own sockets.") { seconds };
        command.SetAction(parse =>
        {
            double duration = parse.GetValue(seconds);
            RequireBpfAccess("demo");
            bool live = ReferenceEquals(console, CliConsole.System) && !Console.IsOutputRedirected;
            using var signals = new StopSignals();
            using var cgroup = Cgroup.CreateTemporary(prefix: "sockops-demo");
            try
            {
                var kernel = LiveTarget(null);
                using var metrics = SockOpsHost.Load(RttMetrics.Build(target: kernel));
                metrics.AttachTo(cgroup);
                if (signals.Requested) return Interrupted(console, signals, "before the traffic started");
                var start = LoopbackTraffic.SelfStartInfo(typeof(Commands).Assembly, "demo-traffic",
                    "--seconds", duration.ToString(CultureInfo.InvariantCulture), "--port", LoopbackTraffic.PreferredPort.ToString(CultureInfo.InvariantCulture));
                start.RedirectStandardInput = true;
                start.RedirectStandardOutput = true;
                start.RedirectStandardError = true;
                using var child = Process.Start(start) ?? throw new InvalidOperationException("could not start the traffic process");
                signals.OnStop(() => KillQuietly(child));
                var stderr = child.StandardError.ReadToEndAsync();
                // The child binds its listeners only once it is inside the cgroup (sockets belong to their creator's cgroup),
                // then says which ports it got: clamp is built for the IPv6 one, so a moved port is still clamp's port.
                cgroup.AddProcess(child.Id);
                string? listening = Tell(child, "listen", close: false) ? child.StandardOutput.ReadLine() : null;
                if (!TryParseListening(listening, out int ipv6Port, out int ipv4Port))
                {
                    child.WaitForExit();
                    if (signals.Requested) return Interrupted(console, signals, "before the traffic started");
                    throw new InvalidOperationException($"the traffic process did not report its listeners (exit {child.ExitCode}): {(listening ?? stderr.Result).Trim()}");
                }
                var clampOptions = new Clamp.Options { Port = ipv6Port };
                using var clamp = SockOpsHost.Load(Clamp.Build(clampOptions, kernel));
                clamp.AttachTo(cgroup);
                var table = new ConnectionTable();
                var reporter = new ProgramReporter(metrics, console.Out) { PrintRecords = false };
                reporter.RttEvent += table.Add;
                var stdout = child.StandardOutput.ReadToEndAsync();
                Tell(child, "go", close: true); // when it is gone (a signal killed it), its exit code says so below
                var watch = Stopwatch.StartNew();
                while (!child.WaitForExit(500))
                {
                    reporter.Poll();
                    if (live) console.Out.Write("\x1b[H\x1b[2J" + table.Render($"sockops demo: rtt-metrics + clamp on {cgroup.Path}, {watch.Elapsed.TotalSeconds:F1}s of {duration:F1}s") + "\n");
                }
                child.WaitForExit();
                reporter.Poll();
                if (live) console.Out.Write("\x1b[H\x1b[2J");
                console.Out.WriteLine(table.Render($"sockops demo: rtt-metrics + clamp on a temporary cgroup, {duration:F1}s of loopback traffic"));
                if (signals.Requested) return Interrupted(console, signals, "while the traffic ran");
                if (child.ExitCode != 0)
                {
                    console.Error.WriteLine($"sockops: the traffic process failed ({child.ExitCode}): {stderr.Result.Trim()}");
                    return CliApp.ExitBadInput;
                }
                if (ipv6Port != LoopbackTraffic.PreferredPort)
                    console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"port {LoopbackTraffic.PreferredPort} was in use: the IPv6 traffic listened on port {ipv6Port} instead, and clamp was built with port={ipv6Port}"));
                foreach (string line in DescribeTraffic(stdout.Result, ipv6Port, ipv4Port, clampOptions)) console.Out.WriteLine(line);
                return 0;
            }
            finally
            {
                KillRemaining(cgroup);
            }
        });
        return command;
    }

    /// <summary>Sends a line to the traffic child; false when it is gone (killed by the signal handler meanwhile).</summary>
    private static bool Tell(Process child, string line, bool close)
    {
        try
        {
            child.StandardInput.WriteLine(line);
            if (close) child.StandardInput.Close();
            else child.StandardInput.Flush();
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static bool TryParseListening(string? line, out int ipv6Port, out int ipv4Port)
    {
        ipv6Port = ipv4Port = 0;
        string[] parts = line?.Split(' ') ?? [];
        return parts is ["listening", _, _]
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out ipv6Port)
            && int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out ipv4Port);
    }

    /// <summary>
    /// The traffic's report (demo-traffic's lines) as the demo prints it: connections, then the buffers the kernel reported on
    /// the traffic's own sockets and what they mean for clamp. Nothing is claimed that was not read back.
    /// </summary>
    private static IEnumerable<string> DescribeTraffic(string report, int ipv6Port, int ipv4Port, Clamp.Options clamp)
    {
        var buffers = new Dictionary<string, List<(int Send, int Receive, int Sockets)>>(StringComparer.Ordinal);
        string connections = "?";
        foreach (string line in report.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string[] parts = line.Split(' ');
            if (parts is ["connections", var n]) connections = n;
            else if (parts is ["buffers", var kind, var send, var receive, var sockets])
            {
                if (!buffers.TryGetValue(kind, out var list)) buffers[kind] = list = [];
                list.Add((int.Parse(send, CultureInfo.InvariantCulture), int.Parse(receive, CultureInfo.InvariantCulture), int.Parse(sockets, CultureInfo.InvariantCulture)));
            }
        }
        yield return $"traffic: {connections} connections completed";
        if (buffers.Count == 0) yield break;
        yield return "buffers the kernel reported on the traffic's own sockets, getsockopt(SO_SNDBUF) and getsockopt(SO_RCVBUF):";
        string v6 = string.Create(CultureInfo.InvariantCulture, $"IPv6 [::1]:{ipv6Port} (clamp's port)");
        string v4 = string.Create(CultureInfo.InvariantCulture, $"IPv4 127.0.0.1:{ipv4Port} (no program's port)");
        foreach (var (kind, label) in new[] { ("ipv6-connecting", $"{v6}, connecting"), ("ipv6-accepted", $"{v6}, accepted"), ("ipv4-connecting", $"{v4}, connecting"), ("ipv4-accepted", $"{v4}, accepted") })
            if (buffers.TryGetValue(kind, out var readings))
                yield return $"  {label}: " + string.Join("; ", readings.Select(r => string.Create(CultureInfo.InvariantCulture,
                    $"SO_SNDBUF {r.Send}, SO_RCVBUF {r.Receive} ({r.Sockets} socket{(r.Sockets == 1 ? "" : "s")})")));
        var ipv6 = buffers.Where(b => b.Key.StartsWith("ipv6-", StringComparison.Ordinal)).SelectMany(b => b.Value).ToList();
        if (ipv6.Count == 0) yield break;
        long doubled = 2L * clamp.BufferSize;
        yield return ipv6.All(r => r.Send == doubled && r.Receive == doubled)
            ? string.Create(CultureInfo.InvariantCulture,
                $"clamp set buffer-size={clamp.BufferSize} with bpf_setsockopt on both IPv6 ends; Linux keeps and reports twice what is set (socket(7): the doubling allows for bookkeeping overhead), so {doubled} means clamp's buffers took effect on every IPv6 socket.")
            : string.Create(CultureInfo.InvariantCulture,
                $"clamp set buffer-size={clamp.BufferSize} with bpf_setsockopt; where it takes effect Linux reports twice that ({doubled}), which not every IPv6 socket above reads: the kernel caps the size at net.core.wmem_max/rmem_max before doubling it, and clamp acts only between same-data-centre IPv6 peers.");
    }

    private static Command DemoTraffic(CliConsole console)
    {
        var seconds = SecondsOption(null);
        var port = new Option<int>("--port") { DefaultValueFactory = _ => LoopbackTraffic.PreferredPort };
        port.Validators.Add(result =>
        {
            if (result.Tokens.Count == 0 || !int.TryParse(result.Tokens[^1].Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value)) return;
            if (value is < 1 or > 65535) result.AddError(string.Create(CultureInfo.InvariantCulture, $"--port must be 1..65535, got {value}."));
        });
        var command = new Command("demo-traffic", "Internal: the demo's loopback traffic ('listen' on stdin binds and prints the ports, 'go' runs it).") { seconds, port };
        command.Hidden = true;
        command.SetAction(parse =>
        {
            // The parent moves this process into the demo cgroup before it sends 'listen'.
            if (console.In.ReadLine() != "listen") return CliApp.ExitBadInput;
            using var traffic = LoopbackTraffic.Listen(parse.GetValue(port));
            console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"listening {traffic.Ipv6Port} {traffic.Ipv4Port}"));
            console.Out.Flush();
            if (console.In.ReadLine() != "go") return CliApp.ExitBadInput;
            var result = traffic.Run(TimeSpan.FromSeconds(parse.GetValue(seconds)));
            console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"connections {result.Connections}"));
            foreach (var (kind, readings) in new[] { ("ipv6-connecting", result.Ipv6Connecting), ("ipv6-accepted", result.Ipv6Accepted), ("ipv4-connecting", result.Ipv4Connecting), ("ipv4-accepted", result.Ipv4Accepted) })
                foreach (var r in readings)
                    console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"buffers {kind} {r.SendBuffer} {r.ReceiveBuffer} {r.Sockets}"));
            return 0;
        });
        return command;
    }

    /// <summary>
    /// Starts <paramref name="argv"/> already inside <paramref name="cgroup"/>: this process moves itself in, forks the
    /// child (which inherits the cgroup from birth, before it can open a socket) and moves itself back.
    /// </summary>
    private static Process StartInCgroup(Cgroup cgroup, string[] argv)
    {
        string home = Cgroup.CurrentProcessPath();
        var start = new ProcessStartInfo(argv[0]) { UseShellExecute = false };
        foreach (string a in argv.Skip(1)) start.ArgumentList.Add(a);
        cgroup.AddProcess(Environment.ProcessId);
        try
        {
            return Process.Start(start) ?? throw new InvalidOperationException($"could not start {argv[0]}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new CliInputException($"{argv[0]}: {e.Message}", e);
        }
        finally
        {
            File.WriteAllText(Path.Combine(home, "cgroup.procs"), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        }
    }

    /// <summary>
    /// Kills what is left in a temporary cgroup (daemons the command left behind) so it can be removed. Runs in finally
    /// blocks: it never throws, whatever state the cgroup is in (the cgroup's own Dispose moves stragglers out).
    /// </summary>
    private static void KillRemaining(Cgroup cgroup)
    {
        try
        {
            if (!Directory.Exists(cgroup.Path) || cgroup.Processes.Count == 0) return;
            string kill = Path.Combine(cgroup.Path, "cgroup.kill");
            if (File.Exists(kill)) File.WriteAllText(kill, "1");
            for (int i = 0; i < 100 && cgroup.Processes.Count > 0; i++) Thread.Sleep(20);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Gone meanwhile, or not killable: Cgroup.Dispose moves what is left to the parent before removing it.
        }
    }

    private static void KillQuietly(Process process)
    {
        try
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or AggregateException or NotSupportedException)
        {
            // Exited (or was never started) meanwhile.
        }
    }

    /// <summary>Fails with a clear message (exit 1) when this process cannot load and attach sock_ops programs.</summary>
    private static void RequireBpfAccess(string verb)
    {
        const int CapNetAdmin = 12, CapSysAdmin = 21, CapBpf = 39;
        ulong effective = 0;
        foreach (string line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("CapEff:", StringComparison.Ordinal)) effective = Convert.ToUInt64(line[7..].Trim(), 16);
        bool bpf = (effective & (1UL << CapBpf | 1UL << CapSysAdmin)) != 0;
        bool netAdmin = (effective & (1UL << CapNetAdmin)) != 0;
        if (!bpf || !netAdmin)
            throw new UnauthorizedAccessException($"'sockops {verb}' needs root or CAP_BPF and CAP_NET_ADMIN to load and attach sock_ops programs (missing: {(bpf ? "" : "CAP_BPF ")}{(netAdmin ? "" : "CAP_NET_ADMIN")}); run it with sudo.".Replace(" )", ")", StringComparison.Ordinal));
    }

    /// <summary>The demo's per-connection table, fed by RttMetrics events.</summary>
    private sealed class ConnectionTable
    {
        private readonly Dictionary<ulong, Row> _rows = [];
        private readonly object _gate = new();

        private sealed class Row
        {
            public uint LocalPort, RemotePort, SrttUs, Cwnd, Retrans, Events;
            public ulong BytesAcked;
            public TcpState State;
            public long Order;
        }

        private long _next;

        public void Add(RttMetricsEvent e)
        {
            lock (_gate)
            {
                if (!_rows.TryGetValue(e.Cookie, out var row)) _rows[e.Cookie] = row = new Row { Order = _next++ };
                row.LocalPort = e.LocalPort;
                row.RemotePort = e.RemotePort;
                row.State = (TcpState)e.State;
                if (e.SrttUs != 0) row.SrttUs = e.SrttUs >> 3;
                row.Cwnd = e.SndCwnd;
                row.BytesAcked = Math.Max(row.BytesAcked, e.BytesAcked);
                row.Retrans = e.TotalRetrans;
                row.Events++;
            }
        }

        public string Render(string title)
        {
            lock (_gate)
            {
                var sb = new System.Text.StringBuilder();
                sb.AppendLine(title);
                sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{_rows.Count} connections seen; the 20 most recent:"));
                sb.AppendLine($"{"COOKIE",-10} {"PORTS",-13} {"STATE",-12} {"SRTT(us)",9} {"CWND",6} {"BYTES ACKED",12} {"RETRANS",7} {"EVENTS",6}");
                foreach (var (cookie, r) in _rows.OrderByDescending(p => p.Value.Order).Take(20))
                    sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                        $"{cookie,-10} {$"{r.LocalPort}->{r.RemotePort}",-13} {r.State,-12} {r.SrttUs,9} {r.Cwnd,6} {r.BytesAcked,12} {r.Retrans,7} {r.Events,6}"));
                return sb.ToString().TrimEnd();
            }
        }
    }
}
