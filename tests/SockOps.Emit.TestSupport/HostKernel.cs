using SockOps.Emit.Assembler;
using SockOps.Emit.Runtime;

namespace SockOps.Emit.TestSupport;

/// <summary>The kernel the tests run on, as a build target (programs built for it may use its newest forms).</summary>
public static class HostKernel
{
    /// <summary>The running kernel's major.minor (6.18 here and in CI); 6.1 when /proc says nothing.</summary>
    public static KernelVersion Target { get; } =
        RunningKernel.Version.Major > 0 ? RunningKernel.Version.MajorMinor : KernelVersion.Linux6_1;
}
