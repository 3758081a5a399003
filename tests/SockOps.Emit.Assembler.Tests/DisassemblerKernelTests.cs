using SockOps.Emit.Assembler;

namespace SockOps.Emit.Assembler.Tests;

/// <summary>The kernel syntax against the Linux 6.18 verifier log (golden/kernel-xlated.tsv).</summary>
public class DisassemblerKernelTests
{
    public static TheoryData<int, string, string> GoldenLines()
    {
        var data = new TheoryData<int, string, string>();
        foreach (KernelGoldenLine line in GoldenData.Kernel)
            data.Add(line.LineNumber, line.Hex, line.Kernel);
        return data;
    }

    [Theory]
    [MemberData(nameof(GoldenLines))]
    public void Formats_exactly_as_the_verifier_log(int lineNumber, string hex, string expected)
    {
        string actual = Disassembler.Format(GoldenData.InstructionFromHex(hex), DisassemblySyntax.Kernel);
        Assert.True(expected == actual, $"kernel-xlated.tsv:{lineNumber} {hex}: expected \"{expected}\", got \"{actual}\"");
    }

    [Fact]
    public void Golden_data_covers_every_class_and_the_newer_forms()
    {
        IReadOnlyList<KernelGoldenLine> lines = GoldenData.Kernel;
        Assert.True(lines.Count > 350, $"only {lines.Count} kernel golden lines");
        for (int c = 0; c < 8; c++)
            Assert.Contains(lines, l => (int)l.Instruction.Class == c);
        foreach (string fragment in new[] { "atomic64_cmpxchg", "atomic_fetch_or", "load_acquire", "store_release", "s/=", "(s8)", "bswap64", "gotol", "may_goto", "call bpf_", "call pc-", "skb[r1 + 2]", "*(s16 *)" })
            Assert.Contains(lines, l => l.Kernel.Contains(fragment, StringComparison.Ordinal));
    }

    [Theory]
    // Derived from kernel/bpf/disasm.c for forms the golden programs cannot contain (the verifier
    // rejects them or rewrites them before printing).
    [InlineData("8500000000000000", "(85) call bpf_unspec#0")]
    [InlineData("85000000d4000000", "(85) call unknown#212")]
    [InlineData("85000000d3000000", "(85) call bpf_cgrp_storage_delete#211")]
    [InlineData("8500000039300000", "(85) call unknown#12345")]
    [InlineData("85000000ffffffff", "(85) call unknown#-1")]
    [InlineData("8520000039300000", "(85) call kernel-function#12345")]
    [InlineData("8530000005000000", "(85) call unknown#5")]
    [InlineData("18110000050000000000000000000000", "(18) r1 = 0x5")]
    [InlineData("18210000050000000000000008000000", "(18) r1 = 0x800000005")]
    [InlineData("0d01000000000000", "(0d) gotox r1")]
    [InlineData("bf21010001000000", "(bf) r1 = addr_space_cast(r2, 0, 1)")]
    [InlineData("bf21ffff00000000", "(bf) r1 = &(void __percpu *)(r2)")]
    [InlineData("c200000000000000", "(c2) nospec")]
    [InlineData("2200000000000000", "BUG_st_22")]
    [InlineData("2100000000000000", "BUG_ldx_21")]
    [InlineData("9921000000000000", "BUG_ldx_99")]
    [InlineData("0000000000000000", "BUG_ld_00")]
    [InlineData("4300000000000000", "BUG_43")]
    [InlineData("db21000002000000", "BUG_db")]
    [InlineData("e701000000000000", "(e7) r1 (null) 0")]
    [InlineData("f500000000000000", "(f5) if r0 (null) 0x0 goto pc+0")]
    [InlineData("9600000000000000", "(96) if w0 exit 0x0 goto pc+0")]
    [InlineData("9e00000000000000", "(9e) if w0 exit w0 goto pc+0")]
    [InlineData("c310000000010000", "(c3) r0 = load_acquire((u32 *)(r1 +0))")]
    public void Formats_what_disasm_c_prints(string hex, string expected) =>
        Assert.Equal(expected, Disassembler.Format(GoldenData.InstructionFromHex(hex), DisassemblySyntax.Kernel));
}
