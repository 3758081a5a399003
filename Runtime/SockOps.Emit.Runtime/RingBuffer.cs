using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SockOps.Emit.Runtime.Interop;

namespace SockOps.Emit.Runtime;

/// <summary>Receives one ring buffer record; the span is only valid during the call.</summary>
public delegate void RingBufferRecordHandler(ReadOnlySpan<byte> record);

/// <summary>
/// Consumer of a BPF_MAP_TYPE_RINGBUF map through its mmap()ed pages: the consumer position page (read-write),
/// the producer position page and the data area, which the kernel maps twice back to back so a record that wraps
/// is still contiguous. Records are consumed in order; one consumer at a time.
/// </summary>
public sealed unsafe class RingBuffer : IDisposable
{
    private const uint BusyBit = 1u << 31, DiscardBit = 1u << 30; // BPF_RINGBUF_BUSY_BIT, BPF_RINGBUF_DISCARD_BIT
    private const int HeaderSize = 8; // BPF_RINGBUF_HDR_SZ

    private readonly BpfMap _map;
    private readonly MappedRegion _consumerPage;
    private readonly MappedRegion _producerRegion;
    private readonly ulong* _consumerPosition;
    private readonly ulong* _producerPosition;
    private readonly byte* _data;
    private readonly ulong _mask;

    /// <summary>Maps the ring buffer's pages. The map must stay open while this consumer is used.</summary>
    public RingBuffer(BpfMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (map.Type != MapType.RingBuf) throw new ArgumentException($"Map '{map.Name}' is a {map.Type}, not a ring buffer.", nameof(map));
        _map = map;
        int pageSize = Environment.SystemPageSize;
        nuint size = (nuint)map.MaxEntries;
        _consumerPage = MappedRegion.Map(map.Fd, (nuint)pageSize, Libc.PROT_READ | Libc.PROT_WRITE, 0, "consumer page");
        try
        {
            _producerRegion = MappedRegion.Map(map.Fd, (nuint)pageSize + 2 * size, Libc.PROT_READ, pageSize, "producer page and data");
        }
        catch
        {
            _consumerPage.Dispose();
            throw;
        }
        _consumerPosition = (ulong*)_consumerPage.Address;
        _producerPosition = (ulong*)_producerRegion.Address;
        _data = (byte*)_producerRegion.Address + pageSize;
        _mask = size - 1;
    }

    /// <summary>Bytes produced but not yet consumed (including record headers).</summary>
    public long Pending => (long)(Volatile.Read(ref *_producerPosition) - Volatile.Read(ref *_consumerPosition));

    /// <summary>Hands every committed record to <paramref name="handler"/> without copying and releases its space.</summary>
    /// <returns>The number of records handled.</returns>
    public int Consume(RingBufferRecordHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        int count = 0;
        ulong consumer = Volatile.Read(ref *_consumerPosition);
        while (true)
        {
            // Acquire the producer position, then each header's length word (the kernel publishes with release).
            ulong producer = Volatile.Read(ref *_producerPosition);
            if (consumer >= producer) break;
            bool progressed = false;
            while (consumer < producer)
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
                // Release the space so the producer can reuse it.
                Volatile.Write(ref *_consumerPosition, consumer);
                progressed = true;
            }
            if (!progressed) break;
        }
        return count;
    }

    /// <summary>Waits until the kernel signals data (or the timeout passes). Returns true when data is pending.</summary>
    public bool WaitForData(int timeoutMilliseconds)
    {
        if (Pending > 0) return true;
        bool added = false;
        try
        {
            _map.Fd.DangerousAddRef(ref added);
            var poll = new Libc.PollFd { Fd = _map.Fd.Value, Events = Libc.POLLIN };
            int result = Libc.Poll(&poll, 1, timeoutMilliseconds);
            if (result < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno != Errno.EINTR) throw new IOException($"poll on ring buffer '{_map.Name}' failed with {Errno.Name(errno)}.");
            }
            return Pending > 0;
        }
        finally
        {
            if (added) _map.Fd.DangerousRelease();
        }
    }

    /// <summary>All records, in order, as copies; waits for more until cancelled (then throws OperationCanceledException).</summary>
    public async IAsyncEnumerable<ReadOnlyMemory<byte>> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var batch = new List<ReadOnlyMemory<byte>>();
        void Collect(ReadOnlySpan<byte> record) => batch.Add(record.ToArray());
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Consume(Collect);
            if (batch.Count > 0)
            {
                foreach (var record in batch) yield return record;
                batch.Clear();
                continue;
            }
            // Block in poll(2) on a pool thread in short slices so cancellation is observed promptly.
            await Task.Run(() => WaitForData(50), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>All records read as <typeparamref name="T"/> (each record must be at least that large).</summary>
    public async IAsyncEnumerable<T> ReadAllAsync<T>([EnumeratorCancellation] CancellationToken cancellationToken = default) where T : unmanaged
    {
        await foreach (var record in ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            if (record.Length < Unsafe.SizeOf<T>())
                throw new InvalidDataException($"A {record.Length}-byte record is smaller than {typeof(T).Name} ({Unsafe.SizeOf<T>()} bytes).");
            yield return MemoryMarshal.Read<T>(record.Span);
        }
    }

    /// <summary>Unmaps the pages (the map itself is not disposed).</summary>
    public void Dispose()
    {
        _producerRegion.Dispose();
        _consumerPage.Dispose();
    }

    private sealed class MappedRegion : SafeHandle
    {
        private nuint _length;

        private MappedRegion() : base(-1, ownsHandle: true)
        {
        }

        public override bool IsInvalid => handle == -1;

        public nint Address => handle;

        public static MappedRegion Map(BpfFileDescriptor fd, nuint length, int protection, long offset, string what)
        {
            bool added = false;
            try
            {
                fd.DangerousAddRef(ref added);
                nint address = Libc.Mmap(0, length, protection, Libc.MAP_SHARED, fd.Value, (nint)offset);
                if (address == -1)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    throw new IOException($"mmap of the ring buffer {what} ({length} bytes) failed with {Errno.Name(errno)} ({Errno.Describe(errno)}).");
                }
                var region = new MappedRegion { _length = length };
                region.SetHandle(address);
                return region;
            }
            finally
            {
                if (added) fd.DangerousRelease();
            }
        }

        protected override bool ReleaseHandle() => Libc.Munmap(handle, _length) == 0;
    }
}
