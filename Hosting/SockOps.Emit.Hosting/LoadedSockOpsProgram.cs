using SockOps.Emit;
using SockOps.Emit.Runtime;

namespace SockOps.Emit.Hosting;

/// <summary>
/// A sock_ops program loaded from a <see cref="ProgramImage"/>, with its maps, ring buffer readers and cgroup
/// attachments. Disposing detaches, unmaps and closes everything it created (in reverse order).
/// </summary>
public sealed class LoadedSockOpsProgram : IDisposable
{
    private readonly LoadedObject _loaded;
    private readonly IReadOnlyDictionary<string, BpfMap> _maps;
    private readonly List<CgroupAttachment> _attachments = [];
    private readonly Dictionary<string, RingBuffer> _ringBuffers = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Name, Type Key, Type Value), BpfMap> _typedMaps = [];
    private bool _disposed;

    internal LoadedSockOpsProgram(ProgramImage image, LoadedObject loaded)
    {
        Image = image;
        _loaded = loaded;
        Program = loaded.Programs.Values.Single();
        _maps = loaded.Maps;
    }

    /// <summary>The loaded object (the image's <see cref="ProgramImage.ToObject"/> in the kernel).</summary>
    public LoadedObject Object => _loaded;

    /// <summary>The image that was loaded.</summary>
    public ProgramImage Image { get; }

    /// <summary>The kernel program.</summary>
    public BpfProgram Program { get; }

    /// <summary>The program's maps by declared name.</summary>
    public IReadOnlyDictionary<string, BpfMap> Maps => _maps;

    /// <summary>The verifier log of the load when a log level was requested (e.g. statistics), else null.</summary>
    public string? VerifierLog => Program.VerifierLog;

    /// <summary>The attachments made through <see cref="AttachTo(Cgroup)"/> that are still alive.</summary>
    public IReadOnlyList<CgroupAttachment> Attachments => _attachments;

    /// <summary>A declared map with typed keys and values (sizes checked): a view with its own descriptor, created
    /// once per type pair and disposed with the program (do not dispose it yourself).</summary>
    /// <exception cref="KeyNotFoundException">The program declares no map of that name.</exception>
    public BpfMap<TKey, TValue> Map<TKey, TValue>(string name) where TKey : unmanaged where TValue : unmanaged
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_maps.TryGetValue(name, out var map)) throw new KeyNotFoundException($"Program '{Image.Name}' declares no map '{name}'.");
        if (map is BpfMap<TKey, TValue> typed) return typed;
        var key = (name, typeof(TKey), typeof(TValue));
        if (_typedMaps.TryGetValue(key, out var view)) return (BpfMap<TKey, TValue>)view;
        typed = BpfMap<TKey, TValue>.From(map);
        _typedMaps[key] = typed;
        return typed;
    }

    /// <summary>A consumer of the declared ring buffer <paramref name="name"/> (created once, disposed with the program).</summary>
    public RingBuffer RingBuffer(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_ringBuffers.TryGetValue(name, out var reader)) return reader;
        if (!_maps.TryGetValue(name, out var map)) throw new KeyNotFoundException($"Program '{Image.Name}' declares no ring buffer '{name}'.");
        reader = new RingBuffer(map);
        _ringBuffers[name] = reader;
        return reader;
    }

    /// <summary>Attaches the program to a cgroup v2 with a bpf_link (BPF_CGROUP_SOCK_OPS, multi).</summary>
    public CgroupAttachment AttachTo(Cgroup cgroup)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(cgroup);
        var attachment = cgroup.Attach(Program, AttachType.CgroupSockOps, CgroupAttachMode.Multi);
        _attachments.Add(attachment);
        return attachment;
    }

    /// <summary>Detaches from every cgroup this program was attached to (the program stays loaded).</summary>
    public void Detach()
    {
        for (int i = _attachments.Count - 1; i >= 0; i--) _attachments[i].Dispose();
        _attachments.Clear();
    }

    /// <summary>Fresh kernel information (run counts while <see cref="BpfStats"/> is enabled, verified instructions…).</summary>
    public ProgramInfo Info => Program.Info;

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Detach();
        foreach (var reader in _ringBuffers.Values) reader.Dispose();
        _ringBuffers.Clear();
        foreach (var map in _typedMaps.Values) map.Dispose();
        _typedMaps.Clear();
        _loaded.Dispose();
    }
}
