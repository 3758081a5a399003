namespace SockOps.Emit.Testing.Tests;

public sealed class KernelRequirementTests
{
    [Fact]
    public void No_reason_passes_whether_required_or_not()
    {
        Assert.Null(KernelRequirement.Gate(null, required: false));
        Assert.Null(KernelRequirement.Gate(null, required: true));
    }

    [Fact]
    public void A_reason_is_returned_for_the_framework_to_skip_with()
    {
        Assert.Equal("no bpftool", KernelRequirement.Gate("no bpftool", required: false));
    }

    [Fact]
    public void Under_the_requirement_a_reason_throws_naming_the_variable()
    {
        var e = Assert.Throws<KernelRequirementException>(() => KernelRequirement.Gate("no bpftool", required: true));
        Assert.Equal("no bpftool", e.Reason);
        Assert.Equal("SOCKOPS_REQUIRE_KERNEL=1 but the kernel test cannot run: no bpftool", e.Message);
    }

    [Fact]
    public void The_missing_reason_agrees_with_the_capabilities()
    {
        // CAP_BPF (39) or CAP_SYS_ADMIN (21), and CAP_NET_ADMIN (12), are what the reason is about.
        bool capable = (KernelRequirement.HasCapability(39) || KernelRequirement.HasCapability(21)) && KernelRequirement.HasCapability(12);
        if (!capable) Assert.NotNull(KernelRequirement.MissingReason);
        if (KernelRequirement.MissingReason is null) Assert.True(capable);
    }

    [Fact]
    public void A_capability_number_out_of_range_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => KernelRequirement.HasCapability(64));
        Assert.Throws<ArgumentOutOfRangeException>(() => KernelRequirement.HasCapability(-1));
    }
}
