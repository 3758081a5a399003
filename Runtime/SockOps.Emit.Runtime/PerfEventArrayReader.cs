using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SockOps.Emit.Runtime.Interop;

namespace SockOps.Emit.Runtime;

/// <summary>Receives one perf event array sample (the bytes a program passed to <c>bpf_perf_event_output</c>) and the CPU it came from.
/// The span is only valid during the call.</summary>
public delegate void PerfSampleHandler(int cpu, ReadOnlySpan<byte> sample);

/// <summary>
/// Reader for a BPF_MAP_TYPE_PERF_EVENT_ARRAY: opens one PERF_COUNT_SW_BPF_OUTPUT event per online CPU
/// (perf_event_open), mmaps its ring, stores the event fd in the map at the CPU's index and reads the
/// PERF_RECORD_SAMPLE records programs emit with <c>bpf_perf_event_output(ctx, &amp;map, BPF_F_CURRENT_CPU, data, size)</c>.
/// Samples are in order per CPU; PERF_RECORD_LOST records are counted in <see cref="LostSamples"/>. Concurrent
/// <see cref="Consume"/> calls are serialized, so each sample is handed out once.
/// </summary>
/// <remarks>
/// Each ring's mapping and event descriptor are SafeHandles that every read holds a reference on, so
/// <see cref="Dispose"/> (from any thread, also from inside a handler) never unmaps or closes what a read is using.
/// After <see cref="Dispose"/> members throw <see cref="ObjectDisposedException"/>, except <see cref="ReadAllAsync"/>,
/// whose enumeration ends (completes normally) instead.
/// </remarks>
public sealed unsafe partial class PerfEventArrayReader : IDisposable
{
    private const int DataHeadOffset = 1024, DataTailOffset = 1032; // struct perf_event_mmap_page
    private const uint RecordLost = 2, RecordSample = 9;           // PERF_RECORD_*

    private readonly BpfMap _map;
    private readonly CpuRing[] _rings;
    private readonly Lock _consumeLock = new();
    private long _lost;
    private int _disposed;

    /// <summary>Opens and maps the per-CPU events and installs them into <paramref name="map"/>.</summary>
    /// <param name="map">A perf event array with at least as many entries as the highest online CPU + 1.</param>
    /// <param name="pagesPerCpu">Data pages per CPU ring (a power of two).</param>
    public PerfEventArrayReader(BpfMap map, int pagesPerCpu = 64)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (map.Type != MapType.PerfEventArray) throw new ArgumentException($"Map '{map.Name}' is a {map.Type}, not a perf event array.", nameof(map));
        if (pagesPerCpu <= 0 || (pagesPerCpu & (pagesPerCpu - 1)) != 0) throw new ArgumentOutOfRangeException(nameof(pagesPerCpu), pagesPerCpu, "Must be a power of two.");
        _map = map;
        var rings = new List<CpuRing>();
        try
        {
            foreach (int cpu in OnlineCpus())
            {
                if (cpu >= map.MaxEntries)
                    throw new ArgumentException($"Perf event array '{map.Name}' has {map.MaxEntries} entries but CPU {cpu} is online; create it with max_entries ≥ {cpu + 1}.", nameof(map));
                var ring = CpuRing.Open(cpu, pagesPerCpu);
                rings.Add(ring);
                uint key = (uint)cpu;
                bool added = false;
                try
                {
                    ring.Fd.DangerousAddRef(ref added);
                    uint value = (uint)ring.Fd.Value;
                    map.Update(MemoryMarshal.AsBytes(new ReadOnlySpan<uint>(in key)), MemoryMarshal.AsBytes(new ReadOnlySpan<uint>(in value)));
                }
                finally
                {
                    if (added) ring.Fd.DangerousRelease();
                }
            }
        }
        catch
        {
            _rings = [.. rings];
            Dispose();
            throw;
        }
        _rings = [.. rings];
    }

    /// <summary>Samples the kernel dropped because a CPU ring was full. The kernel reports a loss (PERF_RECORD_LOST)
    /// once space is free again, ahead of the next sample on that CPU.</summary>
    public long LostSamples => Interlocked.Read(ref _lost);

    private bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Hands every available sample of every CPU ring to <paramref name="handler"/> and frees the space.
    /// Stops early when the reader is disposed (e.g. by the handler).</summary>
    /// <returns>The number of samples handled.</returns>
    /// <exception cref="ObjectDisposedException">This reader was disposed before the call.</exception>
    public int Consume(PerfSampleHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return TryConsume(handler, out int count) ? count : throw DisposedException();
    }

    private bool TryConsume(PerfSampleHandler handler, out int count)
    {
        count = 0;
        if (IsDisposed) return false;
        lock (_consumeLock)
        {
            byte[]? wrapped = null;
            foreach (var ring in _rings)
            {
                if (!ring.Mapping.TryAddRef()) break; // disposed during this call: report what was handled
                try
                {
                    count += ConsumeRing(ring, handler, ref wrapped);
                }
                finally
                {
                    ring.Mapping.DangerousRelease();
                }
                if (IsDisposed) break;
            }
        }
        return true;
    }

    private int ConsumeRing(CpuRing ring, PerfSampleHandler handler, ref byte[]? wrapped)
    {
        int count = 0;
        byte* baseAddress = ring.Mapping.Base;
        ulong head = Volatile.Read(ref *(ulong*)(baseAddress + DataHeadOffset)); // acquire
        ulong tail = *(ulong*)(baseAddress + DataTailOffset);
        while (tail < head && !IsDisposed)
        {
            // perf_event_header { u32 type; u16 misc; u16 size; }: records are 8-byte aligned but may wrap.
            ReadOnlySpan<byte> header = ring.Read(tail, 8, ref wrapped);
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(header);
            int size = BinaryPrimitives.ReadUInt16LittleEndian(header[6..]);
            if (size < 8) break; // corrupt; stop rather than spin
            ReadOnlySpan<byte> record = ring.Read(tail, size, ref wrapped);
            if (type == RecordSample)
            {
                int rawSize = (int)BinaryPrimitives.ReadUInt32LittleEndian(record[8..]);
                handler(ring.Cpu, record.Slice(12, Math.Min(rawSize, size - 12)));
                count++;
            }
            else if (type == RecordLost)
            {
                Interlocked.Add(ref _lost, (long)BinaryPrimitives.ReadUInt64LittleEndian(record[16..]));
            }
            tail += (ulong)size;
        }
        Volatile.Write(ref *(ulong*)(baseAddress + DataTailOffset), tail); // release the space
        return count;
    }

    /// <summary>Waits with poll(2) until a CPU ring has data or the timeout passes. A concurrent <see cref="Dispose"/>
    /// does not interrupt the wait; it throws when the wait ends.</summary>
    /// <exception cref="ObjectDisposedException">This reader was disposed.</exception>
    public bool WaitForData(int timeoutMilliseconds) =>
        TryWaitForData(timeoutMilliseconds, out bool ready) ? ready : throw DisposedException();

    private bool TryWaitForData(int timeoutMilliseconds, out bool ready)
    {
        ready = false;
        if (IsDisposed) return false;
        var fds = new Libc.PollFd[_rings.Length];
        int leased = 0;
        try
        {
            for (; leased < fds.Length; leased++)
            {
                bool added = false;
                try
                {
                    _rings[leased].Fd.DangerousAddRef(ref added);
                }
                catch (ObjectDisposedException)
                {
                    return false;
                }
                fds[leased] = new Libc.PollFd { Fd = _rings[leased].Fd.Value, Events = Libc.POLLIN };
            }
            fixed (Libc.PollFd* p = fds)
            {
                int result = Libc.Poll(p, (nuint)fds.Length, timeoutMilliseconds);
                if (result < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno != Errno.EINTR) throw new IOException($"poll on the perf event rings of '{_map.Name}' failed with {Errno.Name(errno)}.");
                }
                ready = result > 0;
            }
            return !IsDisposed;
        }
        finally
        {
            for (int i = 0; i < leased; i++) _rings[i].Fd.DangerousRelease();
        }
    }

    /// <summary>All samples as (cpu, copy of the bytes); waits for more until cancelled (then throws
    /// <see cref="OperationCanceledException"/>) or until this reader is disposed — also concurrently — which ends the
    /// enumeration normally after the samples already copied.</summary>
    public async IAsyncEnumerable<(int Cpu, ReadOnlyMemory<byte> Sample)> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var batch = new List<(int, ReadOnlyMemory<byte>)>();
        void Collect(int cpu, ReadOnlySpan<byte> sample) => batch.Add((cpu, sample.ToArray()));
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!TryConsume(Collect, out _) && batch.Count == 0) yield break;
            if (batch.Count > 0)
            {
                foreach (var item in batch) yield return item;
                batch.Clear();
                continue;
            }
            if (!await Task.Run(() => TryWaitForData(50, out _), cancellationToken).ConfigureAwait(false)) yield break;
        }
    }

    /// <summary>Removes the events from the map (unless the map was disposed first), then unmaps and closes them once
    /// no read is using them. Thread-safe and idempotent.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0 || _rings is null) return;
        foreach (var ring in _rings)
        {
            uint key = (uint)ring.Cpu;
            try
            {
                _map.Delete(MemoryMarshal.AsBytes(new ReadOnlySpan<uint>(in key)));
            }
            catch (ObjectDisposedException)
            {
                // The map was closed before this reader: nothing refers to the events any more.
            }
            ring.Dispose();
        }
    }

    private ObjectDisposedException DisposedException() =>
        new(nameof(PerfEventArrayReader), $"The reader of perf event array '{_map.Name}' was disposed; its rings are unmapped.");

    private static IEnumerable<int> OnlineCpus()
    {
        foreach (string part in File.ReadAllText("/sys/devices/system/cpu/online").Trim().Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            int dash = part.IndexOf('-', StringComparison.Ordinal);
            int first = int.Parse(dash < 0 ? part : part[..dash], CultureInfo.InvariantCulture);
            int last = dash < 0 ? first : int.Parse(part[(dash + 1)..], CultureInfo.InvariantCulture);
            for (int cpu = first; cpu <= last; cpu++) yield return cpu;
        }
    }

    [StructLayout(LayoutKind.Explicit, Size = 64)] // PERF_ATTR_SIZE_VER0
    private struct PerfEventAttr
    {
        [FieldOffset(0)] public uint Type;
        [FieldOffset(4)] public uint Size;
        [FieldOffset(8)] public ulong Config;
        [FieldOffset(16)] public ulong SamplePeriod;
        [FieldOffset(24)] public ulong SampleType;
        [FieldOffset(40)] public ulong Flags;
        [FieldOffset(48)] public uint WakeupEvents;
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial nint PerfEventOpen(nint number, PerfEventAttr* attr, int pid, int cpu, int groupFd, nuint flags);

    private sealed class CpuRing : IDisposable
    {
        private readonly ulong _dataSize;

        private CpuRing(int cpu, BpfFileDescriptor fd, PerfRingMapping mapping, ulong dataSize)
        {
            Cpu = cpu;
            Fd = fd;
            Mapping = mapping;
            _dataSize = dataSize;
        }

        public int Cpu { get; }

        public BpfFileDescriptor Fd { get; }

        public PerfRingMapping Mapping { get; }

        public static CpuRing Open(int cpu, int pages)
        {
            const uint PerfTypeSoftware = 1, PerfCountSwBpfOutput = 10;
            const ulong PerfSampleRaw = 1 << 10;
            const nuint PerfFlagFdCloexec = 8;
            var attr = new PerfEventAttr
            {
                Type = PerfTypeSoftware,
                Size = (uint)sizeof(PerfEventAttr),
                Config = PerfCountSwBpfOutput,
                SamplePeriod = 1,
                SampleType = PerfSampleRaw,
                WakeupEvents = 1,
            };
            nint number = RuntimeInformation.ProcessArchitecture switch
            {
                Architecture.X64 => 298,
                Architecture.Arm64 => 241,
                var other => throw new PlatformNotSupportedException($"perf_event_open is not mapped for {other}."),
            };
            nint fd = PerfEventOpen(number, &attr, -1, cpu, -1, PerfFlagFdCloexec);
            if (fd < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                throw new IOException($"perf_event_open(PERF_COUNT_SW_BPF_OUTPUT, cpu {cpu}) failed with {Errno.Name(errno)} ({Errno.Describe(errno)})" +
                    (errno is Errno.EACCES or Errno.EPERM ? "; needs CAP_PERFMON or a permissive kernel.perf_event_paranoid." : "."));
            }
            var handle = new BpfFileDescriptor((int)fd);
            int pageSize = Environment.SystemPageSize;
            nuint length = (nuint)((pages + 1) * pageSize);
            nint mapped = Libc.Mmap(0, length, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, (int)fd, 0);
            if (mapped == -1)
            {
                int errno = Marshal.GetLastPInvokeError();
                handle.Dispose();
                throw new IOException($"mmap of the perf ring for cpu {cpu} ({length} bytes) failed with {Errno.Name(errno)}.");
            }
            return new CpuRing(cpu, handle, new PerfRingMapping(mapped, length), (ulong)(pages * pageSize));
        }

        /// <summary>The bytes at ring position <paramref name="position"/>; copied into <paramref name="scratch"/> when they wrap.
        /// The caller holds a reference on <see cref="Mapping"/>.</summary>
        public ReadOnlySpan<byte> Read(ulong position, int length, ref byte[]? scratch)
        {
            byte* data = Mapping.Base + Environment.SystemPageSize;
            ulong offset = position % _dataSize;
            if (offset + (ulong)length <= _dataSize) return new ReadOnlySpan<byte>(data + offset, length);
            if (scratch is null || scratch.Length < length) scratch = new byte[Math.Max(length, 256)];
            int first = (int)(_dataSize - offset);
            new ReadOnlySpan<byte>(data + offset, first).CopyTo(scratch);
            new ReadOnlySpan<byte>(data, length - first).CopyTo(scratch.AsSpan(first));
            return scratch.AsSpan(0, length);
        }

        public void Dispose()
        {
            Mapping.Dispose();
            Fd.Dispose();
        }
    }

    /// <summary>One perf ring's mapping; munmap()ed when the last reference is released.</summary>
    private sealed class PerfRingMapping : SafeHandle
    {
        private readonly nuint _length;

        public PerfRingMapping(nint address, nuint length) : base(-1, ownsHandle: true)
        {
            _length = length;
            SetHandle(address);
        }

        public override bool IsInvalid => handle == -1;

        public byte* Base => (byte*)handle;

        /// <summary>DangerousAddRef that answers false instead of throwing once the mapping is closed.</summary>
        public bool TryAddRef()
        {
            bool added = false;
            try
            {
                DangerousAddRef(ref added);
            }
            catch (ObjectDisposedException)
            {
                return false;
            }
            return added;
        }

        protected override bool ReleaseHandle() => Libc.Munmap(handle, _length) == 0;
    }
}
