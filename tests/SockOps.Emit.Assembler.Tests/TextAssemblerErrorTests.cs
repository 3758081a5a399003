using SockOps.Emit.Assembler;

namespace SockOps.Emit.Assembler.Tests;

public class TextAssemblerErrorTests
{
    private static AsmSyntaxException Refused(string text, AsmDialect dialect = AsmDialect.Llvm) =>
        Assert.Throws<AsmSyntaxException>(() => TextAssembler.Assemble(text, dialect));

    [Theory]
    [InlineData("r11 = 1", "1:1: expected a register (r0..r10) but found 'r11'", "r11")]
    [InlineData("r0 = r11", "1:6: expected a register (r0..r10) but found 'r11'", "r11")]
    [InlineData("  w12 += 1", "1:3: expected a register (w0..w10) but found 'w12'", "w12")]
    [InlineData("r0 = 1\nfoo r1", "2:1: unknown instruction 'foo'", "foo")]
    [InlineData("r1 = 4294967296", "1:6: immediate 4294967296 is out of range: expected a 32-bit value (-2147483648..4294967295)", "4294967296")]
    [InlineData("r1 += -2147483649", "1:7: immediate -2147483649 is out of range: expected a 32-bit value (-2147483648..4294967295)", "-2147483649")]
    [InlineData("r1 = 18446744073709551616 ll", "1:6: number 18446744073709551616 does not fit in 64 bits", "18446744073709551616")]
    [InlineData("w1 = 0x100000000", "1:6: immediate 0x100000000 is out of range: expected a 32-bit value (-2147483648..4294967295)", "0x100000000")]
    [InlineData("r1 = -9223372036854775809 ll", "1:6: immediate -9223372036854775809 is out of range: expected a 64-bit value (-9223372036854775808..18446744073709551615)", "-9223372036854775809")]
    [InlineData("r1 = *(u32 *)(r6 + 32768)", "1:20: offset 32768 is out of range: expected -32768..32767", "32768")]
    [InlineData("if r1 == 5 goto +32768", "1:17: jump offset 32768 is out of range: expected -32768..32767 (use gotol)", "+32768")]
    [InlineData("goto nowhere\nexit", "1:6: unknown label 'nowhere'", "nowhere")]
    [InlineData("L1:\nexit\n  L1: exit", "3:3: duplicate label 'L1' (first defined on line 1)", "L1")]
    [InlineData("w1 += r2", "1:7: expected a 32-bit register (w0..w10) to match 'w1' but found 'r2'", "r2")]
    [InlineData("r1 = *(u64 *)(r2 + 0) junk", "1:23: expected the end of the line but found 'junk'", "junk")]
    [InlineData("r1 = *(u24 *)(r2 + 0)", "1:8: expected a type (u8, u16, u32, u64, s8, s16, s32) but found 'u24'", "u24")]
    [InlineData("r1 = -r2", "1:7: neg works in place: expected 'r1' but found 'r2'", "r2")]
    [InlineData("w1 = 5 ll", "1:1: ld_imm64 ('ll') needs a 64-bit register (r0..r10)", "w1")]
    [InlineData("r1 == 5", "1:4: expected an assignment operator ('=', '+=', ...) but found '=='", "==")]
    [InlineData("r0 = 1; r1 = r11", "1:14: expected a register (r0..r10) but found 'r11'", "r11")]
    [InlineData("lock *(u8 *)(r1 + 0) += r2", "1:7: atomic operations work on u32 or u64 only", "(")]
    [InlineData("if r1 = 5 goto +1", "1:7: expected a comparison ('==', '!=', '>', '>=', '<', '<=', 's>', 's>=', 's<', 's<=', '&') but found '='", "=")]
    public void Llvm_errors_name_line_column_token_and_what_was_expected(string text, string message, string token)
    {
        var error = Refused(text);
        Assert.Equal(message, error.Message);
        Assert.Equal(token, error.Token);
    }

    [Theory]
    [InlineData("mov32 %r0, 2147483648", "1:12: immediate out of 32-bit range: 2147483648 (expected -2147483648..2147483647)")]
    [InlineData("mov32 %r0, 0x100000000", "1:12: immediate out of 32-bit range: 0x100000000 (expected -0x80000000..0xffffffff)")]
    [InlineData("ja NOT_A_LABEL\nexit", "1:4: unknown label 'NOT_A_LABEL'")]
    [InlineData("lock or [%r10-8]", "1:1: invalid number of operands for lock: expected [fetch] op [%rD+off], %rS but found 2 operands")]
    [InlineData("ldxq %r0, %r1", "1:1: invalid mnemonic 'ldxq'")]
    [InlineData("ldxb %r0, %r1", "1:11: expected a memory operand ([%rN+offset]) but found '%r1'")]
    [InlineData("ldxb %r0, [%r1+0x10000]", "1:15: offset out of 16-bit range: 65536 (expected -0x8000..0xffff)")]
    [InlineData("lddw %r0", "1:1: invalid number of operands for 'lddw': expected 2 but found 1")]
    [InlineData("or %r0, %r50", "1:9: invalid register: expected a register (%r0..%r10) but found '%r50'")]
    [InlineData("call weird 5", "1:6: expected a call kind (helper, local or runtime) but found 'weird'")]
    public void Conformance_errors_name_line_column_and_what_was_expected(string text, string message)
    {
        Assert.Equal(message, Refused(text, AsmDialect.Conformance).Message);
    }

    [Fact]
    public void A_jump_beyond_int16_is_refused_at_the_reference()
    {
        string text = "goto far\n" + string.Concat(Enumerable.Repeat("r0 = 0\n", 40000)) + "far: exit\n";
        var error = Refused(text);
        Assert.Equal("1:6: jump to 'far' needs offset 40000, outside the 16-bit range -32768..32767 (use gotol)", error.Message);

        // gotol reaches it.
        var program = TextAssembler.Assemble(text.Replace("goto far", "gotol far", StringComparison.Ordinal));
        Assert.Equal(40000, program.Instructions[0].Immediate);
    }

    [Fact]
    public void TryAssemble_reports_every_bad_line_without_throwing()
    {
        bool ok = TextAssembler.TryAssemble("r0 = r11\nr0 = 0\nbogus\ngoto missing", AsmDialect.Llvm, out var program, out var diagnostics);

        Assert.False(ok);
        Assert.Null(program);
        Assert.Equal(["1:6: expected a register (r0..r10) but found 'r11'", "3:1: unknown instruction 'bogus'"],
            diagnostics.Select(d => d.ToString()));
        // Label references are resolved only when every line parsed; the exception carries all diagnostics.
        var error = Refused("r0 = r11\nbogus");
        Assert.Equal(2, error.Diagnostics.Count);
        Assert.Equal(1, error.Line);
        Assert.Equal(6, error.Column);
    }

    [Fact]
    public void Unknown_labels_are_all_reported()
    {
        Assert.False(TextAssembler.TryAssemble("goto a\ngoto b\nexit", AsmDialect.Llvm, out _, out var diagnostics));
        Assert.Equal(["1:6: unknown label 'a'", "2:6: unknown label 'b'"], diagnostics.Select(d => d.ToString()));
    }

    [Fact]
    public void Errors_in_a_data_file_carry_the_file_line()
    {
        var data = ConformanceDataFile.Parse("# header\n-- asm\nmov %r0, 1\nmov %r0, %r99\nexit\n-- result\n0x1\n");
        var error = Assert.Throws<AsmSyntaxException>(data.AssembleProgram);
        Assert.Equal(4, error.Line);
        Assert.Equal(10, error.Column);
    }
}
