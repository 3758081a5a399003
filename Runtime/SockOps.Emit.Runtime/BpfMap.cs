using System.Runtime.InteropServices;
using SockOps.Emit.Runtime.Interop;

namespace SockOps.Emit.Runtime;

/// <summary>A BPF map with byte-level access. See <see cref="BpfMap{TKey, TValue}"/> for typed access.</summary>
public class BpfMap : IDisposable
{
    /// <summary>Wraps an open map descriptor with its attributes.</summary>
    protected BpfMap(BpfFileDescriptor fd, MapType type, int keySize, int valueSize, int maxEntries, MapFlags flags, string name)
    {
        Fd = fd;
        Type = type;
        KeySize = keySize;
        ValueSize = valueSize;
        MaxEntries = maxEntries;
        Flags = flags;
        Name = name;
        IsPerCpu = type is MapType.PerCpuArray or MapType.PerCpuHash or MapType.LruPerCpuHash;
        // Per-CPU lookups return one 8-byte-aligned slot per possible CPU.
        ValueBufferSize = IsPerCpu ? (valueSize + 7) / 8 * 8 * PossibleCpus.Count : valueSize;
    }

    /// <summary>Copies the attributes of another instance and opens a descriptor of its own on the same kernel map
    /// (F_DUPFD_CLOEXEC): each instance owns its descriptor, and disposing one leaves the other usable.</summary>
    protected BpfMap(BpfMap source)
        : this(Duplicate(source), source.Type, source.KeySize, source.ValueSize, source.MaxEntries, source.Flags, source.Name)
    {
    }

    private static BpfFileDescriptor Duplicate(BpfMap source)
    {
        ArgumentNullException.ThrowIfNull(source);
        bool added = false;
        try
        {
            try
            {
                source.Fd.DangerousAddRef(ref added);
            }
            catch (ObjectDisposedException e)
            {
                throw new ObjectDisposedException($"Map '{source.Name}' was disposed; there is no descriptor to share.", e);
            }
            int fd = Libc.Fcntl(source.Fd.Value, Libc.F_DUPFD_CLOEXEC, 0);
            if (fd < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                throw new IOException($"fcntl(F_DUPFD_CLOEXEC) of the descriptor of map '{source.Name}' failed with {Errno.Name(errno)} ({Errno.Describe(errno)}).");
            }
            return new BpfFileDescriptor(fd);
        }
        finally
        {
            if (added) source.Fd.DangerousRelease();
        }
    }

    /// <summary>The map's descriptor.</summary>
    public BpfFileDescriptor Fd { get; }

    /// <summary>The map type.</summary>
    public MapType Type { get; }

    /// <summary>Key size in bytes.</summary>
    public int KeySize { get; }

    /// <summary>Value size in bytes as created (per CPU for per-CPU maps).</summary>
    public int ValueSize { get; }

    /// <summary>Bytes a lookup writes: <see cref="ValueSize"/>, or one 8-byte aligned slot per possible CPU for per-CPU maps.</summary>
    public int ValueBufferSize { get; }

    /// <summary>Maximum number of entries.</summary>
    public int MaxEntries { get; }

    /// <summary>Creation flags.</summary>
    public MapFlags Flags { get; }

    /// <summary>The sanitized name.</summary>
    public string Name { get; }

    /// <summary>Whether lookups return one value per possible CPU.</summary>
    public bool IsPerCpu { get; }

    /// <summary>Creates a map after checking the kernel's preconditions for its type.</summary>
    /// <exception cref="ArgumentException">The spec breaks a rule the kernel enforces.</exception>
    /// <exception cref="FeatureNotSupportedException">The kernel lacks the map type (found by a probe).</exception>
    /// <exception cref="BpfException">The kernel refused for another reason.</exception>
    public static BpfMap Create(MapSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        string name = BpfProgram.SanitizeName(spec.Name);
        var fd = CreateRaw(spec, name, out int errno);
        if (fd is null)
        {
            if (errno is Errno.EINVAL or Errno.ENOTSUPP or Errno.EOPNOTSUPP && !FeatureProbes.IsMapTypeSupported(spec.Type))
                throw new FeatureNotSupportedException(FeatureProbes.MapTypeProbeName(spec.Type), FeatureProbes.MinimumKernel(spec.Type),
                    new BpfException(BpfCommand.MapCreate, errno, $"{spec.Type} map '{name}'"));
            throw new BpfException(BpfCommand.MapCreate, errno,
                $"{spec.Type} map '{name}' key={spec.KeySize} value={spec.ValueSize} max_entries={spec.MaxEntries} flags={spec.Flags}");
        }
        return new BpfMap(fd, spec.Type, spec.KeySize, spec.ValueSize, spec.MaxEntries, spec.Flags, name);
    }

    /// <summary>BPF_MAP_CREATE without checks or exceptions: the descriptor, or null and the errno.</summary>
    internal static unsafe BpfFileDescriptor? CreateRaw(MapSpec spec, string name, out int errno)
    {
        var leases = new List<SafeHandleLease>();
        try
        {
            var attr = new MapCreateAttr
            {
                MapType = (uint)spec.Type,
                KeySize = (uint)spec.KeySize,
                ValueSize = (uint)spec.ValueSize,
                MaxEntries = (uint)spec.MaxEntries,
                MapFlags = (uint)spec.Flags,
                MapName = ObjectName.From(name),
            };
            if (spec.Btf is MapBtf btf)
            {
                attr.BtfFd = (uint)leases.Lease(btf.Btf.Fd);
                attr.BtfKeyTypeId = btf.KeyTypeId;
                attr.BtfValueTypeId = btf.ValueTypeId;
            }
            int result = BpfSyscall.TryInvoke(BpfCommand.MapCreate, ref attr);
            errno = result < 0 ? -result : 0;
            return result < 0 ? null : new BpfFileDescriptor(result);
        }
        finally
        {
            leases.ReleaseAll();
        }
    }

    /// <summary>Opens a map pinned on bpffs.</summary>
    public static BpfMap OpenPinned(string path)
    {
        var fd = BpfFs.Open(path);
        try
        {
            return FromDescriptor(fd);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>Wraps an open map descriptor, reading its attributes from the kernel.</summary>
    public static unsafe BpfMap FromDescriptor(BpfFileDescriptor fd)
    {
        ArgumentNullException.ThrowIfNull(fd);
        BpfFs.RequireKind(fd, "bpf-map", "BpfMap.FromDescriptor");
        var info = default(MapInfoNative);
        var attr = new InfoAttr { BpfFd = (uint)fd.Value, InfoLength = (uint)sizeof(MapInfoNative), Info = (ulong)&info };
        BpfSyscall.Invoke(BpfCommand.ObjectGetInfoByFd, ref attr, "map info");
        return new BpfMap(fd, (MapType)info.Type, (int)info.KeySize, (int)info.ValueSize, (int)info.MaxEntries, (MapFlags)info.MapFlags,
            ObjectName.Read(info.Name));
    }

    /// <summary>The kernel's id of this map.</summary>
    public unsafe uint Id
    {
        get
        {
            bool added = false;
            try
            {
                Fd.DangerousAddRef(ref added);
                var info = default(MapInfoNative);
                var attr = new InfoAttr { BpfFd = (uint)Fd.Value, InfoLength = (uint)sizeof(MapInfoNative), Info = (ulong)&info };
                BpfSyscall.Invoke(BpfCommand.ObjectGetInfoByFd, ref attr, "map info");
                return info.Id;
            }
            finally
            {
                if (added) Fd.DangerousRelease();
            }
        }
    }

    /// <summary>Pins the map at a bpffs path.</summary>
    public void Pin(string path) => BpfFs.Pin(Fd, path);

    /// <summary>Looks a key up; false when absent.</summary>
    /// <param name="key">Exactly <see cref="KeySize"/> bytes.</param>
    /// <param name="value">Exactly <see cref="ValueBufferSize"/> bytes, filled on success.</param>
    public unsafe bool TryLookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        CheckSize(key.Length, KeySize, nameof(key));
        CheckSize(value.Length, ValueBufferSize, nameof(value));
        fixed (byte* k = key)
        fixed (byte* v = value)
        {
            var attr = new MapElemAttr { Key = (ulong)k, ValueOrNextKey = (ulong)v };
            int result = CallWithFd(BpfCommand.MapLookupElement, ref attr);
            if (result == -Errno.ENOENT) return false;
            if (result < 0) throw new BpfException(BpfCommand.MapLookupElement, -result, $"map '{Name}'");
            return true;
        }
    }

    /// <summary>Creates or replaces an element.</summary>
    public unsafe void Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, UpdateFlags flags = UpdateFlags.Any)
    {
        CheckSize(key.Length, KeySize, nameof(key));
        CheckSize(value.Length, Type is MapType.SockMap or MapType.SockHash ? value.Length : ValueBufferSize, nameof(value));
        fixed (byte* k = key)
        fixed (byte* v = value)
        {
            var attr = new MapElemAttr { Key = (ulong)k, ValueOrNextKey = (ulong)v, Flags = (ulong)flags };
            int result = CallWithFd(BpfCommand.MapUpdateElement, ref attr);
            if (result < 0) throw new BpfException(BpfCommand.MapUpdateElement, -result, $"map '{Name}' ({flags})");
        }
    }

    /// <summary>Deletes an element; false when it was absent.</summary>
    public unsafe bool Delete(ReadOnlySpan<byte> key)
    {
        CheckSize(key.Length, KeySize, nameof(key));
        fixed (byte* k = key)
        {
            var attr = new MapElemAttr { Key = (ulong)k };
            int result = CallWithFd(BpfCommand.MapDeleteElement, ref attr);
            if (result == -Errno.ENOENT) return false;
            if (result < 0) throw new BpfException(BpfCommand.MapDeleteElement, -result, $"map '{Name}'");
            return true;
        }
    }

    /// <summary>The key after <paramref name="key"/> (the first key when <paramref name="key"/> is empty); false at the end.</summary>
    public unsafe bool TryGetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey)
    {
        if (!key.IsEmpty) CheckSize(key.Length, KeySize, nameof(key));
        CheckSize(nextKey.Length, KeySize, nameof(nextKey));
        fixed (byte* k = key)
        fixed (byte* n = nextKey)
        {
            var attr = new MapElemAttr { Key = key.IsEmpty ? 0 : (ulong)k, ValueOrNextKey = (ulong)n };
            int result = CallWithFd(BpfCommand.MapGetNextKey, ref attr);
            if (result == -Errno.ENOENT) return false;
            if (result < 0) throw new BpfException(BpfCommand.MapGetNextKey, -result, $"map '{Name}'");
            return true;
        }
    }

    /// <summary>
    /// BPF_MAP_FREEZE: from now on user space can no longer write the map (programs still can, unless it was created
    /// with <see cref="MapFlags.ReadOnlyProgram"/>; then the verifier treats its contents as constants).
    /// </summary>
    /// <exception cref="BpfException">The kernel refused, e.g. EBUSY when the map is mmap()ed writable, EPERM without write access.</exception>
    public void Freeze()
    {
        var attr = new MapElemAttr();
        int result = CallWithFd(BpfCommand.MapFreeze, ref attr);
        if (result < 0) throw new BpfException(BpfCommand.MapFreeze, -result, $"map '{Name}'");
    }

    /// <summary>Adds a socket to a sockmap/sockhash (the kernel takes the socket's fd as the value).</summary>
    public unsafe void UpdateSocket(ReadOnlySpan<byte> key, SafeHandle socket, UpdateFlags flags = UpdateFlags.Any)
    {
        ArgumentNullException.ThrowIfNull(socket);
        RequireSocketMap();
        bool added = false;
        try
        {
            socket.DangerousAddRef(ref added);
            ulong fd = (ulong)socket.DangerousGetHandle();
            Update(key, new ReadOnlySpan<byte>(&fd, ValueSize), flags);
        }
        finally
        {
            if (added) socket.DangerousRelease();
        }
    }

    /// <summary>The socket cookie stored for a key of a sockmap/sockhash (created with an 8-byte value), or null.</summary>
    public ulong? LookupSocketCookie(ReadOnlySpan<byte> key)
    {
        RequireSocketMap();
        if (ValueSize != 8)
            throw new InvalidOperationException($"Map '{Name}' has {ValueSize}-byte values; the kernel returns socket cookies only for 8-byte values.");
        Span<byte> value = stackalloc byte[8];
        return TryLookup(key, value) ? MemoryMarshal.Read<ulong>(value) : null;
    }

    private void RequireSocketMap()
    {
        if (Type is not (MapType.SockMap or MapType.SockHash))
            throw new InvalidOperationException($"Map '{Name}' is a {Type}, not a sockmap or sockhash.");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Closes the descriptor.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (disposing) Fd.Dispose();
    }

    private int CallWithFd(BpfCommand command, ref MapElemAttr attr)
    {
        bool added = false;
        try
        {
            Fd.DangerousAddRef(ref added);
            attr.MapFd = (uint)Fd.Value;
            return BpfSyscall.TryInvoke(command, ref attr);
        }
        finally
        {
            if (added) Fd.DangerousRelease();
        }
    }

    private void CheckSize(int actual, int expected, string parameter)
    {
        if (actual != expected)
            throw new ArgumentException($"Map '{Name}' ({Type}) needs {expected} bytes here, got {actual}.", parameter);
    }
}
