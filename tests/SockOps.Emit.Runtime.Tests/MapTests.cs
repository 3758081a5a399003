using SockOps.Emit.Btf;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using SockOps.Emit.Runtime.Btf;
using SockOps.Emit.TestSupport;

namespace SockOps.Emit.Runtime.Tests;

public class MapTests
{
    /// <summary>From gives the typed view a descriptor of its own: disposing either instance leaves the other working
    /// on the same kernel map (before, both shared one descriptor and the survivor threw ObjectDisposedException).</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void From_owns_its_own_descriptor_and_disposing_either_leaves_the_other_usable(bool disposeSourceFirst)
    {
        KernelGate.Require();
        var untyped = BpfMap.Create(new MapSpec { Type = MapType.Array, KeySize = 4, ValueSize = 8, MaxEntries = 2, Name = "shared" });
        var typed = BpfMap<uint, ulong>.From(untyped);
        try
        {
            int untypedFd = untyped.Fd.Value, typedFd = typed.Fd.Value;
            Assert.Equal(untyped.Id, typed.Id);
            typed.Update(1, 77);
            (disposeSourceFirst ? untyped : typed).Dispose();
            if (disposeSourceFirst)
            {
                Assert.Equal(77ul, typed.Lookup(1));
                typed.Update(0, 5);
                Assert.Equal(5ul, typed.Lookup(0));
            }
            else
            {
                Span<byte> value = stackalloc byte[8];
                Assert.True(untyped.TryLookup(BitConverter.GetBytes(1u), value));
                Assert.Equal(77ul, BitConverter.ToUInt64(value));
            }
            Assert.NotEqual(untypedFd, typedFd);
        }
        finally
        {
            typed.Dispose();
            untyped.Dispose();
        }
        Assert.Throws<ObjectDisposedException>(() => BpfMap<uint, ulong>.From(untyped));
    }

    /// <summary>A typed view whose sizes do not match is refused before any descriptor is duplicated: the kernel's
    /// fdinfo (map_id) shows exactly one descriptor of this process on the map before and after.</summary>
    [Fact]
    public void From_with_mismatched_sizes_duplicates_no_descriptor()
    {
        KernelGate.Require();
        using var untyped = BpfMap.Create(new MapSpec { Type = MapType.Array, KeySize = 4, ValueSize = 8, MaxEntries = 1, Name = "mismatch" });
        uint id = untyped.Id;
        Assert.Equal(1, DescriptorsOfMap(id));
        var error = Assert.Throws<ArgumentException>(() => BpfMap<uint, uint>.From(untyped));
        Assert.Contains("has 8-byte values", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, DescriptorsOfMap(id));
        using var view = BpfMap<uint, ulong>.From(untyped);
        Assert.Equal(2, DescriptorsOfMap(id));
    }

    /// <summary>This process's descriptors on the map with kernel id <paramref name="id"/>, from /proc/self/fdinfo.</summary>
    private static int DescriptorsOfMap(uint id)
    {
        int count = 0;
        string wanted = "map_id:\t" + id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (string info in Directory.GetFiles("/proc/self/fdinfo"))
        {
            try
            {
                if (File.ReadAllLines(info).Any(line => line == wanted)) count++;
            }
            catch (IOException)
            {
                // closed while we looked (another thread)
            }
        }
        return count;
    }

    [Fact]
    public void Array_lookup_update_and_keys()
    {
        KernelGate.Require();
        using var map = BpfMap<uint, ulong>.Create(MapType.Array, 3, "arr");
        Assert.Equal(0ul, map.Lookup(2));
        map.Update(2, 42);
        Assert.Equal(42ul, map.Lookup(2));
        Assert.Equal([0u, 1u, 2u], map.Keys);
        Assert.False(map.TryLookup(3, out _));
        // Array elements always exist: NoExist fails with EEXIST.
        var e = Assert.Throws<BpfException>(() => map.Update(1, 5, UpdateFlags.NoExist));
        Assert.Equal("EEXIST", e.ErrnoName);
        Assert.Equal(MapType.Array, BpfMap.FromDescriptor(new BpfFileDescriptor(map.Fd.Value, ownsHandle: false)).Type);
    }

    [Fact]
    public void Hash_update_flags_delete_and_iteration()
    {
        KernelGate.Require();
        using var map = BpfMap<ulong, Pair>.Create(MapType.Hash, 16, "hash");
        map.Update(10, new Pair(1, 2), UpdateFlags.NoExist);
        map.Update(20, new Pair(3, 4));
        Assert.Equal("EEXIST", Assert.Throws<BpfException>(() => map.Update(10, default, UpdateFlags.NoExist)).ErrnoName);
        Assert.Equal("ENOENT", Assert.Throws<BpfException>(() => map.Update(30, default, UpdateFlags.Exist)).ErrnoName);
        map.Update(10, new Pair(5, 6), UpdateFlags.Exist);
        Assert.Equal(new Pair(5, 6), map.Lookup(10));
        Assert.Equal([10ul, 20ul], map.Keys.Order());
        Assert.True(map.Delete(10));
        Assert.False(map.Delete(10));
        Assert.Throws<KeyNotFoundException>(() => map.Lookup(10));
        Assert.Equal([20ul], map.Keys);
    }

    [Fact]
    public void Lru_hash_evicts_instead_of_failing_when_full()
    {
        KernelGate.Require();
        using var map = BpfMap<uint, uint>.Create(MapType.LruHash, 64, "lru");
        for (uint i = 0; i < 1000; i++) map.Update(i, i * 2);
        int count = map.Keys.Count();
        Assert.InRange(count, 1, 64 + 64); // LRU keeps at most about max_entries (per-CPU free lists may hold a few more)
        Assert.Equal(1998u, map.Lookup(999)); // the newest survives

        using var hash = BpfMap<uint, uint>.Create(MapType.Hash, 4, "full");
        for (uint i = 0; i < 4; i++) hash.Update(i, i);
        Assert.Equal("E2BIG", Assert.Throws<BpfException>(() => hash.Update(99, 1)).ErrnoName);
    }

    [Fact]
    public void Per_cpu_array_has_one_value_per_possible_cpu()
    {
        KernelGate.Require();
        using var map = BpfMap<uint, uint>.Create(MapType.PerCpuArray, 2, "pcpu");
        int cpus = int.Parse(File.ReadAllText("/sys/devices/system/cpu/possible").Trim().Split('-')[^1], System.Globalization.CultureInfo.InvariantCulture) + 1;
        Assert.Equal(8 * cpus, map.ValueBufferSize);
        map.Update(1, 9);
        var values = map.LookupPerCpu(1);
        Assert.NotNull(values);
        Assert.Equal(Enumerable.Repeat(9u, cpus), values);
        Assert.Throws<InvalidOperationException>(() => map.Lookup(1));
    }

    [Fact]
    public void Sockmap_and_sockhash_lookups_return_the_socket_cookie()
    {
        KernelGate.Require();
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndPoint!);
        using var server = listener.Accept();
        ulong expected = SocketCookie(client);

        using var sockmap = BpfMap.Create(new MapSpec { Type = MapType.SockMap, KeySize = 4, ValueSize = 8, MaxEntries = 2, Name = "sockmap" });
        uint key = 1;
        sockmap.UpdateSocket(MemoryMarshal.AsBytes(new ReadOnlySpan<uint>(in key)), client.SafeHandle);
        Assert.Equal(expected, sockmap.LookupSocketCookie(MemoryMarshal.AsBytes(new ReadOnlySpan<uint>(in key))));
        uint other = 0;
        Assert.Null(sockmap.LookupSocketCookie(MemoryMarshal.AsBytes(new ReadOnlySpan<uint>(in other))));

        using var sockhash = BpfMap.Create(new MapSpec { Type = MapType.SockHash, KeySize = 8, ValueSize = 8, MaxEntries = 2, Name = "sockhash" });
        ulong hashKey = 0xabcdef;
        sockhash.UpdateSocket(MemoryMarshal.AsBytes(new ReadOnlySpan<ulong>(in hashKey)), server.SafeHandle);
        Assert.Equal(SocketCookie(server), sockhash.LookupSocketCookie(MemoryMarshal.AsBytes(new ReadOnlySpan<ulong>(in hashKey))));
        Assert.NotEqual(expected, SocketCookie(server));
    }

    internal static ulong SocketCookie(Socket socket)
    {
        const int SolSocket = 1, SoCookie = 57;
        Span<byte> value = stackalloc byte[8];
        socket.GetRawSocketOption(SolSocket, SoCookie, value);
        return MemoryMarshal.Read<ulong>(value);
    }

    [Fact]
    public void Sk_storage_needs_btf_and_stores_per_socket_values()
    {
        KernelGate.Require();
        var builder = new BtfBuilder();
        uint intId = builder.AddType<int>();
        uint valueId = builder.AddType<Pair>();
        using var btf = builder.Load();
        var spec = new MapSpec
        {
            Type = MapType.SkStorage, KeySize = 4, ValueSize = 16, MaxEntries = 0, Flags = MapFlags.NoPrealloc, Name = "sk_store",
            Btf = new MapBtf(btf, intId, valueId),
        };
        using var map = BpfMap<int, Pair>.Create(spec);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        int fd = (int)socket.SafeHandle.DangerousGetHandle();
        Assert.False(map.TryLookup(fd, out _));
        map.Update(fd, new Pair(11, 22));
        Assert.Equal(new Pair(11, 22), map.Lookup(fd));
        Assert.True(map.Delete(fd));

        // Checked before the kernel is called:
        Assert.Contains("BPF_F_NO_PREALLOC", Assert.Throws<ArgumentException>(() => BpfMap.Create(spec with { Flags = MapFlags.None })).Message, StringComparison.Ordinal);
        Assert.Contains("max_entries = 0", Assert.Throws<ArgumentException>(() => BpfMap.Create(spec with { MaxEntries = 1 })).Message, StringComparison.Ordinal);
        Assert.Contains("needs BTF", Assert.Throws<ArgumentException>(() => BpfMap.Create(spec with { Btf = null })).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ring_buffer_and_perf_event_array_are_created()
    {
        KernelGate.Require();
        using var ring = BpfMap.Create(new MapSpec { Type = MapType.RingBuf, KeySize = 0, ValueSize = 0, MaxEntries = 64 * 1024, Name = "ring" });
        Assert.Equal(MapType.RingBuf, ring.Type);
        Assert.Contains("power of two", Assert.Throws<ArgumentException>(() =>
            BpfMap.Create(new MapSpec { Type = MapType.RingBuf, KeySize = 0, ValueSize = 0, MaxEntries = 5000 })).Message, StringComparison.Ordinal);
        using var perf = BpfMap.Create(new MapSpec { Type = MapType.PerfEventArray, KeySize = 4, ValueSize = 4, MaxEntries = 2, Name = "perf" });
        Assert.Equal(MapType.PerfEventArray, perf.Type);
    }

    [Fact]
    public void Unsupported_map_type_names_the_failed_probe()
    {
        KernelGate.Require();
        var e = Assert.Throws<FeatureNotSupportedException>(() =>
            BpfMap.Create(new MapSpec { Type = (MapType)200, KeySize = 4, ValueSize = 4, MaxEntries = 1 }));
        Assert.Equal("map_type:200", e.Probe);
        Assert.Contains("probe 'map_type:200' failed", e.Message, StringComparison.Ordinal);
        Assert.IsType<BpfException>(e.InnerException);
        Assert.True(FeatureProbes.IsMapTypeSupported(MapType.SkStorage));
        Assert.True(FeatureProbes.IsMapTypeSupported(MapType.RingBuf));
    }

    [Fact]
    public void Pinned_map_survives_its_descriptor_and_reopens()
    {
        KernelGate.Require();
        string root = BpfFs.EnsureMounted();
        string path = Path.Combine(root, "sockops_emit_test_" + Environment.ProcessId + "_" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            uint id;
            using (var map = BpfMap<uint, ulong>.Create(MapType.Array, 2, "pinned"))
            {
                map.Update(1, 1234);
                map.Pin(path);
                id = map.Id;
            }
            using var pinned = BpfMap.OpenPinned(path);
            using var reopened = BpfMap<uint, ulong>.From(pinned);
            Assert.Equal(id, reopened.Id);
            Assert.Equal("pinned", reopened.Name);
            Assert.Equal(1234ul, reopened.Lookup(1));
            var taken = Assert.Throws<BpfException>(() => reopened.Pin(path));
            Assert.Equal("EEXIST", taken.ErrnoName);
        }
        finally
        {
            if (File.Exists(path)) BpfFs.Unpin(path);
        }
        Assert.False(File.Exists(path));
        Assert.Equal("ENOENT", Assert.Throws<BpfException>(() => BpfMap.OpenPinned(path)).ErrnoName);
    }

    [Fact]
    public void Pinning_outside_bpffs_says_so()
    {
        KernelGate.Require();
        using var map = BpfMap<uint, ulong>.Create(MapType.Array, 1);
        var e = Assert.Throws<BpfException>(() => map.Pin("/tmp/not_bpffs_" + Guid.NewGuid().ToString("N")));
        Assert.Contains("not on a bpffs mount", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Typed_map_rejects_mismatched_sizes()
    {
        KernelGate.Require();
        var spec = new MapSpec { Type = MapType.Hash, KeySize = 4, ValueSize = 4, MaxEntries = 1 };
        Assert.Contains("8-byte", Assert.Throws<ArgumentException>(() => BpfMap<uint, uint>.Create(spec with { ValueSize = 8 })).Message, StringComparison.Ordinal);
        Assert.Contains("array keys are u32", Assert.Throws<ArgumentException>(() =>
            BpfMap.Create(new MapSpec { Type = MapType.Array, KeySize = 8, ValueSize = 8, MaxEntries = 1 })).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Freeze_keeps_the_contents_readable_and_refuses_user_space_writes()
    {
        KernelGate.Require();
        // What libbpf does with .rodata: BPF_F_RDONLY_PROG array, filled from user space, then frozen.
        using var map = BpfMap.Create(new MapSpec { Type = MapType.Array, KeySize = 4, ValueSize = 8, MaxEntries = 1, Flags = MapFlags.ReadOnlyProgram, Name = ".rodata" });
        byte[] key = new byte[4];
        map.Update(key, "hello\n\0\0"u8);
        map.Freeze();
        byte[] value = new byte[8];
        Assert.True(map.TryLookup(key, value));
        Assert.Equal("hello\n\0\0"u8.ToArray(), value);
        var write = Assert.Throws<BpfException>(() => map.Update(key, new byte[8]));
        Assert.Equal("EPERM", write.ErrnoName);
        Assert.Equal(BpfCommand.MapUpdateElement, write.Command);
        // Freezing again is EPERM: a frozen map's descriptors no longer count as writable (map_get_sys_perms).
        var again = Assert.Throws<BpfException>(map.Freeze);
        Assert.Equal("EPERM", again.ErrnoName);
        Assert.Equal(BpfCommand.MapFreeze, again.Command);
        Assert.Equal(MapFlags.ReadOnlyProgram, BpfMap.FromDescriptor(new BpfFileDescriptor(map.Fd.Value, ownsHandle: false)).Flags & MapFlags.ReadOnlyProgram);
    }

    public readonly record struct Pair(ulong First, ulong Second);
}
