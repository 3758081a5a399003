using SockOps.Emit.Assembler;

namespace SockOps.Emit.Assembler.Tests;

/// <summary>
/// LLVM syntax against LLVM: golden/llvm14.tsv (scripts/golden/gen-llvm-golden.sh: llvm-mc 14 encodings,
/// llvm-objdump 14/19 texts) and golden/text/llvm-programs.tsv (scripts/golden/text-llvm-programs.sh:
/// whole programs with labels assembled by llvm-mc 19).
/// </summary>
public class TextAssemblerLlvmGoldenTests
{
    private const string Unknown = "<unknown>";

    private sealed record GoldenRow(string Source, string Hex, string[] Texts);

    private static readonly Lazy<GoldenRow[]> Rows = new(() =>
        [.. TextTestData.ReadTsv(Path.Combine(TextTestData.Golden, "llvm14.tsv"))
            .Select(row => new GoldenRow(row[0], row[1], [.. row.Skip(2).Select(text => text.Replace("\\t", "\t", StringComparison.Ordinal))]))]);

    /// <summary>Every hex whose objdump text (in any LLVM version's column) is this text.</summary>
    private static readonly Lazy<ILookup<string, string>> HexByText = new(() =>
        Rows.Value.SelectMany(row => row.Texts.Where(text => text != Unknown).Select(text => (text, row.Hex)))
            .Distinct().ToLookup(pair => pair.text, pair => pair.Hex, StringComparer.Ordinal));

    public static TheoryData<string, string> SourceRows() =>
        [.. Rows.Value.Where(row => row.Source != "-").Select(row => (row.Source, row.Hex))];

    public static TheoryData<string> ObjdumpTexts() =>
        [.. Rows.Value.SelectMany(row => row.Texts).Where(text => text != Unknown).Distinct().Order(StringComparer.Ordinal)];

    public static TheoryData<string> Programs() =>
        [.. TextTestData.ReadTsv(Path.Combine(TextTestData.GoldenText, "llvm-programs.tsv")).Select(row => row[0])];

    [Theory]
    [MemberData(nameof(SourceRows))]
    public void Llvm_mc_input_assembles_to_the_llvm_mc_encoding(string source, string hex)
    {
        Assert.Equal(hex, TextTestData.Hex(TextAssembler.Assemble(source).ToBytes()));
    }

    /// <summary>What llvm-mc 19 makes of each objdump text (golden/text/objdump-reassembly.tsv), or "error".</summary>
    private static readonly Lazy<Dictionary<string, string>> LlvmMcReassembly = new(() =>
        TextTestData.ReadTsv(Path.Combine(TextTestData.GoldenText, "objdump-reassembly.tsv"))
            .ToDictionary(row => row[0].Replace("\\t", "\t", StringComparison.Ordinal), row => row[1], StringComparer.Ordinal));

    /// <summary>
    /// llvm-objdump's text (LLVM 14 and 19) assembles to what llvm-mc makes of the same text. For most
    /// texts that is the very bytes objdump printed it from; where objdump is lossy (LLVM 14 shows sdiv
    /// as "/=", movsx as "r1 = r2", fetch-add32 and load-acquire as "lock ... +=", local calls as
    /// "call N"; ld_pseudo omits the high immediate) it is llvm-mc's reading of the text.
    /// </summary>
    [Theory]
    [MemberData(nameof(ObjdumpTexts))]
    public void Objdump_text_assembles_like_llvm_mc(string text)
    {
        string actual = TextTestData.Hex(TextAssembler.Assemble(text).ToBytes());
        Assert.True(LlvmMcReassembly.Value.TryGetValue(text, out string? llvmMc), "no llvm-mc reading of this text; rerun scripts/golden/text-objdump-reassembly.sh");
        if (llvmMc == "error")
        {
            // llvm-mc 19 refuses "gotol +2147483647" (its operand parser is narrower than the encoding): the bytes it was printed from.
            Assert.Contains(actual, HexByText.Value[text]);
            return;
        }
        Assert.Equal(llvmMc, actual);
    }

    [Fact]
    public void Objdump_texts_round_trip_to_their_bytes_except_where_llvm_prints_lossily()
    {
        // The lossy texts are exactly those where llvm-mc's own reading differs from every encoding printed so.
        var lossy = LlvmMcReassembly.Value.Where(pair => pair.Value != "error" && !HexByText.Value[pair.Key].Contains(pair.Value))
            .Select(pair => pair.Key).Order(StringComparer.Ordinal).ToArray();
        Assert.True(LlvmMcReassembly.Value.Count > 700, $"{LlvmMcReassembly.Value.Count} texts");
        Assert.True(lossy.Length < 20, string.Join(" | ", lossy));
    }

    public static TheoryData<string, string, string> Refusals() =>
        [.. TextTestData.ReadTsv(Path.Combine(TextTestData.GoldenText, "llvm-refusals.tsv")).Select(row => (row[0], row[1], row[2]))];

    /// <summary>
    /// Lines llvm-mc refuses are refused too; so are the lines it accepts only by truncating a value
    /// or by using its internal r11 (golden/text/llvm-refusals.tsv, scripts/golden/text-llvm-refusals.sh).
    /// </summary>
    [Theory]
    [MemberData(nameof(Refusals))]
    public void Lines_llvm_mc_refuses_or_truncates_are_refused(string kind, string line, string llvmMcSays)
    {
        Assert.False(TextAssembler.TryAssemble(line, AsmDialect.Llvm, out _, out var diagnostics), $"{kind} by llvm-mc ({llvmMcSays})");
        var first = Assert.Single(diagnostics);
        Assert.Equal(1, first.Line);
        Assert.InRange(first.Column, 1, line.Length + 1);
    }

    [Theory]
    [MemberData(nameof(Programs))]
    public void Whole_programs_assemble_like_llvm_mc(string program)
    {
        string expected = TextTestData.ReadTsv(Path.Combine(TextTestData.GoldenText, "llvm-programs.tsv")).Single(row => row[0] == program)[1];
        string text = File.ReadAllText(Path.Combine(TextTestData.GoldenText, "llvm-programs", program));

        Assert.Equal(expected, TextTestData.Hex(TextAssembler.Assemble(text).ToBytes()));
    }

    /// <summary>
    /// The conformance dialect cross-checked with LLVM: suite programs rewritten in LLVM syntax
    /// (llvm-programs/conformance-NAME.s) and assembled by llvm-mc give the bytes of tests/NAME.data.
    /// </summary>
    [Theory]
    [MemberData(nameof(Programs))]
    public void Suite_programs_rewritten_in_llvm_syntax_match_the_conformance_dialect(string program)
    {
        if (!program.StartsWith("conformance-", StringComparison.Ordinal)) return;
        string expected = TextTestData.ReadTsv(Path.Combine(TextTestData.GoldenText, "llvm-programs.tsv")).Single(row => row[0] == program)[1];
        string suiteFile = Path.Combine(TextTestData.ConformanceDirectory, "tests", program["conformance-".Length..^2] + ".data");

        var data = ConformanceDataFile.Load(suiteFile);

        Assert.Equal(expected, TextTestData.Hex(data.AssembleProgram().ToBytes()));
    }
}
