using System.Runtime.CompilerServices;
using SockOps.Emit;
using SockOps.Emit.Runtime;

namespace SockOps.Emit.Hosting;

/// <summary>How a hosted program came to be attached at start.</summary>
public enum SockOpsAttachOutcome
{
    /// <summary>A new bpf_link on the cgroup (no pinned link was found, or pinning is off).</summary>
    Attached,
    /// <summary>The program was swapped into the link a previous run pinned (BPF_LINK_UPDATE): the hook never ran without a program.</summary>
    Updated,
    /// <summary>The pinned link was stale (detached, its cgroup gone, another cgroup, or not a link): a new link was
    /// attached and pinned in its place.</summary>
    Reattached,
}

/// <summary>
/// A program the hosted service loaded and attached: the image, the loaded program with its maps, the link, and its
/// ring buffers as async streams. Owned by the service: valid between its start and its stop.
/// </summary>
public sealed class HostedSockOpsProgram
{
    private readonly Cgroup _cgroup;
    private readonly SockOpsMetrics _metrics;
    private volatile bool _stopped;

    internal HostedSockOpsProgram(LoadedSockOpsProgram loaded, CgroupAttachment attachment, Cgroup cgroup, SockOpsAttachOutcome outcome,
        uint? previousProgramId, string? linkPinPath, string? mapPinDirectory, SockOpsMetrics metrics)
    {
        Loaded = loaded;
        Attachment = attachment;
        _cgroup = cgroup;
        Outcome = outcome;
        PreviousProgramId = previousProgramId;
        LinkPinPath = linkPinPath;
        MapPinDirectory = mapPinDirectory;
        _metrics = metrics;
        LinkId = attachment.LinkId;
        ProgramId = loaded.Program.Info.Id;
    }

    /// <summary>The program's name (<see cref="ProgramImage.Name"/>; also the name of its pin directory).</summary>
    public string Name => Loaded.Image.Name;

    /// <summary>The image that was loaded.</summary>
    public ProgramImage Image => Loaded.Image;

    /// <summary>The loaded program and its maps (typed views: <see cref="LoadedSockOpsProgram.Map{TKey, TValue}"/>).</summary>
    public LoadedSockOpsProgram Loaded { get; }

    /// <summary>How it was attached at start.</summary>
    public SockOpsAttachOutcome Outcome { get; }

    /// <summary>The kernel id of the program this start replaced in a pinned link (<see cref="SockOpsAttachOutcome.Updated"/>), else null.</summary>
    public uint? PreviousProgramId { get; }

    /// <summary>
    /// During a start that swapped this program into a pinned link: the program it replaced, held open so that a start
    /// failing on a later program can swap it back (the link's reference was the only one keeping it alive).
    /// </summary>
    internal BpfProgram? Replaced { get; set; }

    /// <summary>The bpf_link's kernel id (the same across restarts while the link stays pinned).</summary>
    public uint LinkId { get; }

    /// <summary>The loaded program's kernel id.</summary>
    public uint ProgramId { get; }

    /// <summary>The cgroup it is attached to.</summary>
    public string CgroupPath => _cgroup.Path;

    /// <summary>Where the link is pinned, or null without a pin directory.</summary>
    public string? LinkPinPath { get; }

    /// <summary>Where the program's maps are pinned (<c>{map}</c> files), or null without a pin directory.</summary>
    public string? MapPinDirectory { get; }

    internal CgroupAttachment Attachment { get; }

    /// <summary>Whether the program runs for the cgroup now, as the kernel says: the link holds the cgroup hook and
    /// BPF_PROG_QUERY on the cgroup lists this program. False after the service stopped.</summary>
    public bool IsAttached
    {
        get
        {
            if (_stopped) return false;
            try
            {
                return !Attachment.IsDefunct && Attachment.ProgramId == ProgramId && _cgroup.QueryPrograms(AttachType.CgroupSockOps).Contains(ProgramId);
            }
            catch (Exception e) when (e is ObjectDisposedException or BpfException)
            {
                return false;
            }
        }
    }

    /// <summary>The records of the program's ring buffer <paramref name="mapName"/>, each a copy, counted in the
    /// <c>sockops.ringbuffer.records</c> metric; ends when the service stops, throws <see cref="OperationCanceledException"/>
    /// when <paramref name="cancellationToken"/> is cancelled. One reader per ring buffer: each record is handed out once.</summary>
    /// <exception cref="KeyNotFoundException">The program declares no such map.</exception>
    public async IAsyncEnumerable<ReadOnlyMemory<byte>> ReadRingBufferAsync(string mapName, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var reader = Loaded.RingBuffer(mapName);
        _metrics.TrackRingBuffer(this, mapName, reader);
        await foreach (var record in reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            _metrics.RingBufferRecord(Name, mapName);
            yield return record;
        }
    }

    /// <summary>As <see cref="ReadRingBufferAsync(string, CancellationToken)"/>, each record read as <typeparamref name="T"/>.</summary>
    /// <exception cref="InvalidDataException">A record is smaller than <typeparamref name="T"/>.</exception>
    public async IAsyncEnumerable<T> ReadRingBufferAsync<T>(string mapName, [EnumeratorCancellation] CancellationToken cancellationToken = default) where T : unmanaged
    {
        await foreach (var record in ReadRingBufferAsync(mapName, cancellationToken).ConfigureAwait(false))
        {
            if (record.Length < Unsafe.SizeOf<T>())
                throw new InvalidDataException($"Ring buffer '{mapName}' of program '{Name}': a {record.Length}-byte record is smaller than {typeof(T).Name} ({Unsafe.SizeOf<T>()} bytes).");
            yield return System.Runtime.InteropServices.MemoryMarshal.Read<T>(record.Span);
        }
    }

    internal void MarkStopped() => _stopped = true;
}
