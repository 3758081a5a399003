using SockOps.Emit;
using SockOps.Emit.Assembler;
using SockOps.Emit.Hosting;
using SockOps.Emit.Runtime;
using SockOps.Emit.TestSupport;

namespace SockOps.Programs.Tests;

/// <summary>Every shipped program: its bytecode snapshot (llvm syntax + hex) and the real kernel accepts it.</summary>
[Collection(nameof(KernelCollection))]
public class SnapshotAndLoadTests
{
    public static TheoryData<string> Available => [.. ProgramCatalog.All.Where(e => e.UnavailableReason is null).Select(e => e.Name)];

    [Theory]
    [MemberData(nameof(Available))]
    public void Snapshot_of_the_default_build(string name)
    {
        // The default target (6.1), or the program's minimum kernel when it needs a newer one.
        var entry = ProgramCatalog.Get(name);
        var image = entry.Build(target: KernelVersion.Max(KernelTargets.Default, entry.MinimumKernel));
        Snapshot.Verify(ProgramText.Listing(image), name);
        Assert.Equal(entry.MinimumKernel, KernelVersion.Max(KernelTargets.Oldest, image.MinimumKernel.MajorMinor));
    }

    [Theory]
    [MemberData(nameof(Available))]
    public void Snapshot_for_the_newest_kernel(string name)
    {
        var image = ProgramCatalog.Get(name).Build(target: KernelVersion.Linux6_18);
        Snapshot.Verify(ProgramText.Listing(image), name + ".6.18");
    }

    /// <summary>
    /// The declared minimum kernel is exact: the program builds for it, and for the release before it the builder
    /// refuses with a feature that needs exactly that kernel or a newer one.
    /// </summary>
    [Theory]
    [MemberData(nameof(Available))]
    public void Declared_minimum_kernel_is_the_oldest_target_that_builds(string name)
    {
        var entry = ProgramCatalog.Get(name);
        Assert.Equal(entry.MinimumKernel, KernelVersion.Max(KernelTargets.Oldest, entry.Build(target: entry.MinimumKernel).MinimumKernel.MajorMinor));
        if (entry.MinimumKernel == KernelTargets.Oldest)
        {
            Assert.ThrowsAny<ArgumentException>(() => entry.Build(target: new KernelVersion(5, 4)));
            return;
        }
        var before = new KernelVersion(entry.MinimumKernel.Major, entry.MinimumKernel.Minor - 1);
        var refused = Assert.Throws<SockOps.Emit.EmitException>(() => entry.Build(target: before));
        Assert.Equal(SockOps.Emit.EmitRule.TargetKernel, refused.Rule);
        Assert.True(refused.Feature!.MinimumKernel > before, refused.Message);
    }

    [Theory]
    [MemberData(nameof(Available))]
    public void Loads_into_the_kernel(string name)
    {
        KernelGate.Require();
        var entry = ProgramCatalog.Get(name);
        // Built for this kernel and, when the program reaches it, for the oldest proven target (6.1): both load here.
        using var loaded = SockOpsHost.Load(entry.Build(target: HostKernel.Target), VerifierLogLevel.Statistics);
        Assert.True(loaded.Info.Id > 0);
        Assert.Equal(ProgramType.SockOps, loaded.Info.Type);
        Assert.Contains("processed", loaded.VerifierLog, StringComparison.Ordinal);
        if (entry.MinimumKernel <= KernelTargets.Default)
        {
            using var old = SockOpsHost.Load(entry.Build(target: KernelTargets.Default));
            Assert.True(old.Info.Id > 0);
        }
    }

    /// <summary>
    /// tos-reflect and base-rtt pass stack buffers that bpf_getsockopt fills (ARG_PTR_TO_UNINIT_MEM) without zeroing
    /// them first; without CAP_PERFMON the verifier refuses any read of stack nothing wrote, so this load proves
    /// that no path reads them before the helper.
    /// </summary>
    [Theory]
    [InlineData("tos-reflect")]
    [InlineData("base-rtt")]
    public void Unzeroed_helper_buffers_load_with_the_strict_loader(string name)
    {
        KernelGate.Require();
        foreach (var target in new[] { KernelTargets.Default, HostKernel.Target })
        {
            var image = ProgramCatalog.Get(name).Build(target: target);
            var error = ThreadCapabilities.RunWithout([ThreadCapabilities.Perfmon, ThreadCapabilities.SysAdmin],
                () => Record.Exception(() => SockOpsHost.Load(image).Dispose()));
            Assert.Null(error);
        }
    }

    [Theory]
    [InlineData("clamp", "printk=true")]
    [InlineData("dump-stats", "printk=true")]
    [InlineData("dump-stats", "ring-buffer=false")]
    [InlineData("dump-stats", "ring-buffer=false,printk=true")]
    [InlineData("sockmap-adder", "sock-map=true")]
    [InlineData("cong", "ecn=false")]
    [InlineData("syn-rto", "counters=false")]
    [InlineData("rwnd", "counters=false")]
    [InlineData("base-rtt", "counters=false")]
    public void Variants_snapshot_and_load(string name, string setting)
    {
        var image = ProgramCatalog.Get(name).Build(CatalogEntry.ParseSettings(setting.Split(',')));
        Snapshot.Verify(ProgramText.Listing(image), $"{name}.{setting.Replace('=', '-').Replace(',', '.')}");
        KernelGate.Require();
        using var loaded = SockOpsHost.Load(image);
        Assert.True(loaded.Info.Id > 0);
    }
}
