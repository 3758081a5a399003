using SockOps.Emit;
using SockOps.Emit.Runtime;

namespace SockOps.Emit.Hosting;

/// <summary>
/// The kernel verifier refused a DSL program. The message names the C# statement that emitted the failing
/// instruction (<c>File.cs:Line</c>, from the image's source map) and the verifier's own error line.
/// A <see cref="VerifierException"/> (so a <see cref="BpfException"/>): one <c>catch (BpfException)</c> handles every
/// kernel refusal; the kernel's own exception is the <see cref="Exception.InnerException"/>.
/// </summary>
public sealed class ProgramRefusedException : VerifierException
{
    internal ProgramRefusedException(ProgramImage image, VerifierException error)
        : this(image, error, Describe(image, error, out var location), location)
    {
    }

    private ProgramRefusedException(ProgramImage image, VerifierException error, string message, SourceLocation? location)
        : base(error, message)
    {
        ProgramName = image.Name;
        Location = location;
        KernelError = error.ErrorLine;
    }

    /// <summary>The refused program's name.</summary>
    public string ProgramName { get; }

    /// <summary>The C# statement that emitted the instruction the verifier stopped at, when the log names one.</summary>
    public SourceLocation? Location { get; }

    /// <summary>The verifier's error line (e.g. <c>R2 !read_ok</c>); the same as <see cref="VerifierException.ErrorLine"/>.
    /// The whole log is <see cref="VerifierException.Log"/>; <see cref="VerifierException.InstructionIndex"/> is the failing
    /// instruction's index in <see cref="ProgramImage.Instructions"/>.</summary>
    public string KernelError { get; }

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
