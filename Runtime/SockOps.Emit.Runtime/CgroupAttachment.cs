using System.Runtime.InteropServices;
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
    /// <summary>A bpf_link (BPF_LINK_CREATE): the kernel detaches when the link fd and all its pins are gone.</summary>
    Link,
    /// <summary>BPF_PROG_ATTACH: the kernel keeps it until BPF_PROG_DETACH, which the attachment issues when it is
    /// disposed or collected.</summary>
    ProgramAttach,
}

/// <summary>
/// A program attached to a cgroup. The attachment lasts as long as this object: <see cref="Dispose"/> detaches it, and
/// so does the finalizer when the object is dropped without being disposed — the same for both mechanisms (a bpf_link
/// is detached by closing its fd; a BPF_PROG_ATTACH attachment by BPF_PROG_DETACH through descriptors of its own).
/// Keep a reference (or a <c>using</c>) for as long as the program should stay attached; to outlive the process, pin
/// a link with <see cref="Pin"/>.
/// </summary>
public sealed class CgroupAttachment : IDisposable
{
    private const uint AllowOverride = 1, AllowMulti = 2, Replace = 4; // BPF_F_ALLOW_OVERRIDE, BPF_F_ALLOW_MULTI, BPF_F_REPLACE

    private readonly ProgramAttachHandle? _programAttach;
    private bool _disposed;

    private CgroupAttachment(AttachMechanism mechanism, AttachType type, CgroupAttachMode mode, BpfFileDescriptor? link,
        ProgramAttachHandle? programAttach, string? cgroupPath)
    {
        Mechanism = mechanism;
        AttachType = type;
        Mode = mode;
        LinkFd = link;
        _programAttach = programAttach;
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

    /// <summary>Attaches a program to a cgroup until the returned attachment is disposed or collected (do not discard
    /// it). With <see cref="CgroupAttachMode.Multi"/> a bpf_link is tried first and BPF_PROG_ATTACH is the fallback for
    /// kernels without cgroup links; exclusive and override modes cannot be expressed by links and always use
    /// BPF_PROG_ATTACH. <see cref="Mechanism"/> reports what was used.</summary>
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
                return new CgroupAttachment(AttachMechanism.Link, type, CgroupAttachMode.Multi, link, null, cgroup.Path);
            }

            // PROG_ATTACH holds no fd: keep our own descriptors on the cgroup and program (in one handle whose release
            // detaches) to detach later, independent of the caller disposing theirs.
            var handle = ProgramAttachHandle.Create(cgroup.Path, program.Info.Id, type);
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
                // Nothing was attached: closing must not detach an attachment of the same program made by someone else (EEXIST).
                handle.MarkDetached();
                handle.Dispose();
                throw new BpfException(BpfCommand.ProgramAttach, -result, $"program '{program.Name}' to cgroup {cgroup.Path} ({mode})");
            }
            return new CgroupAttachment(AttachMechanism.ProgramAttach, type, mode, null, handle, cgroup.Path);
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
            return new CgroupAttachment(AttachMechanism.Link, (AttachType)info.CgroupAttachType, CgroupAttachMode.Multi, fd, null, null);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>The id of the program currently attached through this attachment.</summary>
    public uint ProgramId => LinkFd is not null ? QueryLink(LinkFd).ProgId : _programAttach!.QueryProgramId();

    /// <summary>The link's kernel id (links only).</summary>
    public uint LinkId => LinkFd is not null ? QueryLink(LinkFd).Id : throw new InvalidOperationException("Not a bpf_link attachment.");

    /// <summary>The id of the cgroup (its inode number) a link is attached to (links only).</summary>
    public ulong CgroupId => LinkFd is not null ? QueryLink(LinkFd).CgroupId : throw new InvalidOperationException("Not a bpf_link attachment.");

    /// <summary>Whether a link no longer holds a cgroup hook: detached by <see cref="DetachLink"/> (BPF_LINK_DETACH) or by
    /// the removal of its cgroup. Such a link stays a valid object (its fd and pins live on) but runs nothing, and
    /// <see cref="Update"/> on it fails with ENOLINK. Links only.</summary>
    public bool IsDefunct => CgroupId == 0;

    /// <summary>BPF_LINK_DETACH (Linux 5.9): detaches the link from its cgroup now, even while pins or other
    /// descriptors still hold the link (closing our fd would not detach a pinned link, and unpinning detaches only
    /// later, from a kernel work item). The link object stays until its last reference goes (see <see cref="IsDefunct"/>).</summary>
    /// <exception cref="InvalidOperationException">Not a bpf_link attachment.</exception>
    /// <exception cref="BpfException">The kernel refused (EOPNOTSUPP before 5.9).</exception>
    public void DetachLink()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (LinkFd is null) throw new InvalidOperationException("Only bpf_link attachments can be detached with BPF_LINK_DETACH; this one used BPF_PROG_ATTACH (dispose it).");
        var leases = new List<SafeHandleLease>();
        try
        {
            var attr = new SingleWordAttr { Value = (uint)leases.Lease(LinkFd) };
            BpfSyscall.Invoke(BpfCommand.LinkDetach, ref attr, "link");
        }
        finally
        {
            leases.ReleaseAll();
        }
    }

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
            // Take our own fd on the new program first, so a failure cannot leave it attached but unknown to us.
            var replacement = ProgramFdFromId(newProgram.Info.Id);
            try
            {
                _programAttach!.Reattach(replacement, newFd, Mode == CgroupAttachMode.Multi ? FlagsFor(Mode) | Replace : FlagsFor(Mode), newProgram.Name);
            }
            finally
            {
                replacement.Dispose(); // invalid (ownership taken) on success
            }
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

    /// <summary>Detaches: closes the link fd (pinned links stay), or BPF_PROG_DETACH. The finalizer does the same for
    /// an attachment that was dropped without being disposed.</summary>
    /// <exception cref="BpfException">BPF_PROG_DETACH failed (other than ENOENT for a cgroup already removed).</exception>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (LinkFd is not null)
        {
            LinkFd.Dispose();
            return;
        }
        try
        {
            int result = _programAttach!.Detach();
            // ENOENT: the cgroup is gone (removed with its programs) — nothing left to detach.
            if (result < 0 && result != -Errno.ENOENT) throw new BpfException(BpfCommand.ProgramDetach, -result, $"cgroup {CgroupPath}");
        }
        finally
        {
            _programAttach!.Dispose();
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

    /// <summary>
    /// A BPF_PROG_ATTACH attachment's own descriptors on the cgroup directory (the handle) and the program. Releasing it
    /// — Dispose, or the critical finalizer when the attachment was dropped — detaches (BPF_PROG_DETACH) unless that was
    /// already done, then closes both. One handle for both descriptors, so the detach never runs after either closed.
    /// </summary>
    private sealed class ProgramAttachHandle : SafeHandle
    {
        private int _programFd = -1;
        private uint _attachType;
        private volatile bool _detached;

        private ProgramAttachHandle() : base(-1, ownsHandle: true)
        {
        }

        public override bool IsInvalid => handle == -1;

        public static ProgramAttachHandle Create(string cgroupPath, uint programId, AttachType type)
        {
            var cgroup = Cgroup.OpenDirectory(cgroupPath);
            BpfFileDescriptor program;
            try
            {
                program = ProgramFdFromId(programId);
            }
            catch
            {
                cgroup.Dispose();
                throw;
            }
            var result = new ProgramAttachHandle { _attachType = (uint)type };
            result.SetHandle(TakeOwnership(cgroup));
            result._programFd = (int)TakeOwnership(program);
            return result;
        }

        public void MarkDetached() => _detached = true;

        /// <summary>BPF_PROG_DETACH now; the kernel's result (0 or −errno).</summary>
        public int Detach()
        {
            bool added = false;
            try
            {
                DangerousAddRef(ref added);
                int result = DetachRaw();
                if (result == 0 || result == -Errno.ENOENT) _detached = true;
                return result;
            }
            finally
            {
                if (added) DangerousRelease();
            }
        }

        /// <summary>Re-attaches with <paramref name="newProgramFd"/> (BPF_F_REPLACE naming ours in multi mode) and then
        /// owns <paramref name="replacement"/> in place of the old program descriptor.</summary>
        public void Reattach(BpfFileDescriptor replacement, int newProgramFd, uint flags, string programName)
        {
            bool added = false;
            try
            {
                DangerousAddRef(ref added);
                var attach = new ProgAttachAttr
                {
                    TargetFd = (uint)handle,
                    AttachBpfFd = (uint)newProgramFd,
                    AttachType = _attachType,
                    AttachFlags = flags,
                    ReplaceBpfFd = (flags & Replace) != 0 ? (uint)_programFd : 0,
                };
                int result = BpfSyscall.TryInvoke(BpfCommand.ProgramAttach, ref attach);
                if (result < 0) throw new BpfException(BpfCommand.ProgramAttach, -result, $"replace with program '{programName}'");
                int old = _programFd;
                _programFd = (int)TakeOwnership(replacement);
                Libc.Close(old);
            }
            finally
            {
                if (added) DangerousRelease();
            }
        }

        /// <summary>The id of the program this attachment holds.</summary>
        public uint QueryProgramId()
        {
            bool added = false;
            try
            {
                DangerousAddRef(ref added);
                using var view = new BpfFileDescriptor(_programFd, ownsHandle: false);
                return ProgramInfo.Query(view).Id;
            }
            finally
            {
                if (added) DangerousRelease();
            }
        }

        private int DetachRaw()
        {
            var attr = new ProgAttachAttr { TargetFd = (uint)handle, AttachBpfFd = (uint)_programFd, AttachType = _attachType };
            return BpfSyscall.TryInvoke(BpfCommand.ProgramDetach, ref attr);
        }

        private static nint TakeOwnership(BpfFileDescriptor fd)
        {
            nint raw = fd.DangerousGetHandle();
            fd.SetHandleAsInvalid();
            return raw;
        }

        protected override bool ReleaseHandle()
        {
            // A finalizer cannot report a failed detach; ENOENT (cgroup removed) is the expected one.
            if (!_detached) DetachRaw();
            bool programClosed = Libc.Close(_programFd) == 0;
            bool cgroupClosed = Libc.Close((int)handle) == 0;
            return programClosed && cgroupClosed;
        }
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
