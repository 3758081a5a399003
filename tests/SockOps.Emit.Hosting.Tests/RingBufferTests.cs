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

    /// <summary>
    /// Programs run in the order they were added (attach order on the cgroup) and share one struct bpf_sock_ops, whose
    /// <c>reply</c> and <c>args[0]</c> are one word: bufs answers -1 for other ports, which rtt_metrics, added after it,
    /// reads as the old state of every STATE_CB; added before it, rtt_metrics reads the kernel's value.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Programs_run_in_the_order_added_and_a_reply_overwrites_args0_for_the_programs_after(bool rttFirst)
    {
        KernelGate.Require();
        using var server = new LoopbackTcp.DrainingServer();
        using var cgroup = Cgroup.CreateTemporary();
        var bufs = Programs.Bufs.Build(new Bufs.Options { Port = server.Port == 1 ? 2 : 1 }); // acts on no connection of the test
        var rtt = RttMetrics.Build();
        using var host = TestHost.Build(o =>
        {
            o.CgroupPath = cgroup.Path;
            if (rttFirst) o.AddProgram(rtt).AddProgram(bufs);
            else o.AddProgram(bufs).AddProgram(rtt);
        });
        var ct = TestContext.Current.CancellationToken;
        await host.StartAsync(ct);
        try
        {
            var programs = host.Services.GetRequiredService<SockOpsPrograms>();
            var order = rttFirst ? new[] { "rtt_metrics", "bufs" } : ["bufs", "rtt_metrics"];
            Assert.Equal(order.Select(n => programs[n].ProgramId), cgroup.QueryPrograms(AttachType.CgroupSockOps));
            using (var client = SndBufClient.Start(cgroup, server.Port, "1"))
                client.Finish(TimeSpan.FromSeconds(30));
            var states = new List<RttMetricsEvent>();
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(TimeSpan.FromSeconds(10));
            await foreach (var e in programs["rtt_metrics"].ReadRingBufferAsync<RttMetricsEvent>(RttMetrics.RingBufferName, cts.Token))
            {
                if (e.Op == (uint)SockOp.StateCb && e.RemotePort == server.Port) states.Add(e);
                if (states.Count == 4) break; // SYN_SENT→ESTABLISHED→FIN_WAIT1→FIN_WAIT2→CLOSE
            }
            Assert.Equal(4, states.Count);
            if (rttFirst)
                Assert.Equal([TcpState.SynSent, TcpState.Established, TcpState.FinWait1, TcpState.FinWait2], states.Select(e => (TcpState)e.OldState));
            else
                Assert.All(states, e => Assert.Equal(uint.MaxValue, e.OldState));
        }
        finally
        {
            await host.StopAsync(ct);
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
