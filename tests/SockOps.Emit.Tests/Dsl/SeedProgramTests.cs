using SockOps.Emit.TestSupport;

namespace SockOps.Emit.Tests.Dsl;

public class SeedProgramTests(ITestOutputHelper output)
{
    // clang 14 -O2 -target bpf of the seed's C, as measured for the project (issue 5): the DSL must not be larger.
    private const int ClangClampSlots = 102, ClangDumpStatsSlots = 40, ClangSockmapSlots = 19;

    [Fact]
    public void Clamp_is_no_larger_than_clang_and_loads()
    {
        var image = SeedPrograms.Clamp();
        output.WriteLine(DslKernel.Listing(image));
        Assert.True(image.Slots <= ClangClampSlots, $"Clamp: {image.Slots} slots > clang's {ClangClampSlots}");
        DslKernel.VerifyAndLoad(image, "Seed_Clamp");
    }

    [Fact]
    public void DumpStats_loads()
    {
        var image = SeedPrograms.DumpStats();
        output.WriteLine(DslKernel.Listing(image));
        DslKernel.VerifyAndLoad(image, "Seed_DumpStats");
    }

    [Fact]
    public void DumpStats_without_printk_is_no_larger_than_clang()
    {
        var image = SeedPrograms.DumpStats(printk: false);
        output.WriteLine(DslKernel.Listing(image));
        Assert.True(image.Slots <= ClangDumpStatsSlots, $"DumpStats: {image.Slots} slots > {ClangDumpStatsSlots}");
        DslKernel.VerifyAndLoad(image, "Seed_DumpStats_NoPrintk");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Sockmap_is_no_larger_than_clang_and_loads(bool sockmap)
    {
        var image = SeedPrograms.Sockmap(sockmap);
        output.WriteLine(DslKernel.Listing(image));
        Assert.True(image.Slots <= ClangSockmapSlots, $"Sockmap: {image.Slots} slots > clang's {ClangSockmapSlots}");
        DslKernel.VerifyAndLoad(image, sockmap ? "Seed_Sockmap_SockMap" : "Seed_Sockmap_SockHash");
    }
}
