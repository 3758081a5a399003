using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using SockOps.Emit.Runtime;
using SockOps.Emit.TestSupport;
using SockOps.Programs;

namespace SockOps.Emit.Hosting.Tests;

/// <summary>
/// AddSockOps in a real generic host against the kernel: the program reaches the configured cgroup and the sockets of
/// a process in it, stop detaches, a restart swaps a new version into the pinned link without a gap, stale pins are
/// replaced, and the meter reports the kernel's counters. The oracles are the kernel's: BPF_PROG_QUERY on the cgroup,
/// bpf_link_info, getsockopt(SO_SNDBUF) in the client process, run_cnt.
/// </summary>
public class SockOpsHostTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static ProgramImage Bufs(int port, int size) => Programs.Bufs.Build(new Bufs.Options { Port = port, BufferSize = size });

    [Fact]
    public async Task Start_attaches_to_the_configured_cgroup_a_child_process_gets_the_setting_and_stop_detaches()
    {
        KernelGate.Require();
        using var server = new LoopbackTcp.DrainingServer();
        using var cgroup = Cgroup.CreateTemporary();
        int expected = TestHost.ExpectedSndBuf(60000);
        var logs = new LogSink();
        using var host = TestHost.Build(o =>
        {
            o.CgroupPath = cgroup.Path;
            o.AddProgram(Bufs(server.Port, 60000));
        }, logs: logs);
        var ct = TestContext.Current.CancellationToken;
        await host.StartAsync(ct);
        var programs = host.Services.GetRequiredService<SockOpsPrograms>();
        Assert.True(programs.Started.IsCompletedSuccessfully);
        var bufs = programs["bufs"];
        Assert.Equal(SockOpsAttachOutcome.Attached, bufs.Outcome);
        Assert.Equal([bufs.ProgramId], cgroup.QueryPrograms(AttachType.CgroupSockOps));
        Assert.Equal(cgroup.Id, bufs.Attachment.CgroupId);
        Assert.True(bufs.IsAttached);
        var health = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(ct);
        Assert.Equal(HealthStatus.Healthy, health.Status);
        Assert.Contains("Attached 'bufs'", logs.Text, StringComparison.Ordinal);

        using (var client = SndBufClient.Start(cgroup, server.Port, "20"))
            Assert.All(client.Finish(Timeout), v => Assert.Equal(expected, v));

        await host.StopAsync(ct);
        Assert.Empty(cgroup.QueryPrograms(AttachType.CgroupSockOps));
        Assert.False(bufs.IsAttached);
        health = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(ct);
        Assert.Equal(HealthStatus.Unhealthy, health.Status);
        using (var client = SndBufClient.Start(cgroup, server.Port, "5"))
            Assert.All(client.Finish(Timeout), v => Assert.NotEqual(expected, v));
    }

    [Fact]
    public async Task A_MeterListener_sees_the_kernels_run_count_and_run_time()
    {
        KernelGate.Require();
        using var server = new LoopbackTcp.DrainingServer();
        using var cgroup = Cgroup.CreateTemporary();
        using var host = TestHost.Build(o =>
        {
            o.CgroupPath = cgroup.Path;
            o.AddProgram(Bufs(server.Port, 60000));
        });
        var ct = TestContext.Current.CancellationToken;
        await host.StartAsync(ct);
        try
        {
            var meter = host.Services.GetRequiredService<SockOpsMetrics>().Meter;
            var values = new Dictionary<string, double>(StringComparer.Ordinal);
            using var listener = new MeterListener();
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter == meter) l.EnableMeasurementEvents(instrument);
            };
            void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
            {
                foreach (var tag in tags)
                    if (tag.Key == SockOpsMetrics.ProgramTag && (string?)tag.Value == "bufs") values[instrument.Name] = value;
            }
            listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
            listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
            listener.SetMeasurementEventCallback<int>((i, v, t, _) => Record(i, v, t));
            listener.Start();

            using (var client = SndBufClient.Start(cgroup, server.Port, "10"))
                client.Finish(Timeout);
            Assert.True(server.WaitForCompleted(10, Timeout));
            // Nothing else runs the program now (only the client's sockets are in the cgroup, and it has exited).
            listener.RecordObservableInstruments();
            var info = host.Services.GetRequiredService<SockOpsPrograms>()["bufs"].Loaded.Info;
            Assert.True(info.RunCount >= 10 * 5, $"run_cnt {info.RunCount}: statistics were not counting"); // ≥ 5 callbacks per connection
            Assert.Equal((double)info.RunCount, values["sockops.program.run.count"]);
            Assert.Equal(info.RunTimeNanoseconds / 1e9, values["sockops.program.run.time"]);
            Assert.Equal(1, values["sockops.program.attached"]);
        }
        finally
        {
            await host.StopAsync(ct);
        }
    }

    [Fact]
    public async Task Map_entries_are_metered_and_a_link_detached_behind_the_services_back_turns_health_and_the_gauge_off()
    {
        KernelGate.Require();
        using var cgroup = Cgroup.CreateTemporary();
        string pins = TestHost.NewPinDirectory();
        var image = SockOpsProgram.Build("metered", b =>
        {
            var counts = b.Map<int, ulong>("counts", MapType.Hash, 16);
            var slots = b.Map<int, ulong>("slots", MapType.Array, 8);
            b.IfNotNull(b.MapLookup(counts, 0), v => v.U64().Set(v.U64() + 1));
            b.IfNotNull(b.MapLookup(slots, 0), v => v.U64().Set(v.U64() + 1));
            b.Return(1);
        });
        using var host = TestHost.Build(o =>
        {
            o.CgroupPath = cgroup.Path;
            o.PinDirectory = pins;
            o.AddProgram(image);
        });
        var ct = TestContext.Current.CancellationToken;
        await host.StartAsync(ct);
        try
        {
            var hosted = host.Services.GetRequiredService<SockOpsPrograms>()["metered"];
            var counts = hosted.Loaded.Map<int, ulong>("counts");
            for (int key = 0; key < 5; key++) counts.Update(key, (ulong)key);
            var meter = host.Services.GetRequiredService<SockOpsMetrics>().Meter;
            var values = new Dictionary<string, long>(StringComparer.Ordinal);
            using var listener = new MeterListener();
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter == meter) l.EnableMeasurementEvents(instrument);
            };
            void Record(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
            {
                string key = instrument.Name;
                foreach (var tag in tags)
                    if (tag.Key == SockOpsMetrics.MapTag) key += "/" + tag.Value;
                values[key] = value;
            }
            listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
            listener.SetMeasurementEventCallback<int>((i, v, t, _) => Record(i, v, t));
            listener.Start();
            listener.RecordObservableInstruments();
            Assert.Equal(5, values["sockops.map.entries/counts"]);
            Assert.Equal(8, values["sockops.map.entries/slots"]); // an array always holds max_entries
            Assert.Equal(1, values["sockops.program.attached"]);

            // Someone detaches the pinned link (as `bpftool link detach` would): the kernel runs nothing any more.
            using (var pinned = CgroupAttachment.OpenPinnedLink(hosted.LinkPinPath!)) pinned.DetachLink();
            listener.RecordObservableInstruments();
            Assert.Equal(0, values["sockops.program.attached"]);
            var health = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(ct);
            Assert.Equal(HealthStatus.Unhealthy, health.Status);
            Assert.Contains("detached: metered", health.Entries["sockops"].Description, StringComparison.Ordinal);
        }
        finally
        {
            await host.StopAsync(ct);
            TestHost.RemovePins(pins);
        }
    }

    [Fact]
    public async Task A_restart_with_a_pin_directory_swaps_the_new_version_into_the_same_link_without_a_gap()
    {
        KernelGate.Require();
        using var server = new LoopbackTcp.DrainingServer();
        using var cgroup = Cgroup.CreateTemporary();
        string pins = TestHost.NewPinDirectory();
        int v1 = TestHost.ExpectedSndBuf(60000), v2 = TestHost.ExpectedSndBuf(90000);
        var ct = TestContext.Current.CancellationToken;
        try
        {
            uint linkId, firstProgramId;
            SndBufClient? started = null;
            using (var first = TestHost.Build(o =>
            {
                o.CgroupPath = cgroup.Path;
                o.PinDirectory = pins;
                o.KeepAttachedOnStop = true;
                o.AddProgram(Bufs(server.Port, 60000));
            }))
            {
                await first.StartAsync(ct);
                var hosted = first.Services.GetRequiredService<SockOpsPrograms>()["bufs"];
                (linkId, firstProgramId) = (hosted.LinkId, hosted.ProgramId);
                Assert.True(File.Exists(Path.Combine(pins, "bufs", "link")));
                // Connections run continuously from here until after the second start.
                started = SndBufClient.Start(cgroup, server.Port, "until-stop");
                Assert.True(started.WaitFor(v => v == v1, Timeout), "no connection got version 1's setting");
                await first.StopAsync(ct);
            }
            using var client = started;
            // Between the two processes the pinned link keeps version 1 attached.
            Assert.Equal([firstProgramId], cgroup.QueryPrograms(AttachType.CgroupSockOps));
            int beforeSecond = client.Values.Count;

            var logs = new LogSink();
            using (var second = TestHost.Build(o =>
            {
                o.CgroupPath = cgroup.Path;
                o.PinDirectory = pins;
                o.AddProgram(Bufs(server.Port, 90000));
            }, logs: logs))
            {
                await second.StartAsync(ct);
                var hosted = second.Services.GetRequiredService<SockOpsPrograms>()["bufs"];
                Assert.Equal(SockOpsAttachOutcome.Updated, hosted.Outcome);
                Assert.Equal(linkId, hosted.LinkId);
                Assert.Equal(firstProgramId, hosted.PreviousProgramId);
                Assert.NotEqual(firstProgramId, hosted.ProgramId);
                // One program on the hook: the new one, through the same link (no duplicate attachment).
                Assert.Equal([hosted.ProgramId], cgroup.QueryPrograms(AttachType.CgroupSockOps));
                Assert.Contains("BPF_LINK_UPDATE", logs.Text, StringComparison.Ordinal);
                Assert.True(client.WaitFor(v => v == v2, Timeout), "no connection got version 2's setting");
                var values = client.Finish(Timeout);
                Assert.True(values.Count > beforeSecond, "the client made no connection during the swap");
                // Every connection, before, during and after the swap, got one of the two versions' settings.
                Assert.All(values, v => Assert.True(v == v1 || v == v2, $"a connection got SO_SNDBUF {v}: neither {v1} nor {v2}"));
                Assert.Contains(v1, values);
                Assert.Contains(v2, values);
                // Connections are sequential: once one got version 2, every later one did (the swap is one step).
                int firstV2 = values.ToList().IndexOf(v2);
                Assert.All(values.Skip(firstV2), v => Assert.Equal(v2, v));
                Assert.True(firstV2 > beforeSecond, "version 2 appeared before the second start");
                TestContext.Current.SendDiagnosticMessage(
                    $"{values.Count} connections: {values.Count(v => v == v1)} v1, {values.Count(v => v == v2)} v2; {firstV2 - beforeSecond} between the first service's stop and the swap (v1 held by the pin)");

                await second.StopAsync(ct);
            }
            Assert.Empty(cgroup.QueryPrograms(AttachType.CgroupSockOps));
            Assert.False(Directory.Exists(Path.Combine(pins, "bufs")), "stop without KeepAttachedOnStop removes the pins");
        }
        finally
        {
            TestHost.RemovePins(pins);
        }
    }

    /// <summary>The control for the no-gap test: a restart that detaches at stop (the default) leaves a window in which
    /// connections get neither version, and the client sees it — the no-gap assertion is not vacuous.</summary>
    [Fact]
    public async Task Without_KeepAttachedOnStop_a_restart_has_a_gap_the_client_sees()
    {
        KernelGate.Require();
        using var server = new LoopbackTcp.DrainingServer();
        using var cgroup = Cgroup.CreateTemporary();
        string pins = TestHost.NewPinDirectory();
        int v1 = TestHost.ExpectedSndBuf(60000), v2 = TestHost.ExpectedSndBuf(90000);
        var ct = TestContext.Current.CancellationToken;
        void Configure(SockOpsOptions o, int size)
        {
            o.CgroupPath = cgroup.Path;
            o.PinDirectory = pins;
            o.AddProgram(Bufs(server.Port, size));
        }
        try
        {
            SndBufClient? started = null;
            using (var first = TestHost.Build(o => Configure(o, 60000)))
            {
                await first.StartAsync(ct);
                started = SndBufClient.Start(cgroup, server.Port, "until-stop");
                Assert.True(started.WaitFor(v => v == v1, Timeout));
                await first.StopAsync(ct);
            }
            using var client = started;
            Assert.True(client.WaitFor(v => v != v1 && v != v2, Timeout), "no connection ran while no program was attached");
            using var second = TestHost.Build(o => Configure(o, 90000));
            await second.StartAsync(ct);
            Assert.Equal(SockOpsAttachOutcome.Attached, second.Services.GetRequiredService<SockOpsPrograms>()["bufs"].Outcome);
            Assert.True(client.WaitFor(v => v == v2, Timeout));
            var values = client.Finish(Timeout);
            Assert.Contains(values, v => v != v1 && v != v2);
            await second.StopAsync(ct);
        }
        finally
        {
            TestHost.RemovePins(pins);
        }
    }

    [Fact]
    public async Task A_stale_pin_is_replaced_by_a_new_link_and_a_pin_on_another_cgroup_is_detached_there()
    {
        KernelGate.Require();
        using var server = new LoopbackTcp.DrainingServer();
        using var cgroup = Cgroup.CreateTemporary();
        using var other = Cgroup.CreateTemporary();
        string pins = TestHost.NewPinDirectory();
        string linkPath = Path.Combine(pins, "bufs", "link");
        var ct = TestContext.Current.CancellationToken;
        void Configure(SockOpsOptions o, Cgroup target)
        {
            o.CgroupPath = target.Path;
            o.PinDirectory = pins;
            o.KeepAttachedOnStop = true;
            o.AddProgram(Bufs(server.Port, 60000));
        }
        async Task<(uint Link, uint Program, SockOpsAttachOutcome Outcome, string Log)> RunOnce(Cgroup target)
        {
            var logs = new LogSink();
            using var host = TestHost.Build(o => Configure(o, target), logs: logs);
            await host.StartAsync(ct);
            var hosted = host.Services.GetRequiredService<SockOpsPrograms>()["bufs"];
            var result = (hosted.LinkId, hosted.ProgramId, hosted.Outcome, logs.Text);
            await host.StopAsync(ct);
            return result;
        }
        try
        {
            var first = await RunOnce(cgroup);
            Assert.Equal(SockOpsAttachOutcome.Attached, first.Outcome);

            // Stale: the pinned link was detached (as by `bpftool link detach`); it still opens, but holds no cgroup.
            using (var pinned = CgroupAttachment.OpenPinnedLink(linkPath)) pinned.DetachLink();
            Assert.Empty(cgroup.QueryPrograms(AttachType.CgroupSockOps));
            var second = await RunOnce(cgroup);
            Assert.Equal(SockOpsAttachOutcome.Reattached, second.Outcome);
            Assert.NotEqual(first.Link, second.Link);
            Assert.Contains("stale", second.Log, StringComparison.Ordinal);
            Assert.Equal([second.Program], cgroup.QueryPrograms(AttachType.CgroupSockOps));

            // SockOps:CgroupPath changed: the pinned link holds the old cgroup; it is detached there, not left behind.
            var third = await RunOnce(other);
            Assert.Equal(SockOpsAttachOutcome.Reattached, third.Outcome);
            Assert.Contains("another cgroup", third.Log, StringComparison.Ordinal);
            Assert.Empty(cgroup.QueryPrograms(AttachType.CgroupSockOps));
            Assert.Equal([third.Program], other.QueryPrograms(AttachType.CgroupSockOps));
            using (var pinned = CgroupAttachment.OpenPinnedLink(linkPath))
            {
                Assert.Equal(third.Link, pinned.LinkId);
                Assert.Equal(other.Id, pinned.CgroupId);
                pinned.DetachLink();
            }
        }
        finally
        {
            TestHost.RemovePins(pins);
        }
    }

    /// <summary>An upgrade is all or nothing: when a later program cannot be attached (here because the cgroup already
    /// holds the kernel's maximum of 64 programs, BPF_CGROUP_MAX_PROGS), the pinned link this start had already swapped
    /// to the new version gets the previous version back, so the cgroup keeps running what it ran before.</summary>
    [Fact]
    public async Task A_start_that_fails_after_swapping_a_pinned_link_swaps_the_previous_version_back()
    {
        KernelGate.Require();
        using var cgroup = Cgroup.CreateTemporary();
        string pins = TestHost.NewPinDirectory();
        string linkPath = Path.Combine(pins, "bufs", "link");
        var ct = TestContext.Current.CancellationToken;
        var fillers = new List<(LoadedSockOpsProgram Program, CgroupAttachment Link)>();
        try
        {
            uint v1, linkId;
            using (var first = TestHost.Build(o =>
            {
                o.CgroupPath = cgroup.Path;
                o.PinDirectory = pins;
                o.KeepAttachedOnStop = true;
                o.AddProgram(Bufs(55001, 60000));
            }))
            {
                await first.StartAsync(ct);
                var bufs = first.Services.GetRequiredService<SockOpsPrograms>()["bufs"];
                (v1, linkId) = (bufs.ProgramId, bufs.LinkId);
                await first.StopAsync(ct);
            }

            for (int i = 0; i < 63; i++)
            {
                var filler = SockOpsHost.Load(SockOpsProgram.Build("filler", b => b.Return(1)));
                fillers.Add((filler, CgroupAttachment.Attach(cgroup, filler.Program, AttachType.CgroupSockOps, CgroupAttachMode.Multi, AttachMechanism.Link)));
            }
            Assert.Equal(64, cgroup.QueryPrograms(AttachType.CgroupSockOps).Count);

            var logs = new LogSink();
            using var upgrade = TestHost.Build(o =>
            {
                o.CgroupPath = cgroup.Path;
                o.PinDirectory = pins;
                o.KeepAttachedOnStop = true;
                o.AddProgram(Bufs(55001, 90000));                               // v2: swapped into the pinned link first
                o.AddProgram(SockOpsProgram.Build("second", b => b.Return(1))); // a new link: the 65th program, refused
            }, logs: logs);
            var failure = await Assert.ThrowsAsync<BpfException>(() => upgrade.StartAsync(ct));
            Assert.Equal("E2BIG", failure.ErrnoName);
            Assert.Contains("Swapped 'bufs' into its pinned bpf_link", logs.Text, StringComparison.Ordinal);
            Assert.Contains($"swapped program {v1} back in", logs.Text, StringComparison.Ordinal);

            // The kernel's view: the same link, holding v1 again; nothing of the failed start left on the cgroup.
            using var pinned = CgroupAttachment.OpenPinnedLink(linkPath);
            Assert.Equal(linkId, pinned.LinkId);
            Assert.Equal(v1, pinned.ProgramId);
            var attached = cgroup.QueryPrograms(AttachType.CgroupSockOps);
            Assert.Equal(64, attached.Count);
            Assert.Contains(v1, attached);
            pinned.DetachLink();
        }
        finally
        {
            foreach (var (program, link) in fillers)
            {
                link.Dispose();
                program.Dispose();
            }
            TestHost.RemovePins(pins);
        }
    }

    /// <summary>The service's cgroup was removed and created again between two runs (e.g. its unit was restarted): the
    /// pinned link is defunct (cgroup_id 0), and the next start attaches to the new cgroup instead of updating it.</summary>
    [Fact]
    public async Task A_pin_whose_cgroup_was_removed_and_recreated_is_replaced()
    {
        KernelGate.Require();
        using var parent = Cgroup.CreateTemporary();
        string path = Path.Combine(parent.Path, "service");
        string pins = TestHost.NewPinDirectory();
        var ct = TestContext.Current.CancellationToken;
        var configuration = new Dictionary<string, string?>
        {
            ["SockOps:CgroupPath"] = path,
            ["SockOps:CreateCgroup"] = "true",
            ["SockOps:PinDirectory"] = pins,
            ["SockOps:KeepAttachedOnStop"] = "true",
        };
        try
        {
            uint firstLink;
            using (var first = TestHost.Build(o => o.AddProgram(Programs.Bufs.Build()), configuration))
            {
                await first.StartAsync(ct);
                firstLink = first.Services.GetRequiredService<SockOpsPrograms>()["bufs"].LinkId;
                await first.StopAsync(ct);
            }
            Directory.Delete(path); // the cgroup goes; its programs are released from a kernel work item
            using (var pinned = CgroupAttachment.OpenPinnedLink(Path.Combine(pins, "bufs", "link")))
            {
                var deadline = DateTime.UtcNow.AddSeconds(5);
                while (!pinned.IsDefunct && DateTime.UtcNow < deadline) await Task.Delay(10, ct);
                Assert.True(pinned.IsDefunct);
            }
            var logs = new LogSink();
            using var second = TestHost.Build(o => o.AddProgram(Programs.Bufs.Build()), configuration, logs);
            await second.StartAsync(ct);
            var hosted = second.Services.GetRequiredService<SockOpsPrograms>()["bufs"];
            Assert.Equal(SockOpsAttachOutcome.Reattached, hosted.Outcome);
            Assert.NotEqual(firstLink, hosted.LinkId);
            Assert.Contains("its cgroup was removed", logs.Text, StringComparison.Ordinal);
            using (var recreated = Cgroup.Open(path))
                Assert.Equal([hosted.ProgramId], recreated.QueryPrograms(AttachType.CgroupSockOps));
            await second.StopAsync(ct);
        }
        finally
        {
            TestHost.RemovePins(pins);
            if (Directory.Exists(path)) Directory.Delete(path);
        }
    }

    [Fact]
    public async Task Pinned_maps_keep_their_state_across_a_restart()
    {
        KernelGate.Require();
        using var cgroup = Cgroup.CreateTemporary();
        string pins = TestHost.NewPinDirectory();
        var image = SockOpsProgram.Build("state", b =>
        {
            var counts = b.Map<int, ulong>("counts", MapType.Hash, 4);
            b.IfNotNull(b.MapLookup(counts, 0), v => v.U64().Set(v.U64() + 1));
            b.Return(1);
        });
        var ct = TestContext.Current.CancellationToken;
        try
        {
            using (var first = TestHost.Build(o =>
            {
                o.CgroupPath = cgroup.Path;
                o.PinDirectory = pins;
                o.KeepAttachedOnStop = true;
                o.AddProgram(image);
            }))
            {
                await first.StartAsync(ct);
                first.Services.GetRequiredService<SockOpsPrograms>()["state"].Loaded.Map<int, ulong>("counts").Update(7, 42);
                await first.StopAsync(ct);
            }
            Assert.True(File.Exists(Path.Combine(pins, "state", "maps", "counts")));
            using var second = TestHost.Build(o =>
            {
                o.CgroupPath = cgroup.Path;
                o.PinDirectory = pins;
                o.AddProgram(image);
            });
            await second.StartAsync(ct);
            var hosted = second.Services.GetRequiredService<SockOpsPrograms>()["state"];
            Assert.Equal(42UL, hosted.Loaded.Map<int, ulong>("counts").Lookup(7));
            await second.StopAsync(ct);
            Assert.False(Directory.Exists(Path.Combine(pins, "state")));
        }
        finally
        {
            TestHost.RemovePins(pins);
        }
    }

    [Fact]
    public async Task A_refused_program_fails_the_start_logs_the_verifier_log_and_leaves_nothing_attached()
    {
        // Emitted for root (trace_printk needs CAP_PERFMON), started by a thread without CAP_PERFMON: only the kernel refuses it.
        var image = SockOpsProgram.Build("refused", b =>
        {
            var counts = b.Map<int, ulong>("counts", MapType.Hash, 4); // created and pinned before the verifier refuses
            b.IfNotNull(b.MapLookup(counts, 0), v => v.U64().Set(v.U64() + 1));
            b.Printk("op %u\n", b.Context.Op);
            b.Return(1);
        });
        KernelGate.Require();
        using var cgroup = Cgroup.CreateTemporary();
        string pins = TestHost.NewPinDirectory();
        var logs = new LogSink();
        using var host = TestHost.Build(o =>
        {
            o.CgroupPath = cgroup.Path;
            o.PinDirectory = pins;
            o.AddProgram(Programs.Bufs.Build());
            o.AddProgram(image);
        }, logs: logs);
        var error = ThreadCapabilities.RunWithout([ThreadCapabilities.Perfmon, ThreadCapabilities.SysAdmin],
            () => Record.Exception(() => host.StartAsync(TestContext.Current.CancellationToken).GetAwaiter().GetResult()));
        var refused = Assert.IsType<ProgramRefusedException>(error);
        Assert.Equal("refused", refused.ProgramName);
        Assert.Contains("cannot use helper", logs.Text, StringComparison.Ordinal); // the verifier log, in the log
        Assert.Contains("SockOpsHostTests.cs:", logs.Text, StringComparison.Ordinal); // the C# line
        Assert.Empty(cgroup.QueryPrograms(AttachType.CgroupSockOps)); // bufs loaded first but was never attached
        Assert.True(host.Services.GetRequiredService<SockOpsPrograms>().Started.IsFaulted);
        bool leftovers = Directory.Exists(pins);
        TestHost.RemovePins(pins);
        Assert.False(leftovers, "the failed start left its map pins");
    }
}
