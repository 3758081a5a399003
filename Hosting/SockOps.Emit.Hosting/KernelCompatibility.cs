using SockOps.Emit;
using SockOps.Emit.Assembler;
using SockOps.Emit.Runtime;

namespace SockOps.Emit.Hosting;

/// <summary>
/// The running kernel lacks a feature a program uses (<see cref="ProgramImage.RequiredFeatures"/>): found before
/// BPF_PROG_LOAD, so the user reads which feature and which kernel instead of a verifier log.
/// </summary>
public sealed class KernelNotSupportedException : NotSupportedException
{
    /// <summary>Creates the exception.</summary>
    public KernelNotSupportedException(ProgramImage image, KernelFeature feature, string how)
        : base(Describe(image, feature, how))
    {
        ArgumentNullException.ThrowIfNull(image);
        Feature = feature;
        ProgramName = image.Name;
        Target = image.Target;
        RunningKernel = SockOps.Emit.Runtime.RunningKernel.Version;
        Reason = $"{feature.Name} is not available on this kernel (Linux {RunningKernel}; {how})";
    }

    /// <summary>Creates the exception.</summary>
    public KernelNotSupportedException() : this("The running kernel does not support the program.") { }

    /// <summary>Creates the exception.</summary>
    public KernelNotSupportedException(string message) : base(message)
    {
        Feature = KernelTargets.SockOpsProgramType;
        ProgramName = "";
        Reason = message;
    }

    /// <summary>Creates the exception.</summary>
    public KernelNotSupportedException(string message, Exception innerException) : base(message, innerException)
    {
        Feature = KernelTargets.SockOpsProgramType;
        ProgramName = "";
        Reason = message;
    }

    /// <summary>The missing feature.</summary>
    public KernelFeature Feature { get; }

    /// <summary>The program's name.</summary>
    public string ProgramName { get; }

    /// <summary>The kernel the program was built for.</summary>
    public KernelVersion Target { get; }

    /// <summary>The running kernel.</summary>
    public KernelVersion RunningKernel { get; }

    /// <summary>The reason in one phrase (what <c>sockops verify</c> prints).</summary>
    public string Reason { get; }

    private static string Describe(ProgramImage image, KernelFeature feature, string how)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(feature);
        var running = SockOps.Emit.Runtime.RunningKernel.Version;
        string rebuild = image.Target > running.MajorMinor
            ? $" The program was built for Linux {image.Target}: build it for this kernel (target {running.MajorMinor}) to use what it has."
            : "";
        return $"Program '{image.Name}' uses {feature.Name}, which needs Linux {feature.MinimumKernel}; this kernel (Linux {running}, {SockOps.Emit.Runtime.RunningKernel.Release}) lacks it ({how}).{rebuild}";
    }
}

/// <summary>Checks an image's features against the running kernel before it is loaded.</summary>
public static class KernelCompatibility
{
    /// <summary>
    /// Throws when the running kernel lacks a feature of <paramref name="image"/>. Helpers, map types and kfuncs are
    /// probed (a distribution kernel may have back-ported them); the rest (instruction forms, ctx fields, ops,
    /// socket options, callback arguments) is compared with the kernel's version.
    /// </summary>
    /// <exception cref="KernelNotSupportedException">The kernel lacks a feature the program uses.</exception>
    public static void Check(ProgramImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (Find(image) is { } missing) throw new KernelNotSupportedException(image, missing.Feature, missing.How);
    }

    /// <summary>The first feature of <paramref name="image"/> the running kernel lacks, and how that was found; null when none.</summary>
    public static (KernelFeature Feature, string How)? Find(ProgramImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var running = RunningKernel.Version;
        foreach (var feature in image.RequiredFeatures)
        {
            switch (feature.Kind)
            {
                // Perfmon-group helpers answer "cannot use helper" to a loader without CAP_PERFMON whatever the kernel:
                // the probe would say more about the caller than the kernel, so they go by version (the verifier still decides).
                case KernelFeatureKind.Helper when Helpers.Find(feature.Name) is { RequiredCapability: not HelperCapability.Perfmon } helper:
                    if (!FeatureProbes.IsHelperSupported(ProgramType.SockOps, helper.Id))
                        return (feature, $"a sock_ops program calling {helper.Name}#{helper.Id} is refused");
                    break;
                case KernelFeatureKind.MapType:
                    var kind = image.Maps.FirstOrDefault(m => KernelTargets.MapTypeFeature(m.Kind) == feature)?.Kind;
                    if (kind is { } k && !FeatureProbes.IsMapTypeSupported(k))
                        return (feature, "BPF_MAP_CREATE refuses the type");
                    break;
                case KernelFeatureKind.Kfunc:
                    if (!FeatureProbes.IsKfuncAvailable(feature.Name))
                        return (feature, "the kernel's BTF has no such function");
                    break;
                default:
                    if (running.Major > 0 && !running.IsAtLeast(feature.MinimumKernel))
                        return (feature, $"the kernel is older than {feature.MinimumKernel}");
                    break;
            }
        }
        return null;
    }
}
