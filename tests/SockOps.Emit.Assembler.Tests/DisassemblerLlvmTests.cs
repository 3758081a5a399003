using SockOps.Emit.Assembler;

namespace SockOps.Emit.Assembler.Tests;

/// <summary>The llvm syntax against llvm-objdump's own output (golden/llvm14.tsv).</summary>
public class DisassemblerLlvmTests
{
    /// <summary>
    /// Which golden column the llvm syntax must equal for a line, by the rules in Disassembler.Llvm.cs.
    /// Null for load-acquire/store-release, which no LLVM on the generating machine knows (tested below).
    /// </summary>
    public static string? ExpectedText(LlvmGoldenLine line)
    {
        Instruction insn = line.Instruction;
        bool atomic = (insn.Opcode & 0xe7) == 0xc3; // STX | ATOMIC, any size
        if (atomic && insn.Immediate is (int)AtomicOperation.LoadAcquire or (int)AtomicOperation.StoreRelease)
            return null;
        // LLVM 14's default cpu drops BPF_FETCH from 32-bit atomics; with +alu32 it decodes them.
        if (insn.Opcode == 0xc3 && (insn.Immediate & 1) != 0) return line.Llvm14Alu32;
        if (line.Llvm14 == GoldenData.Unknown) return line.Llvm14Alu32 != GoldenData.Unknown ? line.Llvm14Alu32 : line.Llvm19;
        // LLVM 14 ignores the ALU offset, so it prints sdiv/smod/movsx as div/mod/mov; LLVM 19 decodes them.
        if (Opcode.IsAlu(insn.Class) && insn.Offset != 0) return line.Llvm19;
        return line.Llvm14;
    }

    public static TheoryData<int, string, string> GoldenLines()
    {
        var data = new TheoryData<int, string, string>();
        foreach (LlvmGoldenLine line in GoldenData.Llvm)
        {
            string? expected = ExpectedText(line);
            if (expected is not null) data.Add(line.LineNumber, line.Hex, expected);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(GoldenLines))]
    public void Formats_exactly_as_llvm_objdump(int lineNumber, string hex, string expected)
    {
        Instruction insn = GoldenData.InstructionFromHex(hex);
        Assert.True(expected == Disassembler.Format(insn, DisassemblySyntax.Llvm),
            $"llvm14.tsv:{lineNumber} {hex}: expected \"{expected}\", got \"{Disassembler.Format(insn)}\"");
    }

    [Fact]
    public void Golden_data_covers_what_it_claims()
    {
        // Guards the oracle itself: enough lines, every class, LLVM 14 knowing most of them, and the
        // fallback columns used only where LLVM 14 is silent or wrong.
        IReadOnlyList<LlvmGoldenLine> lines = GoldenData.Llvm;
        Assert.True(lines.Count > 600, $"only {lines.Count} golden lines");
        for (int c = 0; c < 8; c++)
            Assert.Contains(lines, l => (int)l.Instruction.Class == c);
        int fromLlvm14 = lines.Count(l => ExpectedText(l) is { } e && e == l.Llvm14);
        Assert.True(fromLlvm14 > 500, $"only {fromLlvm14} lines use LLVM 14's text");
        Assert.All(lines.Where(l => l.Source is not null), l => Assert.False(l.Llvm14 == GoldenData.Unknown && l.Llvm14Alu32 == GoldenData.Unknown, l.Hex));
    }

    [Theory]
    // No installed LLVM knows these (LLVM 21+); the syntax is BPFInstrInfo.td's LOAD_ACQUIRE/STORE_RELEASE
    // ("$dst = load_acquire((u8 *)($addr))", "store_release((u64 *)($addr), $src)"; wN below 64 bits).
    [InlineData("d310000000010000", "w0 = load_acquire((u8 *)(r1 + 0))")]
    [InlineData("cb10000000010000", "w0 = load_acquire((u16 *)(r1 + 0))")]
    [InlineData("c3a3f8ff00010000", "w3 = load_acquire((u32 *)(r10 - 8))")]
    [InlineData("db10ff7f00010000", "r0 = load_acquire((u64 *)(r1 + 32767))")]
    [InlineData("d321000010010000", "store_release((u8 *)(r1 + 0), w2)")]
    [InlineData("cb21080010010000", "store_release((u16 *)(r1 + 8), w2)")]
    [InlineData("c32a008010010000", "store_release((u32 *)(r10 - 32768), w2)")]
    [InlineData("db21000010010000", "store_release((u64 *)(r1 + 0), r2)")]
    // Newer forms checked against llvm-objdump 19 by hand: may_goto and addr_space_cast.
    [InlineData("e500030000000000", "may_goto +3")]
    [InlineData("e500fdff00000000", "may_goto -3")]
    [InlineData("bf21010001000000", "r1 = addr_space_cast(r2, 0, 1)")]
    [InlineData("bf21010000000100", "r1 = addr_space_cast(r2, 1, 0)")]
    public void Formats_forms_newer_than_llvm14(string hex, string expected) =>
        Assert.Equal(expected, Disassembler.Format(GoldenData.InstructionFromHex(hex)));

    [Theory]
    // Reserved encodings the kernel rejects print <unknown>, as llvm-objdump 19 prints them.
    [InlineData("0f21010000000000")] // add with an offset
    [InlineData("b701010005000000")] // mov imm with an offset
    [InlineData("bc21200000000000")] // 32-bit movsx from 32 bits
    [InlineData("d401000008000000")] // le8
    [InlineData("df01000010000000")] // bswap with the X bit
    [InlineData("8e00000001000000")] // JMP32 call
    [InlineData("9e00000000000000")] // JMP32 exit
    [InlineData("db21000002000000")] // atomic imm 2
    [InlineData("d321000000000000")] // 8-bit atomic add
    [InlineData("3800000005000000")] // LD_ABS of 8 bytes
    [InlineData("9921000000000000")] // sign-extending 64-bit load
    [InlineData("8d010000ffffffff")] // callx r-1
    [InlineData("0000000000000000")]
    [InlineData("ff00000000000000")]
    public void Reserved_encodings_print_unknown(string hex) =>
        Assert.Equal(Disassembler.LlvmUnknown, Disassembler.Format(GoldenData.InstructionFromHex(hex)));
}
