#:project ../../Runtime/SockOps.Emit.Runtime/SockOps.Emit.Runtime.csproj
// What BPF_ENABLE_STATS (BPF_STATS_RUN_TIME) costs, measured two ways, with stats off and on in alternating blocks:
//  1. per program run: BPF_PROG_TEST_RUN of `r0 = XDP_PASS; exit` with repeat N, wall time per run. The kernel's
//     __bpf_prog_run takes the same stats branch for every program type, sock_ops included.
//  2. per connection: sequential loopback connect/accept/close in this process, moved into a temporary cgroup with a
//     trivial sock_ops program attached (client and server sockets both run it: about 9 runs per connection).
// Run as root: dotnet run scripts/bpf-stats-cost/measure.cs -c Release [blocks] [repeat] [seconds-per-block]
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using SockOps.Emit.Assembler;
using SockOps.Emit;
using SockOps.Emit.Runtime;

int blocks = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10;
int repeat = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2_000_000;
double seconds = args.Length > 2 ? double.Parse(args[2], CultureInfo.InvariantCulture) : 2;
Instruction[] passCode = [new(0xb7, 0, 0, 0, 2), new(0x95, 0, 0, 0, 0)]; // r0 = XDP_PASS; exit
Instruction[] okCode = [new(0xb7, 0, 0, 0, 1), new(0x95, 0, 0, 0, 0)];   // r0 = 1; exit

Console.WriteLine($"kernel {Environment.OSVersion.VersionString}, {Environment.ProcessorCount} CPUs, {blocks} blocks per state");
using var xdp = BpfProgram.Load(new ProgramLoadOptions { Type = ProgramType.Xdp, Name = "stats_cost", Instructions = passCode });
byte[] packet = new byte[64];
xdp.TestRun(packet, 1000); // warm up
var perRun = new Dictionary<bool, List<double>> { [false] = [], [true] = [] };
for (int block = 0; block < 2 * blocks; block++)
{
    bool on = (block % 2 == 1) ^ (block / 2 % 2 == 1); // off,on,on,off,off,on…: neither state always goes first
    using var stats = on ? BpfStats.Enable() : null;
    var watch = Stopwatch.StartNew();
    xdp.TestRun(packet, repeat);
    perRun[on].Add(watch.Elapsed.TotalNanoseconds / repeat);
}
Report("test_run ns/run", perRun, "F2");

string home = Cgroup.CurrentProcessPath();
using var cgroup = Cgroup.CreateTemporary();
using var sockops = BpfProgram.Load(ProgramLoadOptions.ForSockOps("stats_cost", okCode));
using var attachment = cgroup.Attach(sockops);
cgroup.AddProcess(Environment.ProcessId);
var perConnection = new Dictionary<bool, List<double>> { [false] = [], [true] = [] };
ulong runs = 0, connections = 0;
try
{
    using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
    listener.Listen(128);
    var endpoint = (IPEndPoint)listener.LocalEndPoint!;
    for (int block = -1; block < 2 * blocks; block++)
    {
        bool on = (block % 2 == 1) ^ (block / 2 % 2 == 1);
        if (block < 0)
        {
            // Warm-up (JIT, socket paths), not recorded.
            for (var warm = Stopwatch.StartNew(); warm.Elapsed.TotalSeconds < seconds;)
            {
                using var c = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { LingerState = new LingerOption(true, 0) };
                c.Connect(endpoint);
                using var s = listener.Accept();
            }
            continue;
        }
        using var stats = on ? BpfStats.Enable() : null;
        ulong before = sockops.Info.RunCount;
        int count = 0;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed.TotalSeconds < seconds)
        {
            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            client.LingerState = new LingerOption(true, 0); // RST on close: no TIME_WAIT pile-up across blocks
            client.Connect(endpoint);
            using var server = listener.Accept();
            count++;
        }
        perConnection[on].Add(watch.Elapsed.TotalNanoseconds / count);
        if (on)
        {
            runs += sockops.Info.RunCount - before;
            connections += (ulong)count;
        }
    }
}
finally
{
    File.WriteAllText(Path.Combine(home, "cgroup.procs"), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
}
Report("loopback ns/connection", perConnection, "F0");
Console.WriteLine($"sock_ops runs per connection (counted while on): {(double)runs / connections:F2}");

static void Report(string what, Dictionary<bool, List<double>> samples, string format)
{
    static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
    double off = Median(samples[false]), on = Median(samples[true]);
    string all(bool state) => string.Join(" ", samples[state].Select(v => v.ToString(format, CultureInfo.InvariantCulture)));
    Console.WriteLine($"{what}: off median {off.ToString(format, CultureInfo.InvariantCulture)} [{all(false)}]");
    Console.WriteLine($"{what}: on  median {on.ToString(format, CultureInfo.InvariantCulture)} [{all(true)}]");
    Console.WriteLine($"{what}: on - off = {(on - off).ToString("F2", CultureInfo.InvariantCulture)} ({(on - off) / off * 100:F1} %)");
}
