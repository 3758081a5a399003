using SockOps.Emit.TestSupport;

namespace SockOps.Emit.Runtime.Tests;

/// <summary>Probe answers checked against the 6.18 facts in kernel-sockops.md §2 (helper availability).</summary>
public class FeatureProbeTests
{
    [Fact]
    public void Program_types_present_and_absent()
    {
        KernelGate.Require();
        Assert.True(FeatureProbes.IsProgramTypeSupported(ProgramType.SockOps));
        Assert.True(FeatureProbes.IsProgramTypeSupported(ProgramType.SocketFilter));
        Assert.True(FeatureProbes.IsProgramTypeSupported(ProgramType.Xdp));
        Assert.False(FeatureProbes.IsProgramTypeSupported((ProgramType)999));
        var e = Assert.Throws<FeatureNotSupportedException>(() => FeatureProbes.RequireProgramType((ProgramType)999));
        Assert.Equal("prog_type:999", e.Probe);
        Assert.Equal("4.13", FeatureProbes.MinimumKernel(ProgramType.SockOps));
    }

    [Fact]
    public void Helper_probes_agree_with_the_sock_ops_helper_table()
    {
        KernelGate.Require();
        Assert.True(FeatureProbes.IsHelperSupported(ProgramType.SockOps, 59));  // sock_ops_cb_flags_set
        Assert.True(FeatureProbes.IsHelperSupported(ProgramType.SockOps, 49));  // setsockopt
        Assert.True(FeatureProbes.IsHelperSupported(ProgramType.SockOps, 1));   // map_lookup_elem
        Assert.False(FeatureProbes.IsHelperSupported(ProgramType.SockOps, 86)); // sk_release: not for sock_ops
        Assert.False(FeatureProbes.IsHelperSupported(ProgramType.SockOps, 212)); // past __BPF_FUNC_MAX_ID on 6.18
        Assert.False(FeatureProbes.IsHelperSupported(ProgramType.SocketFilter, 59)); // sock_ops only
    }

    [Fact]
    public void Map_types_and_cgroup_links()
    {
        KernelGate.Require();
        foreach (var type in new[] { MapType.Array, MapType.PerCpuArray, MapType.Hash, MapType.LruHash, MapType.SockMap, MapType.SockHash, MapType.SkStorage, MapType.RingBuf, MapType.PerfEventArray })
            Assert.True(FeatureProbes.IsMapTypeSupported(type), type.ToString());
        Assert.True(FeatureProbes.AreCgroupLinksSupported);
        Assert.Equal("5.8", FeatureProbes.MinimumKernel(MapType.RingBuf));
    }
}
