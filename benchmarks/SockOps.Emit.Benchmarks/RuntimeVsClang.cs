using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using SockOps.Emit.Assembler;
using SockOps.Emit.Objects;
using SockOps.Emit.Runtime;
using SockOps.Programs;

namespace SockOps.Emit.Benchmarks;

/// <summary>
/// <c>runtime-vs-clang</c>: the kernel run time of DSL-emitted sock_ops code against clang -O2 -g's build of the same C
/// (the seed's three examples), measured side by side. Each program of a pair is loaded by <see cref="ObjectLoader"/>
/// (the DSL image through <c>ToObject()</c>, clang's object through <see cref="ElfObjectReader"/>) and attached to its
/// own temporary cgroup; a traffic worker process sits in each cgroup and, round by round, drives identical loopback
/// TCP (<see cref="TrafficWorker"/>). With BPF_ENABLE_STATS on, a round's cost per run is the delta of the program's
/// run_time_ns over the delta of its run_cnt. Pairs alternate their order (DSL first, then clang first, …); the
/// result is the median of the per-pair ratios DSL ns/run ÷ clang ns/run with its quartiles, extremes and a bootstrap
/// 95 % interval. <c>--aa</c> replaces clang's side by a second load of the DSL object (an A/A run: the noise floor).
/// </summary>
/// <remarks>
/// Not a BenchmarkDotNet job: BenchmarkDotNet times a managed method, and a round's wall time is the TCP stack and two
/// processes (tens of microseconds per connection) around a program that runs for tens of nanoseconds. The quantity
/// here is what the kernel counts inside the program, read from bpf_prog_info, and the design (twin cgroups,
/// alternating pairs, ratio statistics) is the measurement itself.
/// </remarks>
internal static class RuntimeVsClang
{
    /// <summary>The first argument that selects this mode.</summary>
    public const string Verb = "runtime-vs-clang";

    /// <summary>A DSL catalog program, its settings for the C semantics, and clang's object of the seed's C
    /// (none for <see cref="Empty"/>, which is always measured against itself).</summary>
    private sealed record Twin(string Name, string Catalog, string[] Settings, string? ClangObject, Func<KernelVersion, ProgramImage>? Build = null);

    /// <summary>
    /// <c>--program empty</c>: <c>return 1;</c> (two instructions), always A/A. Its ns/run is what every program pays
    /// whatever its code: the cgroup run array, the stats' two sched_clock() reads and the first touch of the program
    /// image — the floor under the other rows.
    /// </summary>
    private static readonly Twin Empty = new("empty", "empty", [], null, target => SockOpsProgram.Build("empty", b => b.Return(1), target: target));

    /// <summary>Experiments, selected by name only (see each builder).</summary>
    private static readonly Twin[] Experiments =
    [
        Empty,
        new("dump-stats-rtt-first", "dump-stats-rtt-first", ["ring-buffer=false", "printk=true", "(RTT_CB tested first)"], "dump_stats", DumpStatsRttFirst.Build),
    ];

    private static readonly Twin[] Twins =
    [
        // clang's clamp.c has #define DEBUG 1: two bpf_printk per run on the port-55601 path.
        new("clamp", "clamp", ["printk=true"], "clamp"),
        // The same C without `#define DEBUG 1` (scripts/elf-oracle/build-clang-objects.sh) against the DSL default:
        // no trace_printk, so the program's own code is a larger share of its run time.
        new("clamp-noprintk", "clamp", [], "clamp_noprintk"),
        // clang's dump_stats.c prints with bpf_printk; the DSL default is a ring buffer record.
        new("dump-stats", "dump-stats", ["ring-buffer=false", "printk=true"], "dump_stats"),
        new("sockmap-adder", "sockmap-adder", [], "sockmap"),
    ];

    private sealed class Settings
    {
        public int Pairs { get; set; } = 40;
        public int Warmup { get; set; } = 1;
        public int Reloads { get; set; } = 20;
        public int Connections { get; set; } = 1000;
        public int Exchanges { get; set; } = 4;
        public int Bytes { get; set; } = 1000;
        public string? Aa { get; set; }
        public int? Cpu { get; set; }
        public bool Verbose { get; set; }
        public bool Swap { get; set; }
        public List<string> Programs { get; } = [];
    }

    public static int Run(string[] args)
    {
        Settings settings;
        try
        {
            settings = Parse(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"{Verb}: {e.Message}");
            Console.Error.WriteLine($"usage: {Verb} [--pairs N] [--reloads N] [--warmup N] [--connections N] [--exchanges N] [--bytes N] [--program clamp|clamp-noprintk|dump-stats|sockmap-adder|empty|dump-stats-rtt-first]... [--aa | --aa-clang] [--swap] [--cpu N|none] [--verbose]");
            return 2;
        }
        if (!Environment.IsPrivilegedProcess)
        {
            Console.WriteLine($"{Verb}: skipped — needs root (BPF program load, cgroup v2 attach, BPF_ENABLE_STATS).");
            return 0;
        }
        Twin[] twins;
        try
        {
            twins = settings.Programs.Count == 0 ? Twins : [.. settings.Programs.Select(p => Twins.Concat(Experiments).FirstOrDefault(t => t.Name == p)
                ?? throw new ArgumentException($"unknown program '{p}' (have {string.Join(", ", Twins.Concat(Experiments).Select(t => t.Name))})"))];
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"{Verb}: {e.Message}");
            return 2;
        }

        string kernel = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        Console.WriteLine($"{Verb}: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, kernel {kernel}, {Environment.ProcessorCount} CPUs, load {LoadAverage()}");
        Console.WriteLine($"  {settings.Pairs} pairs per program in {settings.Reloads} blocks of fresh loads (+{settings.Warmup} warm-up pair each); a round = {settings.Connections} loopback TCP connections " +
                          $"x {settings.Exchanges} exchanges of {settings.Bytes} bytes each way; workers on CPU {(settings.Cpu is { } c ? c.ToString(CultureInfo.InvariantCulture) : "any")}");
        string sides = settings.Aa switch { "dsl" => "A/A: DSL vs a second load of the DSL", "clang" => "A/A: clang vs a second load of clang", _ => "DSL vs clang" };
        Console.WriteLine($"  mode: {sides}{(settings.Swap && settings.Aa is null ? " (swapped: A = clang, B = DSL)" : "")}; ratio = A ns/run ÷ B ns/run");
        Console.WriteLine();

        using var stats = BpfStats.Enable();
        // SIGINT/SIGTERM end the run between rounds, so the blocks' using statements remove the cgroups, links and
        // workers (killed outright, the run used to leave its sockops-rvc-* cgroups behind).
        using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupt);
        using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupt);
        var results = new List<(Twin Twin, Result Result)>();
        try
        {
            foreach (var twin in twins)
            {
                var result = Measure(twin, settings);
                results.Add((twin, result));
                Print(twin, result, settings);
            }
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine($"{Verb}: interrupted; the cgroups, programs and workers it created are removed.");
            return 130;
        }

        Console.WriteLine();
        Console.WriteLine($"| program | pairs | runs/round A | runs/round B | A ns/run | B ns/run | median ratio A/B | IQR | min–max | 95% CI of median |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---|---|---|");
        foreach (var (twin, r) in results)
        {
            var ratios = r.Pairs.Select(p => p.Ratio).ToArray();
            var (lo, hi) = BootstrapMedian(ratios);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {twin.Name} | {ratios.Length} | {Median(r.Pairs.Select(p => (double)p.RunsA))} | {Median(r.Pairs.Select(p => (double)p.RunsB))} | " +
                $"{Median(r.Pairs.Select(p => p.NsA)):F1} | {Median(r.Pairs.Select(p => p.NsB)):F1} | **{Median(ratios):F3}** | " +
                $"{Quantile(ratios, 0.25):F3}–{Quantile(ratios, 0.75):F3} | {ratios.Min():F3}–{ratios.Max():F3} | {lo:F3}–{hi:F3} |"));
        }
        Console.WriteLine();
        Console.WriteLine("| program | side | xlated bytes | jited bytes | verified insns |");
        Console.WriteLine("|---|---|---:|---:|---:|");
        foreach (var (twin, r) in results)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {twin.Name} | {r.LabelA} | {r.SizeA.Xlated} | {r.SizeA.Jited} | {r.SizeA.Verified} |"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {twin.Name} | {r.LabelB} | {r.SizeB.Xlated} | {r.SizeB.Jited} | {r.SizeB.Verified} |"));
        }
        Console.WriteLine();
        Console.WriteLine($"load at the end {LoadAverage()}");
        return 0;
    }

    private static volatile bool s_interrupted;

    private static void Interrupt(PosixSignalContext context)
    {
        context.Cancel = true;
        s_interrupted = true;
    }

    private sealed record Pair(int Index, bool AFirst, ulong RunsA, ulong RunsB, double NsA, double NsB)
    {
        public double Ratio => NsA / NsB;
    }

    private sealed record Size(int Xlated, uint Jited, uint Verified);

    private sealed record Result(string LabelA, string LabelB, IReadOnlyList<Pair> Pairs, Size SizeA, Size SizeB);

    /// <summary>One side: a loaded object, its program attached to a temporary cgroup, and a worker inside.</summary>
    private sealed class Side : IDisposable
    {
        private readonly LoadedObject _loaded;
        private readonly Cgroup _cgroup;
        private readonly CgroupAttachment _attachment;
        private readonly Worker _worker;

        public Side(string label, BpfObject obj, int? cpu)
        {
            Label = label;
            _loaded = ObjectLoader.Load(obj);
            try
            {
                Program = _loaded.Programs.Values.Single();
                _cgroup = Cgroup.CreateTemporary(prefix: "sockops-rvc");
                _attachment = _cgroup.Attach(Program);
                _worker = Worker.Start(_cgroup, cpu);
            }
            catch
            {
                _attachment?.Dispose();
                _cgroup?.Dispose();
                _loaded.Dispose();
                throw;
            }
        }

        public string Label { get; }

        public BpfProgram Program { get; }

        public Size Size
        {
            get
            {
                var info = Program.Info;
                return new Size(info.XlatedInstructions.Sum(i => i.Slots) * 8, info.JitedSize, info.VerifiedInstructions);
            }
        }

        /// <summary>One round of traffic; returns the program's runs and nanoseconds per run in it.</summary>
        public (ulong Runs, double NsPerRun) Round(Settings s)
        {
            var before = Program.Info;
            _worker.Run(s.Connections, s.Exchanges, s.Bytes);
            var after = Program.Info;
            ulong runs = after.RunCount - before.RunCount;
            if (runs == 0) throw new InvalidOperationException($"{Label}: the program did not run in a round (is it attached to the worker's cgroup?)");
            return (runs, (after.RunTimeNanoseconds - before.RunTimeNanoseconds) / (double)runs);
        }

        public void Dispose()
        {
            _worker.Dispose();
            _attachment.Dispose();
            _cgroup.Dispose();
            _loaded.Dispose();
        }
    }

    private static Result Measure(Twin twin, Settings s)
    {
        BpfObject Dsl() => twin.Build is { } build ? build(RunningKernel.Version).ToObject()
            : ProgramCatalog.Get(twin.Catalog).Build(CatalogEntry.ParseSettings(twin.Settings), RunningKernel.Version).ToObject();
        BpfObject Clang() => ElfObjectReader.Read(Path.Combine(AppContext.BaseDirectory, "objects", twin.ClangObject + ".o"));
        string dslLabel = $"DSL {twin.Catalog}{(twin.Settings.Length == 0 ? "" : " " + string.Join(' ', twin.Settings))}";
        string clangLabel = $"clang {twin.ClangObject}.o";
        string? aa = twin.ClangObject is null ? "dsl" : s.Aa;
        bool aClang = aa == "clang", bClang = aa != "dsl";
        // --swap: clang's build is side A and the DSL's side B (a test of the harness for a bias towards a side that
        // the A/A run cannot show).
        if (s.Swap && aa is null) (aClang, bClang) = (true, false);
        string la = aClang ? clangLabel : dslLabel;
        string lb = (bClang ? clangLabel : dslLabel) + (aa is null ? "" : " (2nd load)");
        var pairs = new List<Pair>();
        Size? sizeA = null, sizeB = null;
        // The pairs are split into blocks, each with fresh loads, cgroups and workers: where the kernel happens to
        // place one load's JIT image, maps and socket memory is part of the noise (the A/A run shows it), and
        // several placements per side average it out instead of freezing one lucky or unlucky draw into the result.
        for (int block = 0, index = 0; block < s.Reloads; block++)
        {
            int count = s.Pairs / s.Reloads + (block < s.Pairs % s.Reloads ? 1 : 0);
            // Which side is loaded (and its cgroup and worker created) first alternates too.
            Side? first = null, second = null;
            try
            {
                first = block % 2 == 0 ? new Side(la, aClang ? Clang() : Dsl(), s.Cpu) : new Side(lb, bClang ? Clang() : Dsl(), s.Cpu);
                second = block % 2 == 0 ? new Side(lb, bClang ? Clang() : Dsl(), s.Cpu) : new Side(la, aClang ? Clang() : Dsl(), s.Cpu);
            }
            catch
            {
                first?.Dispose();
                throw;
            }
            using var sideA = block % 2 == 0 ? first : second;
            using var sideB = block % 2 == 0 ? second : first;
            sizeA ??= sideA.Size;
            sizeB ??= sideB.Size;
            for (int i = -s.Warmup; i < count; i++)
            {
                // Alternate within the block, and start every other block with the other side: with few pairs per
                // block, a block-relative order that always starts with A measured a side bias of 2-6 % (A/A and
                // --swap runs, docs/performance-runtime-vs-clang.md).
                bool aFirst = ((i + block) & 1) != 0;
                (ulong Runs, double Ns) ra, rb;
                if (aFirst)
                {
                    ra = sideA.Round(s);
                    rb = sideB.Round(s);
                }
                else
                {
                    rb = sideB.Round(s);
                    ra = sideA.Round(s);
                }
                if (s_interrupted) throw new OperationCanceledException("interrupted");
                if (i < 0) continue;
                var pair = new Pair(index + i, aFirst, ra.Runs, rb.Runs, ra.Ns, rb.Ns);
                pairs.Add(pair);
                if (s.Verbose)
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  {twin.Name} load {block} pair {index + i,2} ({(aFirst ? "A,B" : "B,A")}): A {ra.Runs} runs {ra.Ns,8:F1} ns/run  B {rb.Runs} runs {rb.Ns,8:F1} ns/run  ratio {pair.Ratio:F3}"));
            }
            index += count;
        }
        return new Result(la, lb, pairs, sizeA!, sizeB!);
    }

    private static void Print(Twin twin, Result r, Settings s)
    {
        var ratios = r.Pairs.Select(p => p.Ratio).ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{twin.Name}: A = {r.LabelA}, B = {r.LabelB}: median ratio {Median(ratios):F3} (IQR {Quantile(ratios, 0.25):F3}–{Quantile(ratios, 0.75):F3}, min {ratios.Min():F3}, max {ratios.Max():F3}, {ratios.Length} pairs)"));
        if (!s.Verbose)
            Console.WriteLine("  pairs: " + string.Join(' ', ratios.Select(x => x.ToString("F3", CultureInfo.InvariantCulture))));
    }

    /// <summary>The worker process of one side, inside that side's cgroup.</summary>
    private sealed class Worker : IDisposable
    {
        private readonly Process _process;

        private Worker(Process process) => _process = process;

        public static Worker Start(Cgroup cgroup, int? cpu)
        {
            string self = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
            var start = new ProcessStartInfo(self)
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            // Under `dotnet SockOps.Emit.Benchmarks.dll` the process is the host; run the assembly again.
            if (Path.GetFileNameWithoutExtension(self) == "dotnet") start.ArgumentList.Add(typeof(RuntimeVsClang).Assembly.Location);
            start.ArgumentList.Add(TrafficWorker.Verb);
            var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {self}");
            try
            {
                Expect(process, "ready");
                // Moved before its first socket: everything it creates belongs to this cgroup.
                cgroup.AddProcess(process.Id);
                if (cpu is { } c && OperatingSystem.IsLinux()) process.ProcessorAffinity = (nint)(1L << c);
                return new Worker(process);
            }
            catch
            {
                process.Kill();
                process.Dispose();
                throw;
            }
        }

        public void Run(int connections, int exchanges, int bytes)
        {
            _process.StandardInput.WriteLine(string.Create(CultureInfo.InvariantCulture, $"run {connections} {exchanges} {bytes}"));
            _process.StandardInput.Flush();
            string line = Expect(_process, "done");
            if (line != $"done {connections.ToString(CultureInfo.InvariantCulture)}") throw new InvalidOperationException($"worker: {line}");
        }

        private static string Expect(Process process, string prefix)
        {
            string line = process.StandardOutput.ReadLine() ?? throw new InvalidOperationException("the traffic worker exited");
            return line.StartsWith(prefix, StringComparison.Ordinal) ? line : throw new InvalidOperationException($"traffic worker: {line}");
        }

        public void Dispose()
        {
            try
            {
                _process.StandardInput.WriteLine("exit");
                _process.StandardInput.Flush();
                if (!_process.WaitForExit(5000)) _process.Kill();
            }
            catch (IOException)
            {
                // Already gone.
            }
            _process.Dispose();
        }
    }

    private static Settings Parse(string[] args)
    {
        var s = new Settings();
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Number(int min)
            {
                string name = args[i];
                string text = Value();
                return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= min ? n
                    : throw new ArgumentException($"{name} takes an integer ≥ {min}, not '{text}'");
            }
            switch (args[i])
            {
                case "--pairs": s.Pairs = Number(1); break;
                case "--warmup": s.Warmup = Number(0); break;
                case "--reloads": s.Reloads = Number(1); break;
                case "--connections": s.Connections = Number(1); break;
                case "--exchanges": s.Exchanges = Number(0); break;
                case "--bytes": s.Bytes = Number(1); break;
                case "--program": s.Programs.Add(Value()); break;
                case "--aa": s.Aa = "dsl"; break;
                case "--aa-clang": s.Aa = "clang"; break;
                case "--verbose": s.Verbose = true; break;
                case "--swap": s.Swap = true; break;
                case "--cpu":
                    string cpu = Value();
                    if (cpu == "none") s.Cpu = null;
                    else if (int.TryParse(cpu, NumberStyles.None, CultureInfo.InvariantCulture, out int c) && c < Environment.ProcessorCount) s.Cpu = c;
                    else throw new ArgumentException($"--cpu takes a CPU number below {Environment.ProcessorCount} or 'none', not '{cpu}'");
                    break;
                default: throw new ArgumentException($"unknown argument '{args[i]}'");
            }
        }
        if (!args.Contains("--cpu")) s.Cpu = Environment.ProcessorCount - 1;
        if (s.Reloads > s.Pairs) throw new ArgumentException($"--reloads ({s.Reloads}) cannot exceed --pairs ({s.Pairs})");
        return s;
    }

    private static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    private static double Median(IEnumerable<double> values) => Quantile([.. values], 0.5);

    /// <summary>Linear interpolation between order statistics (type 7, as numpy and R default).</summary>
    private static double Quantile(double[] values, double q)
    {
        var sorted = values.Order().ToArray();
        double h = (sorted.Length - 1) * q;
        int lo = (int)Math.Floor(h);
        int hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
    }

    /// <summary>Percentile bootstrap 95 % interval of the median (10,000 resamples, fixed seed).</summary>
    private static (double Low, double High) BootstrapMedian(double[] values)
    {
        var random = new Random(20261206);
        var medians = new double[10_000];
        var sample = new double[values.Length];
        for (int b = 0; b < medians.Length; b++)
        {
            for (int i = 0; i < sample.Length; i++) sample[i] = values[random.Next(values.Length)];
            medians[b] = Quantile(sample, 0.5);
        }
        return (Quantile(medians, 0.025), Quantile(medians, 0.975));
    }
}
