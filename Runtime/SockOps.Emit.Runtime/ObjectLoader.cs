using SockOps.Emit.Assembler;
using SockOps.Emit.Objects;
using SockOps.Emit.Runtime.Btf;

namespace SockOps.Emit.Runtime;

/// <summary>How <see cref="ObjectLoader"/> loads a <see cref="BpfObject"/>.</summary>
public sealed record ObjectLoadOptions
{
    /// <summary>The verifier log kept for a successful load (a refusal always carries the log).</summary>
    public VerifierLogLevel LogLevel { get; init; }

    /// <summary>
    /// Where maps with <see cref="MapPinning.ByName"/> are pinned and looked for (libbpf's <c>pin_root_path</c>);
    /// null for the bpffs mount point (normally <c>/sys/fs/bpf</c>).
    /// </summary>
    public string? PinDirectory { get; init; }

    /// <summary>Resolves a kfunc name to its BTF id in the running kernel; null for the kernel's vmlinux BTF.</summary>
    public Func<string, uint?>? ResolveKfunc { get; init; }
}

/// <summary>
/// Loads any <see cref="BpfObject"/> — built by the DSL or read from an ELF file — into the kernel: the object's BTF,
/// its maps (with BTF key/value types, data sections written and <c>.rodata</c> frozen, pinned by name where asked),
/// then each program with map fds and kfunc ids patched in and its func/line info, so a refusal shows the source line.
/// Nothing stays in the kernel when a step fails.
/// </summary>
public static class ObjectLoader
{
    /// <summary>Loads every map and program of <paramref name="obj"/> (nothing is attached).</summary>
    /// <exception cref="VerifierException">The verifier refused a program; the message and <see cref="VerifierException.SourceLine"/> name the source line.</exception>
    /// <exception cref="FeatureNotSupportedException">A kfunc the program calls is not in the running kernel.</exception>
    /// <exception cref="BpfException">A map, the BTF or a program could not be created.</exception>
    public static LoadedObject Load(BpfObject obj, ObjectLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(obj);
        options ??= new ObjectLoadOptions();
        LoadedBtf? btf = null;
        var maps = new Dictionary<string, BpfMap>(StringComparer.Ordinal);
        var programs = new Dictionary<string, BpfProgram>(StringComparer.Ordinal);
        try
        {
            // Extern declarations (kfuncs in .ksyms) are rewritten as libbpf does: the kernel refuses them as written.
            if (!obj.Btf.IsEmpty) btf = LoadedBtf.Load(SockOps.Emit.Btf.BtfReader.Read(obj.Btf.Span).ForKernel());
            foreach (var map in obj.Maps) maps[map.Name] = CreateMap(map, btf, options);
            foreach (var program in obj.Programs)
            {
                programs[program.Name] = BpfProgram.Load(new ProgramLoadOptions
                {
                    Type = program.Type,
                    ExpectedAttachType = program.ExpectedAttachType,
                    Name = program.Name,
                    License = program.License,
                    Instructions = ResolveKfuncs(program, options),
                    MapReferences = program.MapReferences,
                    Maps = maps,
                    Btf = program.FuncInfo.Count > 0 ? btf : null,
                    FuncInfo = program.FuncInfo,
                    LineInfo = program.FuncInfo.Count > 0 ? program.LineInfo : [],
                    LogLevel = options.LogLevel,
                });
            }
            return new LoadedObject(obj, programs, maps, btf);
        }
        catch
        {
            foreach (var p in programs.Values) p.Dispose();
            foreach (var m in maps.Values) m.Dispose();
            btf?.Dispose();
            throw;
        }
    }

    private static BpfMap CreateMap(ObjectMap map, LoadedBtf? btf, ObjectLoadOptions options)
    {
        string? pinPath = null;
        if (map.Pinning == MapPinning.ByName)
        {
            string directory = options.PinDirectory ?? BpfFs.FindMountPoint() ?? throw new InvalidOperationException(
                $"Map '{map.Name}' is pinned by name, but no bpffs is mounted and ObjectLoadOptions.PinDirectory is not set.");
            pinPath = Path.Combine(directory, map.Name);
            if (File.Exists(pinPath)) return ReusePinned(map, pinPath);
        }
        var spec = new MapSpec
        {
            Type = map.Type,
            KeySize = map.KeySize,
            ValueSize = map.ValueSize,
            MaxEntries = checked((int)map.MaxEntries),
            Flags = map.Flags,
            Name = map.Name,
            Btf = btf is not null && (map.KeyTypeId != 0 || map.ValueTypeId != 0) ? new MapBtf(btf, map.KeyTypeId, map.ValueTypeId) : null,
        };
        BpfMap created;
        try
        {
            created = BpfMap.Create(spec);
        }
        catch (BpfException) when (spec.Btf is not null && map.Type is not (MapType.SkStorage or MapType.InodeStorage or MapType.TaskStorage or MapType.CgrpStorage))
        {
            // As libbpf does: some map types refuse BTF key/value types (sockmap and sockhash: ENOTSUPP); only the
            // local-storage maps need it, so the others are created again without.
            created = BpfMap.Create(spec with { Btf = null });
        }
        try
        {
            // BpfObject's constructor already refused an initial value that is not an array's first value.
            if (!map.InitialValue.IsEmpty)
            {
                var value = new byte[created.ValueBufferSize];
                // A per-CPU array takes one 8-byte aligned copy per possible CPU.
                int stride = created.IsPerCpu ? (map.ValueSize + 7) / 8 * 8 : map.ValueSize;
                for (int at = 0; at < value.Length; at += stride) map.InitialValue.Span.CopyTo(value.AsSpan(at));
                created.Update(new byte[4], value);
            }
            if (map.Frozen) created.Freeze();
            if (pinPath is not null) created.Pin(pinPath);
            return created;
        }
        catch
        {
            created.Dispose();
            throw;
        }
    }

    /// <summary>A pinned map of the same name is reused only when it matches the definition (libbpf's rule).</summary>
    private static BpfMap ReusePinned(ObjectMap map, string path)
    {
        var pinned = BpfMap.OpenPinned(path);
        if (pinned.Type != map.Type || pinned.KeySize != map.KeySize || pinned.ValueSize != map.ValueSize || pinned.MaxEntries != (int)map.MaxEntries)
        {
            string found = $"{pinned.Type} key {pinned.KeySize} value {pinned.ValueSize} max_entries {pinned.MaxEntries}";
            pinned.Dispose();
            throw new InvalidOperationException(
                $"Map '{map.Name}': the map pinned at {path} ({found}) does not match the definition ({map.Type} key {map.KeySize} value {map.ValueSize} max_entries {map.MaxEntries}).");
        }
        return pinned;
    }

    private static IReadOnlyList<Instruction> ResolveKfuncs(ObjectProgram program, ObjectLoadOptions options)
    {
        if (program.KfuncReferences.Count == 0) return program.Instructions;
        var resolve = options.ResolveKfunc ?? (name => KernelBtf.Current.FindFunction(name));
        var code = program.Instructions.ToArray();
        foreach (var kfunc in program.KfuncReferences)
        {
            uint id = resolve(kfunc.Name) ?? throw new FeatureNotSupportedException($"kfunc:{kfunc.Name}", "unknown");
            var call = code[kfunc.InstructionIndex];
            code[kfunc.InstructionIndex] = new Instruction(call.Opcode, call.DestinationIndex, call.SourceIndex, call.Offset, checked((int)id));
        }
        return code;
    }
}

/// <summary>A <see cref="BpfObject"/> in the kernel: its programs, maps and BTF. Disposing closes them all.</summary>
public sealed class LoadedObject : IDisposable
{
    private readonly Dictionary<string, BpfProgram> _programs;
    private readonly Dictionary<string, BpfMap> _maps;
    private readonly LoadedBtf? _btf;
    private bool _disposed;

    internal LoadedObject(BpfObject obj, Dictionary<string, BpfProgram> programs, Dictionary<string, BpfMap> maps, LoadedBtf? btf)
    {
        Object = obj;
        _programs = programs;
        _maps = maps;
        _btf = btf;
    }

    /// <summary>The object that was loaded.</summary>
    public BpfObject Object { get; }

    /// <summary>The kernel programs by name.</summary>
    public IReadOnlyDictionary<string, BpfProgram> Programs => _programs;

    /// <summary>The kernel maps by name.</summary>
    public IReadOnlyDictionary<string, BpfMap> Maps => _maps;

    /// <summary>The program named <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">The object has no such program; the message lists those it has.</exception>
    public BpfProgram Program(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _programs.TryGetValue(name, out var program) ? program
            : throw new KeyNotFoundException($"The object has no program '{name}'; it has {string.Join(", ", _programs.Keys)}.");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var p in _programs.Values) p.Dispose();
        foreach (var m in _maps.Values) m.Dispose();
        _btf?.Dispose();
    }
}
