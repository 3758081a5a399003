using SockOps.Emit;
using SockOps.Emit.Hosting;
using SockOps.Programs;

namespace SockOps.Examples.Worker;

/// <summary>Logs every established connection and state change the rtt_metrics program reports.</summary>
internal sealed partial class RttWorker(SockOpsPrograms programs, ILogger<RttWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The SockOps hosted service starts first; Started also faults when it failed, ending this worker with it.
        await programs.Started.WaitAsync(stoppingToken);
        var rtt = programs["rtt_metrics"];
        await foreach (var e in rtt.ReadRingBufferAsync<RttMetricsEvent>(RttMetrics.RingBufferName, stoppingToken))
        {
            if (e.Op is (uint)SockOp.ActiveEstablishedCb or (uint)SockOp.PassiveEstablishedCb)
                Established(logger, e.Cookie, e.LocalPort, e.RemotePort, e.SrttUs / 8);
            else if (e.Op == (uint)SockOp.StateCb)
                StateChanged(logger, e.Cookie, (TcpState)e.OldState, (TcpState)e.State, e.SrttUs / 8, e.TotalRetrans);
        }
    }

    [LoggerMessage(1, LogLevel.Information, "connection {Cookie}: established {LocalPort} -> {RemotePort}, srtt {SrttUs} us")]
    private static partial void Established(ILogger logger, ulong cookie, uint localPort, uint remotePort, uint srttUs);

    [LoggerMessage(2, LogLevel.Information, "connection {Cookie}: {OldState} -> {State}, srtt {SrttUs} us, {Retransmits} retransmits")]
    private static partial void StateChanged(ILogger logger, ulong cookie, TcpState oldState, TcpState state, uint srttUs, uint retransmits);
}
