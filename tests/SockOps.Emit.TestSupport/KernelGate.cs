using Xunit;

namespace SockOps.Emit.TestSupport;

/// <summary>
/// Gate for tests that need the real kernel (CAP_BPF, CAP_NET_ADMIN, cgroup v2). Without them the
/// test is skipped with a reason; with SOCKOPS_REQUIRE_KERNEL=1 (set by .ci/run) it fails instead.
/// </summary>
public static class KernelGate
{
    private static readonly Lazy<string?> MissingReason = new(FindMissingReason);

    /// <summary>True when SOCKOPS_REQUIRE_KERNEL=1: a kernel test may not skip.</summary>
    public static bool Required => Environment.GetEnvironmentVariable("SOCKOPS_REQUIRE_KERNEL") == "1";

    /// <summary>Skips (or, when required, fails) the calling test unless the kernel facilities are usable.</summary>
    public static void Require()
    {
        string? reason = MissingReason.Value;
        if (reason is null) return;
        if (Required) Assert.Fail("SOCKOPS_REQUIRE_KERNEL=1 but the kernel test cannot run: " + reason);
        Assert.Skip(reason);
    }

    /// <summary>
    /// <see cref="Require"/>, and also CAP_SYS_ADMIN: the test's traffic unshares a private network namespace
    /// (CLONE_NEWNET), for lo settings and netfilter rules of its own.
    /// </summary>
    public static void RequireNetworkNamespaces()
    {
        Require();
        const int CapSysAdmin = 21;
        if ((ReadEffectiveCapabilities() & (1UL << CapSysAdmin)) != 0) return;
        const string reason = "the process lacks CAP_SYS_ADMIN, needed to create a private network namespace";
        if (Required) Assert.Fail("SOCKOPS_REQUIRE_KERNEL=1 but the kernel test cannot run: " + reason);
        Assert.Skip(reason);
    }

    private static string? FindMissingReason()
    {
        if (!OperatingSystem.IsLinux()) return "not Linux: BPF needs a Linux kernel";
        ulong effective = ReadEffectiveCapabilities();
        const int CapNetAdmin = 12, CapSysAdmin = 21, CapBpf = 39;
        bool hasBpf = (effective & (1UL << CapBpf)) != 0 || (effective & (1UL << CapSysAdmin)) != 0;
        if (!hasBpf) return "the process lacks CAP_BPF (run as root or grant cap_bpf,cap_net_admin)";
        if ((effective & (1UL << CapNetAdmin)) == 0) return "the process lacks CAP_NET_ADMIN (needed for sock_ops programs)";
        if (!File.Exists("/proc/self/mountinfo") || !File.ReadAllText("/proc/self/mountinfo").Contains(" - cgroup2 ", StringComparison.Ordinal))
            return "no cgroup2 file system is mounted";
        return null;
    }

    private static ulong ReadEffectiveCapabilities()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("CapEff:", StringComparison.Ordinal))
                return Convert.ToUInt64(line["CapEff:".Length..].Trim(), 16);
        }
        return 0;
    }
}
