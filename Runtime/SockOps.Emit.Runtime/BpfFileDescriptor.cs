using System.Runtime.InteropServices;
using SockOps.Emit.Runtime.Interop;

namespace SockOps.Emit.Runtime;

/// <summary>A file descriptor of a BPF object (program, map, link, BTF) or of a directory we opened.
/// 0 is a valid descriptor; -1 is invalid. Releasing closes it with close(2).</summary>
public sealed class BpfFileDescriptor : SafeHandle
{
    /// <summary>Creates an invalid handle (used by marshalling).</summary>
    public BpfFileDescriptor() : base(-1, ownsHandle: true)
    {
    }

    /// <summary>Wraps a raw descriptor this handle will own.</summary>
    public BpfFileDescriptor(int fd, bool ownsHandle = true) : base(-1, ownsHandle) => SetHandle(fd);

    /// <inheritdoc />
    public override bool IsInvalid => handle == -1;

    /// <summary>The raw descriptor number. Only valid while the handle is open.</summary>
    public int Value => (int)handle;

    /// <inheritdoc />
    protected override bool ReleaseHandle() => Libc.Close((int)handle) == 0;
}
