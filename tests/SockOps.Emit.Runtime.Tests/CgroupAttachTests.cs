using SockOps.Emit.TestSupport;
using static SockOps.Emit.Runtime.Tests.Asm;
using static SockOps.Emit.Runtime.Tests.ProgramLoadTests;

namespace SockOps.Emit.Runtime.Tests;

public class CgroupAttachTests
{
    [Fact]
    public void Cgroup2_mount_comes_from_mountinfo_and_temporary_cgroups_are_removed()
    {
        KernelGate.Require();
        string mount = Cgroup.FindMountPoint();
        Assert.True(File.Exists(Path.Combine(mount, "cgroup.procs")));
        string path;
        using (var cgroup = Cgroup.CreateTemporary())
        {
            path = cgroup.Path;
            Assert.StartsWith(mount + "/sockops-emit-", path, StringComparison.Ordinal);
            Assert.True(Directory.Exists(path));
            Assert.Empty(cgroup.Processes);
        }
        Assert.False(Directory.Exists(path));
    }

    [Fact]
    public void Dispose_moves_remaining_processes_out_before_removing()
    {
        KernelGate.Require();
        using var sleeper = System.Diagnostics.Process.Start("/bin/sleep", "30");
        try
        {
            string path;
            string parentProcs;
            using (var cgroup = Cgroup.CreateTemporary())
            {
                path = cgroup.Path;
                parentProcs = Path.Combine(Path.GetDirectoryName(path)!, "cgroup.procs");
                cgroup.AddProcess(sleeper.Id);
                Assert.Equal([sleeper.Id], cgroup.Processes);
            }
            Assert.False(Directory.Exists(path));
            Assert.Contains(sleeper.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), File.ReadAllLines(parentProcs));
        }
        finally
        {
            sleeper.Kill();
        }
    }

    [Fact]
    public void Link_attach_is_visible_to_prog_query_and_dispose_detaches()
    {
        KernelGate.Require();
        using var cgroup = Cgroup.CreateTemporary();
        using var program = BpfProgram.Load(SockOpsProgram("attach", Mov64(0, 1), Exit()));
        uint id = program.Info.Id;
        using (var attachment = cgroup.Attach(program))
        {
            Assert.Equal(AttachMechanism.Link, attachment.Mechanism);
            Assert.Equal(CgroupAttachMode.Multi, attachment.Mode);
            Assert.Equal([id], cgroup.QueryPrograms(AttachType.CgroupSockOps));
            Assert.Equal(id, attachment.ProgramId);
            Assert.Equal(CgroupInode(cgroup.Path), attachment.CgroupId); // the cgroup id is the directory's inode
        }
        Assert.Empty(cgroup.QueryPrograms(AttachType.CgroupSockOps));
    }

    [Theory]
    [InlineData(CgroupAttachMode.Exclusive)]
    [InlineData(CgroupAttachMode.Override)]
    [InlineData(CgroupAttachMode.Multi)]
    public void Prog_attach_modes_attach_and_detach(CgroupAttachMode mode)
    {
        KernelGate.Require();
        using var cgroup = Cgroup.CreateTemporary();
        using var first = BpfProgram.Load(SockOpsProgram("first", Mov64(0, 1), Exit()));
        using var second = BpfProgram.Load(SockOpsProgram("second", Mov64(0, 0), Exit()));
        using (var attachment = CgroupAttachment.Attach(cgroup, first, AttachType.CgroupSockOps, mode, AttachMechanism.ProgramAttach))
        {
            Assert.Equal(AttachMechanism.ProgramAttach, attachment.Mechanism);
            Assert.Equal([first.Info.Id], cgroup.QueryPrograms(AttachType.CgroupSockOps));
            // Descendants: an exclusive program forbids attaching below it (EPERM), override and multi allow it.
            using (var child = Cgroup.CreateTemporary(cgroup.Path, "child"))
            {
                if (mode == CgroupAttachMode.Exclusive)
                {
                    var e = Assert.Throws<BpfException>(() => CgroupAttachment.Attach(child, second, AttachType.CgroupSockOps, mode, AttachMechanism.ProgramAttach));
                    Assert.Equal("EPERM", e.ErrnoName);
                }
                else
                {
                    using var below = CgroupAttachment.Attach(child, second, AttachType.CgroupSockOps, mode, AttachMechanism.ProgramAttach);
                    Assert.Equal([second.Info.Id], child.QueryPrograms(AttachType.CgroupSockOps));
                }
            }
            attachment.Update(second);
            Assert.Equal([second.Info.Id], cgroup.QueryPrograms(AttachType.CgroupSockOps));
            Assert.Equal(second.Info.Id, attachment.ProgramId);
        }
        Assert.Empty(cgroup.QueryPrograms(AttachType.CgroupSockOps));
    }

    [Fact]
    public void Link_update_replaces_the_program_atomically()
    {
        KernelGate.Require();
        using var cgroup = Cgroup.CreateTemporary();
        using var first = BpfProgram.Load(SockOpsProgram("first", Mov64(0, 1), Exit()));
        using var second = BpfProgram.Load(SockOpsProgram("second", Mov64(0, 1), Exit()));
        using var attachment = cgroup.Attach(first);
        uint linkId = attachment.LinkId;
        attachment.Update(second);
        Assert.Equal(second.Info.Id, attachment.ProgramId);
        Assert.Equal(linkId, attachment.LinkId);
        Assert.Equal([second.Info.Id], cgroup.QueryPrograms(AttachType.CgroupSockOps));
    }

    [Fact]
    public void Pinned_link_outlives_its_fd_and_reopens()
    {
        KernelGate.Require();
        string path = Path.Combine(BpfFs.EnsureMounted(), "sockops_emit_link_" + Guid.NewGuid().ToString("N")[..12]);
        using var cgroup = Cgroup.CreateTemporary();
        try
        {
            using var program = BpfProgram.Load(SockOpsProgram("pinned", Mov64(0, 1), Exit()));
            uint linkId;
            using (var attachment = cgroup.Attach(program))
            {
                attachment.Pin(path);
                linkId = attachment.LinkId;
            }
            // The pin keeps the link (and the attachment) alive after our fd is closed.
            Assert.Equal([program.Info.Id], cgroup.QueryPrograms(AttachType.CgroupSockOps));
            using (var reopened = CgroupAttachment.OpenPinnedLink(path))
            {
                Assert.Equal(linkId, reopened.LinkId);
                Assert.Equal(program.Info.Id, reopened.ProgramId);
                Assert.Equal(AttachType.CgroupSockOps, reopened.AttachType);
            }
            BpfFs.Unpin(path);
            // Dropping the last reference through the pin's inode frees the link from a kernel work item
            // (bpf_link_put_deferred), so the detach is asynchronous here.
            var deadline = DateTime.UtcNow.AddSeconds(5);
            while (cgroup.QueryPrograms(AttachType.CgroupSockOps).Count > 0 && DateTime.UtcNow < deadline) Thread.Sleep(10);
            Assert.Empty(cgroup.QueryPrograms(AttachType.CgroupSockOps));
        }
        finally
        {
            if (File.Exists(path)) BpfFs.Unpin(path);
        }
    }

    [Fact]
    public void Link_detach_is_synchronous_with_a_pin_and_leaves_a_defunct_link_that_refuses_updates()
    {
        KernelGate.Require();
        string path = Path.Combine(BpfFs.EnsureMounted(), "sockops_emit_link_" + Guid.NewGuid().ToString("N")[..12]);
        using var cgroup = Cgroup.CreateTemporary();
        try
        {
            using var program = BpfProgram.Load(SockOpsProgram("detach", Mov64(0, 1), Exit()));
            using var second = BpfProgram.Load(SockOpsProgram("detach2", Mov64(0, 1), Exit()));
            using var attachment = cgroup.Attach(program);
            attachment.Pin(path);
            // The link reports the cgroup by its inode number: the same id Cgroup.Id reads with statx.
            Assert.Equal(cgroup.Id, attachment.CgroupId);
            Assert.False(attachment.IsDefunct);
            // What the query lists can be opened by id (the hosting layer names foreign programs this way).
            using (var listed = BpfProgram.OpenById(Assert.Single(cgroup.QueryPrograms(AttachType.CgroupSockOps))))
                Assert.Equal(("detach", program.Info.Tag), (listed.Name, listed.Info.Tag));
            attachment.DetachLink();
            // No waiting: BPF_LINK_DETACH removes the program from the hook before it returns, pin or not.
            Assert.Empty(cgroup.QueryPrograms(AttachType.CgroupSockOps));
            using var reopened = CgroupAttachment.OpenPinnedLink(path);
            Assert.True(reopened.IsDefunct);
            Assert.Equal(0UL, reopened.CgroupId);
            var refused = Assert.Throws<BpfException>(() => reopened.Update(second));
            Assert.Equal("ENOLINK", refused.ErrnoName);
        }
        finally
        {
            if (File.Exists(path)) BpfFs.Unpin(path);
        }
    }

    [Fact]
    public void A_pinned_link_whose_cgroup_was_removed_is_defunct()
    {
        KernelGate.Require();
        string path = Path.Combine(BpfFs.EnsureMounted(), "sockops_emit_link_" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            using var program = BpfProgram.Load(SockOpsProgram("gone", Mov64(0, 1), Exit()));
            using (var cgroup = Cgroup.CreateTemporary())
            using (var attachment = cgroup.Attach(program))
                attachment.Pin(path);
            // The cgroup's removal releases its programs from a kernel work item (cgroup_bpf_release): poll.
            using var reopened = CgroupAttachment.OpenPinnedLink(path);
            var deadline = DateTime.UtcNow.AddSeconds(5);
            while (!reopened.IsDefunct && DateTime.UtcNow < deadline) Thread.Sleep(10);
            Assert.True(reopened.IsDefunct);
        }
        finally
        {
            if (File.Exists(path)) BpfFs.Unpin(path);
        }
    }

    [Fact]
    public void Links_cannot_express_exclusive_mode()
    {
        KernelGate.Require();
        using var cgroup = Cgroup.CreateTemporary();
        using var program = BpfProgram.Load(SockOpsProgram("x", Mov64(0, 1), Exit()));
        Assert.Throws<ArgumentException>(() => CgroupAttachment.Attach(cgroup, program, AttachType.CgroupSockOps, CgroupAttachMode.Exclusive, AttachMechanism.Link));
        // Without an explicit mechanism, exclusive falls back to BPF_PROG_ATTACH and says so.
        using var attachment = CgroupAttachment.Attach(cgroup, program, AttachType.CgroupSockOps, CgroupAttachMode.Exclusive);
        Assert.Equal(AttachMechanism.ProgramAttach, attachment.Mechanism);
    }

    [Fact]
    public void Wrong_program_type_for_the_hook_is_EINVAL()
    {
        KernelGate.Require();
        using var cgroup = Cgroup.CreateTemporary();
        using var filter = BpfProgram.Load(new ProgramLoadOptions { Type = ProgramType.SocketFilter, Instructions = [Mov64(0, 0), Exit()] });
        var e = Assert.Throws<BpfException>(() => cgroup.Attach(filter));
        Assert.Equal("EINVAL", e.ErrnoName);
        Assert.Equal(BpfCommand.LinkCreate, e.Command);
    }

    /// <summary>A dropped attachment detaches when it is collected, the same for both mechanisms (before, a dropped
    /// BPF_PROG_ATTACH attachment stayed attached for the life of the cgroup). The query is the kernel's own answer.</summary>
    [Theory]
    [InlineData(AttachMechanism.Link, CgroupAttachMode.Multi)]
    [InlineData(AttachMechanism.ProgramAttach, CgroupAttachMode.Multi)]
    [InlineData(AttachMechanism.ProgramAttach, CgroupAttachMode.Exclusive)]
    [InlineData(AttachMechanism.ProgramAttach, CgroupAttachMode.Override)]
    public void A_dropped_attachment_detaches_when_collected_whatever_the_mechanism(AttachMechanism mechanism, CgroupAttachMode mode)
    {
        KernelGate.Require();
        using var cgroup = Cgroup.CreateTemporary();
        using var program = BpfProgram.Load(SockOpsProgram("dropped", Mov64(0, 1), Exit()));
        var dropped = AttachAndDrop(cgroup, program, mechanism, mode);
        for (int i = 0; i < 3 && dropped.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        Assert.False(dropped.IsAlive, "the attachment is still reachable");
        GC.Collect();
        GC.WaitForPendingFinalizers(); // critical finalizers (the SafeHandles) run after the ordinary ones
        Assert.Empty(cgroup.QueryPrograms(AttachType.CgroupSockOps));
        // The program itself is still usable: attaching it again works and detaches on Dispose.
        using (var again = CgroupAttachment.Attach(cgroup, program, AttachType.CgroupSockOps, mode, mechanism))
            Assert.Equal([program.Info.Id], cgroup.QueryPrograms(AttachType.CgroupSockOps));
        Assert.Empty(cgroup.QueryPrograms(AttachType.CgroupSockOps));
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference AttachAndDrop(Cgroup cgroup, BpfProgram program, AttachMechanism mechanism, CgroupAttachMode mode)
    {
        var attachment = CgroupAttachment.Attach(cgroup, program, AttachType.CgroupSockOps, mode, mechanism);
        Assert.Equal(mechanism, attachment.Mechanism);
        // Checked while the attachment is surely reachable: once this method returns, a collection started by a test
        // running in parallel may finalize it at any moment.
        Assert.Equal([program.Info.Id], cgroup.QueryPrograms(AttachType.CgroupSockOps));
        GC.KeepAlive(attachment);
        return new WeakReference(attachment);
    }

    private static ulong CgroupInode(string path)
    {
        using var stat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%i", path]) { RedirectStandardOutput = true })!;
        string output = stat.StandardOutput.ReadToEnd();
        stat.WaitForExit();
        return ulong.Parse(output.Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
