using System.Globalization;
using System.Text.RegularExpressions;

namespace SockOps.Emit.Runtime;

/// <summary>The kernel verifier refused a program (BPF_PROG_LOAD). <see cref="Log"/> holds the whole log. Higher layers
/// derive from it to add their own view of the failure (e.g. the C# line that emitted the failing instruction).</summary>
public partial class VerifierException : BpfException
{
    internal VerifierException(int errno, string log, string programName, int[] slotToInstruction, Func<int, string?> describeInstruction)
        : this(errno, log, programName, Analyze(log, slotToInstruction), describeInstruction)
    {
    }

    private VerifierException(int errno, string log, string programName, LogAnalysis analysis, Func<int, string?> describeInstruction)
        : base(BpfCommand.ProgramLoad, errno, Summarize(programName, analysis, describeInstruction),
            "The whole verifier log is in VerifierException.Log.")
    {
        Log = log;
        ErrorLine = analysis.ErrorLine;
        InstructionIndex = analysis.InstructionIndex;
        SlotIndex = analysis.SlotIndex;
        InstructionText = analysis.InstructionText;
        SourceLine = analysis.SourceLine;
    }

    /// <summary>Copies the kernel's refusal <paramref name="error"/> (which becomes the inner exception) with a message
    /// of the derived type's own.</summary>
    protected VerifierException(VerifierException error, string message)
        : base(message, BpfCommand.ProgramLoad, (error ?? throw new ArgumentNullException(nameof(error))).Errno, error.Hint, error)
    {
        Log = error.Log;
        ErrorLine = error.ErrorLine;
        InstructionIndex = error.InstructionIndex;
        SlotIndex = error.SlotIndex;
        InstructionText = error.InstructionText;
        SourceLine = error.SourceLine;
    }

    /// <summary>The complete verifier log.</summary>
    public string Log { get; }

    /// <summary>The last meaningful line of the log: the verifier's error message.</summary>
    public string ErrorLine { get; }

    /// <summary>Index (into the loaded instruction list; an ld_imm64 counts once) of the instruction the
    /// error refers to, when the log names one.</summary>
    public int? InstructionIndex { get; }

    /// <summary>The same position as an 8-byte slot number, as the kernel log prints it.</summary>
    public int? SlotIndex { get; }

    /// <summary>The verifier's rendering of the failing instruction, e.g. <c>(63) *(u32 *)(r1 +8) = r2</c>.</summary>
    public string? InstructionText { get; }

    /// <summary>The source line the verifier printed for the failing instruction when the program was loaded with
    /// line info, e.g. <c>args[1] = 7; @ CountOps.cs:4</c>; otherwise null.</summary>
    public string? SourceLine { get; }

    private readonly record struct LogAnalysis(string ErrorLine, int? SlotIndex, int? InstructionIndex, string? InstructionText, string? SourceLine);

    private static string Summarize(string programName, LogAnalysis a, Func<int, string?> describeInstruction)
    {
        string where = a.InstructionIndex is int index
            ? $" at instruction {index.ToString(CultureInfo.InvariantCulture)}" +
              (a.InstructionText is null ? "" : $" `{a.InstructionText}`") +
              (describeInstruction(index) is string raw ? $" {raw}" : "") +
              (a.SourceLine is null ? "" : $" (source: {a.SourceLine})")
            : "";
        return $"the verifier rejected program '{programName}'{where}: {a.ErrorLine}";
    }

    [GeneratedRegex(@"^(\d+): (\([0-9a-f]{2}\) .*)$")]
    private static partial Regex InstructionLine();

    [GeneratedRegex(@"\b(?:insn|insn idx) (\d+)\b")]
    private static partial Regex InsnMention();

    private static bool IsTrailer(string line) =>
        line.Length == 0 ||
        line.StartsWith("processed ", StringComparison.Ordinal) ||
        line.StartsWith("verification time", StringComparison.Ordinal) ||
        line.StartsWith("stack depth", StringComparison.Ordinal) ||
        line.StartsWith("mark_precise", StringComparison.Ordinal) ||
        line.StartsWith("Func#", StringComparison.Ordinal) ||
        line.StartsWith("Validating ", StringComparison.Ordinal);

    private static LogAnalysis Analyze(string log, int[] slotToInstruction)
    {
        string[] lines = log.Split('\n');
        int errorAt = lines.Length - 1;
        while (errorAt >= 0 && IsTrailer(lines[errorAt].TrimEnd())) errorAt--;
        string errorLine = errorAt >= 0 ? lines[errorAt].Trim() : "(empty verifier log)";

        int? slot = null;
        string? text = null;
        string? source = null;
        // The instruction the verifier was checking is the last instruction line printed before the error.
        for (int i = errorAt; i >= 0; i--)
        {
            Match m = InstructionLine().Match(lines[i].TrimEnd());
            if (m.Success)
            {
                slot = int.Parse(m.Groups[1].ValueSpan, CultureInfo.InvariantCulture);
                text = m.Groups[2].Value;
                // With line info the verifier prints "; <source> @ <file>:<line>" where the line changes, so
                // the nearest such line above is the one covering this instruction (it may be several
                // instructions up).
                for (int j = i - 1; j >= 0; j--)
                {
                    if (lines[j].StartsWith("; ", StringComparison.Ordinal))
                    {
                        source = lines[j][2..].TrimEnd();
                        break;
                    }
                }
                break;
            }
        }
        // Structural errors (CFG checks) come before any instruction line but name the insn in the text.
        if (slot is null && errorAt >= 0)
        {
            Match m = InsnMention().Match(errorLine);
            if (m.Success) slot = int.Parse(m.Groups[1].ValueSpan, CultureInfo.InvariantCulture);
        }
        int? index = slot is int s && s >= 0 && s < slotToInstruction.Length ? slotToInstruction[s] : null;
        return new LogAnalysis(errorLine, slot, index, text, source);
    }
}
