using SockOps.Emit.TestSupport;
using static SockOps.Emit.Runtime.Tests.Asm;

namespace SockOps.Emit.Runtime.Tests;

/// <summary>Linux capabilities are per thread: a dedicated thread drops CAP_BPF, CAP_SYS_ADMIN and CAP_PERFMON from
/// its effective set with capset(2), so the real kernel refuses it while the rest of the process is untouched.</summary>
public class CapabilityTests
{
    [Fact]
    public void Missing_capability_yields_the_EPERM_hint()
    {
        KernelGate.Require();
        var caught = Assert.Throws<ThreadCapabilityException>(() => ThreadCapabilities.RunWithout(
            [ThreadCapabilities.SysAdmin, ThreadCapabilities.Perfmon, ThreadCapabilities.Bpf],
            () => BpfProgram.Load(ProgramLoadTests.SockOpsProgram("noperm", Mov64(0, 1), Exit()))));
        var error = Assert.IsType<BpfException>(caught.InnerException);
        Assert.Equal("EPERM", error.ErrnoName);
        Assert.Equal(BpfCommand.ProgramLoad, error.Command);
        Assert.Contains("CAP_BPF", error.Message, StringComparison.Ordinal);
        Assert.Contains("CAP_NET_ADMIN", error.Message, StringComparison.Ordinal);
    }
}
