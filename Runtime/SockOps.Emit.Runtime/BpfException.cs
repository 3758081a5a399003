using SockOps.Emit.Runtime.Interop;

namespace SockOps.Emit.Runtime;

/// <summary>A bpf(2) command failed: the kernel said no. Carries the command, the errno and a hint a user can act on.
/// The base of every kernel refusal, so one <c>catch (BpfException)</c> handles them all: <see cref="VerifierException"/>
/// (a refused program load, with the verifier log) and higher layers' refinements of it (e.g. the hosting layer's
/// <c>ProgramRefusedException</c>, which names the C# line).</summary>
public class BpfException : Exception
{
    /// <summary>Creates the exception for a failed command.</summary>
    public BpfException(BpfCommand command, int errno, string? detail = null)
        : this(command, errno, detail, HintFor(command, errno))
    {
    }

    /// <summary>Creates the exception with an explicit hint.</summary>
    protected BpfException(BpfCommand command, int errno, string? detail, string hint, Exception? inner = null)
        : base(Compose(command, errno, detail, hint), inner)
    {
        Command = command;
        Errno = errno;
        Hint = hint;
    }

    /// <summary>Creates the exception with a message composed by a derived type (which should name the command and errno).</summary>
    protected BpfException(string message, BpfCommand command, int errno, string hint, Exception? inner)
        : base(message, inner)
    {
        Command = command;
        Errno = errno;
        Hint = hint;
    }

    /// <summary>The command that failed.</summary>
    public BpfCommand Command { get; }

    /// <summary>The errno the kernel returned.</summary>
    public int Errno { get; }

    /// <summary>The errno's symbolic name, e.g. <c>EPERM</c>.</summary>
    public string ErrnoName => Interop.Errno.Name(Errno);

    /// <summary>What the user can do about it.</summary>
    public string Hint { get; }

    private static string Compose(BpfCommand command, int errno, string? detail, string hint) =>
        $"{command.KernelName()} failed with {Interop.Errno.Name(errno)} ({Interop.Errno.Describe(errno)})" +
        (detail is null ? "" : ": " + detail) + ". " + hint;

    /// <summary>The hint for a command/errno pair.</summary>
    internal static string HintFor(BpfCommand command, int errno) => (command, errno) switch
    {
        (BpfCommand.ProgramLoad, Interop.Errno.EPERM) =>
            "Loading needs CAP_BPF plus CAP_NET_ADMIN for networking program types such as sock_ops (or run as root); also check the memlock limit on kernels before 5.11.",
        (_, Interop.Errno.EPERM) => "The caller lacks a capability: bpf() needs CAP_BPF (plus CAP_NET_ADMIN for networking objects, CAP_SYS_ADMIN for some commands) — run as root or grant them.",
        (BpfCommand.ProgramLoad, Interop.Errno.E2BIG) =>
            "The program is too large (more instructions than the kernel accepts) or the attribute size is larger than this kernel knows.",
        (_, Interop.Errno.E2BIG) => "The attribute structure is larger than this kernel knows (a newer field is set), or a size/count is over the kernel's limit.",
        (_, Interop.Errno.ENOSPC) when command is BpfCommand.ProgramLoad or BpfCommand.BtfLoad =>
            "The verifier log buffer was too small; retry with a larger log.",
        (_, Interop.Errno.ENOSPC) => "The map is full (max_entries reached) or the kernel is out of the resource.",
        (BpfCommand.ProgramLoad, Interop.Errno.EACCES) => "The verifier rejected the program; load with a log to see why.",
        (_, Interop.Errno.EACCES) => "Permission denied: check file permissions on bpffs/cgroupfs and the object's access mode.",
        (BpfCommand.MapCreate, Interop.Errno.EINVAL) => "The kernel refused the map attributes (type/key/value size/max_entries/flags combination or BTF).",
        (BpfCommand.ProgramLoad, Interop.Errno.EINVAL) => "The kernel refused the load attributes (program type, flags, license or expected attach type) or the instructions are malformed.",
        (BpfCommand.ProgramAttach or BpfCommand.LinkCreate, Interop.Errno.EINVAL) => "The program type does not match the attach type, or the attach flags are invalid for this target.",
        (_, Interop.Errno.EINVAL) => "The kernel refused an argument (unknown flag, wrong size or an attribute this kernel does not support).",
        (BpfCommand.MapLookupElement or BpfCommand.MapDeleteElement or BpfCommand.MapGetNextKey or BpfCommand.MapUpdateElement, Interop.Errno.ENOENT) =>
            "The key is not in the map.",
        (BpfCommand.ObjectGet, Interop.Errno.ENOENT) => "Nothing is pinned at that path.",
        (_, Interop.Errno.ENOENT) => "The object does not exist (wrong id, path or detached program).",
        (_, Interop.Errno.EEXIST) => "The object already exists (key present with NoExist, pin path taken, or a program already attached in exclusive mode).",
        (_, Interop.Errno.EBADF) => "A file descriptor passed to the kernel is not open or is not a BPF object of the expected kind.",
        (_, Interop.Errno.EBUSY) => "The target is busy (e.g. a link already occupies the hook).",
        (_, Interop.Errno.ENOTSUPP or Interop.Errno.EOPNOTSUPP) => "The kernel does not support this operation for this object type.",
        (_, Interop.Errno.ENOSYS) => "The kernel was built without bpf() support.",
        (_, Interop.Errno.ENOMEM) => "Kernel memory allocation failed (or the RLIMIT_MEMLOCK limit on kernels before 5.11).",
        (_, Interop.Errno.EFAULT) => "The kernel could not read or write a user buffer (a pointer or size in the attributes is wrong).",
        _ => "See bpf(2) for this errno.",
    };
}
