using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace SockOps.Emit.Hosting;

/// <summary>
/// Healthy while every hosted program is attached to its cgroup as the kernel reports it (the link holds the hook and
/// BPF_PROG_QUERY lists the program); unhealthy before start, after a failed start, after stop, or when a program was
/// detached behind the service's back (e.g. the cgroup was removed). The data holds each program's state.
/// </summary>
public sealed class SockOpsHealthCheck : IHealthCheck
{
    private readonly SockOpsPrograms _programs;

    /// <summary>Creates the check.</summary>
    public SockOpsHealthCheck(SockOpsPrograms programs)
    {
        ArgumentNullException.ThrowIfNull(programs);
        _programs = programs;
    }

    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (_programs.Started.IsFaulted)
            return Task.FromResult(HealthCheckResult.Unhealthy("the sock_ops service failed to start", _programs.Started.Exception?.InnerException));
        if (!_programs.IsRunning)
            return Task.FromResult(HealthCheckResult.Unhealthy("the sock_ops service is not running"));
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        var detached = new List<string>();
        foreach (var program in _programs.Programs)
        {
            bool attached = program.IsAttached;
            data[program.Name] = attached ? $"attached to {program.CgroupPath} (link {program.LinkId}, program {program.ProgramId})" : "detached";
            if (!attached) detached.Add(program.Name);
        }
        return Task.FromResult(detached.Count == 0
            ? HealthCheckResult.Healthy($"{data.Count} sock_ops program(s) attached", data)
            : HealthCheckResult.Unhealthy($"detached: {string.Join(", ", detached)}", data: data));
    }
}
