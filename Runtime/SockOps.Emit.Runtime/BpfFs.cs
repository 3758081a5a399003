using System.Runtime.InteropServices;
using System.Text;
using SockOps.Emit.Runtime.Interop;

namespace SockOps.Emit.Runtime;

/// <summary>Pinning BPF objects on the BPF file system (bpffs).</summary>
public static class BpfFs
{
    /// <summary>The conventional bpffs mount point.</summary>
    public const string DefaultMountPoint = "/sys/fs/bpf";

    private const long BpfFsMagic = 0xcafe4a11;

    /// <summary>Finds the first bpffs mount in /proc/self/mountinfo, or null.</summary>
    public static string? FindMountPoint()
    {
        foreach (var mount in MountInfo.Read())
            if (mount.FileSystemType == "bpf") return mount.MountPoint;
        return null;
    }

    /// <summary>Returns a bpffs mount point, mounting bpffs at <paramref name="mountPoint"/> when none is mounted.</summary>
    /// <exception cref="IOException">bpffs is not mounted and mounting it failed (the message says why).</exception>
    public static string EnsureMounted(string mountPoint = DefaultMountPoint)
    {
        if (FindMountPoint() is string existing) return existing;
        Directory.CreateDirectory(mountPoint);
        if (Libc.Mount("bpf", mountPoint, "bpf", 0, 0) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new IOException($"bpffs is not mounted and mounting it at {mountPoint} failed with {Errno.Name(errno)}: " +
                (errno == Errno.EPERM ? "mounting needs CAP_SYS_ADMIN in the mount namespace; run `mount -t bpf bpf " + mountPoint + "` as root." :
                 "run `mount -t bpf bpf " + mountPoint + "` and check that the kernel has CONFIG_BPF_SYSCALL."));
        }
        return mountPoint;
    }

    /// <summary>Pins a BPF object descriptor at a path on bpffs.</summary>
    public static unsafe void Pin(BpfFileDescriptor fd, string path)
    {
        ArgumentNullException.ThrowIfNull(fd);
        byte[] pathBytes = Encoding.UTF8.GetBytes(path + "\0");
        bool added = false;
        try
        {
            fd.DangerousAddRef(ref added);
            fixed (byte* p = pathBytes)
            {
                var attr = new ObjPinAttr { PathName = (ulong)p, BpfFd = (uint)fd.Value };
                int result = BpfSyscall.TryInvoke(BpfCommand.ObjectPin, ref attr);
                if (result < 0) throw new BpfException(BpfCommand.ObjectPin, -result, DescribePathProblem(path, -result));
            }
        }
        finally
        {
            if (added) fd.DangerousRelease();
        }
    }

    /// <summary>Opens the object pinned at a path.</summary>
    public static unsafe BpfFileDescriptor Open(string path)
    {
        byte[] pathBytes = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = pathBytes)
        {
            var attr = new ObjPinAttr { PathName = (ulong)p };
            int result = BpfSyscall.TryInvoke(BpfCommand.ObjectGet, ref attr);
            if (result < 0) throw new BpfException(BpfCommand.ObjectGet, -result, DescribePathProblem(path, -result));
            return new BpfFileDescriptor(result);
        }
    }

    /// <summary>Checks that a descriptor is the expected kind of BPF object (its /proc/self/fd link names the anon inode:
    /// <c>bpf-map</c>, <c>bpf-prog</c> or <c>bpf-link</c>).</summary>
    /// <exception cref="InvalidDataException">It is another kind of object.</exception>
    internal static void RequireKind(BpfFileDescriptor fd, string anonInodeName, string what)
    {
        string? target = new FileInfo("/proc/self/fd/" + fd.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)).LinkTarget;
        if (target != "anon_inode:" + anonInodeName)
            throw new InvalidDataException($"{what}: the descriptor is '{target}', not a BPF {anonInodeName["bpf-".Length..]} (anon_inode:{anonInodeName}).");
    }

    /// <summary>Removes a pin (the object lives on while other references exist).</summary>
    public static void Unpin(string path) => File.Delete(path);

    private static string DescribePathProblem(string path, int errno)
    {
        string? directory = Path.GetDirectoryName(path);
        if (errno == Errno.EPERM && directory is not null && !IsOnBpfFs(directory))
            return $"'{path}' is not on a bpffs mount (mount one with `mount -t bpf bpf /sys/fs/bpf`)";
        return $"path '{path}'";
    }

    /// <summary>Whether <paramref name="directory"/> is at or under a bpffs mount point (/proc/self/mountinfo).</summary>
    public static bool IsOnBpfFs(string directory)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        foreach (var mount in MountInfo.Read())
            if (mount.FileSystemType == "bpf" && (full == mount.MountPoint || full.StartsWith(mount.MountPoint + "/", StringComparison.Ordinal)))
                return true;
        return false;
    }
}
