using SockOps.Emit.TestSupport;
using Xunit.Sdk;

namespace SockOps.Emit.Tests.Kernel;

/// <summary>
/// The gate every kernel-facing skip goes through: a skip when SOCKOPS_REQUIRE_KERNEL is not 1, a failure when it
/// is (CI), so that in CI nothing that needs the kernel or an oracle tool can pass by skipping. (The skipping branch
/// cannot be observed from inside a test: xunit turns the skip into the outcome of the test that catches it.)
/// </summary>
public class KernelGateTests
{
    [Fact]
    public void A_gated_skip_fails_when_the_kernel_is_required()
    {
        var e = Assert.Throws<FailException>(() => KernelGate.Skip("no such facility", required: true));
        Assert.Equal("SOCKOPS_REQUIRE_KERNEL=1 but the test cannot run: no such facility", e.Message);
    }

    [Fact]
    public void The_gate_is_required_exactly_when_SOCKOPS_REQUIRE_KERNEL_is_1()
    {
        Assert.Equal(Environment.GetEnvironmentVariable("SOCKOPS_REQUIRE_KERNEL") == "1", KernelGate.Required);
        // Under .ci/run the one-argument form takes the failing branch.
        if (KernelGate.Required) Assert.IsType<FailException>(Record.Exception(() => KernelGate.Skip("no such facility")));
    }

    [Fact]
    public void A_missing_oracle_tool_fails_when_the_kernel_is_required()
    {
        var e = Assert.Throws<FailException>(() => KernelGate.RequireTool("sockops-no-such-tool", "no-such-package", required: true));
        Assert.Equal("SOCKOPS_REQUIRE_KERNEL=1 but the test cannot run: sockops-no-such-tool is not installed (apt-get install no-such-package); it is the oracle of this test", e.Message);
    }

    [Fact]
    public void A_present_tool_is_found_on_the_path()
    {
        string sh = KernelGate.RequireTool("sh", "dash", required: true);
        Assert.True(sh.EndsWith("/sh", StringComparison.Ordinal) && File.Exists(sh), $"sh found at {sh}");
    }
}
