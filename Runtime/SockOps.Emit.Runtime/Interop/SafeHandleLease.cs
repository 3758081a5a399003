using System.Runtime.InteropServices;

namespace SockOps.Emit.Runtime.Interop;

/// <summary>A DangerousAddRef taken on a handle for the duration of a syscall that uses its raw value.</summary>
internal readonly record struct SafeHandleLease(SafeHandle Handle);

internal static class SafeHandleLeaseExtensions
{
    /// <summary>Adds a reference to the handle (so it cannot be closed and reused mid-call) and returns its fd.</summary>
    public static int Lease(this List<SafeHandleLease> leases, BpfFileDescriptor handle)
    {
        bool added = false;
        handle.DangerousAddRef(ref added);
        if (added) leases.Add(new SafeHandleLease(handle));
        return handle.Value;
    }

    public static void ReleaseAll(this List<SafeHandleLease> leases)
    {
        foreach (var lease in leases) lease.Handle.DangerousRelease();
        leases.Clear();
    }
}
