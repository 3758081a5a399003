using SockOps.Emit.Testing;

namespace Consumer.Tests;

public sealed class PortBuffersTests
{
    private const int Port = 5432;

    [Fact]
    public void Bytecode_is_reviewed()
    {
        // PortBuffersTests.Bytecode_is_reviewed.verified.txt beside this file; CI never accepts a change.
        ProgramSnapshot.Verify(PortBuffers.Build(Port));
    }

    [Fact]
    public void Both_ends_on_the_port_get_the_buffers_and_other_ports_do_not()
    {
        if (KernelRequirement.Check() is { } reason) Assert.Skip(reason);
        using var attached = AttachedProgram.Attach(PortBuffers.Build(Port));

        var onPort = Assert.Single(attached.RunLoopback(new LoopbackOptions { Port = Port, Bytes = 65536 }).Connections);
        // Linux reports twice what setsockopt set (socket(7)).
        Assert.Equal(2 * PortBuffers.BufferSize, onPort.Client.SendBuffer);
        Assert.Equal(2 * PortBuffers.BufferSize, onPort.Client.ReceiveBuffer);
        Assert.Equal(2 * PortBuffers.BufferSize, onPort.Server.SendBuffer);
        Assert.Equal(2 * PortBuffers.BufferSize, onPort.Server.ReceiveBuffer);
        Assert.True(onPort.Server.TcpInfo.BytesReceived >= 65536);

        var elsewhere = Assert.Single(attached.RunLoopback(new LoopbackOptions { Port = Port + 1 }).Connections);
        Assert.NotEqual(2 * PortBuffers.BufferSize, elsewhere.Client.SendBuffer);
        Assert.NotEqual(2 * PortBuffers.BufferSize, elsewhere.Server.SendBuffer);
    }
}
