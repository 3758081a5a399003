using SockOps.Emit.Assembler;
using System.Runtime.InteropServices;
using SockOps.Emit;

namespace SockOps.Programs;

/// <summary>
/// samples/bpf/tcp_tos_reflect_kern.c: listeners save the SYN (TCP_SAVE_SYN); when a connection is accepted the
/// program reads the saved IP header (TCP_SAVED_SYN) and copies the SYN's TOS (IPv4) or traffic class (IPv6)
/// onto the accepted socket. Observable: <c>getsockopt(IP_TOS)</c> / <c>IPV6_TCLASS</c> of the accepted socket
/// reads what the client set.
/// </summary>
public static class TosReflect
{
    /// <summary>One-line summary.</summary>
    public const string Summary = "Reflect the TOS/traffic class of the received SYN onto the accepted socket (samples/bpf tcp_tos_reflect)";

    /// <summary>The oldest kernel the program can be built for (the model's answer; 6.1, 6.12 and 6.18 are proven in the kernel matrix, 5.10 and 5.15 are declared from the sources).</summary>
    public static KernelVersion MinimumKernel { get; } = new(5, 10);

    /// <summary>No parameters.</summary>
    public sealed record Options;

    [StructLayout(LayoutKind.Sequential)]
    private struct Ipv4Header
    {
        public uint W0, W1, W2, W3, W4;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Ipv6Header
    {
        public ulong D0, D1, D2, D3, D4;
    }

    /// <summary>Builds the program for <paramref name="target"/> (default <see cref="KernelTargets.Default"/>; at least <see cref="MinimumKernel"/>).</summary>
    /// <param name="options">Parameters (defaults when null).</param>
    /// <param name="target">The kernel the program will run on.</param>
    public static ProgramImage Build(Options? options = null, KernelVersion? target = null)
    {
        _ = options;
        return SockOpsProgram.Build("tos_reflect", b =>
        {
            var ctx = b.Context;
            var rv = b.Local("rv", 0);
            b.Switch(ctx.Op)
                .Case(SockOp.TcpListenCb, () => rv.Set(b.SetSockOpt(TcpOption.SaveSyn, 1)))
                .Case(SockOp.PassiveEstablishedCb, () => b.If(ctx.Family == SockOpsCtx.AfInet,
                    () =>
                    {
                        var header = b.StackStruct<Ipv4Header>();
                        rv.Set(b.GetSockOpt((int)SocketOptionLevel.Tcp, (int)TcpOption.SavedSyn, header));
                        b.If(rv == 0, () =>
                        {
                            var tos = b.Local("tos", header.U8(1));
                            b.If(tos != 0, () => b.SetSockOpt(IpOption.Tos, (I32)tos));
                        });
                    },
                    @else: () =>
                    {
                        var header = b.StackStruct<Ipv6Header>();
                        rv.Set(b.GetSockOpt((int)SocketOptionLevel.Tcp, (int)TcpOption.SavedSyn, header));
                        b.If(rv == 0, () =>
                        {
                            // priority is the low nibble of byte 0, flow_lbl[0] byte 1: tclass = priority << 4 | flow_lbl[0] >> 4.
                            var tclass = b.Local("tclass", ((header.U8(0) & 0xf) << 4) | (header.U8(1) >> 4));
                            b.If(tclass != 0, () => b.SetSockOpt(Ipv6Option.TClass, (I32)tclass));
                        });
                    }))
                .Default(() => rv.Set(-1));
            ctx.Reply.Set(rv);
            b.Return(1);
        }, target: target);
    }
}
