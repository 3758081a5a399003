using SockOps.Emit.Assembler;
using SockOps.Emit.TestSupport;
using static SockOps.Emit.Runtime.Tests.Asm;

namespace SockOps.Emit.Runtime.Tests;

/// <summary>Kernel tests that move processes (including, briefly, this one) between cgroups; they must not
/// overlap with tests that create TCP sockets.</summary>
[CollectionDefinition(nameof(CgroupTrafficCollection), DisableParallelization = true)]
public sealed class CgroupTrafficCollection;

/// <summary>The proof: a sock_ops program built from raw instructions counts callbacks per op in an array
/// map while a process in the attached cgroup makes loopback TCP connections.</summary>
[Collection(nameof(CgroupTrafficCollection))]
public class SockOpsCountingTests
{
    // enum bpf_sock_ops_op values (kernel-sockops.md §5.1).
    private const int TimeoutInit = 1, RwndInit = 2, TcpConnect = 3, ActiveEstablished = 4, PassiveEstablished = 5,
        NeedsEcn = 6, StateCb = 10, TcpListen = 11;
    private const int StateCbFlag = 1 << 2; // BPF_SOCK_OPS_STATE_CB_FLAG
    private const int MaxOp = 32;
    private const int Connections = 20;

    /// <summary>counts[op] += 1 (atomic); in TCP_CONNECT_CB enable STATE_CB; return 1.</summary>
    internal static Instruction[] CountingProgram() =>
    [
        Mov64Reg(6, 1),                 // 0: r6 = ctx
        LdxW(2, 1, 0),                  // 1: r2 = ctx->op
        StxW(10, 2, -4),                // 2: key = op
        LdMapFd(1),                     // 3: r1 = &counts          (map reference)
        Mov64Reg(2, 10),                // 4
        Add64(2, -4),                   // 5: r2 = &key
        Call(HelperMapLookupElem),      // 6
        JeqImm(0, 0, 2),                // 7: if !value goto 10
        Mov64(1, 1),                    // 8
        AtomicAdd64(0, 1, 0),           // 9: lock *(u64 *)value += 1
        LdxW(2, 6, 0),                  // 10: r2 = ctx->op
        JneImm(2, TcpConnect, 3),       // 11: if op != TCP_CONNECT_CB goto 15
        Mov64Reg(1, 6),                 // 12
        Mov64(2, StateCbFlag),          // 13
        Call(HelperSockOpsCbFlagsSet),  // 14: bpf_sock_ops_cb_flags_set(ctx, STATE_CB_FLAG)
        Mov64(0, 1),                    // 15
        Exit(),                         // 16
    ];

    private static (BpfMap<uint, ulong> Counts, BpfProgram Program) Load()
    {
        var counts = BpfMap<uint, ulong>.Create(MapType.Array, MaxOp, "op_counts");
        try
        {
            var program = BpfProgram.Load(new ProgramLoadOptions
            {
                Type = ProgramType.SockOps,
                ExpectedAttachType = AttachType.CgroupSockOps,
                Name = "count_ops",
                Instructions = CountingProgram(),
                MapReferences = [new MapReference(3, "op_counts")],
                Maps = new Dictionary<string, BpfMap> { ["op_counts"] = counts },
            });
            return (counts, program);
        }
        catch
        {
            counts.Dispose();
            throw;
        }
    }

    private static Dictionary<int, ulong> Histogram(BpfMap<uint, ulong> counts)
    {
        var result = new Dictionary<int, ulong>();
        for (uint op = 0; op < MaxOp; op++)
        {
            ulong value = counts.Lookup(op);
            if (value != 0) result[(int)op] = value;
        }
        return result;
    }

    /// <summary>Polls until the histogram equals the expectation (state changes after close arrive asynchronously).</summary>
    private static Dictionary<int, ulong> WaitFor(BpfMap<uint, ulong> counts, Dictionary<int, ulong> expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        Dictionary<int, ulong> actual;
        do
        {
            actual = Histogram(counts);
            if (actual.Count == expected.Count && actual.All(kv => expected.TryGetValue(kv.Key, out ulong e) && e == kv.Value)) break;
            Thread.Sleep(20);
        }
        while (DateTime.UtcNow < deadline);
        return actual;
    }

    private static string Show(Dictionary<int, ulong> h) => string.Join(", ", h.OrderBy(kv => kv.Key).Select(kv => $"op{kv.Key}={kv.Value}"));

    [Fact]
    public void Client_in_cgroup_listener_outside_counts_exactly_the_active_side()
    {
        KernelGate.Require();
        var (counts, program) = Load();
        using (counts)
        using (program)
        using (var cgroup = Cgroup.CreateTemporary())
        using (var attachment = cgroup.Attach(program))
        using (var server = new LoopbackTcp.DrainingServer())
        {
            LoopbackTcp.RunClientProcess(server.Port, Connections, cgroup.AddProcess, TimeSpan.FromSeconds(30));
            Assert.True(server.WaitForCompleted(Connections, TimeSpan.FromSeconds(10)), $"served {server.Completed} of {Connections}");

            // Per client connection: TCP_CONNECT_CB, then RWND_INIT, TIMEOUT_INIT, NEEDS_ECN while building the SYN,
            // ACTIVE_ESTABLISHED_CB; STATE_CB (enabled in TCP_CONNECT_CB) for SYN_SENT→ESTABLISHED and, because the
            // server closes only after the client's FIN, ESTABLISHED→FIN_WAIT1→FIN_WAIT2→CLOSE: 4 per connection.
            // The listener and its accepted sockets belong to this process's cgroup, so no passive-side callbacks.
            var expected = new Dictionary<int, ulong>
            {
                [TimeoutInit] = Connections,
                [RwndInit] = Connections,
                [TcpConnect] = Connections,
                [ActiveEstablished] = Connections,
                [NeedsEcn] = Connections,
                [StateCb] = 4 * Connections,
            };
            var actual = WaitFor(counts, expected);
            Assert.True(expected.Count == actual.Count && expected.All(kv => actual.GetValueOrDefault(kv.Key) == kv.Value),
                $"expected {Show(expected)}; got {Show(actual)}");
            Assert.Equal(AttachMechanism.Link, attachment.Mechanism);
        }
    }

    [Fact]
    public void Listener_in_cgroup_adds_listen_and_passive_side_callbacks()
    {
        KernelGate.Require();
        var (counts, program) = Load();
        using (counts)
        using (program)
        using (var cgroup = Cgroup.CreateTemporary())
        using (var attachment = cgroup.Attach(program))
        {
            // A socket belongs to the cgroup of the process that creates it: move this process in just long enough
            // to create the listener (the collection runs alone), then back to where it was.
            string home = Cgroup.CurrentProcessPath();
            LoopbackTcp.DrainingServer server;
            cgroup.AddProcess(Environment.ProcessId);
            try
            {
                server = new LoopbackTcp.DrainingServer();
            }
            finally
            {
                File.WriteAllText(Path.Combine(home, "cgroup.procs"), Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
            using (server)
            {
                Assert.Empty(cgroup.Processes);
                LoopbackTcp.RunClientProcess(server.Port, Connections, cgroup.AddProcess, TimeSpan.FromSeconds(30));
                Assert.True(server.WaitForCompleted(Connections, TimeSpan.FromSeconds(10)), $"served {server.Completed} of {Connections}");

                // Active side as above. Passive side: TCP_LISTEN_CB once; per connection the request socket gets
                // RWND_INIT, TIMEOUT_INIT, NEEDS_ECN while building the SYN-ACK, then PASSIVE_ESTABLISHED_CB on the
                // child. STATE_CB was only enabled on client sockets (TCP_CONNECT_CB), so it stays 4 per connection.
                var expected = new Dictionary<int, ulong>
                {
                    [TimeoutInit] = 2 * Connections,
                    [RwndInit] = 2 * Connections,
                    [TcpConnect] = Connections,
                    [ActiveEstablished] = Connections,
                    [PassiveEstablished] = Connections,
                    [NeedsEcn] = 2 * Connections,
                    [StateCb] = 4 * Connections,
                    [TcpListen] = 1,
                };
                var actual = WaitFor(counts, expected);
                Assert.True(expected.Count == actual.Count && expected.All(kv => actual.GetValueOrDefault(kv.Key) == kv.Value),
                    $"expected {Show(expected)}; got {Show(actual)}");
            }
            Assert.Equal(AttachMechanism.Link, attachment.Mechanism);
        }
    }
}
