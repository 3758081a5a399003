using System.Globalization;

namespace SockOps.Emit.Assembler;

/// <summary>
/// One problem found in assembler text: where it is (1-based line and column), the offending
/// token as written, and what the assembler expected there.
/// </summary>
/// <param name="Line">1-based line number in the assembled text.</param>
/// <param name="Column">1-based column of the offending token.</param>
/// <param name="Token">The offending token as written (empty at the end of a line).</param>
/// <param name="Message">What is wrong, e.g. <c>expected a register (r0..r10) but found 'r11'</c>.</param>
public sealed record AsmDiagnostic(int Line, int Column, string Token, string Message)
{
    /// <summary>The diagnostic as <c>line:column: message</c>.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Line}:{Column}: {Message}");
}

/// <summary>
/// Thrown when assembler text cannot be assembled. <see cref="Exception.Message"/> reads
/// <c>line:column: message</c> for the first problem; <see cref="Diagnostics"/> holds every
/// problem found (the assembler continues with the next line after an error).
/// </summary>
public sealed class AsmSyntaxException : FormatException
{
    /// <summary>Creates the exception for a list of problems (at least one).</summary>
    /// <exception cref="ArgumentException"><paramref name="diagnostics"/> is empty.</exception>
    public AsmSyntaxException(IReadOnlyList<AsmDiagnostic> diagnostics)
        : base(FirstOf(diagnostics).ToString())
    {
        Diagnostics = diagnostics;
    }

    /// <summary>Creates the exception for one problem.</summary>
    public AsmSyntaxException(AsmDiagnostic diagnostic)
        : this([diagnostic ?? throw new ArgumentNullException(nameof(diagnostic))])
    {
    }

    /// <summary>Creates the exception for one problem at a location.</summary>
    public AsmSyntaxException(int line, int column, string token, string message)
        : this(new AsmDiagnostic(line, column, token, message))
    {
    }

    /// <summary>Every problem found, in text order.</summary>
    public IReadOnlyList<AsmDiagnostic> Diagnostics { get; }

    /// <summary>The first problem.</summary>
    public AsmDiagnostic First => Diagnostics[0];

    /// <summary>1-based line of the first problem.</summary>
    public int Line => First.Line;

    /// <summary>1-based column of the first problem.</summary>
    public int Column => First.Column;

    /// <summary>The offending token of the first problem.</summary>
    public string Token => First.Token;

    private static AsmDiagnostic FirstOf(IReadOnlyList<AsmDiagnostic> diagnostics)
    {
        ArgumentNullException.ThrowIfNull(diagnostics);
        return diagnostics.Count > 0 ? diagnostics[0] : throw new ArgumentException("At least one diagnostic is needed.", nameof(diagnostics));
    }
}
