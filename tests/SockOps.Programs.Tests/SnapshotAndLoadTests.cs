using SockOps.Emit.Runtime;
using SockOps.Emit.TestSupport;
using SockOps.Programs.Hosting;

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
        var image = ProgramCatalog.Get(name).Build();
        Snapshot.Verify(ProgramText.Listing(image), name);
    }

    [Theory]
    [MemberData(nameof(Available))]
    public void Loads_into_the_kernel(string name)
    {
        KernelGate.Require();
        using var loaded = SockOpsHost.Load(ProgramCatalog.Get(name).Build(), VerifierLogLevel.Statistics);
        Assert.True(loaded.Info.Id > 0);
        Assert.Equal(ProgramType.SockOps, loaded.Info.Type);
        Assert.Contains("processed", loaded.VerifierLog, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("clamp", "printk=true")]
    [InlineData("dump-stats", "printk=true")]
    [InlineData("dump-stats", "ring-buffer=false")]
    [InlineData("dump-stats", "ring-buffer=false,printk=true")]
    [InlineData("sockmap-adder", "sock-map=true")]
    [InlineData("cong", "ecn=false")]
    public void Variants_snapshot_and_load(string name, string setting)
    {
        var image = ProgramCatalog.Get(name).Build(CatalogEntry.ParseSettings(setting.Split(',')));
        Snapshot.Verify(ProgramText.Listing(image), $"{name}.{setting.Replace('=', '-').Replace(',', '.')}");
        KernelGate.Require();
        using var loaded = SockOpsHost.Load(image);
        Assert.True(loaded.Info.Id > 0);
    }
}
