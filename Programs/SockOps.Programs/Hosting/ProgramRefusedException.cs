using SockOps.Emit;
using SockOps.Emit.Runtime;

namespace SockOps.Programs.Hosting;

/// <summary>
/// The kernel verifier refused a DSL program. The message names the C# statement that emitted the failing
/// instruction (<c>File.cs:Line</c>, from the image's source map) and the verifier's own error line.
/// </summary>
public sealed class ProgramRefusedException : Exception
{
    internal ProgramRefusedException(ProgramImage image, VerifierException error)
        : base(Describe(image, error, out var location), error)
    {
        ProgramName = image.Name;
        Location = location;
        KernelError = error.ErrorLine;
        Log = error.Log;
        InstructionIndex = error.InstructionIndex;
    }

    /// <summary>The refused program's name.</summary>
    public string ProgramName { get; }

    /// <summary>The C# statement that emitted the instruction the verifier stopped at, when the log names one.</summary>
    public SourceLocation? Location { get; }

    /// <summary>The verifier's error line (e.g. <c>R2 !read_ok</c>).</summary>
    public string KernelError { get; }

    /// <summary>The whole verifier log.</summary>
    public string Log { get; }

    /// <summary>Index of the failing instruction in <see cref="ProgramImage.Instructions"/>, when known.</summary>
    public int? InstructionIndex { get; }

    private static string Describe(ProgramImage image, VerifierException error, out SourceLocation? location)
    {
        location = null;
        if (error.InstructionIndex is int index && index >= 0 && index < image.SourceMap.Count && image.SourceMap[index].Line > 0)
            location = image.SourceMap[index];
        string where = location is { } l ? $" at {Path.GetFileName(l.File)}:{l.Line}" + (l.Member.Length > 0 ? $" ({l.Member})" : "") : "";
        string insn = error.InstructionIndex is int i ? $", instruction {i}" + (error.InstructionText is { } t ? $" `{t}`" : "") : "";
        string source = error.SourceLine is { } line ? $" [kernel line info: {line}]" : "";
        return $"the kernel refused program '{image.Name}'{where}{insn}: {error.ErrorLine}{source}";
    }
}
