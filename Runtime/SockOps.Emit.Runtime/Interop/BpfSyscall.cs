using System.Runtime.InteropServices;

namespace SockOps.Emit.Runtime.Interop;

/// <summary>The bpf(2) system call with typed attribute structs.</summary>
internal static unsafe class BpfSyscall
{
    /// <summary>Calls bpf(cmd, attr, sizeof(attr)); returns the result or -errno (never throws).</summary>
    public static int TryInvoke<TAttr>(BpfCommand command, ref TAttr attr) where TAttr : unmanaged
    {
        nint number = Libc.BpfSyscallNumber;
        if (number < 0)
            throw new PlatformNotSupportedException($"bpf(2) is not mapped for {RuntimeInformation.ProcessArchitecture}; supported: x64 (321), arm64 (280).");
        fixed (TAttr* p = &attr)
        {
            for (int attempt = 0; ; attempt++)
            {
                nint result = Libc.Syscall(number, (nint)command, p, sizeof(TAttr));
                if (result >= 0) return (int)result;
                int errno = Marshal.GetLastPInvokeError();
                // Loads and some map operations may be interrupted by signals; the kernel asks to retry.
                if (errno == Errno.EINTR || (errno == Errno.EAGAIN && command == BpfCommand.ProgramLoad && attempt < 5)) continue;
                return -errno;
            }
        }
    }

    /// <summary>Calls bpf(); throws <see cref="BpfException"/> on failure.</summary>
    public static int Invoke<TAttr>(BpfCommand command, ref TAttr attr, string? detail = null) where TAttr : unmanaged
    {
        int result = TryInvoke(command, ref attr);
        if (result < 0) throw new BpfException(command, -result, detail);
        return result;
    }

    /// <summary>Calls a bpf() command that returns a new descriptor and wraps it.</summary>
    public static BpfFileDescriptor InvokeForFd<TAttr>(BpfCommand command, ref TAttr attr, string? detail = null) where TAttr : unmanaged
    {
        int fd = Invoke(command, ref attr, detail);
        return new BpfFileDescriptor(fd);
    }
}
