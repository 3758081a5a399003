using System.Globalization;
using SockOps.Emit;
using SockOps.Emit.Assembler;

namespace SockOps.Programs.Tests;

/// <summary>
/// The DSL builds of the seed's three examples against clang 14 -O2 (scripts/clang-seed/clang-slots.tsv, written
/// by scripts/clang-seed/measure.sh from the seed's C). docs/size-vs-clang.md shows the same numbers.
/// </summary>
public class SizeVsClangTests
{
    private static Dictionary<string, (int DefaultCpu, int V3)> Clang() =>
        File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "clang-slots.tsv")).Skip(1)
            .Select(l => l.Split('\t'))
            .ToDictionary(f => f[0], f => (int.Parse(f[2], CultureInfo.InvariantCulture), int.Parse(f[3], CultureInfo.InvariantCulture)));

    /// <summary>The seed's programs as the DSL builds them (same behaviour as the C: printk where the C has it, no ring buffer).</summary>
    public static TheoryData<string, int> SeedEquivalents => new()
    {
        { "clamp", Clamp.Build(new Clamp.Options { Printk = true }).Slots },
        { "sockmap", SockMapAdder.Build().Slots },
    };

    [Theory]
    [MemberData(nameof(SeedEquivalents))]
    public void The_dsl_is_no_larger_than_clang(string program, int dslSlots)
    {
        var clang = Clang()[program];
        Assert.True(dslSlots <= Math.Min(clang.DefaultCpu, clang.V3), $"{program}: DSL {dslSlots} slots, clang {clang.DefaultCpu} (v3: {clang.V3})");
    }

    [Fact]
    public void Dump_stats_exceeds_clang_only_by_its_format_strings_on_the_stack()
    {
        // clang keeps bpf_printk's format strings in .rodata (one ld_imm64 each); the DSL writes them on the stack
        // with one 4-byte store per 4 characters. Everything else is no larger than clang's code.
        var image = DumpStats.Build(new DumpStats.Options { RingBuffer = false, Printk = true });
        int stringStores = image.Instructions.Count(i => i.Opcode == Opcode.Memory(InstructionClass.St, MemoryMode.Mem, MemorySize.W) && i.DestinationIndex == 10);
        int expectedStores = ("dsack_dups=%u delivered=%u\n".Length + 1 + 3) / 4 + ("delivered_ce=%u icsk_retransmits=%u\n".Length + 1 + 3) / 4;
        Assert.Equal(expectedStores, stringStores);
        var clang = Clang()["dump_stats"];
        Assert.True(image.Slots - stringStores <= clang.DefaultCpu, $"dump_stats: DSL {image.Slots} slots ({stringStores} format-string stores), clang {clang.DefaultCpu}");
        Assert.True(DumpStats.Build(new DumpStats.Options { RingBuffer = false }).Slots <= clang.DefaultCpu);
    }
}
