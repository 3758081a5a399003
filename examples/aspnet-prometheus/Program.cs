using OpenTelemetry.Metrics;
using SockOps.Emit.Hosting;
using SockOps.Programs;

// SockOps:CgroupPath from appsettings.json or the command line (--SockOps:CgroupPath=/sys/fs/cgroup/web).
var builder = WebApplication.CreateBuilder(args);
builder.Services.AddSockOps(o => o.AddProgram(Bufs.Build(new Bufs.Options { Port = 8080, BufferSize = 256 * 1024 })));
builder.Services.AddHealthChecks().AddSockOps();
builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
    .AddMeter(SockOpsMetrics.MeterName)
    .AddPrometheusExporter());

var app = builder.Build();
app.MapPrometheusScrapingEndpoint(); // GET /metrics: sockops_program_run_count_total{sockops_program="bufs"} …
app.MapHealthChecks("/healthz");     // Healthy while every program is attached
app.MapGet("/", () => "SockOps.Emit example: /metrics, /healthz");
app.Run();
