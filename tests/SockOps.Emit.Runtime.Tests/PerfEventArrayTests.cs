using System.Buffers.Binary;
using SockOps.Emit.Assembler;
using SockOps.Emit.TestSupport;
using static SockOps.Emit.Runtime.Tests.Asm;

namespace SockOps.Emit.Runtime.Tests;

public class PerfEventArrayTests
{
    /// <summary>Socket filter: seq = fetch_add(state[0], 1); bpf_perf_event_output(ctx, &amp;events, BPF_F_CURRENT_CPU, {0x5eed, seq, 7}, 24).
    /// 24 data bytes make 40-byte records, which do not divide the ring size, so records wrap mid-record.</summary>
    private static Instruction[] EmitterProgram() =>
    [
        Mov64Reg(6, 1),                            // 0
        StW(10, -4, 0),                            // 1: key 0
        LdMapFd(1),                                // 2: &state
        Mov64Reg(2, 10), Add64(2, -4),             // 3, 4
        Call(HelperMapLookupElem),                 // 5
        JeqImm(0, 0, 13),                          // 6: → 19 (slot 7 → slot 21)
        Mov64(1, 1),                               // 7
        new Instruction(0xdb, 0, 1, 0, 0x01),      // 8: r1 = atomic_fetch_add((u64 *)r0, r1)
        StxDW(10, 1, -16),                         // 9: data[1] = seq
        StDW(10, -24, 0x5eed),                     // 10: data[0] = marker
        StDW(10, -8, 7),                           // 11: data[2] = 7
        Mov64Reg(1, 6),                            // 12: ctx
        LdMapFd(2),                                // 13: &events
        new Instruction(0xb4, 3, 0, 0, -1),        // 14: w3 = BPF_F_CURRENT_CPU (0xffffffff, zero-extended)
        Mov64Reg(4, 10), Add64(4, -24),            // 15, 16
        Mov64(5, 24),                              // 17
        Call(25),                                  // 18: bpf_perf_event_output
        Mov64(0, 0),                               // 19
        Exit(),                                    // 20
    ];

    internal static BpfProgram LoadEmitter(BpfMap state, BpfMap events) => BpfProgram.Load(new ProgramLoadOptions
    {
        Type = ProgramType.SocketFilter,
        Name = "perf_emit",
        Instructions = EmitterProgram(),
        MapReferences = [new MapReference(2, "state"), new MapReference(13, "events")],
        Maps = new Dictionary<string, BpfMap> { ["state"] = state, ["events"] = events },
    });

    [Fact]
    public void Records_wrapping_the_ring_are_reassembled()
    {
        KernelGate.Require();
        using var state = BpfMap<uint, ulong>.Create(MapType.Array, 1, "state");
        using var events = BpfMap.Create(new MapSpec { Type = MapType.PerfEventArray, KeySize = 4, ValueSize = 4, MaxEntries = Environment.ProcessorCount, Name = "events" });
        using var program = LoadEmitter(state, events);
        using var reader = new PerfEventArrayReader(events, pagesPerCpu: 2); // 8 KiB per CPU: 204.8 records of 40 bytes
        var received = new List<ulong>();
        for (int batch = 0; batch < 40; batch++)
        {
            program.TestRun(new byte[64], repeat: 100); // 4,000 bytes: fits, and the ring wraps every ~2 batches
            reader.Consume((cpu, sample) =>
            {
                Assert.Equal(0x5eedul, BinaryPrimitives.ReadUInt64LittleEndian(sample));
                Assert.Equal(7ul, BinaryPrimitives.ReadUInt64LittleEndian(sample[16..]));
                received.Add(BinaryPrimitives.ReadUInt64LittleEndian(sample[8..]));
            });
        }
        Assert.Equal(0, reader.LostSamples);
        Assert.Equal(Enumerable.Range(0, 4000).Select(i => (ulong)i), received.Order());
    }

    [Fact]
    public void Overflow_is_reported_as_lost_samples()
    {
        KernelGate.Require();
        using var state = BpfMap<uint, ulong>.Create(MapType.Array, 1, "state");
        using var events = BpfMap.Create(new MapSpec { Type = MapType.PerfEventArray, KeySize = 4, ValueSize = 4, MaxEntries = Environment.ProcessorCount, Name = "events" });
        using var program = LoadEmitter(state, events);
        using var reader = new PerfEventArrayReader(events, pagesPerCpu: 1); // 4 KiB: about 100 records
        program.TestRun(new byte[64], repeat: 1000);
        int received = reader.Consume((_, _) => { });
        Assert.True(received < 1000);
        // The kernel writes its PERF_RECORD_LOST only once space is free again, ahead of the next sample on that
        // CPU; the test thread may run on any CPU, so emit single samples until every loss has been reported.
        int extra = 0;
        while (received + reader.LostSamples != 1000 + extra && extra < 200)
        {
            program.TestRun(new byte[64], repeat: 1);
            extra++;
            received += reader.Consume((_, _) => { });
        }
        Assert.True(reader.LostSamples > 0);
        Assert.Equal(1000 + extra, received + reader.LostSamples);
    }

    [Fact]
    public async Task Every_sample_arrives_once_and_in_order_per_cpu()
    {
        KernelGate.Require();
        const int N = 3000;
        using var state = BpfMap<uint, ulong>.Create(MapType.Array, 1, "state");
        using var events = BpfMap.Create(new MapSpec { Type = MapType.PerfEventArray, KeySize = 4, ValueSize = 4, MaxEntries = Environment.ProcessorCount, Name = "events" });
        using var program = LoadEmitter(state, events);
        using var reader = new PerfEventArrayReader(events, pagesPerCpu: 64);

        program.TestRun(new byte[64], repeat: N);
        Assert.Equal((ulong)N, state.Lookup(0));

        var lastPerCpu = new Dictionary<int, long>();
        var seen = new HashSet<ulong>();
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await foreach (var (cpu, sample) in reader.ReadAllAsync(cancel.Token))
        {
            // The kernel pads raw samples to keep records 8-byte aligned: 24 bytes of data arrive as 28.
            Assert.Equal(28, sample.Length);
            Assert.Equal(7ul, BinaryPrimitives.ReadUInt64LittleEndian(sample.Span[16..]));
            Assert.Equal(0x5eedul, BinaryPrimitives.ReadUInt64LittleEndian(sample.Span));
            ulong seq = BinaryPrimitives.ReadUInt64LittleEndian(sample.Span[8..]);
            Assert.True(seen.Add(seq), $"sequence {seq} delivered twice");
            Assert.True((long)seq > lastPerCpu.GetValueOrDefault(cpu, -1), $"cpu {cpu}: {seq} after {lastPerCpu.GetValueOrDefault(cpu, -1)}");
            lastPerCpu[cpu] = (long)seq;
            if (seen.Count == N) break;
        }
        Assert.Equal(0, reader.LostSamples);
        Assert.Equal(Enumerable.Range(0, N).Select(i => (ulong)i), seen.Order());
    }

    [Fact]
    public void Reader_refuses_other_map_types_and_too_small_arrays()
    {
        KernelGate.Require();
        using var array = BpfMap<uint, ulong>.Create(MapType.Array, 1);
        Assert.Throws<ArgumentException>(() => new PerfEventArrayReader(array));
        if (Environment.ProcessorCount < 2) return;
        using var tooSmall = BpfMap.Create(new MapSpec { Type = MapType.PerfEventArray, KeySize = 4, ValueSize = 4, MaxEntries = 1 });
        Assert.Contains("max_entries", Assert.Throws<ArgumentException>(() => new PerfEventArrayReader(tooSmall)).Message, StringComparison.Ordinal);
    }
}
