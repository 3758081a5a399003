using System.Runtime.CompilerServices;

namespace SockOps.Emit.Assembler.Tests;

public class DecoderTests
{
    private static byte[] Bytes(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));

    private static IEnumerable<string> LlvmEncodings([CallerFilePath] string callerFile = "")
    {
        string path = Path.Combine(Path.GetDirectoryName(callerFile)!, "golden", "builder", "builder-expectations.txt");
        return File.ReadLines(path).Where(l => l.Length > 0 && !l.StartsWith('#')).Select(l => l.Split('\t')[2]);
    }

    [Fact]
    public void Every_llvm_mc_encoding_decodes_and_re_encodes_byte_for_byte()
    {
        var all = LlvmEncodings().ToList();
        byte[] stream = Bytes(string.Concat(all));
        var instructions = InstructionDecoder.Decode(stream);
        Assert.Equal(all.Count, instructions.Length);
        using var builder = new InstructionBuilder();
        foreach (var insn in instructions) builder.Raw(insn);
        Assert.Equal(stream, builder.Encode().ToBytes());
    }

    [Fact]
    public void Fields_are_taken_apart_little_endian()
    {
        // if w1 s> 5 goto +3 (llvm-mc): 66 01 03 00 05 00 00 00; r0 = 0x123456789abcdef0 ll.
        var insns = InstructionDecoder.Decode(Bytes("6601030005000000 18000000f0debc9a0000000078563412 7b1af8ff00000000"));
        Assert.Equal(new Instruction(0x66, 1, 0, 3, 5), insns[0]);
        Assert.Equal(0x123456789abcdef0, insns[1].Immediate64);
        Assert.Equal(new Instruction(0x7b, 10, 1, -8, 0), insns[2]);
    }

    [Fact]
    public void Empty_input_decodes_to_no_instructions()
    {
        Assert.Empty(InstructionDecoder.Decode([]));
        Assert.False(InstructionDecoder.Enumerate([]).MoveNext());
    }

    [Fact]
    public void Length_not_a_multiple_of_eight_names_the_trailing_slot_and_bytes()
    {
        var e = Assert.Throws<InstructionDecodeException>(() => InstructionDecoder.Decode(Bytes("9500000000000000 b70001")));
        Assert.Equal(1, e.SlotIndex);
        Assert.Equal(1, e.InstructionIndex);
        Assert.Equal(Bytes("b70001"), e.Bytes);
        Assert.Contains("length 11 is not a multiple of 8", e.Message, StringComparison.Ordinal);
        Assert.Contains("bytes b7 00 01", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_ld_imm64_is_refused_at_its_slot()
    {
        var e = Assert.Throws<InstructionDecodeException>(() => InstructionDecoder.Decode(Bytes("b700000000000000 1801000001000000")));
        Assert.Equal(1, e.SlotIndex);
        Assert.Equal(1, e.InstructionIndex);
        Assert.Contains("ld_imm64 is truncated", e.Message, StringComparison.Ordinal);
        Assert.Contains("18 01 00 00 01 00 00 00", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1801000001000000 9500000000000000", "opcode 0x95")]   // second slot is an instruction
    [InlineData("1801000001000000 0001000000000000", "registers 0x01")]
    [InlineData("1801000001000000 0000010000000000", "offset 1")]
    public void Bad_second_slot_of_ld_imm64_is_refused(string hex, string detail)
    {
        var e = Assert.Throws<InstructionDecodeException>(() => InstructionDecoder.Decode(Bytes("9500000000000000 " + hex)));
        Assert.Equal(1, e.SlotIndex);
        Assert.Equal(16, e.Bytes.Count);
        Assert.Contains("second slot of ld_imm64", e.Message, StringComparison.Ordinal);
        Assert.Contains(detail, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_opcode_after_ld_imm64_names_slot_and_instruction_index()
    {
        // ld_imm64 (slots 0-1), exit (slot 2), then 0x8c = neg with a register source (slot 3, instruction 2).
        var e = Assert.Throws<InstructionDecodeException>(() =>
            InstructionDecoder.Decode(Bytes("1800000001000000 0000000000000000 9500000000000000 8c21000000000000")));
        Assert.Equal(3, e.SlotIndex);
        Assert.Equal(2, e.InstructionIndex);
        Assert.Equal(Bytes("8c21000000000000"), e.Bytes);
        Assert.Contains("slot 3", e.Message, StringComparison.Ordinal);
        Assert.Contains("byte offset 24", e.Message, StringComparison.Ordinal);
        Assert.Contains("opcode 0x8c is not a BPF instruction", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("070b000001000000", "destination field 11 is not a register")]
    [InlineData("0fb1000000000000", "source field 11 is not a register")]
    [InlineData("9500010000000000", "offset is unused")]
    [InlineData("d401000008000000", "byte swap width must be 16, 32 or 64")]
    [InlineData("d312000000000000", "needs size W or DW")]
    [InlineData("1871000000000000 0000000000000000", "pseudo kind 0..6, is 7")]
    public void Isa_violations_are_refused_with_the_isa_reason(string hex, string reason)
    {
        var e = Assert.Throws<InstructionDecodeException>(() => InstructionDecoder.Decode(Bytes(hex)));
        Assert.Equal(0, e.SlotIndex);
        Assert.Contains(reason, e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Enumerator_reports_slots_and_throws_when_it_reaches_a_bad_instruction()
    {
        byte[] bytes = Bytes("1800000001000000 0000000000000000 9500000000000000 ff00000000000000");
        var e = InstructionDecoder.Enumerate(bytes);
        Assert.True(e.MoveNext());
        Assert.Equal((0, 0), (e.SlotIndex, e.InstructionIndex));
        Assert.True(e.MoveNext());
        Assert.Equal((2, 1), (e.SlotIndex, e.InstructionIndex));
        Assert.Equal(0x95, e.Current.Opcode);
        try
        {
            e.MoveNext();
            Assert.Fail("expected InstructionDecodeException");
        }
        catch (InstructionDecodeException ex)
        {
            Assert.Equal(3, ex.SlotIndex);
        }
    }

    [Fact]
    public void TryDecode_reports_consumed_bytes_or_the_reason()
    {
        Assert.True(InstructionDecoder.TryDecode(Bytes("1800000001000000 0000000002000000 95"), out var wide, out int consumed, out var error));
        Assert.Equal((16, null, 0x0000000200000001L), (consumed, error, wide.Immediate64));
        Assert.False(InstructionDecoder.TryDecode(Bytes("8c00000000000000"), out _, out consumed, out error));
        Assert.Equal(0, consumed);
        Assert.Contains("neg takes no source register", error, StringComparison.Ordinal);
        Assert.False(InstructionDecoder.TryDecode(Bytes("95"), out _, out _, out error));
        Assert.Contains("needs 8 bytes", error, StringComparison.Ordinal);
    }
}
