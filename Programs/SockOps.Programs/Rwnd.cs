using SockOps.Emit.Assembler;
using SockOps.Emit;
using static SockOps.Emit.ByteOrder;

namespace SockOps.Programs;

/// <summary>
/// samples/bpf/tcp_rwnd_kern.c: on RWND_INIT for connections on <see cref="Options.Port"/> between IPv6 hosts in
/// <em>different</em> data centres (first 5 bytes differ), reply an initial advertised window of 40 packets:
/// the SYN and SYN-ACK advertise 40 × MSS when that is below the kernel's default. ::1 to ::1 is the same data
/// centre; the behaviour tests give lo addresses in two /32 prefixes in a private network namespace and capture the
/// handshake. The program also counts its answers in <see cref="ReplyCounter"/>'s map (replied / declined).
/// </summary>
public static class Rwnd
{
    /// <summary>One-line summary.</summary>
    public const string Summary = "Initial receive window of 40 packets for IPv6 peers in another data centre on port 55601 (samples/bpf tcp_rwnd)";

    /// <summary>The oldest kernel the program can be built for (the model's answer; 6.1, 6.12 and 6.18 are proven in the kernel matrix, 5.10 and 5.15 are declared from the sources).</summary>
    public static KernelVersion MinimumKernel { get; } = new(5, 10);

    /// <summary>Parameters; defaults are the sample's values.</summary>
    public sealed record Options
    {
        /// <summary>The port (local or remote) the program acts on.</summary>
        [OptionRange(OptionValidation.PortMin, OptionValidation.PortMax)]
        public int Port { get; init; } = 55601;
        /// <summary>The initial window in packets.</summary>
        [OptionRange(1, 65535)]
        public int InitialWindow { get; init; } = 40;
        /// <summary>
        /// Count the replies in <see cref="ReplyCounter"/>'s map (the default: how the tests see that it ran); false builds
        /// exactly the sample's logic (without the map, and without the sample's DEBUG <c>bpf_printk</c>), for comparing
        /// with clang's build of the same C.
        /// </summary>
        public bool Counters { get; init; } = true;
    }

    /// <summary>Builds the program for <paramref name="target"/> (default <see cref="KernelTargets.Default"/>; at least <see cref="MinimumKernel"/>).</summary>
    /// <param name="options">Parameters (defaults when null).</param>
    /// <param name="target">The kernel the program will run on.</param>
    public static ProgramImage Build(Options? options = null, KernelVersion? target = null)
    {
        var o = options ?? new Options();
        OptionValidation.Validate(o);
        return SockOpsProgram.Build("rwnd", b =>
        {
            var ctx = b.Context;
            var replies = o.Counters ? ReplyCounter.Declare(b) : null;
            b.If(Conditions.NeitherPortIs(ctx, o.Port), () =>
            {
                ctx.Reply.Set(-1);
                b.Return(1);
            });
            var rv = b.Local("rv", -1);
            b.If(ctx.Op == SockOp.RwndInit & ctx.Family == SockOpsCtx.AfInet6, () =>
                b.If(ctx.LocalIp6[0] != ctx.RemoteIp6[0] | (Ntohl(ctx.LocalIp6[1]) & 0xfffff000) != (Ntohl(ctx.RemoteIp6[1]) & 0xfffff000),
                    () =>
                    {
                        rv.Set(o.InitialWindow);
                        if (replies is not null) ReplyCounter.Increment(b, replies, ReplyCounter.Replied);
                    },
                    @else: replies is null ? null : () => ReplyCounter.Increment(b, replies, ReplyCounter.Declined)));
            ctx.Reply.Set(rv);
            b.Return(1);
        }, target: target);
    }
}
