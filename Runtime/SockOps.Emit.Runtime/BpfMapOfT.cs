using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SockOps.Emit.Runtime;

/// <summary>A map with unmanaged C# key and value types whose sizes match the map's.</summary>
/// <typeparam name="TKey">The key type (its size must equal the key size).</typeparam>
/// <typeparam name="TValue">The value type (its size must equal the value size).</typeparam>
public sealed class BpfMap<TKey, TValue> : BpfMap
    where TKey : unmanaged
    where TValue : unmanaged
{
    // The sizes are checked before the base constructor duplicates the descriptor, so a mismatch leaks nothing.
    private BpfMap(BpfMap untyped) : base(CheckSizes(untyped))
    {
    }

    private static BpfMap CheckSizes(BpfMap untyped)
    {
        ArgumentNullException.ThrowIfNull(untyped);
        if (Unsafe.SizeOf<TKey>() != untyped.KeySize && untyped.Type != MapType.RingBuf)
            throw new ArgumentException($"{typeof(TKey).Name} is {Unsafe.SizeOf<TKey>()} bytes but map '{untyped.Name}' has {untyped.KeySize}-byte keys.");
        if (Unsafe.SizeOf<TValue>() != untyped.ValueSize && untyped.Type != MapType.RingBuf)
            throw new ArgumentException($"{typeof(TValue).Name} is {Unsafe.SizeOf<TValue>()} bytes but map '{untyped.Name}' has {untyped.ValueSize}-byte values.");
        return untyped;
    }

    /// <summary>Creates a map; key and value sizes default to the sizes of <typeparamref name="TKey"/> and <typeparamref name="TValue"/>.</summary>
    public static BpfMap<TKey, TValue> Create(MapType type, int maxEntries, string? name = null, MapFlags flags = MapFlags.None, MapBtf? btf = null) =>
        Create(new MapSpec
        {
            Type = type,
            KeySize = Unsafe.SizeOf<TKey>(),
            ValueSize = Unsafe.SizeOf<TValue>(),
            MaxEntries = maxEntries,
            Name = name,
            Flags = flags,
            Btf = btf,
        });

    /// <summary>Creates a map from a full spec; its sizes must match the type parameters.</summary>
    public static new BpfMap<TKey, TValue> Create(MapSpec spec)
    {
        using BpfMap untyped = BpfMap.Create(spec);
        return new BpfMap<TKey, TValue>(untyped);
    }

    /// <summary>A typed view of the same kernel map with a descriptor of its own (a duplicate of
    /// <paramref name="map"/>'s): each owns and disposes its own descriptor, and disposing one leaves the other usable.</summary>
    /// <exception cref="ArgumentException">The key or value type's size differs from the map's.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="map"/> was already disposed.</exception>
    public static BpfMap<TKey, TValue> From(BpfMap map) => new(map);

    /// <summary>The value for a key.</summary>
    /// <exception cref="KeyNotFoundException">The key is absent.</exception>
    public TValue Lookup(TKey key) => TryLookup(key, out TValue value) ? value
        : throw new KeyNotFoundException($"Key {key} is not in map '{Name}'.");

    /// <summary>The value for a key; false when absent.</summary>
    public bool TryLookup(TKey key, out TValue value)
    {
        RequireNotPerCpu();
        value = default;
        return TryLookup(AsBytes(ref key), MemoryMarshal.AsBytes(new Span<TValue>(ref value)));
    }

    /// <summary>The values of all possible CPUs for a key of a per-CPU map; null when absent.</summary>
    public TValue[]? LookupPerCpu(TKey key)
    {
        if (!IsPerCpu) throw new InvalidOperationException($"Map '{Name}' ({Type}) is not per-CPU; use Lookup.");
        byte[] buffer = new byte[ValueBufferSize];
        if (!TryLookup(AsBytes(ref key), buffer)) return null;
        int stride = (ValueSize + 7) / 8 * 8;
        var result = new TValue[ValueBufferSize / stride];
        for (int cpu = 0; cpu < result.Length; cpu++) result[cpu] = MemoryMarshal.Read<TValue>(buffer.AsSpan(cpu * stride));
        return result;
    }

    /// <summary>Creates or replaces an element (per-CPU maps: the same value on every CPU).</summary>
    public void Update(TKey key, TValue value, UpdateFlags flags = UpdateFlags.Any)
    {
        if (!IsPerCpu)
        {
            Update(AsBytes(ref key), MemoryMarshal.AsBytes(new ReadOnlySpan<TValue>(in value)), flags);
            return;
        }
        int stride = (ValueSize + 7) / 8 * 8;
        byte[] buffer = new byte[ValueBufferSize];
        for (int at = 0; at < buffer.Length; at += stride) MemoryMarshal.Write(buffer.AsSpan(at), in value);
        Update(AsBytes(ref key), buffer, flags);
    }

    /// <summary>Deletes an element; false when absent.</summary>
    public bool Delete(TKey key) => Delete(AsBytes(ref key));

    /// <summary>All keys, walked with BPF_MAP_GET_NEXT_KEY (a snapshot; concurrent changes may skip or repeat keys).</summary>
    public IEnumerable<TKey> Keys
    {
        get
        {
            var keys = new List<TKey>();
            TKey current = default;
            TKey next = default;
            bool first = true;
            while (TryGetNextKey(first ? ReadOnlySpan<byte>.Empty : AsBytes(ref current), AsBytes(ref next)))
            {
                keys.Add(next);
                current = next;
                first = false;
                // GET_NEXT_KEY restarts from the first key when the current one was deleted concurrently; a map never
                // holds more than max_entries keys, so stop there instead of looping.
                if (MaxEntries > 0 && keys.Count >= MaxEntries) break;
            }
            return keys;
        }
    }

    private void RequireNotPerCpu()
    {
        if (IsPerCpu) throw new InvalidOperationException($"Map '{Name}' ({Type}) is per-CPU; use LookupPerCpu.");
    }

    private static Span<byte> AsBytes(ref TKey key) => MemoryMarshal.AsBytes(new Span<TKey>(ref key));
}
