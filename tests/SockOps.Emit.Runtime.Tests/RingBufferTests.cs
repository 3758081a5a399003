using System.Runtime.InteropServices;
using SockOps.Emit.Assembler;
using SockOps.Emit.TestSupport;
using static SockOps.Emit.Runtime.Tests.Asm;

namespace SockOps.Emit.Runtime.Tests;

public class RingBufferTests
{
    [StructLayout(LayoutKind.Sequential)]
    public readonly record struct Record(ulong Sequence, ulong Marker, ulong A, ulong B, ulong C, ulong D, ulong E, ulong F);

    /// <summary>A socket filter that takes seq = fetch_add(state[0], 1) and emits a 64-byte record {seq, 0x5eed, ...}
    /// with bpf_ringbuf_output; if the output fails (ring full) it counts a drop in state[1].</summary>
    internal static Instruction[] EmitterProgram() =>
    [
        StW(10, -68, 0),                              // 0: key0 = 0
        LdMapFd(1),                                   // 1: r1 = &state
        Mov64Reg(2, 10), Add64(2, -68),               // 2,3
        Call(HelperMapLookupElem),                    // 4
        JeqImm(0, 0, 20),                             // 5: if !value → 26
        Mov64Reg(7, 0),                               // 6: r7 = &state[0]
        Mov64(1, 1),                                  // 7
        new Instruction(0xdb, 0, 1, 0, 0x01),         // 8: r1 = atomic_fetch_add((u64 *)(r0 + 0), r1)
        StxDW(10, 1, -64),                            // 9: rec.seq
        StDW(10, -56, 0x5eed),                        // 10: rec.marker
        StDW(10, -48, 0), StDW(10, -40, 0), StDW(10, -32, 0), StDW(10, -24, 0), StDW(10, -16, 0), StDW(10, -8, 0), // 11-16
        LdMapFd(1),                                   // 17: r1 = &ring
        Mov64Reg(2, 10), Add64(2, -64),               // 18,19
        Mov64(3, 64), Mov64(4, 0),                    // 20,21
        Call(HelperRingbufOutput),                    // 22
        JeqImm(0, 0, 2),                              // 23: ok → 26
        Mov64(1, 1),                                  // 24
        AtomicAdd64(7, 1, 8),                         // 25: state[1] += 1 (drop)
        Mov64(0, 0),                                  // 26
        Exit(),                                       // 27
    ];

    internal static BpfProgram LoadEmitter(BpfMap state, BpfMap ring) => BpfProgram.Load(new ProgramLoadOptions
    {
        Type = ProgramType.SocketFilter,
        Name = "rb_emit",
        Instructions = EmitterProgram(),
        MapReferences = [new MapReference(1, "state"), new MapReference(17, "ring")],
        Maps = new Dictionary<string, BpfMap> { ["state"] = state, ["ring"] = ring },
    });

    [StructLayout(LayoutKind.Sequential)]
    public struct State
    {
        public ulong Sequence;
        public ulong Drops;
    }

    [Fact]
    public async Task All_records_arrive_in_order()
    {
        KernelGate.Require();
        const int N = 20_000; // 72 bytes each with header: fits in 2 MiB, so the kernel never drops
        using var state = BpfMap<uint, State>.Create(MapType.Array, 1, "state");
        using var ringMap = BpfMap.Create(new MapSpec { Type = MapType.RingBuf, KeySize = 0, ValueSize = 0, MaxEntries = 2 << 20, Name = "ring" });
        using var program = LoadEmitter(state, ringMap);
        using var ring = new RingBuffer(ringMap);

        program.TestRun(new byte[64], repeat: N);
        Assert.Equal(0ul, state.Lookup(0).Drops);
        Assert.Equal((ulong)N, state.Lookup(0).Sequence);

        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        ulong expected = 0;
        await foreach (var record in ring.ReadAllAsync<Record>(cancel.Token))
        {
            Assert.Equal(expected, record.Sequence);
            Assert.Equal(0x5eedul, record.Marker);
            if (++expected == N) break;
        }
        Assert.Equal(0, ring.Pending);
    }

    [Fact]
    public async Task Concurrent_consumer_sees_every_record_the_kernel_accepted_in_order()
    {
        KernelGate.Require();
        const int Batches = 50, PerBatch = 2_000;
        using var state = BpfMap<uint, State>.Create(MapType.Array, 1, "state");
        using var ringMap = BpfMap.Create(new MapSpec { Type = MapType.RingBuf, KeySize = 0, ValueSize = 0, MaxEntries = 64 * 1024, Name = "ring" });
        using var program = LoadEmitter(state, ringMap);
        using var ring = new RingBuffer(ringMap);

        var producer = Task.Run(() =>
        {
            for (int i = 0; i < Batches; i++) program.TestRun(new byte[64], repeat: PerBatch);
        });
        using var cancel = new CancellationTokenSource();
        var received = new List<ulong>();
        int receivedCount = 0;
        var consumer = Task.Run(async () =>
        {
            try
            {
                await foreach (var record in ring.ReadAllAsync<Record>(cancel.Token))
                {
                    received.Add(record.Sequence);
                    Interlocked.Increment(ref receivedCount);
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
        await producer;
        // Drain what is left, then stop the consumer.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        var s = state.Lookup(0);
        while (DateTime.UtcNow < deadline && (ulong)Volatile.Read(ref receivedCount) + s.Drops < s.Sequence) await Task.Delay(10);
        await cancel.CancelAsync();
        await consumer;

        Assert.Equal((ulong)(Batches * PerBatch), s.Sequence);
        Assert.Equal(s.Sequence, (ulong)received.Count + s.Drops);
        for (int i = 1; i < received.Count; i++) Assert.True(received[i] > received[i - 1], $"out of order at {i}: {received[i - 1]} then {received[i]}");
    }

    [Fact]
    public async Task Cancellation_ends_an_idle_wait()
    {
        KernelGate.Require();
        using var ringMap = BpfMap.Create(new MapSpec { Type = MapType.RingBuf, KeySize = 0, ValueSize = 0, MaxEntries = 4096 * 4, Name = "ring" });
        using var ring = new RingBuffer(ringMap);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in ring.ReadAllAsync(cancel.Token))
            {
            }
        });
    }

    [Fact]
    public void Non_ring_maps_are_refused()
    {
        KernelGate.Require();
        using var array = BpfMap<uint, ulong>.Create(MapType.Array, 1);
        Assert.Throws<ArgumentException>(() => new RingBuffer(array));
    }
}
