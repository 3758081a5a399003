using SockOps.Emit.Assembler;

namespace SockOps.Emit.Runtime;

/// <summary>
/// The kernel this process runs on: its release (<c>uname -r</c>) and version. Debian's 6.1 releases read
/// <c>6.1.0-57-cloud-amd64</c> with the real version in the build string (<c>… Debian 6.1.192-1 …</c>), and 6.12 ones
/// <c>6.12.118+deb12-cloud-amd64</c>: <see cref="KernelVersion.ParseRelease"/> reads both right (6.1.192, 6.12.118),
/// where <c>Environment.OSVersion</c> says 6.1.0.57 and 6.12.118.12.
/// </summary>
public static class RunningKernel
{
    private static readonly Lazy<(string Release, string Build, KernelVersion Version)> Current = new(Read);

    /// <summary>The release string, e.g. <c>6.1.0-57-cloud-amd64</c>.</summary>
    public static string Release => Current.Value.Release;

    /// <summary>The build string (<c>uname -v</c>), e.g. <c>#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-1 (2026-10-01)</c>.</summary>
    public static string Build => Current.Value.Build;

    /// <summary>The kernel version (6.1.192), for display and for features no probe can establish.</summary>
    public static KernelVersion Version => Current.Value.Version;

    private static (string, string, KernelVersion) Read()
    {
        string release = ReadLine("/proc/sys/kernel/osrelease") ?? Environment.OSVersion.Version.ToString();
        string build = ReadLine("/proc/sys/kernel/version") ?? "";
        return (release, build, KernelVersion.TryParse(release, null, out _) ? KernelVersion.ParseRelease(release, build) : default);
    }

    private static string? ReadLine(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
