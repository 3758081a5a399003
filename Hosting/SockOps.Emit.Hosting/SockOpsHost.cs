using SockOps.Emit;
using SockOps.Emit.Assembler;
using SockOps.Emit.Runtime;
using SockOps.Emit.Objects;

namespace SockOps.Emit.Hosting;

/// <summary>
/// Loads DSL programs (<see cref="ProgramImage"/>) into the kernel: the image's <see cref="ProgramImage.ToObject"/>
/// through the Runtime's generic <see cref="ObjectLoader"/> (maps with BTF, read-only data frozen, kfunc ids, C# line
/// info), after checking the running kernel has what the program uses, and a verifier refusal mapped back to the C#
/// statement. Nothing stays in the kernel when a step fails.
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
    public static LoadedSockOpsProgram Load(ProgramImage image, VerifierLogLevel logLevel = VerifierLogLevel.None, bool debugInfo = true) =>
        Load(image, new ObjectLoadOptions { LogLevel = logLevel }, debugInfo, pinMap: null);

    /// <summary>As <see cref="Load(ProgramImage, VerifierLogLevel, bool)"/>; <paramref name="pinMap"/> picks the maps pinned
    /// by name under <see cref="ObjectLoadOptions.PinDirectory"/> (and reused from there when already pinned).</summary>
    internal static LoadedSockOpsProgram Load(ProgramImage image, ObjectLoadOptions options, bool debugInfo, Func<ObjectMap, bool>? pinMap)
    {
        ArgumentNullException.ThrowIfNull(image);
        KernelCompatibility.Check(image);
        var obj = image.ToObject();
        if (!debugInfo || pinMap is not null)
        {
            obj = new BpfObject(
                debugInfo ? obj.Programs : obj.Programs.Select(p => p with { FuncInfo = [], LineInfo = [] }),
                pinMap is null ? obj.Maps : obj.Maps.Select(m => pinMap(m) ? m with { Pinning = MapPinning.ByName } : m),
                obj.Btf);
        }
        try
        {
            return new LoadedSockOpsProgram(image, ObjectLoader.Load(obj, options));
        }
        catch (VerifierException e)
        {
            throw new ProgramRefusedException(image, e);
        }
    }
}
