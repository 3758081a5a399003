using SockOps.Emit.Assembler;
using SockOps.Emit;

namespace SockOps.Programs;

/// <summary>
/// The seed's "Adding socket to map" (selftests' test_sockmap_kern.h <c>bpf_sockmap</c>): passive connections on
/// local port 10000 go into a sockhash (or sockmap) under key 1, active connections to remote port 10001 under
/// key 10, with BPF_NOEXIST. The map's values are 8 bytes so user space reads each socket's cookie back.
/// </summary>
public static class SockMapAdder
{
    /// <summary>One-line summary.</summary>
    public const string Summary = "Passive sockets on local port 10000 → key 1, active sockets to port 10001 → key 10 of a sockhash/sockmap (seed example)";

    /// <summary>The oldest kernel the program can be built for (the model's answer; 6.1, 6.12 and 6.18 are proven in the kernel matrix, 5.10 and 5.15 are declared from the sources).</summary>
    public static KernelVersion MinimumKernel { get; } = new(5, 10);

    /// <summary>The socket map.</summary>
    public const string MapName = "sock_map";

    /// <summary>Parameters; defaults are the seed's values.</summary>
    public sealed record Options
    {
        /// <summary>Local port of passive (accepted) connections to add.</summary>
        public int PassivePort { get; init; } = 10000;
        /// <summary>Key of those passive connections.</summary>
        public int PassiveKey { get; init; } = 1;
        /// <summary>Remote port of active (connecting) connections to add.</summary>
        public int ActivePort { get; init; } = 10001;
        /// <summary>Key of those active connections.</summary>
        public int ActiveKey { get; init; } = 10;
        /// <summary>Use a BPF_MAP_TYPE_SOCKMAP (index keys below <see cref="MaxEntries"/>) instead of a SOCKHASH.</summary>
        public bool SockMap { get; init; }
        /// <summary>The map's max_entries.</summary>
        public uint MaxEntries { get; init; } = 20;
    }

    /// <summary>Builds the program for <paramref name="target"/> (default <see cref="KernelTargets.Default"/>; at least <see cref="MinimumKernel"/>).</summary>
    /// <param name="options">Parameters (defaults when null).</param>
    /// <param name="target">The kernel the program will run on.</param>
    public static ProgramImage Build(Options? options = null, KernelVersion? target = null)
    {
        var o = options ?? new Options();
        return SockOpsProgram.Build("sockmap_adder", b =>
        {
            var ctx = b.Context;
            var map = b.Map<int, ulong>(MapName, o.SockMap ? MapType.SockMap : MapType.SockHash, o.MaxEntries);
            void Add(int key)
            {
                if (o.SockMap) b.SockMapUpdate(map, key, MapUpdateFlags.NoExist);
                else b.SockHashUpdate(map, key, MapUpdateFlags.NoExist);
            }
            b.Switch(ctx.Op)
                .Case(SockOp.PassiveEstablishedCb, () => b.If(ctx.LocalPort == (uint)o.PassivePort, () => Add(o.PassiveKey)))
                .Case(SockOp.ActiveEstablishedCb, () => b.If(ctx.RemotePort == (uint)o.ActivePort, () => Add(o.ActiveKey)))
                .End();
            b.Return(0);
        }, target: target);
    }
}
