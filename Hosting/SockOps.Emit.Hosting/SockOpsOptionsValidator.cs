using Microsoft.Extensions.Options;
using SockOps.Emit.Runtime;

namespace SockOps.Emit.Hosting;

/// <summary>
/// Checks <see cref="SockOpsOptions"/> against this machine when the host starts (registered with ValidateOnStart):
/// each failure names the option (<c>SockOps:CgroupPath …</c>) and the host's <c>StartAsync</c> throws
/// <see cref="OptionsValidationException"/> with all of them before anything is loaded.
/// </summary>
internal sealed class SockOpsOptionsValidator : IValidateOptions<SockOpsOptions>
{
    private const string Prefix = SockOpsOptions.SectionName + ":";

    public ValidateOptionsResult Validate(string? name, SockOpsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        ValidateCgroup(options, failures);
        ValidatePinning(options, failures);
        if (options.Programs.Count == 0)
            failures.Add($"{Prefix}Programs: no program was added (call o.AddProgram(image) in AddSockOps).");
        if (ProcessCapabilities.MissingForSockOps() is { } missing)
            failures.Add($"{SockOpsOptions.SectionName}: cannot load programs: {missing}.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateCgroup(SockOpsOptions options, List<string> failures)
    {
        string? path = options.CgroupPath;
        if (string.IsNullOrWhiteSpace(path))
        {
            failures.Add($"{Prefix}CgroupPath is required: the cgroup v2 directory the programs attach to (e.g. /sys/fs/cgroup/my-service).");
            return;
        }
        if (!Path.IsPathFullyQualified(path))
        {
            failures.Add($"{Prefix}CgroupPath '{path}' must be an absolute path under the cgroup2 mount.");
            return;
        }
        string mount;
        try
        {
            mount = Cgroup.FindMountPoint();
        }
        catch (InvalidOperationException e)
        {
            failures.Add($"{Prefix}CgroupPath '{path}': {e.Message}");
            return;
        }
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        if (full != mount && !full.StartsWith(mount + "/", StringComparison.Ordinal))
        {
            failures.Add($"{Prefix}CgroupPath '{path}' is not under the cgroup2 mount {mount} (from /proc/self/mountinfo).");
            return;
        }
        if (Directory.Exists(full))
        {
            if (!File.Exists(Path.Combine(full, "cgroup.procs")))
                failures.Add($"{Prefix}CgroupPath '{path}' exists but is not a cgroup (no cgroup.procs).");
            return;
        }
        if (!options.CreateCgroup)
        {
            failures.Add($"{Prefix}CgroupPath '{path}' does not exist; create it or set {Prefix}CreateCgroup to true.");
            return;
        }
        string? parent = Path.GetDirectoryName(full);
        if (parent is null || !File.Exists(Path.Combine(parent, "cgroup.procs")))
            failures.Add($"{Prefix}CgroupPath '{path}' cannot be created ({Prefix}CreateCgroup): its parent '{parent}' is not an existing cgroup.");
    }

    private static void ValidatePinning(SockOpsOptions options, List<string> failures)
    {
        if (options.KeepAttachedOnStop && options.PinDirectory is null)
            failures.Add($"{Prefix}KeepAttachedOnStop needs {Prefix}PinDirectory: an unpinned link is detached when the process's descriptor closes.");
        if (options.PinDirectory is not { } pins) return;
        if (!Path.IsPathFullyQualified(pins))
        {
            failures.Add($"{Prefix}PinDirectory '{pins}' must be an absolute path on a bpffs mount.");
            return;
        }
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(pins));
        string? bpffs = BpfFs.FindMountPoint();
        if (bpffs is null)
            failures.Add($"{Prefix}PinDirectory '{pins}': no bpffs is mounted (mount one with `mount -t bpf bpf {BpfFs.DefaultMountPoint}`).");
        else if (!BpfFs.IsOnBpfFs(full))
            failures.Add($"{Prefix}PinDirectory '{pins}' is not on a bpffs mount (e.g. under {bpffs}).");
    }
}
