namespace SockOps.Emit.Hosting;

/// <summary>
/// The programs the hosted service runs (a singleton in the service provider). Inject it into a BackgroundService to
/// read ring buffers or maps: <c>await programs.Started</c>, then <c>programs["name"].ReadRingBufferAsync&lt;T&gt;(…)</c>.
/// </summary>
public sealed class SockOpsPrograms
{
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile IReadOnlyList<HostedSockOpsProgram> _programs = [];

    /// <summary>Completes when every program is loaded and attached; faults with the start's exception when it failed.</summary>
    public Task Started => _started.Task;

    /// <summary>The hosted programs in registration order (empty before start and after stop).</summary>
    public IReadOnlyList<HostedSockOpsProgram> Programs => _programs;

    /// <summary>Whether the service is between a successful start and its stop.</summary>
    public bool IsRunning { get; private set; }

    /// <summary>The program named <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No hosted program has that name (or the service is not running).</exception>
    public HostedSockOpsProgram this[string name] =>
        _programs.FirstOrDefault(p => p.Name == name)
        ?? throw new KeyNotFoundException($"No hosted sock_ops program is named '{name}' (running: {string.Join(", ", _programs.Select(p => p.Name))}).");

    internal void SetStarted(IReadOnlyList<HostedSockOpsProgram> programs)
    {
        _programs = programs;
        IsRunning = true;
        _started.TrySetResult();
    }

    internal void SetFailed(Exception error) => _started.TrySetException(error);

    internal void SetStopped()
    {
        IsRunning = false;
        foreach (var program in _programs) program.MarkStopped();
        _programs = [];
        _started.TrySetCanceled();
    }
}
