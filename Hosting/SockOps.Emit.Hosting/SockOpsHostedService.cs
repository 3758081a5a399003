using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SockOps.Emit;
using SockOps.Emit.Objects;
using SockOps.Emit.Runtime;

namespace SockOps.Emit.Hosting;

/// <summary>
/// Loads the configured programs at start and attaches them to the cgroup through bpf_links (pinned, and swapped into
/// the links a previous run pinned, when a pin directory is set); at stop detaches them, or leaves them attached.
/// Registered by <see cref="SockOpsServiceCollectionExtensions.AddSockOps(Microsoft.Extensions.DependencyInjection.IServiceCollection, Action{SockOpsOptions})"/>.
/// </summary>
internal sealed class SockOpsHostedService : IHostedService, IDisposable
{
    private const string LinkFileName = "link", MapDirectoryName = "maps";

    private readonly IOptions<SockOpsOptions> _options;
    private readonly IServiceProvider _services;
    private readonly SockOpsPrograms _programs;
    private readonly SockOpsMetrics _metrics;
    private readonly ILogger<SockOpsHostedService> _logger;
    private readonly List<HostedSockOpsProgram> _hosted = [];
    private BpfStats? _stats;
    private Cgroup? _cgroup;
    private bool _keepAttached;

    public SockOpsHostedService(IOptions<SockOpsOptions> options, IServiceProvider services, SockOpsPrograms programs, SockOpsMetrics metrics,
        ILogger<SockOpsHostedService> logger)
    {
        _options = options;
        _services = services;
        _programs = programs;
        _metrics = metrics;
        _logger = logger;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            // IOptions.Value runs the validator: OptionsValidationException naming the option (also without ValidateOnStart).
            Start(_options.Value);
            _programs.SetStarted([.. _hosted]);
        }
        catch (Exception e)
        {
            // An upgrade is all or nothing: links this start already swapped to the new version get the old one back.
            RollBackUpdates();
            // What this start attached goes; with KeepAttachedOnStop what is pinned stays, as at a stop (a failed
            // upgrade must not leave the cgroup without the version that ran before).
            ReleaseAll(detach: !_keepAttached);
            _programs.SetFailed(e);
            throw;
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _programs.SetStopped();
        ReleaseAll(detach: !_keepAttached);
        return Task.CompletedTask;
    }

    // A host disposed without StopAsync: the same as a stop. Not the options again: they may be what failed the start.
    public void Dispose() => ReleaseAll(detach: !_keepAttached);

    private void Start(SockOpsOptions options)
    {
        _keepAttached = options.KeepAttachedOnStop;
        if (options.EnableStatistics)
        {
            try
            {
                _stats = BpfStats.Enable();
            }
            catch (BpfException e)
            {
                Log.StatisticsUnavailable(_logger, e.Message);
            }
        }
        string cgroupPath = Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.CgroupPath!));
        if (!Directory.Exists(cgroupPath))
        {
            Directory.CreateDirectory(cgroupPath); // the validator allowed it: CreateCgroup with a cgroup as parent
            Log.CgroupCreated(_logger, cgroupPath);
        }
        _cgroup = Cgroup.Open(cgroupPath);

        var images = options.Programs.Select(r => r.Factory(_services) ?? throw new InvalidOperationException(
            $"{SockOpsOptions.SectionName}:Programs: a program factory returned null.")).ToList();
        if (images.GroupBy(i => i.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new OptionsValidationException(SockOpsOptions.SectionName, typeof(SockOpsOptions),
                [$"{SockOpsOptions.SectionName}:Programs: {twice.Count()} programs are named '{twice.Key}'; names must differ (they name the pins)."]);

        // Load (verify) everything before touching any attachment: a refused program changes nothing in the kernel.
        var loaded = new List<LoadedSockOpsProgram>();
        try
        {
            foreach (var image in images) loaded.Add(Load(image, options));
            for (int i = 0; i < loaded.Count; i++)
            {
                _hosted.Add(Attach(loaded[i], options));
                loaded[i] = null!; // owned by the hosted program now
            }
            foreach (var hosted in _hosted) ReleaseReplaced(hosted); // the upgrade is complete
        }
        catch
        {
            foreach (var program in loaded) program?.Dispose();
            if (options.PinDirectory is { } pins) RemoveUnattachedPins(pins, images);
            throw;
        }
    }

    /// <summary>After a failed start: the map pins of programs that have no pinned link (nothing of an earlier run to
    /// keep) were created by this start's loads and go with it.</summary>
    private void RemoveUnattachedPins(string pins, IEnumerable<ProgramImage> images)
    {
        foreach (var image in images)
        {
            string directory = Path.Combine(pins, image.Name);
            if (_hosted.Any(h => h.Name == image.Name) || File.Exists(Path.Combine(directory, LinkFileName)) || !Directory.Exists(directory)) continue;
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // Best effort on a path that already failed; the next start reuses or replaces what is left.
            }
        }
        TryRemoveEmptyDirectory(pins);
    }

    private LoadedSockOpsProgram Load(ProgramImage image, SockOpsOptions options)
    {
        string? mapDirectory = options.PinDirectory is { } pins ? Path.Combine(pins, image.Name, MapDirectoryName) : null;
        // Maps holding state are pinned and survive restarts; data sections (initial values, frozen .rodata) carry the
        // new version's settings and ring buffers its record layout, so those are created anew for every load.
        static bool Pinnable(ObjectMap map) => map.InitialValue.IsEmpty && !map.Frozen && map.Type != MapType.RingBuf;
        if (mapDirectory is not null)
        {
            Directory.CreateDirectory(mapDirectory);
            DropChangedPins(image, mapDirectory, Pinnable);
        }
        try
        {
            var program = SockOpsHost.Load(image, new ObjectLoadOptions { PinDirectory = mapDirectory }, debugInfo: true,
                mapDirectory is null ? null : Pinnable);
            Log.ProgramLoaded(_logger, image.Name, program.Program.Info.Id, image.Instructions.Count, image.Target.ToString());
            return program;
        }
        catch (ProgramRefusedException e)
        {
            Log.ProgramRefused(_logger, image.Name, e.Message, e.Log);
            throw;
        }
        catch (KernelNotSupportedException e)
        {
            Log.KernelNotSupported(_logger, image.Name, e.Message);
            throw;
        }
    }

    /// <summary>A pinned map whose definition changed cannot be reused (the loader would refuse it): unpin it so the
    /// new version gets a fresh map, and say so.</summary>
    private void DropChangedPins(ProgramImage image, string mapDirectory, Func<ObjectMap, bool> pinnable)
    {
        foreach (var map in image.ToObject().Maps.Where(pinnable))
        {
            string path = Path.Combine(mapDirectory, map.Name);
            if (!File.Exists(path)) continue;
            using var pinned = BpfMap.OpenPinned(path);
            if (pinned.Type == map.Type && pinned.KeySize == map.KeySize && pinned.ValueSize == map.ValueSize && pinned.MaxEntries == (int)map.MaxEntries)
                continue;
            Log.PinnedMapChanged(_logger, image.Name, path, $"{pinned.Type} key {pinned.KeySize} value {pinned.ValueSize} max_entries {pinned.MaxEntries}",
                $"{map.Type} key {map.KeySize} value {map.ValueSize} max_entries {map.MaxEntries}");
            BpfFs.Unpin(path);
        }
    }

    private HostedSockOpsProgram Attach(LoadedSockOpsProgram loaded, SockOpsOptions options)
    {
        var cgroup = _cgroup!;
        string name = loaded.Image.Name;
        string? programDirectory = options.PinDirectory is { } pins ? Path.Combine(pins, name) : null;
        string? linkPath = programDirectory is null ? null : Path.Combine(programDirectory, LinkFileName);
        string? mapDirectory = programDirectory is null ? null : Path.Combine(programDirectory, MapDirectoryName);
        var outcome = SockOpsAttachOutcome.Attached;

        if (linkPath is not null && File.Exists(linkPath))
        {
            if (TryUpdatePinned(loaded, linkPath, cgroup) is { } updated)
                return new HostedSockOpsProgram(loaded, updated.Link, cgroup, SockOpsAttachOutcome.Updated, updated.OldProgramId, linkPath, mapDirectory, _metrics)
                {
                    Replaced = updated.Replaced,
                };
            outcome = SockOpsAttachOutcome.Reattached;
        }

        var attachment = CgroupAttachment.Attach(cgroup, loaded.Program, AttachType.CgroupSockOps, CgroupAttachMode.Multi,
            linkPath is null ? null : AttachMechanism.Link);
        try
        {
            if (linkPath is not null) attachment.Pin(linkPath);
            var hosted = new HostedSockOpsProgram(loaded, attachment, cgroup, outcome, null, linkPath, mapDirectory, _metrics);
            Log.ProgramAttached(_logger, name, hosted.ProgramId, cgroup.Path, hosted.LinkId, linkPath is null ? "" : $", pinned at {linkPath}");
            WarnAboutForeignCopies(hosted, cgroup);
            return hosted;
        }
        catch
        {
            attachment.Dispose();
            throw;
        }
    }

    /// <summary>Swaps the program into the link pinned at <paramref name="linkPath"/> when that link still holds this
    /// cgroup's hook; otherwise removes the stale pin (detaching a link still attached elsewhere) and returns null.</summary>
    private (CgroupAttachment Link, uint OldProgramId, BpfProgram? Replaced)? TryUpdatePinned(LoadedSockOpsProgram loaded, string linkPath, Cgroup cgroup)
    {
        string name = loaded.Image.Name;
        CgroupAttachment? pinned = null;
        string reason;
        try
        {
            pinned = CgroupAttachment.OpenPinnedLink(linkPath);
            if (pinned.AttachType != AttachType.CgroupSockOps)
                reason = $"it is a {pinned.AttachType} link";
            else if (pinned.IsDefunct)
                reason = "the link no longer holds a cgroup: it was detached or its cgroup was removed";
            else if (pinned.CgroupId != cgroup.Id)
            {
                reason = $"the link is attached to another cgroup (id {pinned.CgroupId}; {cgroup.Path} is {cgroup.Id})";
                pinned.DetachLink(); // SockOps:CgroupPath changed: the old cgroup must not keep the old program
            }
            else
            {
                uint old = pinned.ProgramId;
                // Held until the start completes: if a later program fails, this one goes back into the link.
                BpfProgram? replaced = null;
                try
                {
                    replaced = BpfProgram.OpenById(old);
                }
                catch (BpfException)
                {
                    // Gone between the query and the open: nothing to roll back to.
                }
                try
                {
                    pinned.Update(loaded.Program);
                }
                catch
                {
                    replaced?.Dispose();
                    throw;
                }
                uint linkId = pinned.LinkId;
                Log.ProgramUpdated(_logger, name, linkId, cgroup.Path, old, loaded.Program.Info.Id);
                return (pinned, old, replaced);
            }
        }
        catch (BpfException e) when (e.ErrnoName == "ENOLINK")
        {
            reason = "BPF_LINK_UPDATE answered ENOLINK: the link was detached";
        }
        catch (Exception e) when (pinned is null && e is BpfException or InvalidDataException)
        {
            reason = $"it cannot be opened as a bpf_link: {e.Message}";
        }
        catch
        {
            // Any other refusal fails the start; the pinned link (and the program it holds) stays as it was.
            pinned?.Dispose();
            throw;
        }
        pinned?.Dispose();
        Log.StalePin(_logger, name, linkPath, reason);
        BpfFs.Unpin(linkPath);
        return null;
    }

    /// <summary>BPF_PROG_QUERY: another program of the same name on the cgroup is a copy this service does not own
    /// (e.g. a second instance with another pin directory). It is not ours to detach; say so.</summary>
    private void WarnAboutForeignCopies(HostedSockOpsProgram hosted, Cgroup cgroup)
    {
        string kernelName = hosted.Loaded.Program.Name;
        foreach (uint id in cgroup.QueryPrograms(AttachType.CgroupSockOps))
        {
            if (id == hosted.ProgramId) continue;
            try
            {
                using var other = BpfProgram.OpenById(id);
                if (other.Name == kernelName) Log.ForeignProgramWithSameName(_logger, kernelName, id, cgroup.Path);
            }
            catch (BpfException)
            {
                // Detached and freed since the query.
            }
        }
    }

    /// <summary>After a failed start: every link this start swapped to the new version gets the program it held before.</summary>
    private void RollBackUpdates()
    {
        foreach (var hosted in _hosted)
        {
            if (hosted.Replaced is not { } previous) continue;
            try
            {
                hosted.Attachment.Update(previous);
                Log.ProgramRolledBack(_logger, hosted.Name, hosted.LinkId, previous.Info.Id);
            }
            catch (BpfException e)
            {
                Log.RollbackFailed(_logger, hosted.Name, hosted.LinkId, previous.Info.Id, e);
            }
            finally
            {
                ReleaseReplaced(hosted);
            }
        }
    }

    private static void ReleaseReplaced(HostedSockOpsProgram hosted)
    {
        hosted.Replaced?.Dispose();
        hosted.Replaced = null;
    }

    private void ReleaseAll(bool detach)
    {
        for (int i = _hosted.Count - 1; i >= 0; i--)
        {
            var hosted = _hosted[i];
            try
            {
                if (!detach && hosted.LinkPinPath is { } path)
                    Log.ProgramKeptAttached(_logger, hosted.Name, hosted.CgroupPath, hosted.LinkId, path);
                else
                    Detach(hosted);
            }
            catch (Exception e) when (e is BpfException or IOException or UnauthorizedAccessException)
            {
                Log.DetachFailed(_logger, hosted.Name, e);
            }
            finally
            {
                hosted.MarkStopped();
                hosted.Attachment.Dispose();
                hosted.Loaded.Dispose();
            }
        }
        _hosted.Clear();
        _cgroup?.Dispose();
        _cgroup = null;
        _stats?.Dispose();
        _stats = null;
    }

    private void Detach(HostedSockOpsProgram hosted)
    {
        if (hosted.LinkPinPath is { } linkPath)
        {
            // The pin would keep the link attached after our fd closes, and unpinning detaches only later (from a
            // kernel work item): BPF_LINK_DETACH now, then remove the pins.
            hosted.Attachment.DetachLink();
            Directory.Delete(Path.GetDirectoryName(linkPath)!, recursive: true);
            TryRemoveEmptyDirectory(Path.GetDirectoryName(Path.GetDirectoryName(linkPath)!)!);
        }
        else
        {
            hosted.Attachment.Dispose(); // closing the only fd of an unpinned link detaches at once
        }
        Log.ProgramDetached(_logger, hosted.Name, hosted.LinkId, hosted.CgroupPath);
    }

    private static void TryRemoveEmptyDirectory(string directory)
    {
        try
        {
            if (Directory.Exists(directory) && !Directory.EnumerateFileSystemEntries(directory).Any()) Directory.Delete(directory);
        }
        catch (IOException)
        {
            // Another service pinned something there meanwhile.
        }
    }
}
