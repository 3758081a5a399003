using SockOps.Emit.Assembler;
using System.Runtime.InteropServices;
using System.Text;
using SockOps.Emit;

namespace SockOps.Programs;

/// <summary>
/// samples/bpf/tcp_basertt_kern.c: on BASE_RTT for IPv6 peers in the same data centre, when the connection's
/// congestion control (read with <c>getsockopt(TCP_CONGESTION)</c>) is <see cref="Options.Algorithm"/> ("nv"),
/// reply a base RTT of 80 µs. Only TCP-NV asks BASE_RTT, so there is no effect unless tcp_nv is available; the
/// program counts its answers in <see cref="ReplyCounter"/>'s map, and the tests prove it ran through the
/// kernel's run statistics (and, where tcp_nv exists, through the replied count). With <see cref="Options.Counters"/>
/// false it is the sample's logic alone (without its DEBUG <c>bpf_printk</c>).
/// </summary>
public static class BaseRtt
{
    /// <summary>One-line summary.</summary>
    public const string Summary = "Base RTT of 80 µs for TCP-NV connections between same-data-centre IPv6 peers (samples/bpf tcp_basertt)";

    /// <summary>The oldest kernel the program can be built for (the model's answer; 6.1, 6.12 and 6.18 are proven in the kernel matrix, 5.10 and 5.15 are declared from the sources).</summary>
    public static KernelVersion MinimumKernel { get; } = new(5, 10);

    /// <summary>Parameters; defaults are the sample's values.</summary>
    public sealed record Options
    {
        /// <summary>The base RTT in microseconds.</summary>
        [OptionRange(1, int.MaxValue)]
        public int BaseRttUs { get; init; } = 80;
        /// <summary>The congestion control the reply applies to (at most 7 characters).</summary>
        [OptionLength(1, 7)]
        public string Algorithm { get; init; } = "nv";
        /// <summary>
        /// Count the replies in <see cref="ReplyCounter"/>'s map (the default: how the tests see that it ran); false builds
        /// exactly the sample's logic (without the map, and without the sample's DEBUG <c>bpf_printk</c>), for comparing
        /// with clang's build of the same C.
        /// </summary>
        public bool Counters { get; init; } = true;
    }

    /// <summary>A <c>char cong[20]</c> buffer for <c>getsockopt(TCP_CONGESTION)</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct CongestionName
    {
        public uint W0, W1, W2, W3, W4;
    }

    /// <summary>Builds the program for <paramref name="target"/> (default <see cref="KernelTargets.Default"/>; at least <see cref="MinimumKernel"/>).</summary>
    /// <param name="options">Parameters (defaults when null).</param>
    /// <param name="target">The kernel the program will run on.</param>
    public static ProgramImage Build(Options? options = null, KernelVersion? target = null)
    {
        var o = options ?? new Options();
        OptionValidation.Validate(o);
        byte[] name = Encoding.ASCII.GetBytes(o.Algorithm + "\0");
        return SockOpsProgram.Build("base_rtt", b =>
        {
            var ctx = b.Context;
            var replies = o.Counters ? ReplyCounter.Declare(b) : null;
            var rv = b.Local("rv", -1);
            b.If(Conditions.SameDataCentre(ctx) & ctx.Op == SockOp.BaseRtt, () =>
            {
                var buffer = b.StackStruct<CongestionName>();
                var n = b.Local("n", b.GetSockOpt((int)SocketOptionLevel.Tcp, (int)TcpOption.Congestion, buffer));
                b.If(n == 0 & NameEquals(buffer, name),
                    () =>
                    {
                        rv.Set(o.BaseRttUs);
                        if (replies is not null) ReplyCounter.Increment(b, replies, ReplyCounter.Replied);
                    },
                    @else: () =>
                    {
                        b.If(n != 0, () => rv.Set(n));
                        if (replies is not null) ReplyCounter.Increment(b, replies, ReplyCounter.Declined);
                    });
            });
            ctx.Reply.Set(rv);
            b.Return(1);
        }, target: target);
    }

    /// <summary><c>!memcmp(buffer, name, sizeof name)</c> as word compares (masked where the name ends mid-word).</summary>
    private static Condition NameEquals(StackRef<CongestionName> buffer, byte[] name)
    {
        Condition all = true;
        for (int offset = 0; offset < name.Length; offset += 4)
        {
            uint word = 0, mask = 0;
            for (int i = 0; i < 4 && offset + i < name.Length; i++)
            {
                word |= (uint)name[offset + i] << (8 * i);
                mask |= 0xffu << (8 * i);
            }
            all &= mask == 0xffffffff ? buffer.U32(offset) == word : (buffer.U32(offset) & mask) == word;
        }
        return all;
    }
}
