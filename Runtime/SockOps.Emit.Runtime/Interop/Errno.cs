namespace SockOps.Emit.Runtime.Interop;

/// <summary>Linux errno numbers (asm-generic) and their symbolic names.</summary>
internal static class Errno
{
    public const int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, E2BIG = 7, EBADF = 9, EAGAIN = 11,
        ENOMEM = 12, EACCES = 13, EFAULT = 14, EBUSY = 16, EEXIST = 17, EXDEV = 18, ENODEV = 19, ENOTDIR = 20,
        EISDIR = 21, EINVAL = 22, ENFILE = 23, EMFILE = 24, ENOSPC = 28, ERANGE = 34, ENAMETOOLONG = 36,
        ENOSYS = 38, ENOTEMPTY = 39, ELOOP = 40, EBADMSG = 74, EOVERFLOW = 75, EOPNOTSUPP = 95,
        ETOOMANYREFS = 109, ECANCELED = 125, ENOLINK = 67, ENOTSUPP = 524;

    public static string Name(int errno) => errno switch
    {
        EPERM => "EPERM", ENOENT => "ENOENT", ESRCH => "ESRCH", EINTR => "EINTR", EIO => "EIO", E2BIG => "E2BIG",
        EBADF => "EBADF", EAGAIN => "EAGAIN", ENOMEM => "ENOMEM", EACCES => "EACCES", EFAULT => "EFAULT",
        EBUSY => "EBUSY", EEXIST => "EEXIST", EXDEV => "EXDEV", ENODEV => "ENODEV", ENOTDIR => "ENOTDIR",
        EISDIR => "EISDIR", EINVAL => "EINVAL", ENFILE => "ENFILE", EMFILE => "EMFILE", ENOSPC => "ENOSPC",
        ERANGE => "ERANGE", ENAMETOOLONG => "ENAMETOOLONG", ENOSYS => "ENOSYS", ENOTEMPTY => "ENOTEMPTY",
        ELOOP => "ELOOP", EBADMSG => "EBADMSG", EOVERFLOW => "EOVERFLOW", EOPNOTSUPP => "EOPNOTSUPP",
        ETOOMANYREFS => "ETOOMANYREFS", ECANCELED => "ECANCELED", ENOLINK => "ENOLINK", ENOTSUPP => "ENOTSUPP",
        _ => "errno " + errno.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public static string Describe(int errno) => errno switch
    {
        EPERM => "Operation not permitted", ENOENT => "No such file or directory", EACCES => "Permission denied",
        E2BIG => "Argument list too long", EINVAL => "Invalid argument", ENOSPC => "No space left on device",
        EEXIST => "File exists", EBADF => "Bad file descriptor", ENOMEM => "Cannot allocate memory",
        EBUSY => "Device or resource busy", EFAULT => "Bad address", ENOTSUPP or EOPNOTSUPP => "Operation not supported",
        ENOSYS => "Function not implemented", EMFILE => "Too many open files", ENOTDIR => "Not a directory",
        ENOTEMPTY => "Directory not empty", EAGAIN => "Resource temporarily unavailable", ERANGE => "Numerical result out of range",
        _ => Name(errno),
    };
}
