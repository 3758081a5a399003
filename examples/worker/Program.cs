using SockOps.Emit.Hosting;
using SockOps.Examples.Worker;
using SockOps.Programs;

// The cgroup, pin directory and restart behaviour come from appsettings.json (section "SockOps"); the programs from code.
var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddSockOps(o =>
{
    // A stream of RTT/state events for every connection, and 256 KiB socket buffers for connections on port 8080.
    // The order matters: the programs run in the order they are added and share one struct bpf_sock_ops, in which
    // `reply` and `args[0]` are one word (a union). bufs sets the reply (-1 for other ports), so rtt_metrics, which
    // reads args[0] (the old state of a STATE_CB), must run before it (docs/hosting.md).
    o.AddProgram(RttMetrics.Build());
    o.AddProgram(Bufs.Build(new Bufs.Options { Port = 8080, BufferSize = 256 * 1024 }));
});
builder.Services.AddHostedService<RttWorker>();
builder.Build().Run();
