using SockOps.Emit.Btf;
namespace SockOps.Emit.Runtime;

/// <summary>The attributes of a map to create.</summary>
public sealed record MapSpec
{
    /// <summary>The map type.</summary>
    public required MapType Type { get; init; }

    /// <summary>Key size in bytes.</summary>
    public required int KeySize { get; init; }

    /// <summary>Value size in bytes (per CPU for per-CPU maps).</summary>
    public required int ValueSize { get; init; }

    /// <summary>Maximum number of entries (ring buffer: its byte size, a power of two multiple of the page size).</summary>
    public required int MaxEntries { get; init; }

    /// <summary>Creation flags.</summary>
    public MapFlags Flags { get; init; }

    /// <summary>The map name; sanitized to [A-Za-z0-9_.] and cut to 15 characters.</summary>
    public string? Name { get; init; }

    /// <summary>BTF describing key and value (required by sk_storage).</summary>
    public MapBtf? Btf { get; init; }

    /// <summary>Checks what the kernel would check for this type, before calling it.</summary>
    /// <exception cref="ArgumentException">The combination is one the kernel refuses; the message says which rule.</exception>
    public void Validate()
    {
        string what = $"{Type} map '{Name}'";
        void Require(bool condition, string rule)
        {
            if (!condition) throw new ArgumentException($"{what}: {rule}");
        }
        Require(KeySize >= 0 && ValueSize >= 0 && MaxEntries >= 0, "sizes and max_entries must not be negative");
        switch (Type)
        {
            case MapType.Array or MapType.PerCpuArray:
                Require(KeySize == 4, $"array keys are u32 (key size 4), got {KeySize}");
                Require(ValueSize > 0, "value size must be positive");
                Require(MaxEntries > 0, "max_entries must be positive");
                break;
            case MapType.Hash or MapType.PerCpuHash or MapType.LruHash or MapType.LruPerCpuHash:
                Require(KeySize > 0 && ValueSize > 0, "key and value sizes must be positive");
                Require(MaxEntries > 0, "max_entries must be positive");
                Require(!Flags.HasFlag(MapFlags.NoPrealloc) || Type is MapType.Hash or MapType.PerCpuHash,
                    "LRU maps cannot use BPF_F_NO_PREALLOC");
                break;
            case MapType.SockMap:
                Require(KeySize == 4, $"sockmap keys are u32 (key size 4), got {KeySize}");
                Require(ValueSize is 4 or 8, $"sockmap values are a socket fd on update and the socket cookie on lookup: size 4 or 8 (8 to read cookies), got {ValueSize}");
                Require(MaxEntries > 0, "max_entries must be positive");
                break;
            case MapType.SockHash:
                Require(KeySize > 0, "key size must be positive");
                Require(ValueSize is 4 or 8, $"sockhash values are a socket fd on update and the socket cookie on lookup: size 4 or 8, got {ValueSize}");
                Require(MaxEntries > 0, "max_entries must be positive");
                break;
            case MapType.SkStorage:
                Require(KeySize == 4, "sk_storage keys are the socket fd: key size 4");
                Require(ValueSize > 0, "value size must be positive");
                Require(MaxEntries == 0, $"sk_storage needs max_entries = 0 (storage lives in each socket), got {MaxEntries}");
                Require(Flags.HasFlag(MapFlags.NoPrealloc), "sk_storage needs BPF_F_NO_PREALLOC (MapFlags.NoPrealloc)");
                Require(Btf is not null, "sk_storage needs BTF for key and value (set Btf, e.g. from BtfBuilder)");
                break;
            case MapType.RingBuf:
                Require(KeySize == 0 && ValueSize == 0, "ring buffers have no key or value: sizes must be 0");
                Require(MaxEntries > 0 && (MaxEntries & (MaxEntries - 1)) == 0 && MaxEntries % Environment.SystemPageSize == 0,
                    $"ring buffer size (max_entries) must be a power of two multiple of the page size ({Environment.SystemPageSize}), got {MaxEntries}");
                break;
            case MapType.PerfEventArray:
                Require(KeySize == 4 && ValueSize == 4, "perf event arrays have u32 keys and u32 (fd) values");
                break;
            default:
                break;
        }
    }
}

/// <summary>BTF type ids of a map's key and value in a loaded BTF object.</summary>
/// <param name="Btf">The loaded BTF object (kept open by the caller while creating maps).</param>
/// <param name="KeyTypeId">The key type id.</param>
/// <param name="ValueTypeId">The value type id.</param>
public sealed record MapBtf(LoadedBtf Btf, uint KeyTypeId, uint ValueTypeId);
