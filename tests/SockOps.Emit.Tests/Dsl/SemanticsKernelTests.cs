using SockOps.Emit.Runtime;
using SockOps.Emit.TestSupport;

namespace SockOps.Emit.Tests.Dsl;

/// <summary>Tests that move a client process into a temporary cgroup; they run one at a time.</summary>
[CollectionDefinition(nameof(DslCgroupTrafficCollection), DisableParallelization = true)]
public sealed class DslCgroupTrafficCollection;

/// <summary>
/// The oracle for the compiler's arithmetic: a DSL program computes expressions over real ctx values in the
/// kernel (ACTIVE_ESTABLISHED_CB of a loopback connection) and stores them in a map; C# computes the same
/// expressions from the same inputs with C semantics, and the results must match bit for bit.
/// </summary>
[Collection(nameof(DslCgroupTrafficCollection))]
public class SemanticsKernelTests
{
    private const int Slots = 20;

    private static ProgramImage Program(Assembler.KernelVersion? target = null) => SockOpsProgram.Build("semantics", b =>
    {
        var ctx = b.Context;
        var results = b.Map<uint, ulong>("results", MapType.Array, Slots);
        b.If(ctx.Op == SockOp.ActiveEstablishedCb, () =>
        {
            var lp = b.Local("lp", ctx.LocalPort);
            var rp = b.Local("rp", ctx.RemotePort);
            var s = b.Local("s", (I32)lp - 70000);
            void Put(uint index, U64 value) => b.MapUpdate(results, index, value);
            Put(0, lp);
            Put(1, rp);
            Put(2, ctx.RemotePortRaw);
            Put(3, (ctx.RemotePort == rp).AsU32());
            Put(4, (U64)(I64)s);
            // Signed division is cpu v4 (6.6): older targets leave these slots 0.
            if (b.TargetHas(KernelTargets.InstructionForm(Assembler.InstructionKernelSupport.SignedDivision)))
            {
                Put(5, (U64)(I64)(s / 7));
                Put(6, (U64)(I64)(s % 7));
                Put(18, (U64)(I64)((I64)s * 1_000_003L / -13L));
            }
            Put(7, (U64)(I64)(s >> 3));
            Put(8, lp * 2654435761u);
            Put(9, (U64)lp * 0x1_0000_0001UL);
            Put(10, ~lp & 0xffff);
            Put(11, ByteOrder.Ntohs(lp));
            Put(12, lp << 20 >> 7);
            Put(13, (lp > 40000u | rp < 1024u).AsU32());
            Put(14, (s < -1).AsU32());
            Put(15, (lp - 70000u > lp).AsU32());
            Put(16, (U64)(I64)(-s * 3 - (s ^ 0x5a5a)));
            Put(17, ((U64)lp << 40) + (U64)rp >> 3);
            Put(19, 0xdead_beefUL);
        });
        b.Return(1);
    }, target: target);

    private static ulong[] Expected(uint lp, uint rp, uint rpRaw)
    {
        int s = (int)lp - 70000;
        return
        [
            lp, rp, rpRaw, 1,
            (ulong)(long)s, (ulong)(long)(s / 7), (ulong)(long)(s % 7), (ulong)(long)(s >> 3),
            unchecked(lp * 2654435761u), lp * 0x1_0000_0001UL, ~lp & 0xffff,
            (uint)(((lp & 0xff) << 8) | ((lp >> 8) & 0xff)),
            unchecked(lp << 20) >> 7,
            (lp > 40000u || rp < 1024u) ? 1UL : 0UL,
            s < -1 ? 1UL : 0UL,
            unchecked(lp - 70000u) > lp ? 1UL : 0UL,
            (ulong)(long)(-s * 3 - (s ^ 0x5a5a)),
            (((ulong)lp << 40) + rp) >> 3,
            (ulong)((long)s * 1_000_003L / -13L),
            0xdead_beefUL,
        ];
    }

    public static TheoryData<string> Targets => ["6.1", "6.18"];

    /// <summary>
    /// Both the default target (6.1: sign extension by shifts, no signed division) and the newest (movsx, sdiv/smod)
    /// compute what C# computes, on the real kernel.
    /// </summary>
    [Theory]
    [MemberData(nameof(Targets))]
    public void Kernel_results_match_csharp_semantics(string target)
    {
        var kernel = Assembler.KernelVersion.Parse(target);
        var image = Program(kernel);
        Snapshot.Verify(DslKernel.Listing(image), target == "6.1" ? "Semantics" : "Semantics.6.18");
        KernelGate.Require();
        using var loaded = DslKernel.Load(image);
        using var results = BpfMap<uint, ulong>.From(loaded.Maps["results"]);
        using var cgroup = Cgroup.CreateTemporary();
        using var attachment = cgroup.Attach(loaded.Program);
        using var server = new LoopbackTcp.DrainingServer();
        LoopbackTcp.RunClientProcess(server.Port, 1, cgroup.AddProcess, TimeSpan.FromSeconds(30));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (results.Lookup(19) == 0 && DateTime.UtcNow < deadline) Thread.Sleep(20);
        var actual = Enumerable.Range(0, Slots).Select(i => results.Lookup((uint)i)).ToArray();
        Assert.Equal((ulong)server.Port, actual[1]);
        var expected = Expected((uint)actual[0], (uint)server.Port, (uint)actual[2]);
        if (kernel < new Assembler.KernelVersion(6, 6)) expected[5] = expected[6] = expected[18] = 0;
        Assert.Equal(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((uint)server.Port), (uint)actual[2]);
        Assert.Equal(expected, actual);
    }
}
