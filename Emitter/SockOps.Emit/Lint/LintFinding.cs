namespace SockOps.Emit.Lint;

/// <summary>One problem the <see cref="InstructionLinter"/> found.</summary>
/// <param name="InstructionIndex">Index of the offending instruction in the list (an ld_imm64 counts once).</param>
/// <param name="Rule">The rule's id, one of <see cref="LintRules"/>.</param>
/// <param name="Message">What is wrong, with the kernel verifier's own wording where it has one.</param>
public readonly record struct LintFinding(int InstructionIndex, string Rule, string Message)
{
    /// <inheritdoc/>
    public override string ToString() => $"insn {InstructionIndex}: {Rule}: {Message}";
}

/// <summary>
/// The rule ids of <see cref="InstructionLinter"/>. Each rule flags only what the kernel verifier also
/// refuses; the kernel message each corresponds to is given.
/// </summary>
public static class LintRules
{
    /// <summary>A register is read before it is written on some path ("R%d !read_ok").</summary>
    public const string UninitializedRegister = "uninitialized-register";
    /// <summary>r10, the frame pointer, is written ("frame pointer is read only").</summary>
    public const string FramePointerWrite = "frame-pointer-write";
    /// <summary>A register field holds 11..15 ("R%d is invalid").</summary>
    public const string InvalidRegister = "invalid-register";
    /// <summary>A jump leaves the program or its subprogram ("jump out of range from insn %d to %d").</summary>
    public const string JumpOutOfRange = "jump-out-of-range";
    /// <summary>A jump lands on the second slot of an ld_imm64 ("jump into the middle of ldimm64 insn %d").</summary>
    public const string JumpIntoLoadImmediate64 = "jump-into-ld-imm64";
    /// <summary>The last instruction of the program or a subprogram is not exit or ja, so execution could fall off the end ("last insn is not an exit or jmp").</summary>
    public const string FallsOffEnd = "falls-off-end";
    /// <summary>No control-flow path reaches the instruction ("unreachable insn %d").</summary>
    public const string Unreachable = "unreachable";
    /// <summary>A shift by an immediate outside [0, 32) or [0, 64) ("invalid shift %d").</summary>
    public const string InvalidShift = "invalid-shift";
    /// <summary>Division or modulo by the immediate 0 ("div by zero").</summary>
    public const string DivisionByZero = "division-by-zero";
    /// <summary>(sock_ops) A helper the program type, licence or capabilities do not allow ("program of this type cannot use helper", …).</summary>
    public const string HelperNotAllowed = "helper-not-allowed";
    /// <summary>(sock_ops) A ctx load or store the verifier refuses ("invalid bpf_context access off=%d size=%d").</summary>
    public const string ContextAccess = "ctx-access";
    /// <summary>(sock_ops) The main program exits with r0 the same constant outside [0, 1] on every path ("At program exit the register R0 has smin=%d smax=%d should have been in [0, 1]"). Unknown or path-dependent values are not flagged.</summary>
    public const string ReturnValue = "return-value";
    /// <summary>(sock_ops) A legacy packet load (<c>BPF_LD | BPF_ABS/BPF_IND</c>), which only socket filters and tc programs may use ("BPF_LD_[ABS|IND] instructions not allowed for this program type").</summary>
    public const string LegacyPacketLoad = "legacy-packet-load";
}

/// <summary>The program type the linter checks against.</summary>
public enum LintProgramType
{
    /// <summary>Only program-type-independent rules.</summary>
    Generic,
    /// <summary><c>BPF_PROG_TYPE_SOCK_OPS</c>: also the helper allow-list and ctx access rules.</summary>
    SockOps,
}

/// <summary>Options of <see cref="InstructionLinter.Lint"/>.</summary>
public sealed record LintOptions
{
    /// <summary>The program type (default <see cref="LintProgramType.SockOps"/>).</summary>
    public LintProgramType ProgramType { get; init; } = LintProgramType.SockOps;

    /// <summary>
    /// Registers initialized at entry, as a bit set (bit n = rn). Default r1 (ctx) and r10. A program
    /// that runs as a bpf-to-bpf callee (as the conformance suite's runner does) has r1-r5 as well.
    /// </summary>
    public int EntryRegisters { get; init; } = (1 << 1) | (1 << 10);

    /// <summary>Whether the licence is GPL-compatible (for GPL-only helpers).</summary>
    public bool IsGplLicense { get; init; } = true;

    /// <summary>The loader's capabilities (for the CAP_PERFMON helper group).</summary>
    public BpfCapabilities Capabilities { get; init; } = BpfCapabilities.Root;

    /// <summary>The defaults: sock_ops, r1 and r10 at entry, GPL, root.</summary>
    public static LintOptions Default { get; } = new();

    /// <summary>r1-r5 and r10 initialized at entry (a callee).</summary>
    public const int CalleeEntryRegisters = 0b111110 | (1 << 10);
}
