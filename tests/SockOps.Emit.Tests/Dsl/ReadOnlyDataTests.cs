using SockOps.Emit.Assembler;
using SockOps.Emit.Runtime;
using SockOps.Emit.TestSupport;

namespace SockOps.Emit.Tests.Dsl;

/// <summary>
/// printk formats live in the program's read-only data, as clang's <c>.rodata</c>: one frozen BPF_F_RDONLY_PROG array
/// map per program, each distinct string once, passed as an <c>ld_imm64</c> map-value pointer.
/// </summary>
public class ReadOnlyDataTests
{
    private static ProgramImage TwoFormats() => SockOpsProgram.Build("rodata", b =>
    {
        b.Printk("first %u\n", b.Context.Op);
        b.Printk("second\n");
        b.Printk("first %u\n", b.Context.LocalPort);
        b.Return(1);
    });

    [Fact]
    public void Each_distinct_format_is_stored_once_and_passed_as_a_map_value_pointer()
    {
        var image = TwoFormats();
        var rodata = Assert.Single(image.Maps);
        Assert.Equal(MapDeclaration.ReadOnlyDataName, rodata.Name);
        Assert.Equal(MapType.Array, rodata.Kind);
        Assert.Equal((4, 1u), (rodata.KeySize, rodata.MaxEntries));
        Assert.Equal(MapFlags.ReadOnlyProgram, rodata.Flags);
        Assert.True(rodata.Frozen);
        Assert.Equal("first %u\n\0second\n\0"u8.ToArray(), rodata.InitialValue.ToArray());
        Assert.Equal(rodata.InitialValue.Length, rodata.ValueSize);
        Assert.Equal("first %u\\n\\0second\\n\\0", rodata.InitialValueText());
        var references = image.MapReferences.Where(r => r.MapName == rodata.Name).ToArray();
        Assert.Equal([0, 10, 0], references.Select(r => r.ValueOffset));
        foreach (var r in references)
        {
            var insn = image.Instructions[r.InstructionIndex];
            Assert.Equal(PseudoSource.MapValue, r.Kind);
            Assert.Equal((byte)PseudoSource.MapValue, insn.SourceIndex);
            Assert.Equal(r.ValueOffset, insn.ImmediateHigh);
            Assert.Equal(1, insn.DestinationIndex);
        }
        Assert.Equal(0, image.StackSize);
        DslKernel.AssertLintClean(image);
    }

    [Fact]
    public void A_program_without_constant_strings_has_no_rodata()
    {
        var image = SockOpsProgram.Build("no_rodata", b => b.Return(1));
        Assert.Empty(image.Maps);
    }

    [Fact]
    public void The_rodata_name_is_reserved()
    {
        var e = Assert.Throws<EmitException>(() => SockOpsProgram.Build("reserved", b =>
        {
            b.Map<int, long>(MapDeclaration.ReadOnlyDataName, MapType.Array, 1);
            b.Return(1);
        }));
        Assert.Equal(EmitRule.Usage, e.Rule);
        Assert.Contains("reserved", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_initial_value_needs_an_array_large_enough()
    {
        var hash = new MapDeclaration("h", MapType.Hash, typeof(int), typeof(long), 4, 8, 1, MapFlags.None) { InitialValue = new byte[8] };
        Assert.Contains("array map", Assert.Throws<ArgumentException>(() => hash.CreateMap()).Message, StringComparison.Ordinal);
        var small = new MapDeclaration("a", MapType.Array, typeof(int), typeof(int), 4, 4, 1, MapFlags.None) { InitialValue = new byte[5] };
        Assert.Contains("5 bytes", Assert.Throws<ArgumentException>(() => small.CreateMap()).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_loader_fills_and_freezes_the_rodata_and_the_kernel_accepts_the_program()
    {
        var image = TwoFormats();
        KernelGate.Require();
        using var loaded = DslKernel.Load(image);
        var map = loaded.Maps[MapDeclaration.ReadOnlyDataName];
        Assert.True(map.Flags.HasFlag(MapFlags.ReadOnlyProgram));
        var value = new byte[map.ValueSize];
        Assert.True(map.TryLookup(new byte[4], value));
        Assert.Equal(image.Maps[0].InitialValue.ToArray(), value);
        // Frozen: user space can no longer change the strings.
        Assert.Equal("EPERM", Assert.Throws<BpfException>(() => map.Update(new byte[4], new byte[map.ValueSize])).ErrnoName);
        Assert.True(loaded.Program.Info.Id > 0);
    }

    [Fact]
    public void The_kernel_needs_the_format_only_readable_freezing_is_for_constness()
    {
        // bpf_trace_printk's format is ARG_PTR_TO_MEM | MEM_RDONLY: a writable, unfrozen array is accepted too.
        // The DSL still freezes it with BPF_F_RDONLY_PROG (as libbpf does with .rodata) so nobody can change it.
        var image = TwoFormats();
        var writable = image.Maps[0] with { Frozen = false, Flags = MapFlags.None };
        var relaxed = new ProgramImage(image.Name, [.. image.Instructions], [.. image.MapReferences], [writable], image.License,
            [.. image.SourceMap], image.StackSize, [.. image.KfuncReferences], image.Target, [.. image.RequiredFeatures]);
        KernelGate.Require();
        using var loaded = DslKernel.Load(relaxed);
        var map = loaded.Maps[MapDeclaration.ReadOnlyDataName];
        Assert.False(map.Flags.HasFlag(MapFlags.ReadOnlyProgram));
        map.Update(new byte[4], new byte[map.ValueSize]);   // not frozen: user space may still write
        Assert.True(loaded.Program.Info.Id > 0);
    }
}
