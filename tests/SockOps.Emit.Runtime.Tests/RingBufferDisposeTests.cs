using System.Collections.Concurrent;
using System.Diagnostics;
using SockOps.Emit.TestSupport;

namespace SockOps.Emit.Runtime.Tests;

/// <summary>
/// A <see cref="RingBuffer"/> used after or during <see cref="RingBuffer.Dispose"/>: every member throws
/// <see cref="ObjectDisposedException"/> afterwards, a dispose racing with readers never unmaps under a read, and
/// <see cref="RingBuffer.ReadAllAsync(CancellationToken)"/> ends (completes) when the consumer is disposed.
/// Before the mapping was a reference-counted SafeHandle these reads touched unmapped memory (SIGSEGV).
/// </summary>
public class RingBufferDisposeTests
{
    private static BpfMap CreateRing(int bytes = 64 * 1024) =>
        BpfMap.Create(new MapSpec { Type = MapType.RingBuf, KeySize = 0, ValueSize = 0, MaxEntries = bytes, Name = "ring" });

    [Fact]
    public void Every_member_throws_ObjectDisposedException_after_dispose()
    {
        KernelGate.Require();
        using var ringMap = CreateRing();
        var ring = new RingBuffer(ringMap);
        ring.Dispose();
        ring.Dispose(); // idempotent

        var pending = Assert.Throws<ObjectDisposedException>(() => ring.Pending);
        Assert.Contains("'ring'", pending.Message, StringComparison.Ordinal);
        Assert.Throws<ObjectDisposedException>(() => ring.Consume(_ => { }));
        Assert.Throws<ObjectDisposedException>(() => ring.WaitForData(0));
    }

    [Fact]
    public async Task ReadAllAsync_on_a_disposed_consumer_completes_without_records()
    {
        KernelGate.Require();
        using var ringMap = CreateRing();
        var ring = new RingBuffer(ringMap);
        ring.Dispose();
        int count = 0;
        await foreach (var _ in ring.ReadAllAsync(TestContext.Current.CancellationToken)) count++;
        Assert.Equal(0, count);
    }

    [Fact]
    public void A_handler_that_disposes_the_consumer_stops_the_consume_and_the_record_stays_readable()
    {
        KernelGate.Require();
        using var state = BpfMap<uint, RingBufferTests.State>.Create(MapType.Array, 1, "state");
        using var ringMap = CreateRing();
        using var program = RingBufferTests.LoadEmitter(state, ringMap);
        program.TestRun(new byte[64], repeat: 10);
        var ring = new RingBuffer(ringMap);
        var seen = new List<ulong>();
        int handled = ring.Consume(record =>
        {
            ring.Dispose();
            // The mapping must still be there while the handler holds the span.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            seen.Add(BitConverter.ToUInt64(record));
            Assert.Equal(0x5eedul, BitConverter.ToUInt64(record[8..]));
        });
        Assert.Equal(1, handled);
        Assert.Equal([0ul], seen);
        Assert.Throws<ObjectDisposedException>(() => ring.Pending);
        // The consumer position was published for the record handled: a new consumer starts at the second one.
        using var again = new RingBuffer(ringMap);
        var rest = new List<ulong>();
        again.Consume(record => rest.Add(BitConverter.ToUInt64(record)));
        Assert.Equal(Enumerable.Range(1, 9).Select(i => (ulong)i), rest);
    }

    /// <summary>
    /// Many rounds of: a new consumer on the same ring buffer map, a producer (BPF_PROG_TEST_RUN of a program calling
    /// bpf_ringbuf_output), two threads calling Consume/Pending in a loop, an async ReadAllAsync reader and a thread
    /// that disposes the consumer after a random short delay. Readers must end with ObjectDisposedException (sync) or
    /// a completed enumeration (async), never another exception, and every record must be one the program wrote:
    /// marker intact, each sequence number delivered once, in order per reader. Because the consumer position lives
    /// in the map, the sequence numbers increase across rounds too.
    /// </summary>
    [Fact]
    public async Task Concurrent_readers_and_dispose_never_crash_or_read_garbage()
    {
        KernelGate.Require();
        const int Rounds = 400;
        using var state = BpfMap<uint, RingBufferTests.State>.Create(MapType.Array, 1, "state");
        using var ringMap = CreateRing(16 * 4096);
        using var program = RingBufferTests.LoadEmitter(state, ringMap);
        var random = new Random(9);
        var all = new ConcurrentBag<ulong>();
        var failures = new ConcurrentQueue<string>();
        long disposedExceptions = 0, completedEnumerations = 0;
        var watch = Stopwatch.StartNew();

        for (int round = 0; round < Rounds; round++)
        {
            var ring = new RingBuffer(ringMap);
            int delayMicroseconds = random.Next(0, 3000);
            using var stop = new CancellationTokenSource();

            var producer = new Thread(() =>
            {
                while (!stop.IsCancellationRequested) program.TestRun(new byte[64], repeat: 50);
            });

            void Check(string reader, List<ulong> seen, ReadOnlySpan<byte> record)
            {
                if (record.Length != 64) failures.Enqueue($"{reader}: a {record.Length}-byte record");
                ulong seq = BitConverter.ToUInt64(record);
                ulong marker = BitConverter.ToUInt64(record[8..]);
                if (marker != 0x5eed) failures.Enqueue($"{reader}: marker {marker:x} at sequence {seq}");
                for (int i = 16; i < 64; i++)
                {
                    if (record[i] != 0) failures.Enqueue($"{reader}: byte {i} of sequence {seq} is {record[i]}");
                }
                if (seen.Count > 0 && seq <= seen[^1]) failures.Enqueue($"{reader}: sequence {seq} after {seen[^1]}");
                seen.Add(seq);
                all.Add(seq);
            }

            Thread SyncReader(string name) => new(() =>
            {
                var seen = new List<ulong>();
                try
                {
                    while (true)
                    {
                        if (ring.Pending < 0) failures.Enqueue($"{name}: negative Pending");
                        ring.Consume(record => Check(name, seen, record));
                    }
                }
                catch (ObjectDisposedException)
                {
                    Interlocked.Increment(ref disposedExceptions);
                }
                catch (Exception e)
                {
                    failures.Enqueue($"{name}: {e}");
                }
            });

            var readers = new[] { SyncReader("consume-1"), SyncReader("consume-2") };
            var asyncReader = Task.Run(async () =>
            {
                var seen = new List<ulong>();
                try
                {
                    await foreach (var record in ring.ReadAllAsync(stop.Token)) Check("async", seen, record.Span);
                    Interlocked.Increment(ref completedEnumerations);
                }
                catch (Exception e)
                {
                    failures.Enqueue($"async: {e}");
                }
            });
            var disposer = new Thread(() =>
            {
                var spin = Stopwatch.StartNew();
                while (spin.Elapsed.TotalMicroseconds < delayMicroseconds) Thread.SpinWait(20);
                ring.Dispose();
            });

            producer.Start();
            foreach (var reader in readers) reader.Start();
            disposer.Start();
            disposer.Join();
            foreach (var reader in readers) Assert.True(reader.Join(TimeSpan.FromSeconds(10)), $"round {round}: a Consume reader did not end after Dispose");
            var ended = await Task.WhenAny(asyncReader, Task.Delay(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
            Assert.True(ended == asyncReader, $"round {round}: ReadAllAsync did not end after Dispose");
            await stop.CancelAsync();
            producer.Join();
            Assert.True(failures.IsEmpty, $"round {round}: " + string.Join("\n", failures.Take(5)));
        }

        // Each record the program wrote was delivered at most once.
        var sequences = all.ToArray();
        Assert.Equal(sequences.Length, sequences.Distinct().Count());
        Assert.Equal(2L * Rounds, Interlocked.Read(ref disposedExceptions));
        Assert.Equal(Rounds, Interlocked.Read(ref completedEnumerations));
        Assert.True(sequences.Length > Rounds, $"only {sequences.Length} records were read in {Rounds} rounds");
        TestContext.Current.SendDiagnosticMessage($"{Rounds} rounds, {sequences.Length} records read, {watch.Elapsed.TotalSeconds:F1} s");
    }
}
