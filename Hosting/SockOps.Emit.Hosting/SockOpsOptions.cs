using SockOps.Emit;

namespace SockOps.Emit.Hosting;

/// <summary>
/// What the generic-host integration (<see cref="SockOpsServiceCollectionExtensions.AddSockOps(Microsoft.Extensions.DependencyInjection.IServiceCollection, Action{SockOpsOptions})"/>) loads and where it
/// attaches it. Everything but the programs also binds from the configuration section <see cref="SectionName"/>
/// (<c>"SockOps"</c>); values set in code by the <c>AddSockOps</c> delegate win over configuration.
/// </summary>
public sealed class SockOpsOptions
{
    /// <summary>The configuration section the options bind from.</summary>
    public const string SectionName = "SockOps";

    private readonly List<SockOpsProgramRegistration> _programs = [];

    /// <summary>The cgroup v2 directory the programs attach to (absolute, under the cgroup2 mount). Required.</summary>
    public string? CgroupPath { get; set; }

    /// <summary>Create <see cref="CgroupPath"/> at start when it does not exist (its parent must). The service leaves
    /// the cgroup in place at stop: processes are placed in it by whoever runs them.</summary>
    public bool CreateCgroup { get; set; }

    /// <summary>
    /// A directory on bpffs (e.g. <c>/sys/fs/bpf/my-service</c>, created when missing) for the links and maps: each
    /// program gets <c>{PinDirectory}/{program}/link</c> and <c>{PinDirectory}/{program}/maps/{map}</c>. A restarted
    /// service finds its pinned link and swaps the new program in with BPF_LINK_UPDATE (no moment without a program),
    /// and reuses pinned maps of the same definition. Null: nothing is pinned, the attachment lives as long as the process.
    /// </summary>
    public string? PinDirectory { get; set; }

    /// <summary>At stop, leave the programs attached (their pinned links keep them; needs <see cref="PinDirectory"/>),
    /// so that the next start swaps its programs in without a gap. Default false: stop detaches and removes the pins.</summary>
    public bool KeepAttachedOnStop { get; set; }

    /// <summary>
    /// Enable the kernel's run-time statistics (BPF_ENABLE_STATS) while the service runs, so the
    /// <c>sockops.program.run.count</c>/<c>run.time</c> metrics count. The kernel then reads the clock twice around every
    /// run of every BPF program on the machine (docs/hosting.md has the measured cost). Default true.
    /// </summary>
    public bool EnableStatistics { get; set; } = true;

    /// <summary>The programs to load and attach, in order.</summary>
    public IReadOnlyList<SockOpsProgramRegistration> Programs => _programs;

    /// <summary>Adds a program built beforehand.</summary>
    /// <returns>These options, for chaining.</returns>
    public SockOpsOptions AddProgram(ProgramImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        _programs.Add(new SockOpsProgramRegistration(_ => image));
        return this;
    }

    /// <summary>Adds a program built at start from the service provider (e.g. from other options).</summary>
    /// <returns>These options, for chaining.</returns>
    public SockOpsOptions AddProgram(Func<IServiceProvider, ProgramImage> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        _programs.Add(new SockOpsProgramRegistration(factory));
        return this;
    }
}

/// <summary>A program to host: a factory of its <see cref="ProgramImage"/>, called once at each start.</summary>
/// <param name="Factory">Builds the image.</param>
public sealed record SockOpsProgramRegistration(Func<IServiceProvider, ProgramImage> Factory);
