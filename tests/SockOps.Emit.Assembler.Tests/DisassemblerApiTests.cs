using System.Buffers;
using System.Text;
using CsCheck;
using SockOps.Emit.Assembler;

namespace SockOps.Emit.Assembler.Tests;

/// <summary>The listing and buffer overloads, and robustness on arbitrary field values.</summary>
public class DisassemblerApiTests
{
    private static readonly Instruction[] Program =
    [
        new(0xb7, 0, 0, 0, 1),                                   // r0 = 1
        Instruction.LoadImmediate64(Register.R1, 1311768467463790320),
        new(0x15, 1, 0, 1, 0),                                   // if r1 == 0 goto +1
        new(0x95, 0, 0, 0, 0),                                   // exit
    ];

    [Fact]
    public void Program_listing_without_addresses_is_one_instruction_per_line()
    {
        Assert.Equal(
            ["r0 = 1", "r1 = 1311768467463790320 ll", "if r1 == 0 goto +1", "exit"],
            Disassembler.FormatProgram(Program));
    }

    [Fact]
    public void Llvm_addresses_are_slots_formatted_like_llvm_objdump()
    {
        // llvm-objdump -d --no-show-raw-insn prints "%8d:\t" before each instruction, counting slots.
        Assert.Equal(
            ["       0:\tr0 = 1", "       1:\tr1 = 1311768467463790320 ll", "       3:\tif r1 == 0 goto +1", "       4:\texit"],
            Disassembler.FormatProgram(Program, DisassemblySyntax.Llvm, includeAddresses: true));
    }

    [Fact]
    public void Kernel_addresses_are_slots_formatted_like_bpftool()
    {
        // bpftool prog dump xlated prints "% 4d: " before each instruction.
        Assert.Equal(
            ["   0: (b7) r0 = 1", "   1: (18) r1 = 0x123456789abcdef0", "   3: (15) if r1 == 0x0 goto pc+1", "   4: (95) exit"],
            Disassembler.FormatProgram(Program, DisassemblySyntax.Kernel, includeAddresses: true));
    }

    [Fact]
    public void WriteProgram_writes_the_same_lines()
    {
        var writer = new StringWriter();
        Disassembler.WriteProgram(Program, writer, DisassemblySyntax.Kernel, includeAddresses: true);
        string expected = string.Concat(Disassembler.FormatProgram(Program, DisassemblySyntax.Kernel, true).Select(l => l + "\n"));
        Assert.Equal(expected, writer.ToString());
    }

    [Fact]
    public void StringBuilder_buffer_writer_and_span_overloads_agree_with_Format()
    {
        foreach (DisassemblySyntax syntax in Enum.GetValues<DisassemblySyntax>())
        {
            foreach (Instruction insn in Program)
            {
                string expected = Disassembler.Format(insn, syntax);

                var builder = new StringBuilder("x");
                Disassembler.Format(insn, syntax, builder);
                Assert.Equal("x" + expected, builder.ToString());

                var buffer = new ArrayBufferWriter<char>();
                Disassembler.Format(insn, syntax, buffer);
                Assert.Equal(expected, new string(buffer.WrittenSpan));

                char[] exact = new char[expected.Length];
                Assert.True(Disassembler.TryFormat(insn, syntax, exact, out int written));
                Assert.Equal(expected, new string(exact[..written]));

                char[] small = new char[expected.Length - 1];
                Assert.False(Disassembler.TryFormat(insn, syntax, small, out written));
                Assert.Equal(0, written);
            }
        }
    }

    [Fact]
    public void Undefined_syntax_is_refused()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Disassembler.Format(Program[0], (DisassemblySyntax)7));
        Assert.Equal("syntax", e.ParamName);
    }

    [Fact]
    public void Any_field_values_format_within_the_length_bound_in_both_syntaxes()
    {
        // Both syntaxes are total: every opcode with any fields prints something bounded, never throws.
        var gen = Gen.Select(Gen.Byte, Gen.Byte[0, 15], Gen.Byte[0, 15], Gen.Short, Gen.Int, Gen.Int);
        gen.Sample((opcode, dst, src, off, imm, high) =>
        {
            var insn = new Instruction(opcode, dst, src, off, imm, opcode == Opcode.LoadImmediate64 ? high : 0);
            foreach (DisassemblySyntax syntax in Enum.GetValues<DisassemblySyntax>())
            {
                string text = Disassembler.Format(insn, syntax);
                Assert.InRange(text.Length, 1, Disassembler.MaxInstructionLength);
            }
        }, iter: 200_000);
    }

    [Fact]
    public void Extreme_fields_fit_the_length_bound()
    {
        // The longest texts: largest register numbers and most digits in every field.
        for (int opcode = 0; opcode < 256; opcode++)
        {
            foreach (int imm in new[] { int.MinValue, int.MaxValue, 0x100, 0x110, 0xf1, 0xe1, 0xa1, 16 })
            {
                var insn = new Instruction((byte)opcode, 15, 15, short.MinValue, imm, opcode == Opcode.LoadImmediate64 ? int.MinValue : 0);
                foreach (DisassemblySyntax syntax in Enum.GetValues<DisassemblySyntax>())
                    Assert.InRange(Disassembler.Format(insn, syntax).Length, 1, Disassembler.MaxInstructionLength);
            }
        }
    }
}
