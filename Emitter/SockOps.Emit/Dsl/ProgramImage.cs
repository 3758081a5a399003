using System.Runtime.CompilerServices;
using SockOps.Emit.Assembler;

namespace SockOps.Emit;

/// <summary>
/// An emitted sock_ops program, ready for a loader: instructions (map fds still symbolic), the maps to create,
/// the license, and a source map from each instruction to the C# call that produced it.
/// </summary>
public sealed partial class ProgramImage
{
    internal ProgramImage(string name, Instruction[] instructions, MapReference[] mapReferences, MapDeclaration[] maps,
        string license, IReadOnlyList<SourceLocation> sourceMap, int stackSize, KfuncReference[] kfuncReferences,
        KernelVersion target, KernelFeature[] requiredFeatures)
    {
        Target = target;
        RequiredFeatures = requiredFeatures;
        var minimum = KernelTargets.SockOpsProgramType.MinimumKernel;
        foreach (var feature in requiredFeatures) minimum = KernelVersion.Max(minimum, feature.MinimumKernel);
        MinimumKernel = minimum;
        KfuncReferences = kfuncReferences;
        Name = name;
        Instructions = instructions;
        MapReferences = mapReferences;
        Maps = maps;
        License = license;
        SourceMap = sourceMap;
        StackSize = stackSize;
        int slots = 0;
        foreach (var i in instructions) slots += i.Slots;
        Slots = slots;
    }

    /// <summary>The program name.</summary>
    public string Name { get; }

    /// <summary>The kernel the program was built for: it uses nothing newer, and uses that kernel's forms (e.g. no cpu v4 before 6.6).</summary>
    public KernelVersion Target { get; }

    /// <summary>
    /// The kernel-dependent features the program uses, each with the first kernel that has it (helpers, ctx fields,
    /// ops, socket options, kfuncs, map types, instruction forms), distinct, in the order of first use.
    /// </summary>
    public IReadOnlyList<KernelFeature> RequiredFeatures { get; }

    /// <summary>The oldest kernel that has every feature in <see cref="RequiredFeatures"/> (at most <see cref="Target"/>).</summary>
    public KernelVersion MinimumKernel { get; }

    /// <summary>The instructions (an ld_imm64 is one entry occupying two slots).</summary>
    public IReadOnlyList<Instruction> Instructions { get; }

    /// <summary>The ld_imm64 instructions that must receive a map fd, by instruction index and map name.</summary>
    public IReadOnlyList<MapReference> MapReferences { get; }

    /// <summary>
    /// The kfunc calls (<c>call</c> with source 2), by instruction index and kernel function name: a loader puts
    /// the function's BTF id from the kernel's vmlinux BTF into the immediate before BPF_PROG_LOAD.
    /// </summary>
    public IReadOnlyList<KfuncReference> KfuncReferences { get; }

    /// <summary>
    /// The maps the program declared, then its read-only data (<see cref="MapDeclaration.ReadOnlyDataName"/>, printk
    /// formats) if it has any. Create each with <see cref="MapDeclaration.CreateMap"/>, which also fills and freezes it.
    /// </summary>
    public IReadOnlyList<MapDeclaration> Maps { get; }

    /// <summary>The license string.</summary>
    public string License { get; }

    /// <summary>For each instruction (parallel to <see cref="Instructions"/>), the C# call that emitted it.</summary>
    public IReadOnlyList<SourceLocation> SourceMap { get; }

    /// <summary>The number of 8-byte instruction slots (what the kernel counts).</summary>
    public int Slots { get; }

    /// <summary>Bytes of stack the program uses.</summary>
    public int StackSize { get; }

    /// <summary>The C# location of the instruction at a kernel slot index (as in verifier logs), if any.</summary>
    public SourceLocation? LocationOfSlot(int slot)
    {
        int s = 0;
        for (int i = 0; i < Instructions.Count; i++)
        {
            int next = s + Instructions[i].Slots;
            if (slot >= s && slot < next) return SourceMap[i];
            s = next;
        }
        return null;
    }

    /// <summary>
    /// BTF function and line information built from <see cref="SourceMap"/>, so kernel tools and verifier
    /// messages show the C# lines (reads the C# files when they exist, for the line text).
    /// </summary>
    public ProgramDebugInfo CreateDebugInfo() => ProgramDebugInfo.Create(this);

    /// <summary>The encoded program (8 bytes per slot, little-endian).</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[Slots * Instruction.SlotSize];
        int offset = 0;
        foreach (var i in Instructions) offset += i.WriteTo(bytes.AsSpan(offset));
        return bytes;
    }
}

/// <summary>
/// A source map stored as the distinct locations plus one index per instruction (consecutive instructions mostly
/// come from the same C# call): one byte per instruction while there are at most 256 distinct locations, else four.
/// </summary>
internal sealed class CompactSourceMap : IReadOnlyList<SourceLocation>
{
    private readonly SourceLocation[] _distinct;
    private readonly byte[]? _smallIndexes;
    private readonly int[]? _indexes;

    /// <summary>Copies <paramref name="indexes"/> (which may be a longer, reused buffer) into an array of the right size and width.</summary>
    public CompactSourceMap(SourceLocation[] distinct, ReadOnlySpan<int> indexes)
    {
        _distinct = distinct;
        if (distinct.Length <= 256)
        {
            _smallIndexes = new byte[indexes.Length];
            for (int i = 0; i < indexes.Length; i++) _smallIndexes[i] = (byte)indexes[i];
        }
        else _indexes = indexes.ToArray();
    }

    public SourceLocation this[int index] => _distinct[_smallIndexes is { } small ? small[index] : _indexes![index]];

    public int Count => _smallIndexes?.Length ?? _indexes!.Length;

    public IEnumerator<SourceLocation> GetEnumerator()
    {
        for (int i = 0; i < Count; i++) yield return this[i];
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}


/// <summary>Entry point of the DSL: <c>SockOpsProgram.Build("clamp", b =&gt; { … })</c>.</summary>
public static class SockOpsProgram
{
    /// <summary>
    /// Runs <paramref name="body"/> against a fresh builder and compiles what it wrote. The body runs once,
    /// synchronously; C# control flow inside it (loops, ifs on C# values) is unrolled at build time.
    /// </summary>
    /// <param name="name">The program name (the kernel keeps the first 15 characters).</param>
    /// <param name="body">Writes the program.</param>
    /// <param name="license">The license; GPL-only helpers need a GPL-compatible one.</param>
    /// <param name="capabilities">The capabilities the loader will have (helpers such as trace_printk need CAP_PERFMON).</param>
    /// <param name="target">
    /// The kernel the program will run on (default <see cref="KernelTargets.Default"/>, 6.1 — never the build machine's
    /// kernel). Anything newer is refused with its C# line; where an older kernel has an equivalent, it is used.
    /// </param>
    /// <param name="file">Filled in by the compiler.</param>
    /// <param name="line">Filled in by the compiler.</param>
    /// <param name="member">Filled in by the compiler.</param>
    /// <exception cref="EmitException">The program breaks a verifier rule; the exception names the C# line.</exception>
    public static ProgramImage Build(string name, Action<SockOpsBuilder> body, string license = "GPL",
        BpfCapabilities capabilities = BpfCapabilities.Root, KernelVersion? target = null,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(license);
        var workspace = BuildWorkspace.Rent();
        var kernel = target ?? KernelTargets.Default;
        if (kernel < KernelTargets.Oldest)
            throw new ArgumentOutOfRangeException(nameof(target), kernel, $"The oldest kernel the model describes is Linux {KernelTargets.Oldest}.");
        var builder = new SockOpsBuilder(name, license, capabilities, kernel.MajorMinor, new SourceLocation(file, line, member), workspace);
        try
        {
            using (SockOpsBuilder.Activate(builder))
            {
                body(builder);
                return builder.Finish();
            }
        }
        finally
        {
            builder.Detach();
            BuildWorkspace.Return(workspace);
        }
    }
}
