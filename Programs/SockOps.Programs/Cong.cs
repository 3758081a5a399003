using SockOps.Emit.Assembler;
using SockOps.Emit;

namespace SockOps.Programs;

/// <summary>
/// samples/bpf/tcp_cong_kern.c: for connections on <see cref="Options.Port"/> between IPv6 hosts in the same data
/// centre, switch the congestion control to <see cref="Options.Algorithm"/> by name (TCP_CONGESTION) on both ends
/// once established, and answer NEEDS_ECN with 1. Observable: <c>getsockopt(TCP_CONGESTION)</c> reads the name.
/// The algorithm must be built in or loaded (see /proc/sys/net/ipv4/tcp_available_congestion_control).
/// </summary>
public static class Cong
{
    /// <summary>One-line summary.</summary>
    public const string Summary = "Congestion control by name (default dctcp) and ECN for same-data-centre IPv6 peers on port 55601 (samples/bpf tcp_cong)";

    /// <summary>The oldest kernel the program can be built for (the model's answer; 6.1, 6.12 and 6.18 are proven in the kernel matrix, 5.10 and 5.15 are declared from the sources).</summary>
    public static KernelVersion MinimumKernel { get; } = new(5, 10);

    /// <summary>Parameters; defaults are the sample's values.</summary>
    public sealed record Options
    {
        /// <summary>The port (local or remote) the program acts on.</summary>
        [OptionRange(OptionValidation.PortMin, OptionValidation.PortMax)]
        public int Port { get; init; } = 55601;
        /// <summary>The congestion control algorithm's name (at most 15 characters).</summary>
        [OptionLength(1, 15)]
        public string Algorithm { get; init; } = "dctcp";
        /// <summary>Answer NEEDS_ECN with 1 (request ECN).</summary>
        public bool Ecn { get; init; } = true;
    }

    /// <summary>Builds the program for <paramref name="target"/> (default <see cref="KernelTargets.Default"/>; at least <see cref="MinimumKernel"/>).</summary>
    /// <param name="options">Parameters (defaults when null).</param>
    /// <param name="target">The kernel the program will run on.</param>
    public static ProgramImage Build(Options? options = null, KernelVersion? target = null)
    {
        var o = options ?? new Options();
        OptionValidation.Validate(o);
        return SockOpsProgram.Build("cong", b =>
        {
            var ctx = b.Context;
            b.If(Conditions.NeitherPortIs(ctx, o.Port), () =>
            {
                ctx.Reply.Set(-1);
                b.Return(1);
            });
            var rv = b.Local("rv", 0);
            b.If(Conditions.SameDataCentre(ctx),
                () =>
                {
                    var cases = b.Switch(ctx.Op);
                    if (o.Ecn) cases = cases.Case(SockOp.NeedsEcn, () => rv.Set(1));
                    cases.Case(SockOp.ActiveEstablishedCb, () => rv.Set(b.SetSockOpt(TcpOption.Congestion, o.Algorithm)))
                        .Case(SockOp.PassiveEstablishedCb, () => rv.Set(b.SetSockOpt(TcpOption.Congestion, o.Algorithm)))
                        .Default(() => rv.Set(-1));
                },
                @else: () => rv.Set(-1));
            ctx.Reply.Set(rv);
            b.Return(1);
        }, target: target);
    }
}
