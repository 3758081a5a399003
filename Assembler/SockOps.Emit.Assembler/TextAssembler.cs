using System.Diagnostics.CodeAnalysis;

namespace SockOps.Emit.Assembler;

/// <summary>
/// Assembles BPF assembler text (LLVM syntax or the conformance suite's dialect) into
/// <see cref="Instruction"/>s. Labels (<c>name:</c>) may be used before they are defined; jump
/// offsets count 8-byte slots, so an ld_imm64 counts 2. Comments start with <c>#</c> or <c>//</c>;
/// in LLVM syntax <c>;</c> separates statements as in llvm-mc, in the conformance dialect it starts a
/// comment. Every value is range-checked: nothing is silently truncated.
/// </summary>
public static class TextAssembler
{
    /// <summary>Assembles <paramref name="text"/>.</summary>
    /// <param name="text">The program text.</param>
    /// <param name="dialect">The syntax of <paramref name="text"/>.</param>
    /// <param name="firstLine">Line number of the text's first line (for text cut out of a larger file).</param>
    /// <exception cref="AsmSyntaxException">The text has errors; every one found is in <see cref="AsmSyntaxException.Diagnostics"/>.</exception>
    public static TextAssemblyResult Assemble(string text, AsmDialect dialect = AsmDialect.Llvm, int firstLine = 1)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryAssemble(text.AsSpan(), dialect, out var result, out var diagnostics, firstLine)
            ? result
            : throw new AsmSyntaxException(diagnostics);
    }

    /// <summary>Assembles <paramref name="text"/> without throwing for errors in the text.</summary>
    /// <param name="text">The program text.</param>
    /// <param name="dialect">The syntax of <paramref name="text"/>.</param>
    /// <param name="result">The program, when there were no errors.</param>
    /// <param name="diagnostics">Every problem found (empty on success).</param>
    /// <param name="firstLine">Line number of the text's first line.</param>
    /// <returns>Whether the text assembled without errors.</returns>
    public static bool TryAssemble(string text, AsmDialect dialect, [NotNullWhen(true)] out TextAssemblyResult? result,
        out IReadOnlyList<AsmDiagnostic> diagnostics, int firstLine = 1)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryAssemble(text.AsSpan(), dialect, out result, out diagnostics, firstLine);
    }

    /// <summary>Assembles the text in <paramref name="text"/> without throwing for errors in it.</summary>
    /// <inheritdoc cref="TryAssemble(string, AsmDialect, out TextAssemblyResult?, out IReadOnlyList{AsmDiagnostic}, int)"/>
    public static bool TryAssemble(ReadOnlySpan<char> text, AsmDialect dialect, [NotNullWhen(true)] out TextAssemblyResult? result,
        out IReadOnlyList<AsmDiagnostic> diagnostics, int firstLine = 1)
    {
        if (dialect is not (AsmDialect.Llvm or AsmDialect.Conformance))
            throw new ArgumentOutOfRangeException(nameof(dialect), dialect, "Unknown assembler dialect.");

        // One instruction per ~20 characters is typical; the buffer grows if not.
        var state = new TextAssemblerState(text.Length / 20) { ImplicitExitLabel = dialect == AsmDialect.Conformance };
        int lineNumber = firstLine;
        while (!text.IsEmpty && !state.TooManyErrors)
        {
            int newline = text.IndexOf('\n');
            var line = newline < 0 ? text : text[..newline];
            text = newline < 0 ? default : text[(newline + 1)..];
            if (!line.IsEmpty && line[^1] == '\r') line = line[..^1];
            if (dialect == AsmDialect.Llvm)
            {
                // As in llvm-mc, ';' separates statements on one line (it is not a comment).
                line = StripComment(line, semicolonIsComment: false);
                int column = 0;
                while (true)
                {
                    int separator = line.IndexOf(';');
                    AssembleStatement(separator < 0 ? line : line[..separator], lineNumber, column, dialect, state);
                    if (separator < 0) break;
                    line = line[(separator + 1)..];
                    column += separator + 1;
                }
            }
            else
            {
                AssembleStatement(StripComment(line, semicolonIsComment: true), lineNumber, 0, dialect, state);
            }
            lineNumber++;
        }

        result = state.HasErrors ? null : state.Finish();
        diagnostics = state.Diagnostics;
        return result is not null;
    }

    private static void AssembleStatement(ReadOnlySpan<char> line, int lineNumber, int column, AsmDialect dialect, TextAssemblerState state)
    {
        var lexer = new AsmLexer(line, lineNumber, column);
        try
        {
            // Any number of "name:" labels, then at most one instruction.
            while (true)
            {
                var word = lexer.PeekWord();
                if (word.IsEmpty || lexer.PeekAhead(word.Length) != ':') break;
                int labelColumn = column + lexer.Position + 1;
                lexer.Advance(word.Length);
                lexer.ExpectChar(':');
                state.DefineLabel(word, lineNumber, labelColumn);
            }
            if (lexer.AtEnd) return;
            if (dialect == AsmDialect.Llvm) TextAssemblerLlvm.ParseInstruction(ref lexer, state);
            else TextAssemblerConformance.ParseInstruction(ref lexer, state);
        }
        catch (AsmSyntaxException error)
        {
            state.Report(error);
        }
    }

    /// <summary>Cuts a comment: <c>#</c> or <c>//</c> (and <c>;</c> when <paramref name="semicolonIsComment"/>) to the end of the line.</summary>
    internal static ReadOnlySpan<char> StripComment(ReadOnlySpan<char> line, bool semicolonIsComment)
    {
        int from = 0;
        while (true)
        {
            int i = semicolonIsComment ? line[from..].IndexOfAny('#', ';', '/') : line[from..].IndexOfAny('#', '/');
            if (i < 0) return line;
            i += from;
            if (line[i] != '/') return line[..i];
            if (i + 1 < line.Length && line[i + 1] == '/') return line[..i];
            from = i + 1;
        }
    }
}
