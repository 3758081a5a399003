using SockOps.Emit.Assembler;

namespace SockOps.Emit.Assembler.Tests;

public class TextAssemblerTests
{
    private static string Hex(string text, AsmDialect dialect = AsmDialect.Llvm) =>
        TextTestData.Hex(TextAssembler.Assemble(text, dialect).ToBytes());

    /// <summary>
    /// Forms newer than LLVM 19 (Linux 6.15 load-acquire/store-release): the expectations are LLVM's
    /// own test llvm/test/MC/BPF/insn-unit.s ("CHECK: d3 10 00 00 00 01 00 00  w0 = load_acquire((u8 *)(r1 + 0x0))").
    /// </summary>
    [Theory]
    [InlineData("w0 = load_acquire((u8 *)(r1 + 0))", "d310000000010000")]
    [InlineData("w0 = load_acquire((u16 *)(r1 + 0))", "cb10000000010000")]
    [InlineData("w0 = load_acquire((u32 *)(r1 + 0))", "c310000000010000")]
    [InlineData("r0 = load_acquire((u64 *)(r1 + 0))", "db10000000010000")]
    [InlineData("r0 = load_acquire((u64 *)(r1 + 0x0))", "db10000000010000")]
    [InlineData("store_release((u8 *)(r1 + 0), w2)", "d321000010010000")]
    [InlineData("store_release((u16 *)(r1 + 0), w2)", "cb21000010010000")]
    [InlineData("store_release((u32 *)(r1 + 0), w2)", "c321000010010000")]
    [InlineData("store_release((u64 *)(r1 + 0x0), r2)", "db21000010010000")]
    public void Load_acquire_and_store_release_encode_as_llvm_tests_expect(string text, string hex)
    {
        Assert.Equal(hex, Hex(text));
    }

    [Fact]
    public void Labels_count_slots_and_ld_imm64_takes_two()
    {
        var program = TextAssembler.Assemble("""
            start:
              r1 = 0x100000000 ll
            after_wide: goto start
              if r1 > 3 goto end
            end:
              exit
            """);

        Assert.Equal(4, program.Instructions.Count);
        Assert.Equal(5, program.SlotCount);
        Assert.Equal(new Dictionary<string, int> { ["start"] = 0, ["after_wide"] = 2, ["end"] = 4 }, program.Labels);
        Assert.Equal(-3, program.Instructions[1].Offset);
        Assert.Equal(0, program.Instructions[2].Offset);
        Assert.Equal([2, 3, 4, 6], program.SourceLines);
        Assert.Equal(40, program.ToBytes().Length);
    }

    [Fact]
    public void A_symbol_that_is_not_a_label_is_a_map_reference()
    {
        var program = TextAssembler.Assemble("""
            r1 = 0
            r2 = sock_map ll
            r3 = other.map ll
            exit
            """);

        Assert.Equal([new MapReference(1, "sock_map", PseudoSource.MapFd), new MapReference(2, "other.map", PseudoSource.MapFd)], program.MapReferences);
        // As libbpf patches LLVM's relocation: src = BPF_PSEUDO_MAP_FD, imm = 0 until the loader fills in the fd.
        Assert.Equal("18120000000000000000000000000000", TextTestData.Hex(program.ToBytes()[8..24]));
    }

    [Fact]
    public void A_symbol_that_is_a_label_is_a_function_pointer()
    {
        var program = TextAssembler.Assemble("""
            r2 = callback ll
            exit
            callback:
            r0 = 0
            exit
            """);

        Assert.Empty(program.MapReferences);
        var load = program.Instructions[0];
        Assert.Equal((byte)PseudoSource.Func, load.SourceIndex);
        // As for calls, the kernel finds the function at the ld_imm64's slot + imm + 1: 0 + 2 + 1 = slot 3.
        Assert.Equal(2, load.Immediate);
    }

    [Fact]
    public void Objdump_annotations_after_jump_offsets_are_accepted()
    {
        Assert.Equal(Hex("goto +1"), Hex("goto +1 <LBB0_2>"));
        Assert.Equal(Hex("if r1 > r2 goto -2"), Hex("if r1 > r2 goto -2 <.text+0x10>"));
    }

    [Fact]
    public void Semicolons_separate_statements_as_in_llvm_mc_and_comments_are_dropped()
    {
        Assert.Equal(Hex("r1 = 2\nr2 = 3"), Hex("r1 = 2 ; r2 = 3"));
        Assert.Equal(Hex("r1 = 2"), Hex("  r1 = 2   # set r1\n// only a comment\n\n"));
        Assert.Equal(Hex("r1 /= 2"), Hex("r1 /= 2 // division, not a comment start"));
    }

    [Fact]
    public void Conformance_dialect_semicolons_are_comments_and_exit_is_the_first_exit()
    {
        var program = TextAssembler.Assemble("""
            jeq %r1, 0, exit ; to the first exit
            mov %r0, 1
            exit
            mov %r0, 2
            exit
            """, AsmDialect.Conformance);

        Assert.Equal(1, program.Instructions[0].Offset);
    }

    [Fact]
    public void Conformance_dialect_allows_spaces_inside_memory_operands()
    {
        Assert.Equal(Hex("ldxb %r0, [%r1-0x2]", AsmDialect.Conformance), Hex("ldxb  %r0 ,[ %r1 - 0x2 ]", AsmDialect.Conformance));
        Assert.Equal("7110feff00000000", Hex("ldxb %r0, [%r1-0x2]", AsmDialect.Conformance));
        Assert.Equal("7110ffff00000000", Hex("ldxb %r0, [%r1+0xffff]", AsmDialect.Conformance));
    }

    [Fact]
    public void Conformance_dialect_call_forms()
    {
        Assert.Equal("8500000005000000", Hex("call 5", AsmDialect.Conformance));
        Assert.Equal("8500000005000000", Hex("call helper 5", AsmDialect.Conformance));
        Assert.Equal("8520000007000000", Hex("call runtime 7", AsmDialect.Conformance));
        Assert.Equal("8d02000000000000", Hex("call %r2", AsmDialect.Conformance));
        Assert.Equal("8510000000000000" + "9500000000000000", Hex("call local f\nf:\nexit", AsmDialect.Conformance));
    }

    [Fact]
    public void Unsigned_32_bit_immediates_are_their_bit_pattern_as_in_llvm_mc()
    {
        // llvm-mc 14: "r1 = 0xffffffff" encodes imm -1; "w1 = 4294967295" likewise.
        Assert.Equal("b7010000ffffffff", Hex("r1 = 0xffffffff"));
        Assert.Equal("b4010000ffffffff", Hex("w1 = 4294967295"));
        Assert.Equal("18010000ffffffff00000000ffffffff", Hex("r1 = 18446744073709551615 ll"));
    }

    [Fact]
    public void TryAssemble_succeeds_with_no_diagnostics()
    {
        Assert.True(TextAssembler.TryAssemble("r0 = 0\nexit", AsmDialect.Llvm, out var program, out var diagnostics));
        Assert.Empty(diagnostics);
        Assert.Equal(2, program.Instructions.Count);
    }

    [Fact]
    public void Empty_text_is_an_empty_program()
    {
        var program = TextAssembler.Assemble("# nothing\n\n");
        Assert.Empty(program.Instructions);
        Assert.Empty(program.ToBytes());
    }
}
