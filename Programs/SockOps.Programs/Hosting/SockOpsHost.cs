using SockOps.Emit;
using SockOps.Emit.Assembler;
using SockOps.Emit.Runtime;
using SockOps.Emit.Runtime.Btf;

namespace SockOps.Programs.Hosting;

/// <summary>
/// Loads DSL programs (<see cref="ProgramImage"/>) into the kernel as BPF_PROG_TYPE_SOCK_OPS with expected attach
/// type BPF_CGROUP_SOCK_OPS: creates the declared maps (with BTF for sk_storage), resolves the map references,
/// and maps a verifier refusal back to the C# statement. Nothing stays in the kernel when a step fails.
/// </summary>
public static class SockOpsHost
{
    /// <summary>Loads <paramref name="image"/> (not attached; see <see cref="LoadedSockOpsProgram.AttachTo(Cgroup)"/>).</summary>
    /// <param name="image">The program.</param>
    /// <param name="logLevel">Verifier log to keep for a successful load (<see cref="VerifierLogLevel.Statistics"/> gives the verifier's counters).</param>
    /// <param name="debugInfo">Load BTF function and line info from the image's source map, so the verifier log and
    /// <c>bpftool prog dump xlated … linum</c> show the C# lines.</param>
    /// <exception cref="KernelNotSupportedException">The running kernel lacks a feature the program uses (checked before anything is created).</exception>
    /// <exception cref="ProgramRefusedException">The verifier refused the program; the message names the C# line.</exception>
    /// <exception cref="BpfException">A map or the program could not be created for another reason.</exception>
    public static LoadedSockOpsProgram Load(ProgramImage image, VerifierLogLevel logLevel = VerifierLogLevel.None, bool debugInfo = true)
    {
        ArgumentNullException.ThrowIfNull(image);
        KernelCompatibility.Check(image);
        var owned = new List<IDisposable>();
        var maps = new Dictionary<string, BpfMap>(StringComparer.Ordinal);
        try
        {
            foreach (var declaration in image.Maps)
            {
                maps[declaration.Name] = declaration.CreateMap();
            }
            ProgramDebugInfo? debug = debugInfo ? image.CreateDebugInfo() : null;
            LoadedBtf? btf = debug is null ? null : LoadedBtf.Load(debug.Btf.Span);
            if (btf is not null) owned.Add(btf);
            BpfProgram program;
            try
            {
                program = BpfProgram.Load(new ProgramLoadOptions
                {
                    Type = ProgramType.SockOps,
                    ExpectedAttachType = AttachType.CgroupSockOps,
                    Name = image.Name,
                    License = image.License,
                    Instructions = ResolveKfuncs(image),
                    MapReferences = image.MapReferences,
                    Maps = maps,
                    Btf = btf,
                    FuncInfo = debug?.FuncInfo ?? [],
                    LineInfo = debug?.LineInfo ?? [],
                    LogLevel = logLevel,
                });
            }
            catch (VerifierException e)
            {
                throw new ProgramRefusedException(image, e);
            }
            return new LoadedSockOpsProgram(image, program, maps, owned);
        }
        catch
        {
            foreach (var map in maps.Values) map.Dispose();
            for (int i = owned.Count - 1; i >= 0; i--) owned[i].Dispose();
            throw;
        }
    }

    /// <summary>The instructions with each kfunc call's immediate set to the function's id in the kernel's BTF.</summary>
    /// <exception cref="FeatureNotSupportedException">The running kernel has no such function.</exception>
    private static IReadOnlyList<Instruction> ResolveKfuncs(ProgramImage image)
    {
        if (image.KfuncReferences.Count == 0) return image.Instructions;
        var code = image.Instructions.ToArray();
        foreach (var kfunc in image.KfuncReferences)
        {
            uint id = KernelBtf.Current.FindFunction(kfunc.Name)
                ?? throw new FeatureNotSupportedException($"kfunc:{kfunc.Name}", image.RequiredFeatures.FirstOrDefault(f => f.Name == kfunc.Name)?.MinimumKernel.ToString() ?? "unknown");
            var call = code[kfunc.InstructionIndex];
            code[kfunc.InstructionIndex] = new Instruction(call.Opcode, call.DestinationIndex, call.SourceIndex, call.Offset, checked((int)id));
        }
        return code;
    }
}
