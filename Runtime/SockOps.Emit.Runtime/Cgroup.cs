using System.Globalization;
using System.Runtime.InteropServices;
using SockOps.Emit.Runtime.Interop;

namespace SockOps.Emit.Runtime;

/// <summary>A cgroup v2 directory and an open descriptor on it (the attach target for cgroup programs).</summary>
public sealed class Cgroup : IDisposable
{
    private readonly bool _removeOnDispose;
    private bool _disposed;

    private Cgroup(string path, BpfFileDescriptor fd, bool removeOnDispose)
    {
        Path = path;
        Fd = fd;
        _removeOnDispose = removeOnDispose;
    }

    /// <summary>The cgroup's directory.</summary>
    public string Path { get; }

    /// <summary>An O_RDONLY|O_DIRECTORY descriptor on the directory.</summary>
    public BpfFileDescriptor Fd { get; }

    /// <summary>The cgroup's id: the inode number of its directory, the id BPF reports (bpf_link_info's cgroup_id,
    /// bpf_get_current_cgroup_id).</summary>
    public unsafe ulong Id
    {
        get
        {
            const int AtEmptyPath = 0x1000;
            const uint StatxIno = 0x100;
            byte* buffer = stackalloc byte[256]; // struct statx is 256 bytes; stx_ino is the u64 at offset 32
            bool added = false;
            try
            {
                Fd.DangerousAddRef(ref added);
                if (Libc.Statx(Fd.Value, "", AtEmptyPath, StatxIno, buffer) != 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    throw new IOException($"statx({Path}) failed with {Errno.Name(errno)} ({Errno.Describe(errno)}).");
                }
                return *(ulong*)(buffer + 32);
            }
            finally
            {
                if (added) Fd.DangerousRelease();
            }
        }
    }

    /// <summary>The mount point of the cgroup2 hierarchy, from /proc/self/mountinfo.</summary>
    /// <exception cref="InvalidOperationException">No cgroup2 file system is mounted.</exception>
    public static string FindMountPoint()
    {
        foreach (var mount in MountInfo.Read())
            if (mount.FileSystemType == "cgroup2") return mount.MountPoint;
        throw new InvalidOperationException("No cgroup2 file system is mounted (see /proc/self/mountinfo); mount one with `mount -t cgroup2 none /sys/fs/cgroup`.");
    }

    /// <summary>The cgroup v2 directory this process is in (the <c>0::</c> line of /proc/self/cgroup under the cgroup2 mount).</summary>
    /// <exception cref="InvalidOperationException">The process is in no cgroup v2, or none is mounted.</exception>
    public static string CurrentProcessPath()
    {
        string relative = File.ReadAllLines("/proc/self/cgroup").FirstOrDefault(l => l.StartsWith("0::", StringComparison.Ordinal))?[3..]
            ?? throw new InvalidOperationException("this process is in no cgroup v2 (no 0:: line in /proc/self/cgroup)");
        return System.IO.Path.Combine(FindMountPoint(), relative.TrimStart('/'));
    }

    /// <summary>Opens an existing cgroup v2 directory; disposing closes it but does not remove it.</summary>
    public static Cgroup Open(string path) => new(path, OpenDirectory(path), removeOnDispose: false);

    /// <summary>Creates a uniquely named child cgroup (under the cgroup2 mount root by default), removed on Dispose.</summary>
    public static Cgroup CreateTemporary(string? parent = null, string prefix = "sockops-emit")
    {
        parent ??= FindMountPoint();
        string path = System.IO.Path.Combine(parent, $"{prefix}-{Environment.ProcessId}-{Guid.NewGuid():N}"[..(prefix.Length + 1 + 24)]);
        Directory.CreateDirectory(path);
        try
        {
            return new Cgroup(path, OpenDirectory(path), removeOnDispose: true);
        }
        catch
        {
            Directory.Delete(path);
            throw;
        }
    }

    /// <summary>Moves a whole process (all its threads) into this cgroup.</summary>
    public void AddProcess(int pid) =>
        File.WriteAllText(System.IO.Path.Combine(Path, "cgroup.procs"), pid.ToString(CultureInfo.InvariantCulture));

    /// <summary>The processes currently in this cgroup (not its descendants).</summary>
    public IReadOnlyList<int> Processes =>
        [.. File.ReadAllLines(System.IO.Path.Combine(Path, "cgroup.procs")).Where(l => l.Length > 0).Select(l => int.Parse(l, CultureInfo.InvariantCulture))];

    /// <summary>Ids of the programs attached here for an attach type (BPF_PROG_QUERY).</summary>
    /// <param name="type">The attach type.</param>
    /// <param name="effective">Include programs inherited from ancestors (BPF_F_QUERY_EFFECTIVE).</param>
    public unsafe IReadOnlyList<uint> QueryPrograms(AttachType type, bool effective = false)
    {
        for (int capacity = 64; ; capacity *= 4)
        {
            uint[] ids = new uint[capacity];
            int result;
            uint count;
            fixed (uint* idsPtr = ids)
            {
                var attr = new QueryAttr
                {
                    TargetFd = (uint)Fd.Value,
                    AttachType = (uint)type,
                    QueryFlags = effective ? 1u : 0u,
                    ProgIds = (ulong)idsPtr,
                    ProgCount = (uint)ids.Length,
                };
                bool added = false;
                try
                {
                    Fd.DangerousAddRef(ref added);
                    result = BpfSyscall.TryInvoke(BpfCommand.ProgramQuery, ref attr);
                }
                finally
                {
                    if (added) Fd.DangerousRelease();
                }
                count = attr.ProgCount;
            }
            // ENOSPC: more programs than room; prog_cnt then holds the real count.
            if (result == -Errno.ENOSPC && capacity < 1 << 16) continue;
            if (result < 0) throw new BpfException(BpfCommand.ProgramQuery, -result, $"cgroup {Path}");
            return ids.AsSpan(0, (int)count).ToArray();
        }
    }

    /// <summary>Attaches a program here until the returned attachment is disposed or collected; see <see cref="CgroupAttachment.Attach"/>.</summary>
    public CgroupAttachment Attach(BpfProgram program, AttachType type = AttachType.CgroupSockOps, CgroupAttachMode mode = CgroupAttachMode.Multi) =>
        CgroupAttachment.Attach(this, program, type, mode);

    /// <summary>Closes the descriptor; a temporary cgroup first moves remaining processes to its parent and is removed.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Fd.Dispose();
        if (!_removeOnDispose || !Directory.Exists(Path)) return;
        string parentProcs = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(Path)!, "cgroup.procs");
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                foreach (string pid in File.ReadAllLines(System.IO.Path.Combine(Path, "cgroup.procs")))
                {
                    if (pid.Length == 0) continue;
                    try
                    {
                        File.WriteAllText(parentProcs, pid);
                    }
                    catch (IOException)
                    {
                        // The process exited between the read and the move.
                    }
                }
                Directory.Delete(Path);
                return;
            }
            catch (IOException) when (attempt < 50)
            {
                // EBUSY while exiting tasks are still being reaped out of the cgroup.
                Thread.Sleep(20);
            }
        }
    }

    internal void WithFd(Action action)
    {
        bool added = false;
        try
        {
            Fd.DangerousAddRef(ref added);
            action();
        }
        finally
        {
            if (added) Fd.DangerousRelease();
        }
    }

    internal static BpfFileDescriptor OpenDirectory(string path)
    {
        int fd = Libc.Open(path, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new IOException($"open({path}, O_DIRECTORY) failed with {Errno.Name(errno)} ({Errno.Describe(errno)}).");
        }
        return new BpfFileDescriptor(fd);
    }
}
