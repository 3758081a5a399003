using SockOps.Emit.Runtime;

namespace SockOps.Emit.Testing;

/// <summary>
/// A DSL program loaded into the kernel and attached (bpf_link) to a temporary child cgroup of its own, for one test:
/// <code>
/// using var attached = AttachedProgram.Attach(MyProgram.Build());
/// var result = attached.RunLoopback(new LoopbackOptions { Port = 5432 });
/// </code>
/// Disposing detaches the program, closes it and its maps, and removes the cgroup, so nothing outlives the test.
/// Only sockets created by processes inside <see cref="Cgroup"/> run the program: <see cref="RunLoopback"/> starts such a process.
/// </summary>
public sealed class AttachedProgram : IDisposable
{
    private readonly LoadedObject _loaded;
    private bool _disposed;

    private AttachedProgram(Cgroup cgroup, LoadedObject loaded, BpfProgram program, CgroupAttachment attachment)
    {
        Cgroup = cgroup;
        _loaded = loaded;
        Program = program;
        Attachment = attachment;
    }

    /// <summary>The temporary cgroup the program is attached to (removed on <see cref="Dispose"/>).</summary>
    public Cgroup Cgroup { get; }

    /// <summary>The loaded program (its <see cref="BpfProgram.Info"/> has the kernel's id and run counters).</summary>
    public BpfProgram Program { get; }

    /// <summary>The bpf_link (or legacy) attachment of <see cref="Program"/> to <see cref="Cgroup"/>.</summary>
    public CgroupAttachment Attachment { get; }

    /// <summary>The program's maps by their DSL names, for reading what the program recorded.</summary>
    public IReadOnlyDictionary<string, BpfMap> Maps => _loaded.Maps;

    /// <summary>
    /// Loads <paramref name="image"/> (maps created from its declarations, BTF, kfunc ids resolved) and attaches it to a
    /// new temporary cgroup under <paramref name="parentCgroup"/>.
    /// </summary>
    /// <param name="image">The program (the DSL's output).</param>
    /// <param name="parentCgroup">The cgroup v2 directory to create the child in; default: the cgroup2 mount's root.</param>
    /// <exception cref="VerifierException">The kernel's verifier refused the program (its log is in the exception).</exception>
    /// <exception cref="BpfException">A map, the program or the attachment could not be created (e.g. EPERM without CAP_BPF).</exception>
    /// <exception cref="IOException">The cgroup could not be created.</exception>
    public static AttachedProgram Attach(ProgramImage image, string? parentCgroup = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        var cgroup = Cgroup.CreateTemporary(parentCgroup, prefix: "sockops-test");
        LoadedObject? loaded = null;
        try
        {
            loaded = ObjectLoader.Load(image.ToObject());
            var program = loaded.Programs.Values.Single();
            var attachment = cgroup.Attach(program);
            return new AttachedProgram(cgroup, loaded, program, attachment);
        }
        catch
        {
            loaded?.Dispose();
            cgroup.Dispose();
            throw;
        }
    }

    /// <summary>Runs loopback TCP from a client process inside <see cref="Cgroup"/>; see <see cref="LoopbackHarness.Run"/>.</summary>
    /// <param name="options">Addresses, port, traffic and extra socket options; default: one IPv4 connection on a free port.</param>
    public LoopbackResult RunLoopback(LoopbackOptions? options = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return LoopbackHarness.Run(Cgroup, options);
    }

    /// <summary>Detaches, closes the program and maps, and removes the cgroup.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Attachment.Dispose();
        _loaded.Dispose();
        Cgroup.Dispose();
    }
}
