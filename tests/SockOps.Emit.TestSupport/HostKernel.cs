using SockOps.Emit.Assembler;

namespace SockOps.Emit.TestSupport;

/// <summary>The kernel the tests run on, as a build target (programs built for it may use its newest forms).</summary>
public static class HostKernel
{
    /// <summary>The running kernel's major.minor (6.18 here and in CI); 6.1 when /proc says nothing.</summary>
    public static KernelVersion Target { get; } = ReadTarget();

    private static KernelVersion ReadTarget()
    {
        try
        {
            string release = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
            return KernelVersion.TryParse(release, null, out var v) ? v.MajorMinor : KernelVersion.Linux6_1;
        }
        catch (IOException)
        {
            return KernelVersion.Linux6_1;
        }
    }
}
