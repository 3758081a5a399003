using SockOps.Emit.Runtime;

namespace SockOps.Emit.Testing.Tests;

public sealed class LoopbackHarnessTests
{
    [Fact]
    public void The_attached_program_sets_both_ends_and_a_plain_cgroup_does_not()
    {
        TestPrograms.RequireKernel();
        LoopbackResult with, without;
        string cgroupPath;
        using (var attached = AttachedProgram.Attach(TestPrograms.Buffers()))
        {
            cgroupPath = attached.Cgroup.Path;
            Assert.Contains(attached.Program.Info.Id, attached.Cgroup.QueryPrograms(AttachType.CgroupSockOps));
            with = attached.RunLoopback(new LoopbackOptions { Connections = 2, Bytes = 100_000 });
        }
        Assert.False(Directory.Exists(cgroupPath));
        using (var plain = Cgroup.CreateTemporary(prefix: "sockops-test"))
            without = LoopbackHarness.Run(plain);

        Assert.Equal(2, with.Connections.Count);
        foreach (var c in with.Connections)
        {
            // Linux reports twice what setsockopt set (socket(7)).
            Assert.Equal(2 * TestPrograms.BufferSize, c.Client.SendBuffer);
            Assert.Equal(2 * TestPrograms.BufferSize, c.Client.ReceiveBuffer);
            Assert.Equal(2 * TestPrograms.BufferSize, c.Server.SendBuffer);
            Assert.Equal(2 * TestPrograms.BufferSize, c.Server.ReceiveBuffer);
            Assert.Equal(c.Client.LocalPort, c.Server.RemotePort);
            Assert.Equal(c.Port, c.Client.RemotePort);
            Assert.Equal(1, c.Client.TcpInfo.State); // ESTABLISHED
            Assert.True(c.Client.TcpInfo.BytesAcked >= 100_000, $"bytes_acked {c.Client.TcpInfo.BytesAcked}");
            Assert.True(c.Server.TcpInfo.BytesReceived >= 100_000, $"bytes_received {c.Server.TcpInfo.BytesReceived}");
            Assert.NotEqual(0UL, c.Client.Cookie);
            Assert.NotEqual(c.Client.Cookie, c.Server.Cookie);
        }
        Assert.NotEqual(2 * TestPrograms.BufferSize, without.Connections[0].Client.SendBuffer);
        Assert.NotEqual(2 * TestPrograms.BufferSize, without.Connections[0].Server.ReceiveBuffer);
    }

    [Fact]
    public void A_fixed_ipv6_port_in_a_private_namespace_with_extra_options_and_congestion_control()
    {
        TestPrograms.RequireKernel();
        if (KernelRequirement.CheckNetworkNamespaces() is { } reason) Assert.Skip(reason);
        using var attached = AttachedProgram.Attach(TestPrograms.Buffers());
        const int TcpLevel = 6, TcpMaxSeg = 2, TcpNoDelay = 1;
        var result = attached.RunLoopback(new LoopbackOptions
        {
            Ipv6 = true,
            Port = 55601,
            CongestionControl = "reno",
            Duration = TimeSpan.FromMilliseconds(200),
            ExtraOptions = [(TcpLevel, TcpMaxSeg), (TcpLevel, TcpNoDelay)],
        });
        Assert.True(result.PrivateNetworkNamespace);
        var c = Assert.Single(result.Connections);
        Assert.Equal(55601, c.Port);
        Assert.Equal("reno", c.Client.CongestionControl);
        Assert.Equal(result.DefaultCongestionControl, c.Server.CongestionControl);
        Assert.Equal(2 * TestPrograms.BufferSize, c.Server.SendBuffer);
        Assert.Equal(0, c.Client.GetOption(TcpLevel, TcpNoDelay));
        Assert.InRange(c.Client.GetOption(TcpLevel, TcpMaxSeg), 500, 65535);
        Assert.Equal((int)c.Client.TcpInfo.SendMss, c.Client.GetOption(TcpLevel, TcpMaxSeg));
        Assert.True(c.Client.TcpInfo.RttMicroseconds > 0);
        Assert.Throws<KeyNotFoundException>(() => c.Client.GetOption(TcpLevel, 99));
    }

    [Fact]
    public void Without_a_private_namespace_the_client_uses_this_one()
    {
        TestPrograms.RequireKernel();
        using var attached = AttachedProgram.Attach(TestPrograms.Buffers());
        var result = attached.RunLoopback(new LoopbackOptions { PrivateNetworkNamespace = false });
        Assert.False(result.PrivateNetworkNamespace);
        // The namespace's settings are this process's own: the client read them in the same namespace.
        Assert.Equal(int.Parse(File.ReadAllText("/proc/sys/net/core/wmem_max").Trim(), System.Globalization.CultureInfo.InvariantCulture), result.WmemMax);
        Assert.Equal(File.ReadAllText("/proc/sys/net/ipv4/tcp_congestion_control").Trim(), result.DefaultCongestionControl);
        Assert.Equal(2 * TestPrograms.BufferSize, Assert.Single(result.Connections).Server.ReceiveBuffer);
    }

    [Fact]
    public void A_client_failure_is_a_harness_exception_with_its_message()
    {
        TestPrograms.RequireKernel();
        using var cgroup = Cgroup.CreateTemporary(prefix: "sockops-test");
        var e = Assert.Throws<LoopbackHarnessException>(() => LoopbackHarness.Run(cgroup, new LoopbackOptions { CongestionControl = "no-such-cc" }));
        Assert.Contains("exited with 1", e.Message, StringComparison.Ordinal);
        Assert.Contains("SocketException", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_out_of_range_are_refused_before_a_process_starts()
    {
        TestPrograms.RequireKernel();
        using var cgroup = Cgroup.CreateTemporary(prefix: "sockops-test");
        Assert.Throws<ArgumentOutOfRangeException>(() => LoopbackHarness.Run(cgroup, new LoopbackOptions { Port = 70000 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => LoopbackHarness.Run(cgroup, new LoopbackOptions { Connections = 0 }));
    }
}
