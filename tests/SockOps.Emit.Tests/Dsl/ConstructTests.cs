using System.Runtime.InteropServices;
using SockOps.Emit.Assembler;

namespace SockOps.Emit.Tests.Dsl;

/// <summary>One program per DSL construct: snapshot (llvm syntax + hex + C# line) and a real kernel load.</summary>
public class ConstructTests
{
    private static string[] Text(ProgramImage image) => [.. image.Instructions.Select(i => Disassembler.Format(i, DisassemblySyntax.Llvm))];

    [Fact]
    public void Byte_order_of_a_port_comparison_is_folded_into_the_constant()
    {
        var image = SockOpsProgram.Build("port", b =>
        {
            b.If(b.Context.RemotePort == 55601, () => b.Return(1));
            b.Return(0);
        });
        // One load and one compare against htonl(55601); no byte swap at run time; ctx stays in r1 (no calls).
        Assert.Equal(["r1 = *(u32 *)(r1 + 64)", "if w1 != 836304896 goto +2", "r0 = 1", "exit", "r0 = 0", "exit"], Text(image));
        DslKernel.VerifyAndLoad(image, "Construct_PortByteOrder");
    }

    [Fact]
    public void Ctx_moves_to_a_callee_saved_register_only_when_a_call_follows_its_use()
    {
        var image = SockOpsProgram.Build("ctx_saved", b =>
        {
            var t = b.Local("t", b.KtimeGetNs());
            b.Context.Reply.Set((I32)(U32)t);
            b.Return(1);
        });
        Assert.Equal("r6 = r1", Text(image)[0]);
        Assert.DoesNotContain(Text(image).Skip(2), t => t.Contains("r1", StringComparison.Ordinal) && t.Contains("r6", StringComparison.Ordinal) is false && t.StartsWith("*(u32 *)(r1", StringComparison.Ordinal));
        DslKernel.VerifyAndLoad(image, "Construct_CtxSaved");
    }

    [Fact]
    public void Unsigned_and_signed_32_bit_arithmetic_and_comparisons()
    {
        var image = SockOpsProgram.Build("arith32", b =>
        {
            var ctx = b.Context;
            var u = b.Local("u", (ctx.SndCwnd * 3 + ctx.SrttUs - 7) / 2 % 1000);
            u.Set((u & 0xff) | (u ^ 0x55) << 3 | u >> 1);
            var s = b.Local("s", (I32)ctx.Args[0] - 100);
            s.Set(s / 3 + s % 5 - (-s) + ~s);
            s.Set(s >> 2);
            b.If(s < -5 & u > 10u, () => ctx.Reply.Set(s), @else: () => ctx.Reply.Set((I32)u));
            b.Return(1);
        }, target: Assembler.KernelVersion.Linux6_18);
        var text = Text(image);
        Assert.Contains(text, t => t.StartsWith("if w", StringComparison.Ordinal) && t.Contains(" s< ", StringComparison.Ordinal) || t.Contains(" s>= ", StringComparison.Ordinal));
        Assert.Contains(text, t => t.Contains("s>>=", StringComparison.Ordinal));    // arithmetic shift for I32
        Assert.Contains(text, t => t.Contains(" s/= ", StringComparison.Ordinal));   // signed division (cpu v4)
        DslKernel.VerifyAndLoad(image, "Construct_Arith32");
    }

    [Fact]
    public void Sixty_four_bit_values_and_widening()
    {
        var image = SockOpsProgram.Build("arith64", b =>
        {
            var ctx = b.Context;
            var total = b.Local("total", ctx.BytesAcked + ctx.BytesReceived);
            var signed = b.Local("signed", (I64)(I32)ctx.Args[1]);          // sign-extends
            total.Set(total * 2 + (U64)ctx.SndCwnd + 0x1_0000_0000UL);
            b.If(signed < 0L | total >= 1_000_000UL, () => ctx.Reply.Set(1), @else: () => ctx.Reply.Set(0));
            b.Return(1);
        });
        var text = Text(image);
        // Target 6.1 (the default) has no movsx (cpu v4, 6.6): the sign extension is a shift pair.
        Assert.DoesNotContain(text, t => t.Contains("(s32)", StringComparison.Ordinal));
        Assert.Contains(text, t => t.Contains("s>>= 32", StringComparison.Ordinal));
        Assert.Contains(text, t => t.EndsWith(" ll", StringComparison.Ordinal));     // the 33-bit constant needs ld_imm64
        DslKernel.VerifyAndLoad(image, "Construct_Arith64");
        var newer = SockOpsProgram.Build("arith64", b =>
        {
            var signed = b.Local("signed", (I64)(I32)b.Context.Args[1]);
            b.If(signed < 0L, () => b.Context.Reply.Set(1));
            b.Return(1);
        }, target: Assembler.KernelVersion.Linux6_18);
        Assert.Contains(Text(newer), t => t.Contains("(s32)", StringComparison.Ordinal));
        Assert.Contains(newer.RequiredFeatures, f => f.Name == "movsx (cpu v4)" && f.MinimumKernel == new Assembler.KernelVersion(6, 6));
    }

    [Fact]
    public void If_else_with_short_circuit_and_or_not_and_condition_values()
    {
        var image = SockOpsProgram.Build("conds", b =>
        {
            var ctx = b.Context;
            var rv = b.Local("rv", 0);
            b.If(!(ctx.Family == SockOpsCtx.AfInet) | (ctx.LocalPort > 1024u & ctx.RemotePort != 22),
                () => rv.Set((ctx.State == TcpState.Established).AsI32()),
                @else: () => b.If(ctx.IsFullSock == 0, () => rv.Set(-1), @else: () => rv.Set(2)));
            ctx.Reply.Set(rv);
            b.Return(1);
        });
        DslKernel.VerifyAndLoad(image, "Construct_Conditions");
    }

    [Fact]
    public void Switch_with_and_without_default_and_early_returns()
    {
        var image = SockOpsProgram.Build("switch", b =>
        {
            var ctx = b.Context;
            b.Switch(ctx.Op)
                .Case(SockOp.TimeoutInit, () => { ctx.Reply.Set(10); b.Return(1); })
                .Case(SockOp.RwndInit, () => ctx.Reply.Set(40))
                .End();
            b.Switch(ctx.State)
                .Case(TcpState.Established, () => ctx.SkTxHash.Set(0x1234))
                .Case(TcpState.SynSent, () => b.Return(0))
                .Default(() => { });
            b.Return(1);
        });
        DslKernel.VerifyAndLoad(image, "Construct_Switch");
    }

    [Fact]
    public void A_value_matching_no_case_runs_straight_and_cases_are_tested_for_equality()
    {
        // clang's shape (issue 10's run-time measurements): "if (op == case) goto body" for every case, so the
        // path through no case takes no branch with a default and one (the last case's inverted test) without.
        var withoutDefault = SockOpsProgram.Build("cases", b =>
        {
            var ctx = b.Context;
            b.Switch(ctx.Op)
                .Case(SockOp.TimeoutInit, () => ctx.Reply.Set(10))
                .Case(SockOp.RwndInit, () => ctx.Reply.Set(40))
                .Case(SockOp.TcpConnectCb, () => ctx.SkTxHash.Set(7))
                .End();
            b.Return(1);
        });
        Assert.Equal(["if w2 == 1 goto", "if w2 == 2 goto", "if w2 != 3 goto"], Text(withoutDefault)[1..4].Select(t => t[..t.LastIndexOf(' ')]));
        DslKernel.Load(withoutDefault).Dispose();

        var withDefault = SockOpsProgram.Build("cases_default", b =>
        {
            var ctx = b.Context;
            b.Switch(ctx.Op)
                .Case(SockOp.TimeoutInit, () => ctx.Reply.Set(10))
                .Case(SockOp.RwndInit, () => ctx.Reply.Set(40))
                .Default(() => ctx.SkTxHash.Set(7));
            b.Return(1);
        });
        var text = Text(withDefault);
        Assert.StartsWith("if w2 == 1 goto", text[1], StringComparison.Ordinal);
        Assert.StartsWith("if w2 == 2 goto", text[2], StringComparison.Ordinal);
        Assert.Equal("w2 = 7", text[3]);   // the default follows the tests without a jump
        DslKernel.Load(withDefault).Dispose();
    }

    [Fact]
    public void For_loops_are_unrolled()
    {
        var image = SockOpsProgram.Build("unrolled", b =>
        {
            var ctx = b.Context;
            var sum = b.Local("sum", 0u);
            b.For(0, 4, i => sum.Set(sum + ctx.Args[i]));
            b.For(0, 4, i => sum.Set(sum ^ ctx.RemoteIp6[i]));
            ctx.Reply.Set((I32)sum);
            b.Return(1);
        });
        Assert.DoesNotContain(Text(image), t => t.StartsWith("goto -", StringComparison.Ordinal));
        DslKernel.VerifyAndLoad(image, "Construct_ForUnrolled");
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct FlowKey
    {
        public uint RemoteIp;
        public uint Ports;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct FlowStats
    {
        public ulong Packets;
        public ulong Bytes;
        public uint LastOp;
        public uint Padding;
    }

    [Fact]
    public void Hash_map_with_struct_key_and_value_lookup_update_delete()
    {
        var image = SockOpsProgram.Build("flows", b =>
        {
            var ctx = b.Context;
            var flows = b.Map<FlowKey, FlowStats>("flows", MapType.Hash, 1024);
            var counters = b.Map<uint, ulong>("counters", MapType.Array, 32);
            var key = b.StackStruct<FlowKey>();
            key.U32(nameof(FlowKey.RemoteIp)).Set(ctx.RemoteIp4);
            key.U32(nameof(FlowKey.Ports)).Set(ctx.LocalPort << 16 | ctx.RemotePort);
            b.IfNotNull(b.MapLookup(flows, key), stats =>
            {
                stats.U64(nameof(FlowStats.Packets)).Set(stats.U64(nameof(FlowStats.Packets)) + 1);
                stats.U64(nameof(FlowStats.Bytes)).Set(stats.U64(nameof(FlowStats.Bytes)) + ctx.BytesAcked);
                stats.U32(nameof(FlowStats.LastOp)).Set(ctx.Op);
            }, @else: () =>
            {
                var fresh = b.StackStruct<FlowStats>();
                fresh.U64(nameof(FlowStats.Packets)).Set(1);
                b.MapUpdate(flows, key, fresh, MapUpdateFlags.NoExist);
            });
            b.IfNotNull(b.MapLookup(counters, ctx.Op), count => count.U64().Set(count.U64() + 1));
            b.If(ctx.Op == SockOp.StateCb & ctx.Args[1] == TcpState.Close, () => b.MapDelete(flows, 0));
            b.Return(1);
        });
        DslKernel.VerifyAndLoad(image, "Construct_HashMap");
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Event
    {
        public ulong Cookie;
        public uint Op;
        public uint State;
        public uint SrttUs;
        public uint SndCwnd;
    }

    [Fact]
    public void Ring_buffer_reserve_submit_discard_and_output()
    {
        var image = SockOpsProgram.Build("ringbuf", b =>
        {
            var ctx = b.Context;
            var events = b.RingBuf("events", 64 * 1024);
            var cookie = b.Local("cookie", b.GetSocketCookie());
            b.IfNotNull(b.RingBufReserve<Event>(events), e =>
            {
                e.U64(nameof(Event.Cookie)).Set(cookie);
                e.U32(nameof(Event.Op)).Set(ctx.Op);
                e.U32(nameof(Event.State)).Set(ctx.State);
                b.If(ctx.Op == SockOp.RttCb, () =>
                {
                    e.U32(nameof(Event.SrttUs)).Set(ctx.SrttUs);
                    b.RingBufSubmit(e);
                }, @else: () => b.RingBufDiscard(e));
            });
            var copy = b.StackStruct<Event>();
            copy.U64(nameof(Event.Cookie)).Set(cookie);
            copy.U32(nameof(Event.SndCwnd)).Set(ctx.SndCwnd);
            b.RingBufOutput(events, copy, 0);
            b.Return(1);
        });
        DslKernel.VerifyAndLoad(image, "Construct_RingBuf");
    }

    [Fact]
    public void Perf_event_output_and_cookies_and_time()
    {
        var image = SockOpsProgram.Build("perf", b =>
        {
            var perf = b.Map<int, int>("perf", MapType.PerfEventArray, (uint)Environment.ProcessorCount);
            var data = b.StackStruct<Event>();
            data.U64(nameof(Event.Cookie)).Set(b.GetNetnsCookie() ^ b.KtimeGetNs());
            data.U32(nameof(Event.Op)).Set(b.Context.Op);
            b.PerfEventOutput(perf, data);
            b.Return(1);
        });
        DslKernel.VerifyAndLoad(image, "Construct_PerfEventOutput");
    }

    [StructLayout(LayoutKind.Sequential, Size = 16)]
    private struct CongestionName;

    [Fact]
    public void Socket_options_int_and_string_get_and_set()
    {
        var image = SockOpsProgram.Build("sockopts", b =>
        {
            var ctx = b.Context;
            b.If(ctx.Op == SockOp.ActiveEstablishedCb, () =>
            {
                var rc = b.Local("rc", b.GetSockOpt((int)SocketOptionLevel.Tcp, (int)TcpOption.NoDelay, out var nodelay));
                b.If(rc == 0 & nodelay == 0, () => b.SetSockOpt(TcpOption.NoDelay, 1));
                b.SetSockOpt(TcpOption.Congestion, "cubic");
                var name = b.StackStruct<CongestionName>();
                b.GetSockOpt((int)SocketOptionLevel.Tcp, (int)TcpOption.Congestion, name);
                b.SockOpsCbFlagsSet(SockOpsCallbackFlags.State | SockOpsCallbackFlags.Rtt);
                ctx.Reply.Set(rc);
            });
            b.Return(1);
        });
        DslKernel.VerifyAndLoad(image, "Construct_SocketOptions");
    }

    [Fact]
    public void Socket_option_lint_refuses_an_option_sock_ops_cannot_set()
    {
        var e = Assert.Throws<EmitException>(() => SockOpsProgram.Build("lint", b =>
        {
            b.SetSockOpt((int)SocketOptionLevel.Socket, 13 /* SO_LINGER */, 1);
            b.Return(1);
        }));
        Assert.Equal(EmitRule.HelperArgument, e.Rule);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct ExperimentalOption
    {
        public byte Kind;
        public byte Length;
        public ushort Magic;
        public uint Value;
    }

    [Fact]
    public void Header_option_helpers_and_packet_reads()
    {
        var image = SockOpsProgram.Build("hdr_opt", b =>
        {
            var ctx = b.Context;
            b.Switch(ctx.Op)
                .Case(SockOp.HdrOptLenCb, () => b.ReserveHdrOpt(8, 0))
                .Case(SockOp.WriteHdrOptCb, () =>
                {
                    var opt = b.StackStruct<ExperimentalOption>();
                    opt.U8(0).Set(254);
                    opt.U8(1).Set(8);
                    opt.U16(2).Set(0xeb9f);
                    opt.U32(nameof(ExperimentalOption.Value)).Set(ctx.SndCwnd);
                    b.StoreHdrOpt(opt, 0);
                })
                .Case(SockOp.ParseHdrOptCb, () =>
                {
                    var opt = b.StackStruct<ExperimentalOption>();
                    opt.U8(0).Set(254);
                    opt.U8(1).Set(8);
                    opt.U16(2).Set(0xeb9f);
                    b.If(b.LoadHdrOpt(opt, 0) == 8, () => ctx.Reply.Set(opt.I32(nameof(ExperimentalOption.Value))));
                    b.IfPacketHas(20, tcp => ctx.SkTxHash.Set(ByteOrder.Ntohs(tcp.ReadU16(0)) | tcp.ReadU8(13) << 16));
                })
                .End();
            b.Return(1);
        });
        DslKernel.VerifyAndLoad(image, "Construct_HeaderOptions");
    }

    [Fact]
    public void Socket_and_tcp_socket_fields_inside_null_checks()
    {
        var image = SockOpsProgram.Build("socks", b =>
        {
            var ctx = b.Context;
            b.IfNotNull(ctx.Sk, sk =>
            {
                ctx.SkTxHash.Set(sk.DstPort ^ sk.SrcPort ^ sk.Protocol ^ sk.DstIp6(3));
                b.IfNotNull(b.TcpSock(sk), tcp => ctx.Reply.Set((I32)(U32)(tcp.BytesAcked + tcp.SndCwnd)));
            });
            b.Return(1);
        });
        DslKernel.VerifyAndLoad(image, "Construct_SocketPointers");
    }

    [Fact]
    public void Values_live_across_calls_use_r6_to_r9_and_spill_beyond()
    {
        var image = SockOpsProgram.Build("spill", b =>
        {
            var ctx = b.Context;
            var a = b.Local("a", ctx.SndCwnd);
            var c = b.Local("c", ctx.SrttUs);
            var d = b.Local("d", ctx.State);
            var e = b.Local("e", ctx.SegsIn);
            var f = b.Local("f", ctx.SegsOut);
            var t = b.Local("t", b.KtimeGetNs());
            ctx.Reply.Set((I32)(a + c + d + e + f + (U32)t));
            b.Return(1);
        });
        var text = Text(image);
        // Five values and ctx outlive the call: r6-r9 hold four, the rest go through the stack.
        Assert.Contains(text, t => t.StartsWith("*(u64 *)(r10 -", StringComparison.Ordinal));
        Assert.Contains(text, t => t.Contains("= *(u64 *)(r10 -", StringComparison.Ordinal));
        DslKernel.VerifyAndLoad(image, "Construct_Spill");
    }
}
