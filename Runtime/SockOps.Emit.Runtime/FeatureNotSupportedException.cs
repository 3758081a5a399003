namespace SockOps.Emit.Runtime;

/// <summary>The running kernel lacks a feature; a probe established it.</summary>
public sealed class FeatureNotSupportedException : NotSupportedException
{
    /// <summary>Creates the exception.</summary>
    public FeatureNotSupportedException(string probe, string minimumKernel, Exception? inner = null)
        : base($"The running kernel ({RunningKernel.Version}) does not support this: probe '{probe}' failed (expected from Linux {minimumKernel}).", inner)
    {
        Probe = probe;
        MinimumKernel = minimumKernel;
    }

    /// <summary>The probe that failed, e.g. <c>map_type:sk_storage</c>.</summary>
    public string Probe { get; }

    /// <summary>The kernel version the feature is expected from.</summary>
    public string MinimumKernel { get; }
}
