using SockOps.Emit.Testing;
using Xunit;

namespace SockOps.Emit.TestSupport;

/// <summary>
/// Gate for tests that need the real kernel (CAP_BPF, CAP_NET_ADMIN, cgroup v2). Without them the
/// test is skipped with a reason; with SOCKOPS_REQUIRE_KERNEL=1 (set by .ci/run) it fails instead.
/// </summary>
public static class KernelGate
{
    /// <summary>True when SOCKOPS_REQUIRE_KERNEL=1: a kernel test may not skip.</summary>
    public static bool Required => Environment.GetEnvironmentVariable("SOCKOPS_REQUIRE_KERNEL") == "1";

    /// <summary>Skips (or, when required, fails) the calling test unless the kernel facilities are usable.</summary>
    public static void Require()
    {
        // The public kit's gate finds the reason; this class maps it to xunit's skip and failure.
        if (KernelRequirement.MissingReason is { } reason) Skip(reason);
    }

    /// <summary>
    /// Skips the calling test because something it needs from this machine is missing (a kernel feature, a file
    /// system, an oracle tool); under SOCKOPS_REQUIRE_KERNEL=1 the test fails with the same reason instead, so that
    /// nothing kernel-facing skips in CI. Never returns.
    /// </summary>
    /// <param name="reason">What is missing, for the skip or failure message.</param>
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    public static void Skip(string reason) => Skip(reason, Required);

    /// <summary>As <see cref="Skip(string)"/>, with the requirement given instead of read from SOCKOPS_REQUIRE_KERNEL.</summary>
    /// <param name="reason">What is missing.</param>
    /// <param name="required">True: fail (CI); false: skip.</param>
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    public static void Skip(string reason, bool required)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        if (required) Assert.Fail("SOCKOPS_REQUIRE_KERNEL=1 but the test cannot run: " + reason);
        Assert.Skip(reason);
        throw new InvalidOperationException("unreachable: Assert.Skip returned");
    }

    /// <summary>
    /// The full path of the external tool <paramref name="name"/> (an oracle such as bpftool) found on PATH; when it
    /// is not installed the calling test is skipped, or fails under SOCKOPS_REQUIRE_KERNEL=1 (.ci/run installs it).
    /// </summary>
    /// <param name="name">The command name, e.g. <c>bpftool</c>.</param>
    /// <param name="package">The Debian package that provides it, for the message.</param>
    public static string RequireTool(string name, string package) => RequireTool(name, package, Required);

    /// <summary>As <see cref="RequireTool(string, string)"/>, with the requirement given instead of read from SOCKOPS_REQUIRE_KERNEL.</summary>
    /// <param name="name">The command name.</param>
    /// <param name="package">The Debian package that provides it.</param>
    /// <param name="required">True: fail when missing (CI); false: skip.</param>
    public static string RequireTool(string name, string package, bool required)
    {
        string? found = FindTool(name);
        if (found is null) Skip($"{name} is not installed (apt-get install {package}); it is the oracle of this test", required);
        return found;
    }

    /// <summary>The full path of <paramref name="name"/> in a PATH directory (or /usr/sbin, /sbin), or null.</summary>
    public static string? FindTool(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        string path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (string dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(["/usr/sbin", "/sbin"]))
        {
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>
    /// <see cref="Require"/>, and also CAP_SYS_ADMIN: the test's traffic unshares a private network namespace
    /// (CLONE_NEWNET), for lo settings and netfilter rules of its own.
    /// </summary>
    public static void RequireNetworkNamespaces()
    {
        Require();
        const int CapSysAdmin = 21;
        if (KernelRequirement.HasCapability(CapSysAdmin)) return;
        const string reason = "the process lacks CAP_SYS_ADMIN, needed to create a private network namespace";
        if (Required) Assert.Fail("SOCKOPS_REQUIRE_KERNEL=1 but the kernel test cannot run: " + reason);
        Assert.Skip(reason);
    }
}
