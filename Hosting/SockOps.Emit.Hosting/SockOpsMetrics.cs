using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using SockOps.Emit.Assembler;
using SockOps.Emit.Runtime;

namespace SockOps.Emit.Hosting;

/// <summary>
/// The <c>SockOps.Emit</c> meter: per program its run count and run time (the kernel's run_cnt and run_time_ns,
/// counted while BPF statistics are enabled), whether it is attached, its maps' entries, and per ring buffer the
/// records read and the bytes waiting. Observable instruments read the kernel when a listener collects.
/// </summary>
public sealed class SockOpsMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "SockOps.Emit";

    /// <summary>The tag naming the program (its <see cref="HostedSockOpsProgram.Name"/>).</summary>
    public const string ProgramTag = "sockops.program";

    /// <summary>The tag naming a map.</summary>
    public const string MapTag = "sockops.map";

    private readonly Meter _meter;
    private readonly SockOpsPrograms _programs;
    private readonly Counter<long> _ringBufferRecords;
    private readonly ConcurrentDictionary<(HostedSockOpsProgram Program, string Map), RingBuffer> _ringBuffers = new();

    /// <summary>Creates the meter through <paramref name="meterFactory"/> (the host's), or a standalone one when null.</summary>
    public SockOpsMetrics(SockOpsPrograms programs, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(programs);
        _programs = programs;
        _meter = meterFactory?.Create(new MeterOptions(MeterName)) ?? new Meter(MeterName);
        _meter.CreateObservableCounter("sockops.program.run.count", ObserveRunCount, "{run}",
            "Runs of the program counted by the kernel (run_cnt) while BPF statistics are enabled.");
        _meter.CreateObservableCounter("sockops.program.run.time", ObserveRunTime, "s",
            "Time the program ran, counted by the kernel (run_time_ns) while BPF statistics are enabled.");
        _meter.CreateObservableGauge("sockops.program.attached", ObserveAttached, "{program}",
            "1 while the program is attached to its cgroup (the link holds the hook and BPF_PROG_QUERY lists it), else 0.");
        _meter.CreateObservableGauge("sockops.map.entries", ObserveMapEntries, "{entry}",
            "Entries in the program's hash and array maps (walked with BPF_MAP_GET_NEXT_KEY at each collection).");
        _ringBufferRecords = _meter.CreateCounter<long>("sockops.ringbuffer.records", "{record}",
            "Ring-buffer records handed to readers of HostedSockOpsProgram.ReadRingBufferAsync.");
        _meter.CreateObservableGauge("sockops.ringbuffer.pending", ObservePending, "By",
            "Bytes the program wrote to a ring buffer that no reader consumed yet (a full ring makes the program's reservations fail).");
    }

    /// <summary>The meter.</summary>
    public Meter Meter => _meter;

    internal void RingBufferRecord(string program, string map) =>
        _ringBufferRecords.Add(1, new KeyValuePair<string, object?>(ProgramTag, program), new KeyValuePair<string, object?>(MapTag, map));

    internal void TrackRingBuffer(HostedSockOpsProgram program, string map, RingBuffer reader) => _ringBuffers[(program, map)] = reader;

    private IEnumerable<Measurement<long>> ObserveRunCount()
    {
        foreach (var program in _programs.Programs)
            if (TryInfo(program) is { } info) yield return new(checked((long)info.RunCount), Tag(program));
    }

    private IEnumerable<Measurement<double>> ObserveRunTime()
    {
        foreach (var program in _programs.Programs)
            if (TryInfo(program) is { } info) yield return new(info.RunTimeNanoseconds / 1e9, Tag(program));
    }

    private IEnumerable<Measurement<int>> ObserveAttached()
    {
        foreach (var program in _programs.Programs) yield return new(program.IsAttached ? 1 : 0, Tag(program));
    }

    private IEnumerable<Measurement<long>> ObserveMapEntries()
    {
        foreach (var program in _programs.Programs)
        {
            IReadOnlyDictionary<string, BpfMap> maps;
            try
            {
                maps = program.Loaded.Maps;
            }
            catch (ObjectDisposedException)
            {
                continue;
            }
            foreach (var (name, map) in maps)
            {
                if (CountEntries(map) is long count) yield return new(count, Tag(program), new KeyValuePair<string, object?>(MapTag, name));
            }
        }
    }

    private IEnumerable<Measurement<long>> ObservePending()
    {
        foreach (var ((program, map), reader) in _ringBuffers)
        {
            long pending;
            try
            {
                pending = reader.Pending;
            }
            catch (ObjectDisposedException)
            {
                _ringBuffers.TryRemove((program, map), out _);
                continue;
            }
            yield return new(pending, Tag(program), new KeyValuePair<string, object?>(MapTag, map));
        }
    }

    /// <summary>Entries of a map whose keys can be walked; null for maps without keys to walk (ring buffers, sk_storage,
    /// perf event arrays). Arrays always hold max_entries entries.</summary>
    private static long? CountEntries(BpfMap map)
    {
        try
        {
            switch (map.Type)
            {
                case MapType.Array or MapType.PerCpuArray:
                    return map.MaxEntries;
                case MapType.Hash or MapType.PerCpuHash or MapType.LruHash or MapType.LruPerCpuHash or MapType.SockHash or MapType.LpmTrie:
                    long count = 0;
                    byte[] key = new byte[map.KeySize], next = new byte[map.KeySize];
                    bool first = true;
                    // Bounded: a concurrently changing hash map can restart the walk.
                    while (count <= map.MaxEntries && map.TryGetNextKey(first ? ReadOnlySpan<byte>.Empty : key, next))
                    {
                        first = false;
                        count++;
                        (key, next) = (next, key);
                    }
                    return Math.Min(count, map.MaxEntries);
                default:
                    return null;
            }
        }
        catch (Exception e) when (e is ObjectDisposedException or BpfException)
        {
            return null;
        }
    }

    private static ProgramInfo? TryInfo(HostedSockOpsProgram program)
    {
        try
        {
            return program.Loaded.Info;
        }
        catch (Exception e) when (e is ObjectDisposedException or BpfException)
        {
            return null;
        }
    }

    private static KeyValuePair<string, object?> Tag(HostedSockOpsProgram program) => new(ProgramTag, program.Name);

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();
}
