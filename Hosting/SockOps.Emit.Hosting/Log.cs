using Microsoft.Extensions.Logging;

namespace SockOps.Emit.Hosting;

/// <summary>The hosted service's log messages (source-generated: no boxing or formatting when the level is off).</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Loaded sock_ops program '{Program}' (id {ProgramId}, {Instructions} instructions, built for Linux {Target})")]
    public static partial void ProgramLoaded(ILogger logger, string program, uint programId, int instructions, string target);

    [LoggerMessage(2, LogLevel.Information, "Attached '{Program}' (program id {ProgramId}) to cgroup {Cgroup} through bpf_link {LinkId}{Pinned}")]
    public static partial void ProgramAttached(ILogger logger, string program, uint programId, string cgroup, uint linkId, string pinned);

    [LoggerMessage(3, LogLevel.Information, "Swapped '{Program}' into its pinned bpf_link {LinkId} on {Cgroup} (BPF_LINK_UPDATE): program id {OldProgramId} -> {ProgramId}")]
    public static partial void ProgramUpdated(ILogger logger, string program, uint linkId, string cgroup, uint oldProgramId, uint programId);

    [LoggerMessage(4, LogLevel.Warning, "The pinned link {Path} of '{Program}' is stale ({Reason}): attaching a new link in its place")]
    public static partial void StalePin(ILogger logger, string program, string path, string reason);

    [LoggerMessage(5, LogLevel.Error, "The kernel refused sock_ops program '{Program}': {Message}\nVerifier log:\n{VerifierLog}")]
    public static partial void ProgramRefused(ILogger logger, string program, string message, string verifierLog);

    [LoggerMessage(6, LogLevel.Error, "Sock_ops program '{Program}' cannot run on this kernel: {Message}")]
    public static partial void KernelNotSupported(ILogger logger, string program, string message);

    [LoggerMessage(7, LogLevel.Information, "Detached '{Program}' (bpf_link {LinkId}) from {Cgroup}")]
    public static partial void ProgramDetached(ILogger logger, string program, uint linkId, string cgroup);

    [LoggerMessage(8, LogLevel.Information, "Left '{Program}' attached to {Cgroup} through its pinned bpf_link {LinkId} at {Path} (KeepAttachedOnStop)")]
    public static partial void ProgramKeptAttached(ILogger logger, string program, string cgroup, uint linkId, string path);

    [LoggerMessage(9, LogLevel.Warning, "Another program named '{Name}' (id {ProgramId}) is attached to {Cgroup}, not through this service's link: a second instance without this pin directory? It is left alone")]
    public static partial void ForeignProgramWithSameName(ILogger logger, string name, uint programId, string cgroup);

    [LoggerMessage(10, LogLevel.Warning, "The map pinned at {Path} no longer matches the definition of '{Program}' ({Found}; now {Expected}): its state is dropped and a new map pinned")]
    public static partial void PinnedMapChanged(ILogger logger, string program, string path, string found, string expected);

    [LoggerMessage(11, LogLevel.Warning, "BPF run-time statistics could not be enabled ({Message}): the run count and run time metrics stay at 0")]
    public static partial void StatisticsUnavailable(ILogger logger, string message);

    [LoggerMessage(12, LogLevel.Information, "Created cgroup {Cgroup} (SockOps:CreateCgroup)")]
    public static partial void CgroupCreated(ILogger logger, string cgroup);

    [LoggerMessage(13, LogLevel.Error, "Detaching '{Program}' failed")]
    public static partial void DetachFailed(ILogger logger, string program, Exception error);

    [LoggerMessage(14, LogLevel.Warning, "The start failed after '{Program}' was swapped into link {LinkId}: swapped program {PreviousProgramId} back in, so the cgroup runs the version it ran before the start")]
    public static partial void ProgramRolledBack(ILogger logger, string program, uint linkId, uint previousProgramId);

    [LoggerMessage(15, LogLevel.Error, "The start failed after '{Program}' was swapped into link {LinkId}, and swapping program {PreviousProgramId} back failed: the link keeps the new version")]
    public static partial void RollbackFailed(ILogger logger, string program, uint linkId, uint previousProgramId, Exception exception);

}
