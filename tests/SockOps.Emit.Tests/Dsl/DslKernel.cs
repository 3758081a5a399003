using System.Globalization;
using System.Text;
using SockOps.Emit.Assembler;
using SockOps.Emit.Runtime;
using SockOps.Emit.Objects;
using SockOps.Emit.TestSupport;

namespace SockOps.Emit.Tests.Dsl;

/// <summary>Loads DSL programs into the real kernel (maps created from the declarations) and formats listings.</summary>
internal static class DslKernel
{
    /// <summary>A loaded program with its maps; disposing closes everything.</summary>
    internal sealed class Loaded(LoadedObject loaded) : IDisposable
    {
        public BpfProgram Program { get; } = loaded.Programs.Values.Single();
        public IReadOnlyDictionary<string, BpfMap> Maps { get; } = loaded.Maps;

        public void Dispose() => loaded.Dispose();
    }

    /// <summary>
    /// Loads the image as users do — <see cref="ProgramImage.ToObject"/> through the Runtime's <see cref="ObjectLoader"/>
    /// (kfunc ids resolved) — and throws the runtime's VerifierException if the kernel refuses it.
    /// </summary>
    public static Loaded Load(ProgramImage image, bool debugInfo = false, VerifierLogLevel logLevel = VerifierLogLevel.None)
    {
        var obj = image.ToObject();
        if (!debugInfo) obj = new BpfObject(obj.Programs.Select(p => p with { FuncInfo = [], LineInfo = [] }), obj.Maps, obj.Btf);
        return new Loaded(ObjectLoader.Load(obj, new ObjectLoadOptions { LogLevel = logLevel }));
    }

    /// <summary>Loads raw instructions (for proving that the kernel refuses what the DSL refuses).</summary>
    public static BpfProgram LoadRaw(string name, IReadOnlyList<Instruction> code, string license = "GPL",
        IReadOnlyList<MapReference>? references = null, IReadOnlyDictionary<string, BpfMap>? maps = null) =>
        BpfProgram.Load(new ProgramLoadOptions
        {
            Type = ProgramType.SockOps,
            ExpectedAttachType = AttachType.CgroupSockOps,
            Name = name,
            License = license,
            Instructions = code,
            MapReferences = references ?? [],
            Maps = maps,
        });

    /// <summary>The raw-stream linter (the Emitter's static checker) finds nothing in DSL output.</summary>
    public static void AssertLintClean(ProgramImage image)
    {
        var findings = SockOps.Emit.Lint.InstructionLinter.Lint(image.Instructions,
            new SockOps.Emit.Lint.LintOptions { IsGplLicense = image.License == "GPL" });
        Assert.True(findings.Count == 0, string.Join("\n", findings) + "\n" + Listing(image));
    }

    /// <summary>The listing used by snapshots: slot, llvm syntax, hex bytes, C# line.</summary>
    public static string Listing(ProgramImage image) => SockOps.Emit.Testing.ProgramListing.Format(image);

    /// <summary>Snapshot + kernel load: every DSL test program is proven to load.</summary>
    public static void VerifyAndLoad(ProgramImage image, string snapshotName, [System.Runtime.CompilerServices.CallerFilePath] string callerFile = "")
    {
        Snapshot.Verify(Listing(image), snapshotName, callerFile);
        AssertLintClean(image);
        KernelGate.Require();
        using var loaded = Load(image);
        Assert.True(loaded.Program.Info.Id > 0);
    }
}
