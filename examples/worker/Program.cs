using SockOps.Emit.Hosting;
using SockOps.Examples.Worker;
using SockOps.Programs;

// The cgroup, pin directory and restart behaviour come from appsettings.json (section "SockOps"); the programs from code.
var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddSockOps(o =>
{
    // 256 KiB socket buffers for connections on port 8080, and a stream of RTT/state events for every connection.
    o.AddProgram(Bufs.Build(new Bufs.Options { Port = 8080, BufferSize = 256 * 1024 }));
    o.AddProgram(RttMetrics.Build());
});
builder.Services.AddHostedService<RttWorker>();
builder.Build().Run();
