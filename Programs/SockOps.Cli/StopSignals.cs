using System.Runtime.InteropServices;

namespace SockOps.Cli;

/// <summary>
/// SIGINT and SIGTERM for the verbs that create kernel objects (attach, exec, demo). Registered before the first
/// object exists, a signal never terminates the process: it is recorded, <see cref="Token"/> is cancelled and the
/// <see cref="OnStop"/> actions run, each guarded, so nothing a handler meets can skip the verb's own cleanup (its
/// finally blocks remove the temporary cgroup and detach the programs).
/// </summary>
internal sealed class StopSignals : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly PosixSignalRegistration _interrupt;
    private readonly PosixSignalRegistration _terminate;
    private readonly Lock _gate = new();
    private readonly List<Action> _actions = [];
    private int _signal;

    public StopSignals()
    {
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle);
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle);
    }

    /// <summary>Cancelled by the first SIGINT or SIGTERM.</summary>
    public CancellationToken Token => _stop.Token;

    /// <summary>A SIGINT or SIGTERM arrived.</summary>
    public bool Requested => Volatile.Read(ref _signal) != 0;

    /// <summary>The shell's exit status for the signal that stopped the verb (128 + its number).</summary>
    public int ExitCode => 128 + Volatile.Read(ref _signal);

    /// <summary>Runs <paramref name="action"/> when a signal arrives, or now when one already has; its exceptions are swallowed.</summary>
    public void OnStop(Action action)
    {
        lock (_gate) _actions.Add(action);
        if (Requested) RunGuarded(action);
    }

    private void Handle(PosixSignalContext context)
    {
        // Never the default action (terminate without running finally blocks); the verb stops itself and cleans up.
        context.Cancel = true;
        try
        {
            Interlocked.CompareExchange(ref _signal, context.Signal == PosixSignal.SIGINT ? 2 : 15, 0);
            try
            {
                _stop.Cancel();
            }
            catch (Exception e) when (e is ObjectDisposedException or AggregateException)
            {
                // Disposed while the signal arrived, or a token callback failed: the flag above still stops the verb.
            }
            Action[] actions;
            lock (_gate) actions = [.. _actions];
            foreach (Action action in actions) RunGuarded(action);
        }
#pragma warning disable CA1031 // A signal handler that throws takes the process down before the cleanup runs.
        catch (Exception)
        {
        }
    }

    private static void RunGuarded(Action action)
    {
        try
        {
            action();
        }
        catch (Exception)
        {
        }
#pragma warning restore CA1031
    }

    /// <summary>Unregisters the handlers (the process's default signal behaviour returns).</summary>
    public void Dispose()
    {
        _interrupt.Dispose();
        _terminate.Dispose();
        _stop.Dispose();
    }
}
