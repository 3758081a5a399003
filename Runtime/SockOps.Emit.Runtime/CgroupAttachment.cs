using SockOps.Emit.Runtime.Interop;

namespace SockOps.Emit.Runtime;

/// <summary>How programs attached to the same cgroup hook coexist (BPF_PROG_ATTACH flags).</summary>
public enum CgroupAttachMode
{
    /// <summary>flags 0: the only program on the hook; descendants may not attach.</summary>
    Exclusive,
    /// <summary>BPF_F_ALLOW_OVERRIDE: a descendant's program replaces this one for the descendant.</summary>
    Override,
    /// <summary>BPF_F_ALLOW_MULTI: programs from this cgroup and its ancestors all run (links always use this).</summary>
    Multi,
}

/// <summary>Which kernel mechanism holds an attachment.</summary>
public enum AttachMechanism
{
    /// <summary>A bpf_link (BPF_LINK_CREATE): detached when the link fd and all its pins are gone.</summary>
    Link,
    /// <summary>BPF_PROG_ATTACH: stays until BPF_PROG_DETACH.</summary>
    ProgramAttach,
}

/// <summary>A program attached to a cgroup. Dispose detaches it (closes the link, or BPF_PROG_DETACH).</summary>
public sealed class CgroupAttachment : IDisposable
{
    private const uint AllowOverride = 1, AllowMulti = 2, Replace = 4; // BPF_F_ALLOW_OVERRIDE, BPF_F_ALLOW_MULTI, BPF_F_REPLACE

    private readonly BpfFileDescriptor? _cgroupFd;
    private BpfFileDescriptor? _programFd;
    private bool _disposed;

    private CgroupAttachment(AttachMechanism mechanism, AttachType type, CgroupAttachMode mode, BpfFileDescriptor? link,
        BpfFileDescriptor? cgroupFd, BpfFileDescriptor? programFd, string? cgroupPath)
    {
        Mechanism = mechanism;
        AttachType = type;
        Mode = mode;
        LinkFd = link;
        _cgroupFd = cgroupFd;
        _programFd = programFd;
        CgroupPath = cgroupPath;
    }

    /// <summary>The mechanism that was used.</summary>
    public AttachMechanism Mechanism { get; }

    /// <summary>The attach type.</summary>
    public AttachType AttachType { get; }

    /// <summary>The attach mode (links are always <see cref="CgroupAttachMode.Multi"/>).</summary>
    public CgroupAttachMode Mode { get; }

    /// <summary>The link descriptor when <see cref="Mechanism"/> is <see cref="AttachMechanism.Link"/>.</summary>
    public BpfFileDescriptor? LinkFd { get; }

    /// <summary>The cgroup directory, when known (null for a reopened pinned link).</summary>
    public string? CgroupPath { get; }

    /// <summary>Attaches a program to a cgroup. With <see cref="CgroupAttachMode.Multi"/> a bpf_link is tried first and
    /// BPF_PROG_ATTACH is the fallback for kernels without cgroup links; exclusive and override modes cannot be
    /// expressed by links and always use BPF_PROG_ATTACH. <see cref="Mechanism"/> reports what was used.</summary>
    public static CgroupAttachment Attach(Cgroup cgroup, BpfProgram program, AttachType type = AttachType.CgroupSockOps,
        CgroupAttachMode mode = CgroupAttachMode.Multi, AttachMechanism? mechanism = null)
    {
        ArgumentNullException.ThrowIfNull(cgroup);
        ArgumentNullException.ThrowIfNull(program);
        if (mechanism == AttachMechanism.Link && mode != CgroupAttachMode.Multi)
            throw new ArgumentException($"bpf_link attachments are always multi; {mode} needs AttachMechanism.ProgramAttach.", nameof(mechanism));
        bool useLink = mechanism switch
        {
            AttachMechanism.Link => true,
            AttachMechanism.ProgramAttach => false,
            _ => mode == CgroupAttachMode.Multi && FeatureProbes.AreCgroupLinksSupported,
        };

        var leases = new List<SafeHandleLease>();
        try
        {
            int cgroupFd = leases.Lease(cgroup.Fd);
            int programFd = leases.Lease(program.Fd);
            if (useLink)
            {
                var attr = new LinkCreateAttr { ProgFd = (uint)programFd, TargetFd = (uint)cgroupFd, AttachType = (uint)type };
                var link = BpfSyscall.InvokeForFd(BpfCommand.LinkCreate, ref attr, $"program '{program.Name}' to cgroup {cgroup.Path}");
                return new CgroupAttachment(AttachMechanism.Link, type, CgroupAttachMode.Multi, link, null, null, cgroup.Path);
            }

            // PROG_ATTACH holds no fd: keep our own descriptors on the cgroup and program to detach later,
            // independent of the caller disposing theirs.
            var ownCgroup = Cgroup.OpenDirectory(cgroup.Path);
            BpfFileDescriptor ownProgram;
            try
            {
                ownProgram = ProgramFdFromId(program.Info.Id);
            }
            catch
            {
                ownCgroup.Dispose();
                throw;
            }
            var attach = new ProgAttachAttr
            {
                TargetFd = (uint)cgroupFd,
                AttachBpfFd = (uint)programFd,
                AttachType = (uint)type,
                AttachFlags = FlagsFor(mode),
            };
            int result = BpfSyscall.TryInvoke(BpfCommand.ProgramAttach, ref attach);
            if (result < 0)
            {
                ownCgroup.Dispose();
                ownProgram.Dispose();
                throw new BpfException(BpfCommand.ProgramAttach, -result, $"program '{program.Name}' to cgroup {cgroup.Path} ({mode})");
            }
            return new CgroupAttachment(AttachMechanism.ProgramAttach, type, mode, null, ownCgroup, ownProgram, cgroup.Path);
        }
        finally
        {
            leases.ReleaseAll();
        }
    }

    /// <summary>Reopens a link pinned on bpffs.</summary>
    public static CgroupAttachment OpenPinnedLink(string path)
    {
        var fd = BpfFs.Open(path);
        try
        {
            BpfFs.RequireKind(fd, "bpf-link", $"CgroupAttachment.OpenPinnedLink({path})");
            var info = QueryLink(fd);
            return new CgroupAttachment(AttachMechanism.Link, (AttachType)info.CgroupAttachType, CgroupAttachMode.Multi, fd, null, null, null);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>The id of the program currently attached through this attachment.</summary>
    public uint ProgramId => LinkFd is not null ? QueryLink(LinkFd).ProgId : ProgramInfo.Query(_programFd!).Id;

    /// <summary>The link's kernel id (links only).</summary>
    public uint LinkId => LinkFd is not null ? QueryLink(LinkFd).Id : throw new InvalidOperationException("Not a bpf_link attachment.");

    /// <summary>The id of the cgroup (its inode number) a link is attached to (links only).</summary>
    public ulong CgroupId => LinkFd is not null ? QueryLink(LinkFd).CgroupId : throw new InvalidOperationException("Not a bpf_link attachment.");

    /// <summary>Atomically replaces the attached program: BPF_LINK_UPDATE for links; for BPF_PROG_ATTACH in multi mode
    /// BPF_F_REPLACE naming the old program, in exclusive and override mode a re-attach (the kernel replaces the hook's one program).</summary>
    public void Update(BpfProgram newProgram)
    {
        ArgumentNullException.ThrowIfNull(newProgram);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var leases = new List<SafeHandleLease>();
        try
        {
            int newFd = leases.Lease(newProgram.Fd);
            if (LinkFd is not null)
            {
                var attr = new LinkUpdateAttr { LinkFd = (uint)leases.Lease(LinkFd), NewProgFd = (uint)newFd };
                BpfSyscall.Invoke(BpfCommand.LinkUpdate, ref attr, $"to program '{newProgram.Name}'");
                return;
            }
            // Multi mode names the program to replace (BPF_F_REPLACE); exclusive and override hooks hold one
            // program per cgroup and the kernel replaces it when the same cgroup attaches again.
            var attach = new ProgAttachAttr
            {
                TargetFd = (uint)leases.Lease(_cgroupFd!),
                AttachBpfFd = (uint)newFd,
                AttachType = (uint)AttachType,
                AttachFlags = FlagsFor(Mode) | (Mode == CgroupAttachMode.Multi ? Replace : 0),
                ReplaceBpfFd = Mode == CgroupAttachMode.Multi ? (uint)leases.Lease(_programFd!) : 0,
            };
            // Take our own fd on the new program first, so a failure cannot leave it attached but unknown to us.
            var replacement = ProgramFdFromId(newProgram.Info.Id);
            int result = BpfSyscall.TryInvoke(BpfCommand.ProgramAttach, ref attach);
            if (result < 0)
            {
                replacement.Dispose();
                throw new BpfException(BpfCommand.ProgramAttach, -result, $"replace with program '{newProgram.Name}'");
            }
            leases.ReleaseAll();
            _programFd!.Dispose();
            _programFd = replacement;
        }
        finally
        {
            leases.ReleaseAll();
        }
    }

    /// <summary>Pins the link at a bpffs path: the attachment then survives this process until unpinned.</summary>
    public void Pin(string path)
    {
        if (LinkFd is null) throw new InvalidOperationException("Only bpf_link attachments can be pinned; this one used BPF_PROG_ATTACH.");
        BpfFs.Pin(LinkFd, path);
    }

    /// <summary>Detaches: closes the link fd (pinned links stay), or BPF_PROG_DETACH.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (LinkFd is not null)
        {
            LinkFd.Dispose();
            return;
        }
        var leases = new List<SafeHandleLease>();
        try
        {
            var attr = new ProgAttachAttr
            {
                TargetFd = (uint)leases.Lease(_cgroupFd!),
                AttachBpfFd = (uint)leases.Lease(_programFd!),
                AttachType = (uint)AttachType,
            };
            int result = BpfSyscall.TryInvoke(BpfCommand.ProgramDetach, ref attr);
            // ENOENT: the cgroup is gone (removed with its programs) — nothing left to detach.
            if (result < 0 && result != -Errno.ENOENT) throw new BpfException(BpfCommand.ProgramDetach, -result, $"cgroup {CgroupPath}");
        }
        finally
        {
            leases.ReleaseAll();
            _cgroupFd!.Dispose();
            _programFd!.Dispose();
        }
    }

    private static uint FlagsFor(CgroupAttachMode mode) => mode switch
    {
        CgroupAttachMode.Exclusive => 0,
        CgroupAttachMode.Override => AllowOverride,
        CgroupAttachMode.Multi => AllowMulti,
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, null),
    };

    internal static BpfFileDescriptor ProgramFdFromId(uint id)
    {
        var attr = new GetIdAttr { StartOrObjectId = id };
        return BpfSyscall.InvokeForFd(BpfCommand.ProgramGetFdById, ref attr, $"program id {id}");
    }

    private static unsafe LinkInfoNative QueryLink(BpfFileDescriptor fd)
    {
        bool added = false;
        try
        {
            fd.DangerousAddRef(ref added);
            var info = default(LinkInfoNative);
            var attr = new InfoAttr { BpfFd = (uint)fd.Value, InfoLength = (uint)sizeof(LinkInfoNative), Info = (ulong)&info };
            BpfSyscall.Invoke(BpfCommand.ObjectGetInfoByFd, ref attr, "link info");
            return info;
        }
        finally
        {
            if (added) fd.DangerousRelease();
        }
    }
}
