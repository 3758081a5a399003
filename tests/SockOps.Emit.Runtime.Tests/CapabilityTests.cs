using System.Runtime.InteropServices;
using SockOps.Emit.TestSupport;
using static SockOps.Emit.Runtime.Tests.Asm;

namespace SockOps.Emit.Runtime.Tests;

/// <summary>Linux capabilities are per thread: a dedicated thread drops CAP_BPF, CAP_SYS_ADMIN and CAP_PERFMON from
/// its effective set with capset(2), so the real kernel refuses it while the rest of the process is untouched.</summary>
public partial class CapabilityTests
{
    [Fact]
    public void Missing_capability_yields_the_EPERM_hint()
    {
        KernelGate.Require();
        Exception? caught = null;
        var thread = new Thread(() =>
        {
            DropEffective(21, 38, 39); // CAP_SYS_ADMIN, CAP_PERFMON, CAP_BPF
            try
            {
                using var program = BpfProgram.Load(ProgramLoadTests.SockOpsProgram("noperm", Mov64(0, 1), Exit()));
            }
            catch (Exception e)
            {
                caught = e;
            }
        });
        thread.Start();
        thread.Join();
        var error = Assert.IsType<BpfException>(caught);
        Assert.Equal("EPERM", error.ErrnoName);
        Assert.Equal(BpfCommand.ProgramLoad, error.Command);
        Assert.Contains("CAP_BPF", error.Message, StringComparison.Ordinal);
        Assert.Contains("CAP_NET_ADMIN", error.Message, StringComparison.Ordinal);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct CapHeader
    {
        public uint Version;
        public int Pid;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct CapData
    {
        public uint Effective, Permitted, Inheritable;
    }

    private static unsafe void DropEffective(params int[] capabilities)
    {
        nint get = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 90 : 125;
        nint set = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 91 : 126;
        var header = new CapHeader { Version = 0x20080522 }; // _LINUX_CAPABILITY_VERSION_3, pid 0 = this thread
        CapData* data = stackalloc CapData[2];
        if (Syscall(get, &header, data) != 0) throw new InvalidOperationException("capget failed: " + Marshal.GetLastPInvokeError());
        foreach (int cap in capabilities) data[cap / 32].Effective &= ~(1u << (cap % 32));
        if (Syscall(set, &header, data) != 0) throw new InvalidOperationException("capset failed: " + Marshal.GetLastPInvokeError());
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static unsafe partial nint Syscall(nint number, CapHeader* header, CapData* data);
}
