using System.Globalization;
using System.Text;

namespace SockOps.Emit.Assembler;

/// <summary>
/// One test file of the BPF ISA conformance suite (<c>*.data</c>): sections introduced by a line
/// starting with <c>--</c>: <c>-- asm</c> (the program in <see cref="AsmDialect.Conformance"/>
/// syntax), <c>-- raw</c> (the program as bytes), <c>-- mem</c> (hex bytes of the input memory),
/// <c>-- result</c> (the expected 64-bit r0), <c>-- error</c> (the expected failure text), and the
/// ignored <c>-- c</c> and <c>-- no register offset</c>. <c>#</c> starts a comment. Lines before the
/// first section are the file header.
/// </summary>
public sealed class ConformanceDataFile
{
    private ConformanceDataFile(string? name, string? asmText, int asmFirstLine, byte[]? rawProgram, byte[] memory,
        bool hasMemory, ulong? expectedResult, string? expectedError)
    {
        Name = name;
        AsmText = asmText;
        AsmFirstLine = asmFirstLine;
        RawProgram = rawProgram;
        Memory = memory;
        HasMemory = hasMemory;
        ExpectedResult = expectedResult;
        ExpectedError = expectedError;
    }

    /// <summary>The file name (for messages), if known.</summary>
    public string? Name { get; }

    /// <summary>The <c>-- asm</c> section as written (comments included), or null without one.</summary>
    public string? AsmText { get; }

    /// <summary>The line number, in the file, of <see cref="AsmText"/>'s first line.</summary>
    public int AsmFirstLine { get; }

    /// <summary>
    /// The <c>-- raw</c> section as bytes, or null without one. Tokens of two hex digits are single
    /// bytes; tokens starting with <c>0x</c> and longer than that are 64-bit instruction words (little-endian).
    /// </summary>
    public IReadOnlyList<byte>? RawProgram { get; }

    /// <summary>The <c>-- mem</c> bytes (empty without a section).</summary>
    public IReadOnlyList<byte> Memory { get; }

    /// <summary>Whether the file has a <c>-- mem</c> section (the program then gets r1 = memory, r2 = its length).</summary>
    public bool HasMemory { get; }

    /// <summary>The expected 64-bit r0 from <c>-- result</c>, or null without one.</summary>
    public ulong? ExpectedResult { get; }

    /// <summary>The expected failure text from <c>-- error</c> (possibly empty), or null without one.</summary>
    public string? ExpectedError { get; }

    /// <summary>Reads and parses a <c>.data</c> file.</summary>
    /// <exception cref="AsmSyntaxException">The file is malformed (line and column given).</exception>
    public static ConformanceDataFile Load(string path) => Parse(File.ReadAllText(path), Path.GetFileName(path));

    /// <summary>Parses the text of a <c>.data</c> file.</summary>
    /// <param name="text">The file's text.</param>
    /// <param name="name">The file name, for messages.</param>
    /// <exception cref="AsmSyntaxException">An unknown section, a bad byte or a bad result value (line and column given).</exception>
    public static ConformanceDataFile Parse(string text, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        string? section = null;
        StringBuilder? asm = null;
        int asmFirstLine = 0;
        List<byte>? raw = null;
        List<byte>? memory = null;
        ulong? result = null;
        StringBuilder? error = null;

        int lineNumber = 0;
        foreach (var rawLine in text.AsSpan().EnumerateLines())
        {
            lineNumber++;
            var line = rawLine;
            var trimmed = line.Trim();
            if (trimmed.StartsWith("--"))
            {
                section = SectionName(trimmed[2..].Trim(), lineNumber, line.IndexOf('-') + 1);
                switch (section)
                {
                    case "asm":
                        asm = new StringBuilder();
                        asmFirstLine = lineNumber + 1;
                        break;
                    case "raw": raw ??= []; break;
                    case "mem": memory ??= []; break;
                    case "error": error ??= new StringBuilder(); break;
                }
                continue;
            }
            switch (section)
            {
                case "asm":
                    // Kept whole (comments too) so assembler diagnostics carry the file's line and column.
                    asm!.Append(line).Append('\n');
                    break;
                case "raw":
                    ParseBytes(StripComment(line), lineNumber, raw!, allowWords: true);
                    break;
                case "mem":
                    ParseBytes(StripComment(line), lineNumber, memory!, allowWords: false);
                    break;
                case "result":
                {
                    var value = StripComment(line).Trim();
                    if (value.IsEmpty) break;
                    result = ParseResult(value, lineNumber, line.IndexOf(value[0]) + 1);
                    break;
                }
                case "error":
                {
                    var value = StripComment(line).Trim();
                    if (value.IsEmpty) break;
                    if (error!.Length > 0) error.Append('\n');
                    error.Append(value);
                    break;
                }
            }
        }

        string? asmText = asm?.ToString();
        return new ConformanceDataFile(name, asmText, asmFirstLine, raw?.ToArray(), memory?.ToArray() ?? [],
            memory is not null, result, error?.ToString());
    }

    /// <summary>
    /// Assembles the <c>-- asm</c> section (diagnostics carry the line numbers of the file).
    /// </summary>
    /// <exception cref="AsmSyntaxException">The file has no <c>-- asm</c> section, it holds no instruction, or it does not assemble.</exception>
    public TextAssemblyResult AssembleProgram()
    {
        if (AsmText is null)
        {
            throw new AsmSyntaxException(1, 1, string.Empty, RawProgram is null
                ? $"{Name ?? "the file"} has no program: expected a '-- asm' or '-- raw' section"
                : $"{Name ?? "the file"} gives its program as '-- raw' bytes, not as '-- asm' text");
        }
        var program = TextAssembler.Assemble(AsmText, AsmDialect.Conformance, AsmFirstLine);
        if (program.Instructions.Count == 0)
            throw new AsmSyntaxException(AsmFirstLine, 1, string.Empty, "the '-- asm' section holds no instruction");
        return program;
    }

    /// <summary>
    /// The program as bytes: the assembled <c>-- asm</c> section, or else the <c>-- raw</c> bytes.
    /// </summary>
    /// <exception cref="AsmSyntaxException">There is no program, or the <c>-- asm</c> section does not assemble.</exception>
    public byte[] GetProgramBytes()
    {
        if (AsmText is null && RawProgram is not null)
        {
            if (RawProgram.Count == 0 || RawProgram.Count % Instruction.SlotSize != 0)
            {
                throw new AsmSyntaxException(1, 1, string.Empty, string.Create(CultureInfo.InvariantCulture,
                    $"the '-- raw' section holds {RawProgram.Count} bytes: expected a non-zero multiple of 8"));
            }
            return [.. RawProgram];
        }
        return AssembleProgram().ToBytes();
    }

    /// <summary>
    /// The program as instructions: the assembled <c>-- asm</c> section, or else the decoded
    /// <c>-- raw</c> bytes.
    /// </summary>
    /// <exception cref="AsmSyntaxException">There is no program, or the <c>-- asm</c> section does not assemble.</exception>
    /// <exception cref="InstructionDecodeException">The <c>-- raw</c> bytes are not valid instructions.</exception>
    public IReadOnlyList<Instruction> GetProgram() =>
        AsmText is null && RawProgram is not null ? InstructionDecoder.Decode(GetProgramBytes()) : AssembleProgram().Instructions;

    private static string SectionName(ReadOnlySpan<char> name, int line, int column) => name switch
    {
        "asm" => "asm",
        "raw" => "raw",
        "mem" => "mem",
        "result" => "result",
        "error" => "error",
        // Sections other runners use (C source, notes for runners without register offsets); not needed here.
        "c" => "ignored",
        "no register offset" => "ignored",
        _ => throw new AsmSyntaxException(line, column, "-- " + name.ToString(),
            $"unknown section '-- {name}': expected asm, raw, mem, result, error, c or 'no register offset'"),
    };

    private static ReadOnlySpan<char> StripComment(ReadOnlySpan<char> line)
    {
        int hash = line.IndexOf('#');
        return hash < 0 ? line : line[..hash];
    }

    private static ulong ParseResult(ReadOnlySpan<char> value, int line, int column)
    {
        bool ok = value.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(value[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong result)
            : ulong.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out result);
        return ok ? result : throw new AsmSyntaxException(line, column, value.ToString(),
            $"expected a 64-bit result (decimal or 0x hex) but found '{value}'");
    }

    private static void ParseBytes(ReadOnlySpan<char> line, int lineNumber, List<byte> into, bool allowWords)
    {
        int i = 0;
        while (i < line.Length)
        {
            while (i < line.Length && char.IsWhiteSpace(line[i])) i++;
            int start = i;
            while (i < line.Length && !char.IsWhiteSpace(line[i])) i++;
            if (start == i) break;
            var token = line[start..i];
            if (allowWords && token.Length > 4 && token.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            {
                if (!ulong.TryParse(token[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong word))
                    throw new AsmSyntaxException(lineNumber, start + 1, token.ToString(), $"expected a 64-bit hex instruction word but found '{token}'");
                for (int b = 0; b < 8; b++) into.Add((byte)(word >> (8 * b)));
                continue;
            }
            var digits = token.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? token[2..] : token;
            if (digits.Length is < 1 or > 2 || !byte.TryParse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out byte value))
                throw new AsmSyntaxException(lineNumber, start + 1, token.ToString(), $"expected a hex byte but found '{token}'");
            into.Add(value);
        }
    }
}
