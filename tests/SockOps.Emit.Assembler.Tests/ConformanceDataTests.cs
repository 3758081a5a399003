using SockOps.Emit.Assembler;

namespace SockOps.Emit.Assembler.Tests;

public class ConformanceDataTests
{
    [Fact]
    public void Sections_are_read()
    {
        var data = ConformanceDataFile.Parse("""
            # Copyright line
            -- asm
            ldxb %r0, [%r1+2] # comment
            exit
            -- mem
            aa bb
            cc # trailing
            -- result
            0x11 # the value
            -- c
            int main() { return 0; }
            """, "x.data");

        Assert.Equal("x.data", data.Name);
        Assert.Equal(3, data.AsmFirstLine);
        Assert.Equal([0xaa, 0xbb, 0xcc], data.Memory);
        Assert.True(data.HasMemory);
        Assert.Equal(0x11UL, data.ExpectedResult);
        Assert.Null(data.ExpectedError);
        Assert.Null(data.RawProgram);
        Assert.Equal("7110020000000000" + "9500000000000000", Convert.ToHexStringLower(data.GetProgramBytes()));
    }

    [Fact]
    public void Raw_sections_take_bytes_or_64_bit_words()
    {
        var bytes = ConformanceDataFile.Parse("-- raw\n07 00 01 00 01 00 00 00\n-- error\n");
        Assert.Equal("0700010001000000", Convert.ToHexStringLower(bytes.GetProgramBytes()));
        Assert.Equal("", bytes.ExpectedError);

        // lddw.data's form: one little-endian 64-bit word per instruction.
        var words = ConformanceDataFile.Parse("-- raw\n0x5566778800000018\n0x1122334400000000\n-- result\n1\n");
        Assert.Equal("1800000088776655" + "0000000044332211", Convert.ToHexStringLower(words.GetProgramBytes()));
        Assert.Equal(1UL, words.ExpectedResult);
    }

    [Fact]
    public void GetProgram_assembles_asm_or_decodes_raw()
    {
        var asm = ConformanceDataFile.Parse("-- asm\nlddw %r0, 0x1122334455667788\nexit\n-- result\n0x1122334455667788\n");
        Assert.Equal([Instruction.LoadImmediate64(Register.R0, 0x1122334455667788), new Instruction(0x95, 0, 0, 0, 0)], asm.GetProgram());

        var raw = ConformanceDataFile.Parse("-- raw\n0x5566778800000018\n0x1122334400000000\n0x0000000000000095\n-- result\n1\n");
        Assert.Equal(asm.GetProgram(), raw.GetProgram());

        var invalid = ConformanceDataFile.Parse("-- raw\n95 01 00 00 00 00 00 00\n-- error\n");
        Assert.Throws<InstructionDecodeException>(invalid.GetProgram);
    }

    [Fact]
    public void Error_text_and_decimal_results_are_read()
    {
        var data = ConformanceDataFile.Parse("-- asm\nexit\n-- error\nInvalid register\n");
        Assert.Equal("Invalid register", data.ExpectedError);
        Assert.Equal(18446744073709551615UL, ConformanceDataFile.Parse("-- result\n18446744073709551615").ExpectedResult);
    }

    [Theory]
    [InlineData("-- asm\nexit\n-- Unknown directive\n", 3, "unknown section '-- Unknown directive'")]
    [InlineData("-- mem\naa zz\n", 2, "expected a hex byte but found 'zz'")]
    [InlineData("-- result\n0xnothex\n", 2, "expected a 64-bit result (decimal or 0x hex) but found '0xnothex'")]
    public void Malformed_files_are_refused_with_their_line(string text, int line, string message)
    {
        var error = Assert.Throws<AsmSyntaxException>(() => ConformanceDataFile.Parse(text));
        Assert.Equal(line, error.Line);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_without_a_program_is_refused()
    {
        var data = ConformanceDataFile.Parse("# header only\n-- result\n0x0\n", "empty_instructions.data");
        var error = Assert.Throws<AsmSyntaxException>(data.GetProgramBytes);
        Assert.Contains("has no program", error.Message, StringComparison.Ordinal);

        var emptyAsm = ConformanceDataFile.Parse("-- asm\n# nothing\n-- result\n0x0\n");
        Assert.Contains("holds no instruction", Assert.Throws<AsmSyntaxException>(emptyAsm.GetProgramBytes).Message, StringComparison.Ordinal);
    }
}
