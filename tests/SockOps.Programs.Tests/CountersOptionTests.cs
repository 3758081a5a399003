using SockOps.Emit;
using SockOps.Emit.Assembler;
using SockOps.Emit.Hosting;
using SockOps.Emit.Runtime;
using SockOps.Emit.TestSupport;

namespace SockOps.Programs.Tests;

/// <summary>
/// syn-rto, rwnd and base-rtt with <c>counters=false</c>: the kernel samples' logic alone, so their size can be set
/// beside clang's build of the same C (docs/size-vs-clang.md). The default keeps the reply counters the behaviour
/// tests read.
/// </summary>
[Collection(nameof(KernelCollection))]
public class CountersOptionTests
{
    /// <summary>program, the helpers the sample's C calls (bpf_getsockopt 57 in base-rtt; none in the others).</summary>
    public static TheoryData<string, int[]> Programs => new()
    {
        { "syn-rto", [] },
        { "rwnd", [] },
        { "base-rtt", [57] },
    };

    private static ProgramImage Build(string name, bool counters, KernelVersion? target = null) =>
        ProgramCatalog.Get(name).Build(CatalogEntry.ParseSettings([$"counters={(counters ? "true" : "false")}"]), target);

    [Theory]
    [MemberData(nameof(Programs))]
    public void Counters_false_declares_no_map_and_calls_only_the_sample_s_helpers(string name, int[] helpers)
    {
        var entry = ProgramCatalog.Get(name);
        var parameter = Assert.Single(entry.Parameters, p => p.Name == "counters");
        Assert.Equal(typeof(bool), parameter.Type);
        Assert.Equal("true", parameter.Default);

        var counted = entry.Build();
        Assert.Equal(ReplyCounter.MapName, Assert.Single(counted.Maps).Name);
        Assert.Equal(ProgramText.Hex(counted), ProgramText.Hex(Build(name, counters: true)));

        var sample = Build(name, counters: false);
        Assert.Empty(sample.Maps);
        Assert.Empty(sample.MapReferences);
        Assert.Equal(helpers, sample.Instructions.Where(i => i.IsCall).Select(i => i.Immediate));
        Assert.True(sample.Slots < counted.Slots, $"{name}: {sample.Slots} slots without counters, {counted.Slots} with");
    }

    [Theory]
    [MemberData(nameof(Programs))]
    public void Counters_false_loads_for_every_proven_target_and_with_the_strict_loader(string name, int[] helpers)
    {
        _ = helpers;
        KernelGate.Require();
        foreach (var target in new[] { KernelTargets.Default, HostKernel.Target })
        {
            using var loaded = SockOpsHost.Load(Build(name, counters: false, target), VerifierLogLevel.Statistics);
            Assert.Equal(ProgramType.SockOps, loaded.Info.Type);
            Assert.Contains("processed", loaded.VerifierLog, StringComparison.Ordinal);
        }
        // Without CAP_PERFMON the verifier refuses reads of stack nothing wrote: base-rtt's getsockopt buffer is no longer zeroed.
        var image = Build(name, counters: false);
        var error = ThreadCapabilities.RunWithout([ThreadCapabilities.Perfmon, ThreadCapabilities.SysAdmin],
            () => Record.Exception(() => SockOpsHost.Load(image).Dispose()));
        Assert.Null(error);
    }
}
