using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SockOps.Emit.Runtime.Interop;

namespace SockOps.Emit.Runtime;

/// <summary>Receives one ring buffer record; the span is only valid during the call.</summary>
public delegate void RingBufferRecordHandler(ReadOnlySpan<byte> record);

/// <summary>
/// Consumer of a BPF_MAP_TYPE_RINGBUF map through its mmap()ed pages: the consumer position page (read-write),
/// the producer position page and the data area, which the kernel maps twice back to back so a record that wraps
/// is still contiguous. Records are consumed in order; concurrent <see cref="Consume"/> calls are serialized, so each
/// record is handed out once.
/// </summary>
/// <remarks>
/// The mappings belong to a <see cref="SafeHandle"/> that every read holds a reference on, so <see cref="Dispose"/>
/// (from any thread, also from inside a handler) never unmaps pages a read is using: the unmapping happens when the
/// last in-flight read ends. After <see cref="Dispose"/> every member throws <see cref="ObjectDisposedException"/>,
/// except <see cref="ReadAllAsync(CancellationToken)"/>, whose enumeration ends (completes normally) instead.
/// </remarks>
public sealed unsafe class RingBuffer : IDisposable
{
    private const uint BusyBit = 1u << 31, DiscardBit = 1u << 30; // BPF_RINGBUF_BUSY_BIT, BPF_RINGBUF_DISCARD_BIT
    private const int HeaderSize = 8; // BPF_RINGBUF_HDR_SZ

    private readonly BpfMap _map;
    private readonly RingMapping _mapping;
    private readonly ulong* _consumerPosition;
    private readonly ulong* _producerPosition;
    private readonly byte* _data;
    private readonly ulong _mask;
    private readonly Lock _consumeLock = new();
    private volatile bool _disposed;

    /// <summary>Maps the ring buffer's pages. The map must stay open while this consumer is used (the mapping itself
    /// keeps the kernel object alive; <see cref="WaitForData"/> polls the map's descriptor).</summary>
    public RingBuffer(BpfMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (map.Type != MapType.RingBuf) throw new ArgumentException($"Map '{map.Name}' is a {map.Type}, not a ring buffer.", nameof(map));
        _map = map;
        int pageSize = Environment.SystemPageSize;
        nuint size = (nuint)map.MaxEntries;
        _mapping = RingMapping.Map(map, (nuint)pageSize, (nuint)pageSize + 2 * size, pageSize);
        _consumerPosition = (ulong*)_mapping.ConsumerPage;
        _producerPosition = (ulong*)_mapping.ProducerRegion;
        _data = (byte*)_mapping.ProducerRegion + pageSize;
        _mask = size - 1;
    }

    /// <summary>Bytes produced but not yet consumed (including record headers).</summary>
    /// <exception cref="ObjectDisposedException">This consumer was disposed.</exception>
    public long Pending
    {
        get
        {
            Enter();
            try
            {
                return PendingUnchecked();
            }
            finally
            {
                _mapping.DangerousRelease();
            }
        }
    }

    /// <summary>Hands every committed record to <paramref name="handler"/> without copying and releases its space.
    /// Stops early when the consumer is disposed (e.g. by the handler); the records handled so far stay consumed.</summary>
    /// <returns>The number of records handled.</returns>
    /// <exception cref="ObjectDisposedException">This consumer was disposed before the call.</exception>
    public int Consume(RingBufferRecordHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        Enter();
        try
        {
            lock (_consumeLock)
            {
                return ConsumeLocked(handler);
            }
        }
        finally
        {
            _mapping.DangerousRelease();
        }
    }

    private int ConsumeLocked(RingBufferRecordHandler handler)
    {
        int count = 0;
        ulong consumer = Volatile.Read(ref *_consumerPosition);
        while (!_disposed)
        {
            // Acquire the producer position, then each header's length word (the kernel publishes with release).
            ulong producer = Volatile.Read(ref *_producerPosition);
            if (consumer >= producer) break;
            bool progressed = false;
            while (consumer < producer && !_disposed)
            {
                uint* header = (uint*)(_data + (consumer & _mask));
                uint length = Volatile.Read(ref *header);
                if ((length & BusyBit) != 0) break; // reserved but not yet committed: stop to keep order
                uint payload = length & ~(BusyBit | DiscardBit);
                consumer += (payload + HeaderSize + 7) & ~7u;
                if ((length & DiscardBit) == 0)
                {
                    handler(new ReadOnlySpan<byte>((byte*)header + HeaderSize, (int)payload));
                    count++;
                }
                // Release the space so the producer can reuse it (the mapping is still referenced by this call).
                Volatile.Write(ref *_consumerPosition, consumer);
                progressed = true;
            }
            if (!progressed) break;
        }
        return count;
    }

    /// <summary>Waits until the kernel signals data (or the timeout passes). Returns true when data is pending.
    /// A concurrent <see cref="Dispose"/> does not interrupt the wait; it throws when the wait ends.</summary>
    /// <exception cref="ObjectDisposedException">This consumer (or its map) was disposed.</exception>
    public bool WaitForData(int timeoutMilliseconds) =>
        TryWaitForData(timeoutMilliseconds, out bool pending) ? pending : throw DisposedException();

    /// <summary>The wait, reporting disposal of this consumer as false instead of throwing.</summary>
    private bool TryWaitForData(int timeoutMilliseconds, out bool pending)
    {
        pending = false;
        if (!TryEnter()) return false;
        try
        {
            if (PendingUnchecked() > 0)
            {
                pending = true;
                return true;
            }
            bool added = false;
            try
            {
                try
                {
                    _map.Fd.DangerousAddRef(ref added);
                }
                catch (ObjectDisposedException e)
                {
                    throw new ObjectDisposedException($"The ring buffer map '{_map.Name}' was disposed while its consumer is still in use.", e);
                }
                var poll = new Libc.PollFd { Fd = _map.Fd.Value, Events = Libc.POLLIN };
                int result = Libc.Poll(&poll, 1, timeoutMilliseconds);
                if (result < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno != Errno.EINTR) throw new IOException($"poll on ring buffer '{_map.Name}' failed with {Errno.Name(errno)}.");
                }
            }
            finally
            {
                if (added) _map.Fd.DangerousRelease();
            }
            if (_disposed) return false;
            pending = PendingUnchecked() > 0;
            return true;
        }
        finally
        {
            _mapping.DangerousRelease();
        }
    }

    /// <summary>All records, in order, as copies; waits for more until cancelled (then throws
    /// <see cref="OperationCanceledException"/>) or until this consumer is disposed — also concurrently, e.g. by the
    /// owner of a hosted program — which ends the enumeration normally after the records already copied.</summary>
    public async IAsyncEnumerable<ReadOnlyMemory<byte>> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var batch = new List<ReadOnlyMemory<byte>>();
        void Collect(ReadOnlySpan<byte> record) => batch.Add(record.ToArray());
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!TryConsume(Collect)) yield break;
            if (batch.Count > 0)
            {
                foreach (var record in batch) yield return record;
                batch.Clear();
                continue;
            }
            // Block in poll(2) on a pool thread in short slices so cancellation and disposal are observed promptly.
            if (!await Task.Run(() => TryWaitForData(50, out _), cancellationToken).ConfigureAwait(false)) yield break;
        }
    }

    /// <summary>All records read as <typeparamref name="T"/> (each record must be at least that large); ends like
    /// <see cref="ReadAllAsync(CancellationToken)"/>.</summary>
    public async IAsyncEnumerable<T> ReadAllAsync<T>([EnumeratorCancellation] CancellationToken cancellationToken = default) where T : unmanaged
    {
        await foreach (var record in ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            if (record.Length < Unsafe.SizeOf<T>())
                throw new InvalidDataException($"A {record.Length}-byte record is smaller than {typeof(T).Name} ({Unsafe.SizeOf<T>()} bytes).");
            yield return MemoryMarshal.Read<T>(record.Span);
        }
    }

    /// <summary>Unmaps the pages once no read is using them (the map itself is not disposed). Thread-safe and idempotent.</summary>
    public void Dispose()
    {
        _disposed = true;
        _mapping.Dispose();
    }

    private bool TryConsume(RingBufferRecordHandler handler)
    {
        if (!TryEnter()) return false;
        try
        {
            lock (_consumeLock)
            {
                ConsumeLocked(handler);
            }
            return true;
        }
        finally
        {
            _mapping.DangerousRelease();
        }
    }

    // The consumer position first: it never passes the producer position, which only grows, so the difference is ≥ 0.
    private long PendingUnchecked()
    {
        ulong consumer = Volatile.Read(ref *_consumerPosition);
        ulong producer = Volatile.Read(ref *_producerPosition);
        return (long)(producer - consumer);
    }

    private void Enter()
    {
        if (!TryEnter()) throw DisposedException();
    }

    /// <summary>Takes a reference on the mapping (false once disposed); the caller releases it.</summary>
    private bool TryEnter()
    {
        if (_disposed) return false;
        bool added = false;
        try
        {
            _mapping.DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
        return added;
    }

    private ObjectDisposedException DisposedException() =>
        new(nameof(RingBuffer), $"The consumer of ring buffer '{_map.Name}' was disposed; its pages are unmapped.");

    /// <summary>Both mappings of a ring buffer; released (munmap) when the last reference is gone.</summary>
    private sealed class RingMapping : SafeHandle
    {
        private nuint _consumerLength;
        private nint _producerRegion;
        private nuint _producerLength;

        private RingMapping() : base(-1, ownsHandle: true)
        {
        }

        public override bool IsInvalid => handle == -1;

        public nint ConsumerPage => handle;

        public nint ProducerRegion => _producerRegion;

        public static RingMapping Map(BpfMap map, nuint consumerLength, nuint producerLength, int producerOffset)
        {
            var fd = map.Fd;
            bool added = false;
            try
            {
                fd.DangerousAddRef(ref added);
                nint consumer = MapOrThrow(map, fd, consumerLength, Libc.PROT_READ | Libc.PROT_WRITE, 0, "consumer page");
                nint producer;
                try
                {
                    producer = MapOrThrow(map, fd, producerLength, Libc.PROT_READ, producerOffset, "producer page and data");
                }
                catch
                {
                    Libc.Munmap(consumer, consumerLength);
                    throw;
                }
                var mapping = new RingMapping { _consumerLength = consumerLength, _producerRegion = producer, _producerLength = producerLength };
                mapping.SetHandle(consumer);
                return mapping;
            }
            finally
            {
                if (added) fd.DangerousRelease();
            }
        }

        private static nint MapOrThrow(BpfMap map, BpfFileDescriptor fd, nuint length, int protection, long offset, string what)
        {
            nint address = Libc.Mmap(0, length, protection, Libc.MAP_SHARED, fd.Value, (nint)offset);
            if (address != -1) return address;
            int errno = Marshal.GetLastPInvokeError();
            throw new IOException($"mmap of ring buffer '{map.Name}' {what} ({length} bytes) failed with {Errno.Name(errno)} ({Errno.Describe(errno)}).");
        }

        protected override bool ReleaseHandle()
        {
            bool producer = Libc.Munmap(_producerRegion, _producerLength) == 0;
            bool consumer = Libc.Munmap(handle, _consumerLength) == 0;
            return producer && consumer;
        }
    }
}
