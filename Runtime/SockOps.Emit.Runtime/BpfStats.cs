using SockOps.Emit.Runtime.Interop;

namespace SockOps.Emit.Runtime;

/// <summary>Kernel-wide run statistics for BPF programs (BPF_ENABLE_STATS, BPF_STATS_RUN_TIME). While the
/// returned object is alive the kernel counts run_cnt and run_time_ns of every program.</summary>
public sealed class BpfStats : IDisposable
{
    private const uint RunTime = 0; // BPF_STATS_RUN_TIME

    private BpfStats(BpfFileDescriptor fd) => Fd = fd;

    /// <summary>The descriptor that keeps statistics enabled.</summary>
    public BpfFileDescriptor Fd { get; }

    /// <summary>Enables run-time statistics until the result is disposed.</summary>
    public static BpfStats Enable()
    {
        var attr = new SingleWordAttr { Value = RunTime };
        return new BpfStats(BpfSyscall.InvokeForFd(BpfCommand.EnableStats, ref attr, "BPF_STATS_RUN_TIME"));
    }

    /// <inheritdoc />
    public void Dispose() => Fd.Dispose();
}
