namespace SockOps.Emit;

/// <summary>Where in the user's C# source a DSL call was made.</summary>
/// <param name="File">The caller's source file (from <c>[CallerFilePath]</c>).</param>
/// <param name="Line">The caller's line (from <c>[CallerLineNumber]</c>).</param>
/// <param name="Member">The calling member (from <c>[CallerMemberName]</c>).</param>
public readonly record struct SourceLocation(string File, int Line, string Member)
{
    /// <summary>No location (compiler-generated code).</summary>
    public static SourceLocation None => new("", 0, "");

    /// <summary><c>file:line</c>, or <c>?</c> when unknown.</summary>
    public override string ToString() => Line == 0 ? "?" : $"{File}:{Line}";
}

/// <summary>The verifier rule (reference/kernel-sockops.md §9) an emit-time diagnostic enforces.</summary>
public enum EmitRule
{
    /// <summary>
    /// A ctx field read with a size or at an offset the kernel refuses (§1.1). Arithmetic on the ctx pointer, which
    /// the kernel also refuses, cannot be written: the DSL has no value for that pointer.
    /// </summary>
    ContextRead,
    /// <summary>A write to a read-only ctx field, or a value that may not be stored there (§1.1).</summary>
    ContextWrite,
    /// <summary>A pointer that may be NULL used outside its null check, or a scoped pointer used out of scope (§1.3).</summary>
    NullCheck,
    /// <summary>A helper the kernel does not offer to sock_ops programs, or one the license does not allow (§2).</summary>
    HelperNotAllowed,
    /// <summary>A helper argument of the wrong kind: map type, size, pointer kind (§2.1, §2.2).</summary>
    HelperArgument,
    /// <summary>A local read before it is assigned on every path, or a stack object used where its <c>StackStruct</c> did not run.</summary>
    Uninitialized,
    /// <summary>More than 512 bytes of stack.</summary>
    StackBounds,
    /// <summary>A return value that is not provably 0 or 1 (§4.1).</summary>
    ReturnValue,
    /// <summary>A path that reaches the end of the program without a return.</summary>
    FallThrough,
    /// <summary>A statement after a return on the same path.</summary>
    Unreachable,
    /// <summary>A ring buffer reservation not submitted or discarded on every path (§2.1).</summary>
    ReferenceLeak,
    /// <summary>A packet read outside its bounds check (§1.4).</summary>
    PacketBounds,
    /// <summary>A construct the DSL cannot express as a bounded program (e.g. a loop without a constant bound).</summary>
    Unbounded,
    /// <summary>An operand that does not fit the instruction (immediate range, shift amount, division by zero).</summary>
    Operand,
    /// <summary>A misuse of the DSL itself (e.g. a builder used after <c>Build</c> returned).</summary>
    Usage,
    /// <summary>A feature newer than the kernel the program targets (<see cref="KernelFeature"/>).</summary>
    TargetKernel,
}

/// <summary>
/// The DSL refused a program at emit time because the kernel verifier would refuse it (or it cannot be
/// expressed). <see cref="File"/> and <see cref="Line"/> name the C# call that caused it.
/// </summary>
public sealed class EmitException : Exception
{
    /// <summary>Creates an exception for a rule violated at a location.</summary>
    public EmitException(EmitRule rule, SourceLocation location, string message)
        : base($"{location}: [{rule}] {message}")
    {
        Rule = rule;
        Location = location;
        Detail = message;
    }

    /// <summary>Creates an exception without a location.</summary>
    public EmitException() : this(EmitRule.Usage, SourceLocation.None, "The program cannot be emitted.") { }

    /// <summary>Creates an exception without a location.</summary>
    public EmitException(string message) : this(EmitRule.Usage, SourceLocation.None, message) { }

    /// <summary>Creates an exception without a location, wrapping another.</summary>
    public EmitException(string message, Exception innerException) : base(message, innerException)
    {
        Rule = EmitRule.Usage;
        Location = SourceLocation.None;
        Detail = message;
    }

    /// <summary>The rule that was violated.</summary>
    public EmitRule Rule { get; }

    /// <summary>The C# call site.</summary>
    public SourceLocation Location { get; }

    /// <summary>The C# source file of the call site.</summary>
    public string File => Location.File;

    /// <summary>The C# line of the call site.</summary>
    public int Line => Location.Line;

    /// <summary>The message without the location prefix.</summary>
    public string Detail { get; }

    /// <summary>For <see cref="EmitRule.TargetKernel"/>: the feature newer than the target.</summary>
    public KernelFeature? Feature { get; init; }
}
