using SockOps.Emit.TestSupport;
using System.Runtime.CompilerServices;
using SockOps.Emit.Assembler;

namespace SockOps.Emit.Assembler.Tests;

/// <summary>Where the test data lives: golden files beside the tests, the suite next to the repository.</summary>
internal static class TextTestData
{
    public static string TestsDirectory([CallerFilePath] string callerFile = "") => Path.GetDirectoryName(callerFile)!;

    public static string GoldenText => Path.Combine(TestsDirectory(), "golden", "text");

    public static string Golden => Path.Combine(TestsDirectory(), "golden");

    /// <summary>The conformance suite data (see <see cref="SharedData.ConformanceDirectory"/>).</summary>
    public static string ConformanceDirectory => SharedData.ConformanceDirectory;

    /// <summary>Rows of a tab-separated golden file ('#' lines are comments).</summary>
    public static IEnumerable<string[]> ReadTsv(string path) =>
        File.ReadLines(path).Where(line => line.Length > 0 && line[0] != '#').Select(line => line.Split('\t'));

    public static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}

/// <summary>
/// The conformance dialect against the suite's own assembler: golden/text/conformance-suite.tsv holds
/// what bpf_conformance's lib/src/bpf_assembler.cc makes of each file (scripts/golden/text-conformance-golden.sh).
/// </summary>
public class ConformanceSuiteTests
{
    private static readonly Lazy<Dictionary<string, string>> SuiteAssembler = new(() =>
        TextTestData.ReadTsv(Path.Combine(TextTestData.GoldenText, "conformance-suite.tsv"))
            .ToDictionary(row => row[0], row => row.Length > 1 ? row[1] : ""));

    public static TheoryData<string> SuiteTests() =>
        [.. Directory.GetFiles(Path.Combine(TextTestData.ConformanceDirectory, "tests"), "*.data").Select(path => Path.GetFileName(path)).Order(StringComparer.Ordinal)];

    public static TheoryData<string> NegativeFiles() =>
        [.. Directory.GetFiles(Path.Combine(TextTestData.ConformanceDirectory, "negative"), "*.data").Select(path => Path.GetFileName(path)).Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(SuiteTests))]
    public void Every_suite_program_assembles_to_the_bytes_of_the_suite_assembler(string file)
    {
        var data = ConformanceDataFile.Load(Path.Combine(TextTestData.ConformanceDirectory, "tests", file));
        Assert.True(data.ExpectedResult is not null || data.ExpectedError is not null, "a suite test states a result or an error");

        byte[] bytes = data.AssembleProgram().ToBytes();

        Assert.True(SuiteAssembler.Value.TryGetValue("tests/" + file, out string? expected), "golden data lacks " + file + "; rerun scripts/golden/text-conformance-golden.sh");
        Assert.Equal(expected, TextTestData.Hex(bytes));
    }

    /// <summary>
    /// Negative files with an '-- asm' section that the suite's assembler refuses: ours refuses them
    /// too, with a line/column message on the same subject.
    /// </summary>
    [Theory]
    [MemberData(nameof(NegativeFiles))]
    public void Every_negative_file_is_refused_or_accounted_for(string file)
    {
        string path = Path.Combine(TextTestData.ConformanceDirectory, "negative", file);
        SuiteAssembler.Value.TryGetValue("negative/" + file, out string? suite);
        ConformanceDataFile data;
        try
        {
            data = ConformanceDataFile.Parse(File.ReadAllText(path), file);
        }
        catch (AsmSyntaxException malformed)
        {
            // invalid_unknown_directive.data: an unknown '-- ' section is refused with its line. Its
            // '-- error' text says "Invalid register", but its '-- error' line comes after the unknown
            // section, which the suite's parser never reaches either ("Skipping: Unknown directive").
            Assert.Equal("invalid_unknown_directive.data", file);
            Assert.Equal(4, malformed.Line);
            Assert.StartsWith("4:1: unknown section '-- Unknown directive'", malformed.Message, StringComparison.Ordinal);
            return;
        }

        if (data.AsmText is null && data.RawProgram is not null)
        {
            // '-- raw' programs with a non-zero unused field: no text to refuse; the decoder refuses the
            // bytes (RFC 9669: unused fields SHALL be zero; a mov/call offset has no such meaning), naming instruction 0.
            Assert.NotNull(data.ExpectedError);
            var refused = Assert.Throws<InstructionDecodeException>(() => InstructionDecoder.Decode(data.GetProgramBytes()));
            Assert.Equal(0, refused.InstructionIndex);
            Assert.NotEmpty(refused.Reason);
            return;
        }
        if (suite is not null && !suite.StartsWith("error:", StringComparison.Ordinal) && suite.Length > 0)
        {
            // The suite assembles these too (error.data, incorrect_return_value_high_bits.data): they
            // fail when executed (wrong result, kernel error), which the Runtime's conformance runner checks.
            Assert.Equal(suite, TextTestData.Hex(data.GetProgramBytes()));
            return;
        }

        var error = Assert.Throws<AsmSyntaxException>(() => data.GetProgramBytes());
        Assert.True(error.Line >= 1 && error.Column >= 1);
        if (!string.IsNullOrEmpty(data.ExpectedError))
        {
            // The file's own '-- error' text ("Invalid register", "Invalid number of operands for lock").
            Assert.Contains(data.ExpectedError, error.Message, StringComparison.OrdinalIgnoreCase);
        }
        if (suite is not null && suite.StartsWith("error:", StringComparison.Ordinal))
        {
            // Same subject as the suite's message (its first two words, e.g. "Invalid register",
            // "Immediate out of 32-bit range"), compared case-insensitively.
            string subject = SubjectOf(suite["error:".Length..]);
            Assert.Contains(subject, error.Message, StringComparison.OrdinalIgnoreCase);
        }
    }

    private static string SubjectOf(string suiteMessage) => suiteMessage.Trim() switch
    {
        var m when m.StartsWith("Invalid number of operands", StringComparison.Ordinal) => "number of operands",
        var m when m.StartsWith("Failed to decode register and offset", StringComparison.Ordinal) => "memory operand",
        var m when m.StartsWith("Offset out of 16-bit range", StringComparison.Ordinal) => "out of 16-bit range",
        var m when m.StartsWith("Immediate out of 32-bit range", StringComparison.Ordinal) => "immediate out of 32-bit range",
        var m when m.StartsWith("Invalid label", StringComparison.Ordinal) => "unknown label",
        var m when m.StartsWith("Invalid mnemonic", StringComparison.Ordinal) => "invalid mnemonic",
        var m when m.StartsWith("Invalid register", StringComparison.Ordinal) => "invalid register",
        var m => m,
    };

    [Fact]
    public void Golden_data_covers_exactly_the_suite_files_with_asm()
    {
        var expected = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string dir in new[] { "tests", "negative" })
        {
            foreach (string path in Directory.GetFiles(Path.Combine(TextTestData.ConformanceDirectory, dir), "*.data"))
                if (File.ReadAllText(path).Contains("-- asm", StringComparison.Ordinal)) expected.Add(dir + "/" + Path.GetFileName(path));
        }
        Assert.Equal(expected, new SortedSet<string>(SuiteAssembler.Value.Keys, StringComparer.Ordinal));
    }

    [Fact]
    public void Suite_count_matches_the_readme()
    {
        Assert.Equal(313, SuiteTests().Count);
    }
}
