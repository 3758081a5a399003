using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SockOps.Emit.Runtime;
using SockOps.Emit.TestSupport;
using SockOps.Programs;

namespace SockOps.Emit.Hosting.Tests;

/// <summary>A BackgroundService reads a hosted program's ring buffer as an IAsyncEnumerable; the meter counts the records.</summary>
public class RingBufferTests
{
    /// <summary>What a user's worker does: wait for the programs, then stream the events.</summary>
    private sealed class EventCollector(SockOpsPrograms programs, ConcurrentQueue<RttMetricsEvent> events) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            await programs.Started.WaitAsync(stoppingToken);
            await foreach (var e in programs["rtt_metrics"].ReadRingBufferAsync<RttMetricsEvent>(RttMetrics.RingBufferName, stoppingToken))
                events.Enqueue(e);
        }
    }

    [Fact]
    public async Task A_background_service_streams_the_records_and_the_meter_counts_them()
    {
        KernelGate.Require();
        using var server = new LoopbackTcp.DrainingServer();
        using var cgroup = Cgroup.CreateTemporary();
        var events = new ConcurrentQueue<RttMetricsEvent>();
        using var host = TestHost.Build(o =>
        {
            o.CgroupPath = cgroup.Path;
            o.AddProgram(RttMetrics.Build());
        }, services: s => s.AddSingleton(events).AddHostedService<EventCollector>());
        var ct = TestContext.Current.CancellationToken;
        var meter = host.Services.GetRequiredService<SockOpsMetrics>().Meter;
        long counted = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter == meter && instrument.Name == "sockops.ringbuffer.records") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref counted, value));
        listener.Start();
        await host.StartAsync(ct);
        try
        {
            using (var client = SndBufClient.Start(cgroup, server.Port, "5"))
                client.Finish(TimeSpan.FromSeconds(30));
            bool Established() => events.Count(e => e.Op == (uint)SockOp.ActiveEstablishedCb && e.RemotePort == server.Port) == 5;
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (!Established() && DateTime.UtcNow < deadline) await Task.Delay(10, ct);
            Assert.True(Established(), $"{events.Count} events, not 5 ACTIVE_ESTABLISHED ones to port {server.Port}");
            Assert.Equal(events.Count, Interlocked.Read(ref counted));
        }
        finally
        {
            await host.StopAsync(ct);
        }
    }
}
