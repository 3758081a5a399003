using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using SockOps.Emit.TestSupport;

namespace SockOps.Emit.Runtime.Tests;

/// <summary>
/// A <see cref="PerfEventArrayReader"/> used after or during <see cref="PerfEventArrayReader.Dispose"/>: members throw
/// <see cref="ObjectDisposedException"/> afterwards, a dispose racing with readers never unmaps or closes under a
/// read, and <see cref="PerfEventArrayReader.ReadAllAsync"/> ends (completes) when the reader is disposed.
/// </summary>
public class PerfEventArrayDisposeTests
{
    private static BpfMap CreateEvents() =>
        BpfMap.Create(new MapSpec { Type = MapType.PerfEventArray, KeySize = 4, ValueSize = 4, MaxEntries = Environment.ProcessorCount, Name = "events" });

    [Fact]
    public void Members_throw_ObjectDisposedException_after_dispose()
    {
        KernelGate.Require();
        using var events = CreateEvents();
        var reader = new PerfEventArrayReader(events, pagesPerCpu: 1);
        reader.Dispose();
        reader.Dispose(); // idempotent
        var consume = Assert.Throws<ObjectDisposedException>(() => reader.Consume((_, _) => { }));
        Assert.Contains("'events'", consume.Message, StringComparison.Ordinal);
        Assert.Throws<ObjectDisposedException>(() => reader.WaitForData(0));
    }

    [Fact]
    public async Task ReadAllAsync_on_a_disposed_reader_completes_without_samples()
    {
        KernelGate.Require();
        using var events = CreateEvents();
        var reader = new PerfEventArrayReader(events, pagesPerCpu: 1);
        reader.Dispose();
        int count = 0;
        await foreach (var _ in reader.ReadAllAsync(TestContext.Current.CancellationToken)) count++;
        Assert.Equal(0, count);
    }

    /// <summary>Rounds of: a new reader on the same perf event array, a producer (BPF_PROG_TEST_RUN of a program calling
    /// bpf_perf_event_output), two Consume loops, a ReadAllAsync reader and a thread disposing the reader after a
    /// random short delay. Readers end with ObjectDisposedException or a completed enumeration and see only intact
    /// samples, each once, in order per CPU.</summary>
    [Fact]
    public async Task Concurrent_readers_and_dispose_never_crash_or_read_garbage()
    {
        KernelGate.Require();
        const int Rounds = 200;
        using var state = BpfMap<uint, ulong>.Create(MapType.Array, 1, "state");
        using var events = CreateEvents();
        using var program = PerfEventArrayTests.LoadEmitter(state, events);
        var random = new Random(9);
        var all = new ConcurrentBag<ulong>();
        var failures = new ConcurrentQueue<string>();
        long disposedExceptions = 0, completedEnumerations = 0;
        var watch = Stopwatch.StartNew();

        for (int round = 0; round < Rounds; round++)
        {
            var reader = new PerfEventArrayReader(events, pagesPerCpu: 2);
            int delayMicroseconds = random.Next(0, 3000);
            using var stop = new CancellationTokenSource();
            var producer = new Thread(() =>
            {
                while (!stop.IsCancellationRequested) program.TestRun(new byte[64], repeat: 20);
            });

            void Check(string name, Dictionary<int, ulong> last, int cpu, ReadOnlySpan<byte> sample)
            {
                if (sample.Length != 28)
                {
                    failures.Enqueue($"{name}: a {sample.Length}-byte sample");
                    return;
                }
                ulong marker = BinaryPrimitives.ReadUInt64LittleEndian(sample);
                ulong seq = BinaryPrimitives.ReadUInt64LittleEndian(sample[8..]);
                ulong seven = BinaryPrimitives.ReadUInt64LittleEndian(sample[16..]);
                if (marker != 0x5eed || seven != 7) failures.Enqueue($"{name}: sample {seq} reads {marker:x}/{seven}");
                if (last.TryGetValue(cpu, out ulong previous) && seq <= previous) failures.Enqueue($"{name}: cpu {cpu}: {seq} after {previous}");
                last[cpu] = seq;
                all.Add(seq);
            }

            Thread SyncReader(string name) => new(() =>
            {
                var last = new Dictionary<int, ulong>();
                try
                {
                    while (true) reader.Consume((cpu, sample) => Check(name, last, cpu, sample));
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
                var last = new Dictionary<int, ulong>();
                try
                {
                    await foreach (var (cpu, sample) in reader.ReadAllAsync(stop.Token)) Check("async", last, cpu, sample.Span);
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
                reader.Dispose();
            });

            producer.Start();
            foreach (var thread in readers) thread.Start();
            disposer.Start();
            disposer.Join();
            foreach (var thread in readers) Assert.True(thread.Join(TimeSpan.FromSeconds(10)), $"round {round}: a Consume reader did not end after Dispose");
            var ended = await Task.WhenAny(asyncReader, Task.Delay(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
            Assert.True(ended == asyncReader, $"round {round}: ReadAllAsync did not end after Dispose");
            await stop.CancelAsync();
            producer.Join();
            Assert.True(failures.IsEmpty, $"round {round}: " + string.Join("\n", failures.Take(5)));
        }

        var sequences = all.ToArray();
        Assert.Equal(sequences.Length, sequences.Distinct().Count());
        Assert.Equal(2L * Rounds, Interlocked.Read(ref disposedExceptions));
        Assert.Equal(Rounds, Interlocked.Read(ref completedEnumerations));
        Assert.True(sequences.Length > Rounds, $"only {sequences.Length} samples were read in {Rounds} rounds");
        TestContext.Current.SendDiagnosticMessage($"{Rounds} rounds, {sequences.Length} samples read, {watch.Elapsed.TotalSeconds:F1} s");
    }
}
