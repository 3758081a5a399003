using SockOps.Emit.Btf;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using SockOps.Emit.Assembler;
using SockOps.Emit.Runtime.Btf;
using SockOps.Emit.TestSupport;
using static SockOps.Emit.Runtime.Tests.Asm;

namespace SockOps.Emit.Runtime.Tests;

/// <summary>A sock_ops program that, in ACTIVE_ESTABLISHED_CB, adds the socket to a sockhash (key = local port)
/// and stores {cookie, local port} in sk_storage — checked from user space with SO_COOKIE on the same sockets.</summary>
[Collection(nameof(CgroupTrafficCollection))]
public class SockOpsMapHelpersTests
{
    [StructLayout(LayoutKind.Sequential)]
    public struct SocketRecord
    {
        public ulong Cookie;
        public ulong LocalPort;
    }

    private static Instruction[] Program() =>
    [
        Mov64Reg(6, 1),                         // 0
        LdxW(2, 6, 0),                          // 1: op
        JneImm(2, 4, 23),                       // 2: != ACTIVE_ESTABLISHED_CB → exit (slot 2 → slot 26)
        Mov64Reg(1, 6),                         // 3
        Call(HelperGetSocketCookie),            // 4
        Mov64Reg(7, 0),                         // 5: r7 = cookie
        LdxW(2, 6, 68),                         // 6: local_port
        StxW(10, 2, -4),                        // 7: key
        Mov64Reg(1, 6),                         // 8
        LdMapFd(2),                             // 9: r2 = &sockhash
        Mov64Reg(3, 10), Add64(3, -4),          // 10, 11
        Mov64(4, 0),                            // 12: BPF_ANY
        Call(70),                               // 13: bpf_sock_hash_update(ctx, &sockhash, &key, 0)
        LdxDW(2, 6, 184),                       // 14: r2 = ctx->sk
        JeqImm(2, 0, 9),                        // 15: NULL → exit (slot 16 → slot 26)
        LdMapFd(1),                             // 16: r1 = &store
        Mov64(3, 0), Mov64(4, 1),               // 17, 18: value NULL, BPF_SK_STORAGE_GET_F_CREATE
        Call(HelperSkStorageGet),               // 19
        JeqImm(0, 0, 3),                        // 20: NULL → exit (slot 22 → slot 26)
        StxDW(0, 7, 0),                         // 21: v->Cookie = cookie
        LdxW(2, 6, 68),                         // 22
        StxDW(0, 2, 8),                         // 23: v->LocalPort = local_port
        Mov64(0, 1),                            // 24
        Exit(),                                 // 25
    ];

    [Fact]
    public void Sockhash_and_sk_storage_entries_written_by_the_program_match_the_sockets()
    {
        KernelGate.Require();
        const int Count = 4;
        var builder = new BtfBuilder();
        uint intId = builder.AddType<int>();
        uint recordId = builder.AddType<SocketRecord>();
        using var btf = builder.Load();
        using var store = BpfMap<int, SocketRecord>.Create(new MapSpec
        {
            Type = MapType.SkStorage, KeySize = 4, ValueSize = 16, MaxEntries = 0, Flags = MapFlags.NoPrealloc, Name = "store",
            Btf = new MapBtf(btf, intId, recordId),
        });
        using var sockhash = BpfMap.Create(new MapSpec { Type = MapType.SockHash, KeySize = 4, ValueSize = 8, MaxEntries = 16, Name = "by_port" });
        using var program = BpfProgram.Load(new ProgramLoadOptions
        {
            Type = ProgramType.SockOps,
            ExpectedAttachType = AttachType.CgroupSockOps,
            Name = "track",
            Instructions = Program(),
            MapReferences = [new MapReference(9, "by_port"), new MapReference(16, "store")],
            Maps = new Dictionary<string, BpfMap> { ["by_port"] = sockhash, ["store"] = store },
        });
        using var cgroup = Cgroup.CreateTemporary();
        using var attachment = cgroup.Attach(program);

        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var clients = CreateSocketsInCgroup(cgroup, Count);
        var accepted = new List<Socket>();
        try
        {
            foreach (var client in clients)
            {
                client.Connect(listener.LocalEndPoint!);
                accepted.Add(listener.Accept());
            }
            foreach (var client in clients)
            {
                uint port = (uint)((IPEndPoint)client.LocalEndPoint!).Port;
                ulong cookie = MapTests.SocketCookie(client);
                Assert.Equal(cookie, sockhash.LookupSocketCookie(MemoryMarshal.AsBytes(new ReadOnlySpan<uint>(in port))));
                var record = store.Lookup((int)client.SafeHandle.DangerousGetHandle());
                Assert.Equal(cookie, record.Cookie);
                Assert.Equal(port, record.LocalPort);
            }
            // The accepted (server) sockets were created outside the cgroup: no storage for them.
            Assert.False(store.TryLookup((int)accepted[0].SafeHandle.DangerousGetHandle(), out _));
        }
        finally
        {
            foreach (var socket in accepted.Concat(clients)) socket.Dispose();
        }
    }

    /// <summary>A socket belongs to the cgroup of the process that creates it: move this process in just long
    /// enough to create the sockets (the collection runs alone), then back.</summary>
    internal static List<Socket> CreateSocketsInCgroup(Cgroup cgroup, int count)
    {
        string home = Cgroup.CurrentProcessPath();
        var sockets = new List<Socket>();
        cgroup.AddProcess(Environment.ProcessId);
        try
        {
            for (int i = 0; i < count; i++) sockets.Add(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        }
        finally
        {
            File.WriteAllText(Path.Combine(home, "cgroup.procs"), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        }
        return sockets;
    }
}
