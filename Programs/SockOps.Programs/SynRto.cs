using SockOps.Emit.Assembler;
using SockOps.Emit;

namespace SockOps.Programs;

/// <summary>
/// samples/bpf/tcp_synrto_kern.c: on TIMEOUT_INIT for connections on <see cref="Options.Port"/> between IPv6 hosts
/// in the same data centre, reply a SYN/SYN-ACK RTO of 10 jiffies. Observable when a SYN is lost: a retransmission
/// after 10 jiffies instead of the kernel's 1 s (the behaviour tests drop the first SYN with nftables and time
/// connect()). The program also counts its replies in <see cref="ReplyCounter"/>'s map (shown by <c>sockops attach</c>).
/// </summary>
public static class SynRto
{
    /// <summary>One-line summary.</summary>
    public const string Summary = "SYN/SYN-ACK RTO of 10 jiffies for same-data-centre IPv6 peers on port 55601 (samples/bpf tcp_synrto)";

    /// <summary>The oldest kernel the program can be built for (the model's answer; 6.1, 6.12 and 6.18 are proven in the kernel matrix, 5.10 and 5.15 are declared from the sources).</summary>
    public static KernelVersion MinimumKernel { get; } = new(5, 10);

    /// <summary>Parameters; defaults are the sample's values.</summary>
    public sealed record Options
    {
        /// <summary>The port (local or remote) the program acts on.</summary>
        [OptionRange(OptionValidation.PortMin, OptionValidation.PortMax)]
        public int Port { get; init; } = 55601;
        /// <summary>The RTO in jiffies.</summary>
        [OptionRange(1, int.MaxValue)]
        public int RtoJiffies { get; init; } = 10;
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
        return SockOpsProgram.Build("syn_rto", b =>
        {
            var ctx = b.Context;
            var replies = o.Counters ? ReplyCounter.Declare(b) : null;
            b.If(Conditions.NeitherPortIs(ctx, o.Port), () =>
            {
                ctx.Reply.Set(-1);
                b.Return(1);
            });
            var rv = b.Local("rv", -1);
            b.If(ctx.Op == SockOp.TimeoutInit, () =>
                b.If(Conditions.SameDataCentre(ctx),
                    () =>
                    {
                        rv.Set(o.RtoJiffies);
                        if (replies is not null) ReplyCounter.Increment(b, replies, ReplyCounter.Replied);
                    },
                    @else: replies is null ? null : () => ReplyCounter.Increment(b, replies, ReplyCounter.Declined)));
            ctx.Reply.Set(rv);
            b.Return(1);
        }, target: target);
    }
}
