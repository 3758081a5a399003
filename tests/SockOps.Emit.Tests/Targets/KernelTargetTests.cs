using SockOps.Emit.Assembler;
using SockOps.Emit.TestSupport;

namespace SockOps.Emit.Tests.Targets;

/// <summary>
/// The target kernel of a build: versions parse as the kernels print them, every newer feature is refused with its C#
/// line and versions, older targets get the equivalent forms, and the default never depends on the build machine.
/// </summary>
public class KernelTargetTests
{
    [Theory]
    [InlineData("6.1", null, "6.1")]
    [InlineData("6.12.118", null, "6.12.118")]
    [InlineData("6.1.0-57-cloud-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-1 (2026-10-03)", "6.1.192")]
    [InlineData("6.12.118+deb12-cloud-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.12.118-1~deb12u1 (2026-11-02)", "6.12.118")]
    [InlineData("6.18.44-fc-v1300", "#1 SMP", "6.18.44")]
    [InlineData("5.15.0-125-generic", "#135-Ubuntu SMP Fri Sep 27 13:53:58 UTC 2024", "5.15")]
    public void Kernel_releases_parse_as_the_kernel_numbers_them(string release, string? build, string expected) =>
        Assert.Equal(expected, KernelVersion.ParseRelease(release, build).ToString());

    [Theory]
    [InlineData("")]
    [InlineData("6")]
    [InlineData("six.one")]
    [InlineData("61")]
    public void Malformed_versions_are_refused(string text)
    {
        Assert.False(KernelVersion.TryParse(text, null, out _));
        Assert.Throws<FormatException>(() => KernelVersion.Parse(text));
    }

    [Fact]
    public void Versions_compare_by_major_minor_patch_and_a_patch_level_satisfies_its_minor()
    {
        Assert.True(new KernelVersion(6, 12) > new KernelVersion(6, 2));
        Assert.True(new KernelVersion(6, 1, 192).IsAtLeast(KernelVersion.Linux6_1));
        Assert.False(new KernelVersion(6, 1, 192).IsAtLeast(new KernelVersion(6, 2)));
    }

    [Fact]
    public void The_default_target_is_6_1_whatever_kernel_builds()
    {
        Assert.Equal(KernelVersion.Linux6_1, KernelTargets.Default);
        var image = SockOpsProgram.Build("t", b => b.Return(1));
        Assert.Equal(KernelVersion.Linux6_1, image.Target);
        Assert.Throws<ArgumentOutOfRangeException>(() => SockOpsProgram.Build("t", b => b.Return(1), target: new KernelVersion(4, 19)));
    }

    private static EmitException Refused(Action<SockOpsBuilder> body, KernelVersion target)
    {
        var e = Assert.Throws<EmitException>(() => SockOpsProgram.Build("t", b =>
        {
            body(b);
            b.Return(1);
        }, target: target));
        Assert.Equal(EmitRule.TargetKernel, e.Rule);
        Assert.NotNull(e.Feature);
        Assert.EndsWith("KernelTargetTests.cs", e.File, StringComparison.Ordinal);
        return e;
    }

    [Fact]
    public void A_ctx_field_newer_than_the_target_is_refused_with_its_line()
    {
        var e = Assert.Throws<EmitException>(() => SockOpsProgram.Build("t", b =>
        {
            b.Context.Reply.Set((I32)(U32)b.Context.SkbHwTimestamp);
            b.Return(1);
        }));
        Assert.Equal(EmitRule.TargetKernel, e.Rule);
        Assert.Contains("bpf_sock_ops.skb_hwtstamp needs Linux 6.2; this program targets 6.1", e.Message, StringComparison.Ordinal);
        Assert.EndsWith("KernelTargetTests.cs", e.File, StringComparison.Ordinal);
        var image = SockOpsProgram.Build("t", b =>
        {
            b.Context.Reply.Set((I32)(U32)b.Context.SkbHwTimestamp);
            b.Return(1);
        }, target: new KernelVersion(6, 2));
        Assert.Contains(image.RequiredFeatures, f => f.Name == "bpf_sock_ops.skb_hwtstamp");
    }

    [Fact]
    public void Ops_socket_options_callback_flags_and_helpers_newer_than_the_target_are_refused()
    {
        var op = Refused(b => b.If(b.Context.Op == SockOp.TstampAckCb, () => b.Return(0)), KernelVersion.Linux6_12);
        Assert.Contains("BPF_SOCK_OPS_TSTAMP_ACK_CB needs Linux 6.15; this program targets 6.12", op.Message, StringComparison.Ordinal);
        var option = Refused(b => b.SetSockOpt(TcpOption.BpfSockOpsCbFlags, 4), KernelVersion.Linux6_1);
        Assert.Contains("bpf_setsockopt TCP_BPF_SOCK_OPS_CB_FLAGS needs Linux 6.12", option.Message, StringComparison.Ordinal);
        var get = Refused(b => b.GetSockOpt((int)SocketOptionLevel.Tcp, (int)TcpOption.NoDelay, out _), KernelVersion.Linux5_15);
        Assert.Contains("bpf_getsockopt TCP_NODELAY needs Linux 6.0", get.Message, StringComparison.Ordinal);
        var helper = Refused(b => b.GetNetnsCookie(), KernelVersion.Linux5_10);
        Assert.Contains("bpf_get_netns_cookie needs Linux 5.15; this program targets 5.10", helper.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_callback_flag_the_target_has_builds_and_is_recorded()
    {
        var image = SockOpsProgram.Build("t", b =>
        {
            b.SockOpsCbFlagsSet(SockOpsCallbackFlags.Rtt | SockOpsCallbackFlags.WriteHdrOpt);
            b.Return(1);
        }, target: KernelVersion.Linux5_10);
        Assert.Contains(image.RequiredFeatures, f => f.Name == "BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG" && f.MinimumKernel == KernelVersion.Linux5_10);
        Assert.Equal(KernelVersion.Linux5_10, image.MinimumKernel.MajorMinor);
    }

    [Fact]
    public void A_reply_constant_is_stored_from_a_register_before_6_4_and_as_an_immediate_after()
    {
        static ProgramImage Reply(KernelVersion target) => SockOpsProgram.Build("t", b =>
        {
            b.Context.Reply.Set(-1);
            b.Return(1);
        }, target: target);
        var old = Reply(KernelVersion.Linux6_1);
        Assert.DoesNotContain(old.Instructions, i => i.Class == InstructionClass.St);
        Assert.Contains(old.Instructions, i => i.Class == InstructionClass.Stx && i.Offset == 4);
        var recent = Reply(KernelVersion.Linux6_12);
        Assert.Contains(recent.Instructions, i => i.Class == InstructionClass.St && i.Offset == 4 && i.Immediate == -1);
        Assert.Contains(recent.RequiredFeatures, f => f == KernelTargets.ImmediateStoreIntoContext);
        Assert.DoesNotContain(old.RequiredFeatures, f => f == KernelTargets.ImmediateStoreIntoContext);
    }

    [Fact]
    public void Rtt_callback_srtt_reads_args_from_6_10_and_srtt_us_or_rtt_min_before()
    {
        static ProgramImage Srtt(KernelVersion target) => SockOpsProgram.Build("t", b =>
        {
            b.If(b.Context.Op == SockOp.RttCb, () => b.Context.Reply.Set((I32)b.RttCallbackSrttUs()));
            b.Return(1);
        }, target: target);
        static bool Reads(ProgramImage image, int offset) =>
            image.Instructions.Any(i => i.Class == InstructionClass.Ldx && i.SourceIndex == 1 && i.Offset == offset);
        var old = Srtt(KernelVersion.Linux6_1);
        Assert.True(Reads(old, 80) && Reads(old, 92) && !Reads(old, 8), "6.1: srtt_us (80), else rtt_min (92), never args[1] (8)");
        var recent = Srtt(KernelVersion.Linux6_12);
        Assert.True(Reads(recent, 8) && !Reads(recent, 80), "6.12: args[1]");
        var sample = Refused(b => b.RttCallbackSampleUs(), KernelVersion.Linux6_1);
        Assert.Contains("RTT_CB arguments (mrtt, srtt) needs Linux 6.10", sample.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_instruction_form_has_a_first_kernel_and_cpu_v4_forms_need_6_6()
    {
        Assert.Equal(new KernelVersion(6, 6), InstructionKernelSupport.FormOf(new Instruction(0xbf, 1, 2, 32, 0)).MinimumKernel);  // movsx
        Assert.Equal(new KernelVersion(6, 6), InstructionKernelSupport.FormOf(new Instruction(0x3f, 1, 2, 1, 0)).MinimumKernel);   // sdiv
        Assert.Equal(new KernelVersion(6, 6), InstructionKernelSupport.FormOf(new Instruction(0xd7, 1, 0, 0, 16)).MinimumKernel);  // bswap
        Assert.Equal(new KernelVersion(6, 6), InstructionKernelSupport.FormOf(new Instruction(0x06, 0, 0, 0, 5)).MinimumKernel);   // gotol
        Assert.Equal(new KernelVersion(5, 1), InstructionKernelSupport.FormOf(new Instruction(0x16, 1, 0, 3, 7)).MinimumKernel);   // jeq32
        Assert.Equal(InstructionKernelSupport.Base, InstructionKernelSupport.FormOf(new Instruction(0xdc, 1, 0, 0, 16)));           // be16 (v1)
        // Consistent with LLVM's cpu grouping: whatever CpuVersion calls v4 needs at least 6.6.
        foreach (var form in InstructionKernelSupport.All) Assert.True(form.MinimumKernel >= InstructionKernelSupport.Base.MinimumKernel);
    }

    [Fact]
    public void Fuzzed_programs_for_6_1_use_no_form_above_6_1()
    {
        var master = new CsCheck.PCG(7, 11);
        int built = 0;
        for (int i = 0; i < 300; i++)
        {
            var program = Fuzz.FuzzGen.Program.Generate(new CsCheck.PCG(master.Next(), master.Next64()), null, out _);
            ProgramImage image;
            try
            {
                image = Fuzz.FuzzRenderer.Render(program, out _, KernelVersion.Linux6_1);
            }
            catch (EmitException)
            {
                continue;
            }
            built++;
            Assert.Null(InstructionKernelSupport.FirstUnsupported(image.Instructions, KernelVersion.Linux6_1));
            Assert.True(image.MinimumKernel <= KernelVersion.Linux6_1, string.Join(", ", image.RequiredFeatures));
        }
        Assert.True(built > 50, $"only {built} of 300 built for 6.1");
    }
}
