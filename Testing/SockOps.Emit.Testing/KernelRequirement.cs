using System.Globalization;

namespace SockOps.Emit.Testing;

/// <summary>
/// The framework-neutral kernel gate. A kernel-facing test calls <see cref="Check"/> first: null means this machine can
/// load and attach sock_ops programs (Linux, CAP_BPF or CAP_SYS_ADMIN, CAP_NET_ADMIN, a cgroup2 mount); otherwise the
/// reason, which the test hands to its framework's skip — xunit v3 <c>Assert.Skip(reason)</c>, NUnit
/// <c>Assert.Ignore(reason)</c>, MSTest <c>Assert.Inconclusive(reason)</c>. Under <c>SOCKOPS_REQUIRE_KERNEL=1</c> (set it
/// in CI, where the machine is known to be capable) <see cref="Check"/> throws <see cref="KernelRequirementException"/>
/// instead, so a kernel test can never pass by skipping there.
/// </summary>
public static class KernelRequirement
{
    /// <summary>The environment variable that, set to <c>1</c>, turns every skip reason into a <see cref="KernelRequirementException"/>.</summary>
    public const string RequireVariable = "SOCKOPS_REQUIRE_KERNEL";

    private const int CapNetAdmin = 12, CapSysAdmin = 21, CapBpf = 39;
    private static readonly Lazy<string?> Missing = new(FindMissingReason);

    /// <summary>True when <see cref="RequireVariable"/> is <c>1</c>: a missing facility throws instead of returning a reason.</summary>
    public static bool Required => Environment.GetEnvironmentVariable(RequireVariable) == "1";

    /// <summary>Why this machine cannot run kernel tests, or null when it can; never throws (computed once per process).</summary>
    public static string? MissingReason => Missing.Value;

    /// <summary>Null when the kernel facilities are usable; otherwise the reason to skip.</summary>
    /// <exception cref="KernelRequirementException">A facility is missing and <see cref="Required"/> is set.</exception>
    public static string? Check() => Gate(MissingReason);

    /// <summary>
    /// As <see cref="Check"/>, and also CAP_SYS_ADMIN, which a private network namespace needs
    /// (<see cref="LoopbackOptions.PrivateNetworkNamespace"/> with fixed ports).
    /// </summary>
    /// <exception cref="KernelRequirementException">A facility is missing and <see cref="Required"/> is set.</exception>
    public static string? CheckNetworkNamespaces() =>
        Gate(MissingReason ?? (HasCapability(CapSysAdmin) ? null : "the process lacks CAP_SYS_ADMIN, needed to create a private network namespace"));

    /// <summary>
    /// Null when <paramref name="reason"/> is null; otherwise <paramref name="reason"/>, or under <see cref="Required"/> a
    /// <see cref="KernelRequirementException"/> — for a test's own preconditions (a tool, a kernel version, a sysctl).
    /// </summary>
    /// <param name="reason">What is missing, or null.</param>
    /// <exception cref="KernelRequirementException"><paramref name="reason"/> is not null and <see cref="Required"/> is set.</exception>
    public static string? Gate(string? reason) => Gate(reason, Required);

    /// <summary><see cref="Gate(string?)"/> with the requirement given instead of read from the environment.</summary>
    internal static string? Gate(string? reason, bool required)
    {
        if (reason is null) return null;
        if (required) throw new KernelRequirementException(reason);
        return reason;
    }

    /// <summary>True when the effective capability set holds capability number <paramref name="capability"/> (e.g. 39, CAP_BPF).</summary>
    /// <param name="capability">The capability's number, 0..63.</param>
    public static bool HasCapability(int capability)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capability);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capability, 63);
        return (ReadEffectiveCapabilities() & (1UL << capability)) != 0;
    }

    private static string? FindMissingReason()
    {
        if (!OperatingSystem.IsLinux()) return "not Linux: BPF needs a Linux kernel";
        ulong effective = ReadEffectiveCapabilities();
        bool hasBpf = (effective & (1UL << CapBpf)) != 0 || (effective & (1UL << CapSysAdmin)) != 0;
        if (!hasBpf) return "the process lacks CAP_BPF (run as root or grant cap_bpf,cap_net_admin)";
        if ((effective & (1UL << CapNetAdmin)) == 0) return "the process lacks CAP_NET_ADMIN (needed for sock_ops programs)";
        if (!File.Exists("/proc/self/mountinfo") || !File.ReadAllText("/proc/self/mountinfo").Contains(" - cgroup2 ", StringComparison.Ordinal))
            return "no cgroup2 file system is mounted";
        return null;
    }

    private static ulong ReadEffectiveCapabilities()
    {
        if (!File.Exists("/proc/self/status")) return 0;
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("CapEff:", StringComparison.Ordinal))
                return ulong.Parse(line.AsSpan("CapEff:".Length).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        }
        return 0;
    }
}

/// <summary>
/// A kernel test cannot run on this machine although <c>SOCKOPS_REQUIRE_KERNEL=1</c> says it must; the message says what
/// is missing. Thrown by <see cref="KernelRequirement.Check"/> so that the test fails instead of skipping.
/// </summary>
public sealed class KernelRequirementException : Exception
{
    /// <summary>Creates the exception with a generic message.</summary>
    public KernelRequirementException()
        : this("a kernel facility is missing")
    {
    }

    /// <summary>Creates the exception for <paramref name="reason"/>.</summary>
    /// <param name="reason">What is missing.</param>
    public KernelRequirementException(string reason)
        : this(reason, null)
    {
    }

    /// <summary>Creates the exception for <paramref name="reason"/> with a cause.</summary>
    /// <param name="reason">What is missing.</param>
    /// <param name="innerException">The cause.</param>
    public KernelRequirementException(string reason, Exception? innerException)
        : base($"{KernelRequirement.RequireVariable}=1 but the kernel test cannot run: {reason}", innerException)
    {
        Reason = reason;
    }

    /// <summary>What is missing, without the prefix.</summary>
    public string Reason { get; }
}
