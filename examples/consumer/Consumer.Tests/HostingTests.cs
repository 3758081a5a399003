using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SockOps.Emit;
using SockOps.Emit.Hosting;
using SockOps.Emit.Runtime;
using SockOps.Emit.Testing;

namespace Consumer.Tests;

public sealed class HostingTests
{
    private const int Port = 5433;

    [Fact]
    public async Task A_generic_host_attaches_the_program_while_it_runs_and_detaches_at_stop()
    {
        if (KernelRequirement.Check() is { } reason) Assert.Skip(reason);
        var cancel = TestContext.Current.CancellationToken;
        using var cgroup = Cgroup.CreateTemporary(prefix: "consumer-host");
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSockOps(o =>
        {
            o.CgroupPath = cgroup.Path;
            o.AddProgram(PortBuffers.Build(Port));
        });
        using var host = builder.Build();

        await host.StartAsync(cancel);
        Assert.Single(cgroup.QueryPrograms(AttachType.CgroupSockOps));
        var hosted = Assert.Single(LoopbackHarness.Run(cgroup, new LoopbackOptions { Port = Port }).Connections);
        Assert.Equal(2 * PortBuffers.BufferSize, hosted.Client.SendBuffer);
        Assert.Equal(2 * PortBuffers.BufferSize, hosted.Server.SendBuffer);

        await host.StopAsync(cancel);
        Assert.Empty(cgroup.QueryPrograms(AttachType.CgroupSockOps));
        var after = Assert.Single(LoopbackHarness.Run(cgroup, new LoopbackOptions { Port = Port }).Connections);
        Assert.NotEqual(2 * PortBuffers.BufferSize, after.Server.SendBuffer);
    }
}
