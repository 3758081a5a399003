using System.Runtime.InteropServices;

namespace SockOps.Emit.TestSupport;

/// <summary>
/// Linux capabilities are per thread: a dedicated thread drops capabilities from its effective set
/// with capset(2), so the kernel treats it as a less privileged loader while the rest of the test
/// process keeps its rights.
/// </summary>
public static partial class ThreadCapabilities
{
    /// <summary>CAP_SYS_ADMIN.</summary>
    public const int SysAdmin = 21;
    /// <summary>CAP_PERFMON.</summary>
    public const int Perfmon = 38;
    /// <summary>CAP_BPF.</summary>
    public const int Bpf = 39;

    /// <summary>Runs <paramref name="action"/> on a new thread without the given capabilities; rethrows its failure wrapped.</summary>
    public static T RunWithout<T>(int[] capabilities, Func<T> action)
    {
        T result = default!;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                DropEffective(capabilities);
                result = action();
            }
            catch (Exception e)
            {
                error = e;
            }
        });
        thread.Start();
        thread.Join();
        if (error is not null) throw new ThreadCapabilityException(error);
        return result;
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

    private static unsafe void DropEffective(int[] capabilities)
    {
        nint get = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 90 : 125;
        nint set = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 91 : 126;
        var header = new CapHeader { Version = 0x20080522 }; // _LINUX_CAPABILITY_VERSION_3, pid 0 = this thread
        CapData* data = stackalloc CapData[2];
        if (Syscall(get, &header, data) != 0) throw new InvalidOperationException("capget failed: errno " + Marshal.GetLastPInvokeError());
        foreach (int cap in capabilities) data[cap / 32].Effective &= ~(1u << (cap % 32));
        if (Syscall(set, &header, data) != 0) throw new InvalidOperationException("capset failed: errno " + Marshal.GetLastPInvokeError());
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static unsafe partial nint Syscall(nint number, CapHeader* header, CapData* data);
}

/// <summary>The action run by <see cref="ThreadCapabilities.RunWithout{T}"/> threw <see cref="Exception.InnerException"/>.</summary>
public sealed class ThreadCapabilityException(Exception inner) : Exception("the capability-reduced thread failed: " + inner.Message, inner);
