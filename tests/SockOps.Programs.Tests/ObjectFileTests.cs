using System.Globalization;
using System.Text.RegularExpressions;
using SockOps.Emit;
using SockOps.Emit.Assembler;
using SockOps.Emit.Objects;
using SockOps.Emit.Runtime;
using SockOps.Emit.TestSupport;

namespace SockOps.Programs.Tests;

/// <summary>
/// The ELF export judged by external tools — readelf, llvm-objdump, bpftool and libbpf — and by the kernel through
/// them (bpftool loads and attaches our objects; a real connection gets clamp's buffers); the import judged by clang's
/// own objects (compiled by scripts/elf-oracle/build-clang-objects.sh) and llvm-objdump's reading of them.
/// </summary>
[Collection(nameof(KernelCollection))]
public partial class ObjectFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sockops-elf-").FullName;

    public void Dispose()
    {
        Directory.Delete(_dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Every shipped program (kfunc calls included: tx-timestamps), as objects for 6.18.</summary>
    public static TheoryData<string> Exportable() => new(ExportableNames);

    private static IEnumerable<string> ExportableNames => ProgramCatalog.All.Select(e => e.Name);

    /// <summary>The shipped programs the running kernel can load (the external loaders' tests load each one).</summary>
    private static IEnumerable<string> LoadableNames => ProgramCatalog.All.Where(e => e.MinimumKernel <= RunningKernel.Version).Select(e => e.Name);

    private static BpfObject Object(string name, KernelVersion? target = null, params string[] settings) =>
        ProgramCatalog.Get(name).Build(CatalogEntry.ParseSettings(settings), target ?? KernelVersion.Linux6_18).ToObject();

    private string Write(BpfObject obj, string name)
    {
        string path = Path.Combine(_dir, name + ".o");
        using (var file = File.Create(path)) ElfObjectWriter.Write(obj, file);
        return path;
    }

    private static string ObjectsDirectory => Path.Combine(AppContext.BaseDirectory, "objects");

    // ------------------------------------------------------------------ round trip

    [Theory]
    [MemberData(nameof(Exportable))]
    public void Dsl_to_elf_to_our_reader_gives_the_identical_object(string name)
    {
        foreach (var target in new[] { KernelVersion.Linux6_1, KernelVersion.Linux6_18 }.Where(t => t >= ProgramCatalog.Get(name).MinimumKernel))
        {
            foreach (var settings in new[] { Array.Empty<string>(), ["printk=true"] })
            {
                if (settings.Length > 0 && !ProgramCatalog.Get(name).Parameters.Any(p => p.Name == "printk")) continue;
                var written = Object(name, target, settings);
                var read = ElfObjectReader.Read(ElfObjectWriter.ToBytes(written), name + ".o");
                AssertSameObject(written, read);
            }
        }
    }

    private static void AssertSameObject(BpfObject expected, BpfObject actual)
    {
        Assert.Equal(expected.Btf.ToArray(), actual.Btf.ToArray());
        Assert.Equal(expected.Programs.Count, actual.Programs.Count);
        foreach (var (e, a) in expected.Programs.Zip(actual.Programs))
        {
            Assert.Equal(e.Name, a.Name);
            Assert.Equal(e.Section, a.Section);
            Assert.Equal(e.Type, a.Type);
            Assert.Equal(e.ExpectedAttachType, a.ExpectedAttachType);
            Assert.Equal(e.License, a.License);
            Assert.Equal(e.Instructions, a.Instructions);
            Assert.Equal(e.MapReferences, a.MapReferences);
            Assert.Equal(e.KfuncReferences, a.KfuncReferences);
            Assert.Equal(e.FuncInfo, a.FuncInfo);
            Assert.Equal(e.LineInfo, a.LineInfo);
        }
        Assert.Equal(expected.Maps.Count, actual.Maps.Count);
        foreach (var (e, a) in expected.Maps.Zip(actual.Maps))
        {
            Assert.Equal(e with { InitialValue = default }, a with { InitialValue = default });
            // A data section is its whole value; the DSL may hold fewer bytes than the value (the rest is zero).
            var padded = new byte[Math.Max(e.InitialValue.Length, a.InitialValue.Length)];
            e.InitialValue.Span.CopyTo(padded);
            Assert.Equal(padded, a.InitialValue.ToArray().Concat(new byte[padded.Length - a.InitialValue.Length]));
        }
    }

    // ------------------------------------------------------------------ readelf, llvm-objdump, bpftool btf

    [Theory]
    [MemberData(nameof(Exportable))]
    public void Readelf_sees_the_sections_and_symbols_libbpf_needs(string name)
    {
        var obj = Object(name, settings: ProgramCatalog.Get(name).Parameters.Any(p => p.Name == "printk") ? ["printk=true"] : []);
        string path = Write(obj, name);
        string header = ExternalTool.Check("readelf", "-h", path);
        Assert.Contains("REL (Relocatable file)", header, StringComparison.Ordinal);
        Assert.Contains("Linux BPF", header, StringComparison.Ordinal);
        string sections = ExternalTool.Check("readelf", "-S", "--wide", path);
        var program = obj.Programs.Single();
        Assert.Matches(new Regex($@"\] sockops\s+PROGBITS\s+0+\s+[0-9a-f]+\s+0*{program.Slots * 8:x}\s+00\s+AX\s"), sections);
        Assert.Matches(new Regex(@"\] license\s+PROGBITS\s.*\sWA\s"), sections);
        Assert.Matches(new Regex(@"\] \.BTF\s+PROGBITS"), sections);
        Assert.Matches(new Regex(@"\] \.BTF\.ext\s+PROGBITS"), sections);
        bool hasMaps = obj.Maps.Any(m => m.DataSection is null);
        Assert.Equal(hasMaps, Regex.IsMatch(sections, @"\] \.maps\s+PROGBITS\s.*\sWA\s"));
        Assert.Equal(obj.Maps.Any(m => m.DataSection == ".rodata"), Regex.IsMatch(sections, @"\] \.rodata\s+PROGBITS\s.*\s A\s"));
        Assert.Equal(program.MapReferences.Count > 0, Regex.IsMatch(sections, @"\] \.relsockops\s+REL\s"));

        string symbols = ExternalTool.Check("readelf", "-s", "--wide", path);
        Assert.Matches(new Regex($@"\s0+\s+{program.Slots * 8}\s+FUNC\s+GLOBAL\s+DEFAULT\s+\d+\s+{program.Name}\n"), symbols);
        Assert.Matches(new Regex(@"\s4\s+OBJECT\s+GLOBAL\s+DEFAULT\s+\d+\s+_license\n"), symbols);
        foreach (var map in obj.Maps.Where(m => m.DataSection is null))
            Assert.Matches(new Regex($@"\s(8|16|24|32|40|48)\s+OBJECT\s+GLOBAL\s+DEFAULT\s+\d+\s+{map.Name}\n"), symbols);
    }

    [GeneratedRegex(@"^\s*(?<slot>\d+):\t(?<bytes>[0-9a-f]{2}(?: [0-9a-f]{2})*)", RegexOptions.Multiline)]
    private static partial Regex ObjdumpInstruction();

    [GeneratedRegex(@"^\s*(?<offset>[0-9a-f]{16}):\s+R_BPF_64_64\s+(?<symbol>\S+)$", RegexOptions.Multiline)]
    private static partial Regex ObjdumpRelocation();

    [GeneratedRegex(@"^\s*(?<offset>[0-9a-f]{16}):\s+R_BPF_64_32\s+(?<symbol>\S+)$", RegexOptions.Multiline)]
    private static partial Regex ObjdumpCallRelocation();

    [Theory]
    [MemberData(nameof(Exportable))]
    public void Llvm_objdump_decodes_our_bytes_and_relocations(string name)
    {
        var obj = Object(name, settings: ProgramCatalog.Get(name).Parameters.Any(p => p.Name == "printk") ? ["printk=true"] : []);
        string path = Write(obj, name);
        string dump = ExternalTool.Check("llvm-objdump", "-d", "-r", path);
        var program = obj.Programs.Single();
        Assert.Contains($"<{program.Name}>:", dump, StringComparison.Ordinal);

        // Every instruction at its slot with the bytes we wrote (map loads as clang writes them: source 0, data offset in imm).
        var instructions = ObjdumpInstruction().Matches(dump);
        Assert.Equal(program.Instructions.Count, instructions.Count);
        for (int i = 0; i < program.Instructions.Count; i++)
        {
            Assert.Equal(program.SlotOf(i), int.Parse(instructions[i].Groups["slot"].Value, CultureInfo.InvariantCulture));
            byte[] bytes = [.. instructions[i].Groups["bytes"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(b => Convert.ToByte(b, 16))];
            var reference = program.MapReferences.FirstOrDefault(r => r.InstructionIndex == i);
            var expected = new byte[program.Instructions[i].Slots * 8];
            program.Instructions[i].WriteTo(expected);
            if (program.KfuncReferences.Any(k => k.InstructionIndex == i))
            {
                // A kfunc call as clang writes it: call -1 with source BPF_PSEUDO_CALL, the kfunc named by a relocation.
                expected[1] = (byte)(0x10 | (expected[1] & 0x0f));
                BitConverter.TryWriteBytes(expected.AsSpan(4), -1);
            }
            if (reference.MapName is not null)
            {
                expected[1] &= 0x0f;
                BitConverter.TryWriteBytes(expected.AsSpan(4), reference.Kind == PseudoSource.MapValue ? reference.ValueOffset : 0);
                BitConverter.TryWriteBytes(expected.AsSpan(12), 0);
            }
            Assert.Equal(expected, bytes);
        }

        // One R_BPF_64_64 per map load, at its byte offset, against the map's symbol (or the data section).
        var relocations = ObjdumpRelocation().Matches(dump)
            .Select(m => (Offset: Convert.ToInt32(m.Groups["offset"].Value, 16), Symbol: m.Groups["symbol"].Value)).ToList();
        Assert.Equal(program.MapReferences.Select(r => (program.SlotOf(r.InstructionIndex) * 8, r.MapName)).ToList(), relocations);

        // One R_BPF_64_32 per kfunc call, against the kfunc's (undefined) symbol.
        var calls = ObjdumpCallRelocation().Matches(dump)
            .Select(m => (Offset: Convert.ToInt32(m.Groups["offset"].Value, 16), Symbol: m.Groups["symbol"].Value)).ToList();
        Assert.Equal(program.KfuncReferences.Select(k => (program.SlotOf(k.InstructionIndex) * 8, k.Name)).ToList(), calls);
    }

    [Theory]
    [MemberData(nameof(Exportable))]
    public void Bpftool_reads_the_btf_functions_and_map_definitions(string name)
    {
        var obj = Object(name);
        string path = Write(obj, name);
        string btf = ExternalTool.Check("bpftool", "btf", "dump", "file", path);
        var program = obj.Programs.Single();
        Assert.Matches(new Regex($@"FUNC '{program.Name}' type_id=\d+ linkage=global"), btf);
        Assert.Contains("FUNC_PROTO '(anon)' ret_type_id=", btf, StringComparison.Ordinal);
        var declared = obj.Maps.Where(m => m.DataSection is null).ToList();
        if (declared.Count == 0) return;
        Assert.Matches(new Regex($@"DATASEC '\.maps' size=\d+ vlen={declared.Count}\b"), btf);
        foreach (var map in declared)
        {
            Assert.Matches(new Regex($@"VAR '{map.Name}' type_id=\d+, linkage=global"), btf);
            // __uint(type, N): a pointer to an array of N ints, as libbpf decodes it.
            Assert.Matches(new Regex($@"ARRAY '\(anon\)' type_id=\d+ index_type_id=\d+ nr_elems={(int)map.Type}\b"), btf);
        }
    }

    // ------------------------------------------------------------------ libbpf and the kernel through bpftool

    private string LibbpfLoader()
    {
        string source = Path.Combine(AppContext.BaseDirectory, "libbpf_load.c");
        string binary = Path.Combine(_dir, "libbpf_load");
        ExternalTool.Check("cc", "-O2", "-o", binary, source, "-lbpf");
        return binary;
    }

    [Fact]
    public void Libbpf_opens_and_loads_every_exported_program_as_we_describe_it()
    {
        KernelGate.Require();
        string loader = LibbpfLoader();
        foreach (string name in LoadableNames)
        {
            var obj = Object(name, RunningKernel.Version, ProgramCatalog.Get(name).Parameters.Any(p => p.Name == "printk") ? ["printk=true"] : []);
            string path = Write(obj, name);
            string output = ExternalTool.Check(loader, path);
            var program = obj.Programs.Single();
            Assert.Contains($"program {program.Name} section sockops type 13 attach 3 insns {program.Slots}\n", output, StringComparison.Ordinal);
            foreach (var map in obj.Maps)
            {
                // libbpf names a data section's map "<object>.rodata": the file name's first 8 characters, each not
                // alphanumeric or '_' replaced by '_'.
                string prefix = Regex.Replace(name[..Math.Min(name.Length, 8)], "[^A-Za-z0-9_]", "_");
                string mapName = map.DataSection is null ? map.Name : Regex.Escape(prefix) + Regex.Escape(map.Name);
                Assert.Matches(new Regex($@"map {(map.DataSection is null ? Regex.Escape(mapName) : mapName)} type {(int)map.Type} key {map.KeySize} value {map.ValueSize} max_entries {map.MaxEntries} flags {(uint)map.Flags}\n"), output);
            }
            Assert.EndsWith("loaded\n", output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Bpftool_loads_every_exported_program_and_its_line_info_is_the_csharp_source()
    {
        KernelGate.Require();
        string pins = Path.Combine(BpfFs.EnsureMounted(), "sockops-elf-" + Environment.ProcessId);
        Directory.CreateDirectory(pins);
        try
        {
            foreach (string name in LoadableNames)
            {
                var obj = Object(name, RunningKernel.Version);
                string path = Write(obj, name);
                string pin = Path.Combine(pins, name);
                ExternalTool.Check("bpftool", "prog", "loadall", path, pin, "type", "sockops", "pinmaps", pin + "-maps");
                var program = obj.Programs.Single();
                string xlated = ExternalTool.Check("bpftool", "prog", "dump", "xlated", "pinned", Path.Combine(pin, program.Name), "linum");
                Assert.Contains($"int {program.Name}(struct bpf_sock_ops * skops):", xlated, StringComparison.Ordinal);
                Assert.Matches(new Regex(@"\[file:\S+/Programs/SockOps\.Programs/\w+\.cs line_num:\d+"), xlated);
                foreach (var map in obj.Maps.Where(m => m.DataSection is null)) Assert.True(File.Exists(Path.Combine(pin + "-maps", map.Name)), map.Name);
            }
        }
        finally
        {
            if (Directory.Exists(pins)) Directory.Delete(pins, recursive: true);
        }
    }

    [Fact]
    public void Clamp_loaded_and_attached_by_bpftool_sets_the_buffers_of_a_real_connection()
    {
        KernelGate.Require();
        string path = Write(Object("clamp", RunningKernel.Version), "clamp");
        string pin = Path.Combine(BpfFs.EnsureMounted(), $"sockops-elf-clamp-{Environment.ProcessId}");
        using var cgroup = Cgroup.CreateTemporary(prefix: "sockops-elf");
        ExternalTool.Check("bpftool", "prog", "load", path, pin, "type", "sockops");
        try
        {
            ExternalTool.Check("bpftool", "cgroup", "attach", cgroup.Path, "sock_ops", "pinned", pin);
            try
            {
                var clamped = Traffic.Run(cgroup, "--family 6 --port 55601").Single();
                Assert.Equal([300000, 300000, 300000, 300000], new[] { clamped.Client.SndBuf, clamped.Client.RcvBuf, clamped.Server.SndBuf, clamped.Server.RcvBuf });
                var other = Traffic.Run(cgroup, "--family 6").Single();
                Assert.NotEqual(300000, other.Client.SndBuf);
            }
            finally
            {
                ExternalTool.Check("bpftool", "cgroup", "detach", cgroup.Path, "sock_ops", "pinned", pin);
            }
        }
        finally
        {
            File.Delete(pin);
        }
    }

    // ------------------------------------------------------------------ import of clang's objects

    [Theory]
    [InlineData("clamp", "bpf_clamp", 0, true)]
    [InlineData("dump_stats", "_sockops", 1, true)]
    [InlineData("sockmap", "bpf_sockmap", 1, false)]
    public void Clang_seed_objects_read_into_the_model_as_llvm_objdump_reads_them(string file, string program, int declaredMaps, bool rodata)
    {
        string path = Path.Combine(ObjectsDirectory, file + ".o");
        var obj = ElfObjectReader.Read(path);
        var p = Assert.Single(obj.Programs);
        Assert.Equal(program, p.Name);
        Assert.Equal(ProgramType.SockOps, p.Type);
        Assert.Equal(AttachType.CgroupSockOps, p.ExpectedAttachType);
        Assert.Equal("GPL", p.License);
        Assert.Equal(declaredMaps, obj.Maps.Count(m => m.DataSection is null));
        Assert.Equal(rodata, obj.Maps.Any(m => m.DataSection == ".rodata"));
        Assert.NotEmpty(p.FuncInfo);
        Assert.NotEmpty(p.LineInfo);
        Assert.Equal(0, p.FuncInfo[0].InstructionIndex);

        string dump = ExternalTool.Check("llvm-objdump", "-d", "-r", path);
        Assert.Equal(ObjdumpInstruction().Count(dump), p.Instructions.Count);
        var relocations = ObjdumpRelocation().Matches(dump).Select(m => (Convert.ToInt32(m.Groups["offset"].Value, 16), m.Groups["symbol"].Value)).ToList();
        Assert.Equal(relocations, p.MapReferences.Select(r => (p.SlotOf(r.InstructionIndex) * 8, r.MapName)).ToList());
        // The line records name the C file and lines llvm-objdump --line-numbers would show.
        var btf = Emit.Btf.BtfReader.Read(obj.Btf.Span);
        Assert.All(p.LineInfo, l => Assert.EndsWith(file + ".c", btf.String(l.FileNameOffset), StringComparison.Ordinal));
    }

    [Fact]
    public void Two_programs_in_one_object_share_their_map_and_read_only_data()
    {
        var obj = ElfObjectReader.Read(Path.Combine(ObjectsDirectory, "two_programs.o"));
        Assert.Equal(["count_all", "count_rtt"], obj.Programs.Select(p => p.Name));
        var map = Assert.Single(obj.Maps, m => m.DataSection is null);
        Assert.Equal(new ObjectMap { Name = "op_counts", Type = MapType.Array, KeySize = 4, ValueSize = 8, MaxEntries = 2, KeyTypeId = map.KeyTypeId, ValueTypeId = map.ValueTypeId }, map);
        var rodata = Assert.Single(obj.Maps, m => m.DataSection == ".rodata");
        Assert.Equal(new byte[] { 1, 0, 0, 0 }, rodata.InitialValue.ToArray());
        Assert.True(rodata.Frozen);
        Assert.Equal(MapFlags.ReadOnlyProgram, rodata.Flags);
        var rtt = obj.Program("count_rtt");
        Assert.Contains(rtt.MapReferences, r => r.MapName == ".rodata" && r.Kind == PseudoSource.MapValue && r.ValueOffset == 0);
        Assert.Contains(rtt.MapReferences, r => r.MapName == "op_counts" && r.Kind == PseudoSource.MapFd);
        // Line info of the second program is rebased to its own first instruction.
        Assert.Equal(0, rtt.FuncInfo.Single().InstructionIndex);
    }

    [Theory]
    [InlineData("core", "section sockops: CO-RE relocation at sockops+0x0", "CO-RE is not supported")]
    [InlineData("extern", "relocation at sockops+0x8 against 'LINUX_KERNEL_VERSION'", "is an extern other than a kfunc call")]
    [InlineData("legacy_maps", "section maps: legacy map definitions", "declare maps in .maps")]
    public void Unsupported_constructs_are_refused_with_the_section_and_relocation_named(string file, string where, string what)
    {
        var e = Assert.Throws<ObjectFileException>(() => ElfObjectReader.Read(Path.Combine(ObjectsDirectory, file + ".o")));
        Assert.Contains(where, e.Message, StringComparison.Ordinal);
        Assert.Contains(what, e.Message, StringComparison.Ordinal);
        Assert.EndsWith(file + ".o", e.File, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_files_are_refused_with_what_is_wrong()
    {
        byte[] good = ElfObjectWriter.ToBytes(Object("clamp"));
        Assert.Contains("not an ELF file", Assert.Throws<ObjectFileException>(() => ElfObjectReader.Read("not elf"u8, "x.o")).Message, StringComparison.Ordinal);
        var wrongMachine = (byte[])good.Clone();
        wrongMachine[18] = 62; // EM_X86_64
        Assert.Contains("not a BPF object (e_machine 62", Assert.Throws<ObjectFileException>(() => ElfObjectReader.Read(wrongMachine, "x.o")).Message, StringComparison.Ordinal);
        var truncated = good[..(good.Length / 2)];
        Assert.Contains("runs past the end of the file", Assert.Throws<ObjectFileException>(() => ElfObjectReader.Read(truncated, "x.o")).Message, StringComparison.Ordinal);
    }

    // ------------------------------------------------------------------ clang's objects through our loader

    private static LoadedObject LoadClang(string file) => ObjectLoader.Load(ElfObjectReader.Read(Path.Combine(ObjectsDirectory, file + ".o")));

    [Fact]
    public void Clang_clamp_through_our_loader_sets_the_buffers_like_the_dsl_clamp()
    {
        KernelGate.Require();
        using var loaded = LoadClang("clamp");
        using var cgroup = Cgroup.CreateTemporary(prefix: "sockops-elf");
        using var attachment = cgroup.Attach(loaded.Program("bpf_clamp"));
        var clamped = Traffic.Run(cgroup, "--family 6 --port 55601").Single();
        Assert.Equal([300000, 300000, 300000, 300000], new[] { clamped.Client.SndBuf, clamped.Client.RcvBuf, clamped.Server.SndBuf, clamped.Server.RcvBuf });
        Assert.NotEqual(300000, Traffic.Run(cgroup, "--family 4 --port 55601").Single().Client.SndBuf);
    }

    [Fact]
    public void Clang_sockmap_through_our_loader_inserts_the_sockets_the_dsl_twin_inserts()
    {
        KernelGate.Require();
        using var loaded = LoadClang("sockmap");
        using var cgroup = Cgroup.CreateTemporary(prefix: "sockops-elf");
        using var attachment = cgroup.Attach(loaded.Program("bpf_sockmap"));
        using var traffic = Traffic.Start(cgroup, "--family 4 --port 10000 --port 10001 --hold");
        var map = loaded.Maps["sock_map"];
        var keys = new List<int>();
        var key = new byte[4];
        var next = new byte[4];
        bool first = true;
        while (map.TryGetNextKey(first ? default : key, next))
        {
            keys.Add(BitConverter.ToInt32(next));
            next.CopyTo(key, 0);
            first = false;
        }
        Assert.Equal([1, 10], keys.Order());
        traffic.Finish();
    }

    [Fact]
    public void Clang_dump_stats_through_our_loader_creates_its_sk_storage_with_btf_and_is_accepted()
    {
        KernelGate.Require();
        using var loaded = LoadClang("dump_stats");
        var storage = loaded.Maps["bpf_next_dump"];
        Assert.Equal(MapType.SkStorage, storage.Type);
        var rodata = loaded.Maps[".rodata"];
        Assert.True(rodata.Flags.HasFlag(MapFlags.ReadOnlyProgram));
        using var cgroup = Cgroup.CreateTemporary(prefix: "sockops-elf");
        using var attachment = cgroup.Attach(loaded.Program("_sockops"));
        Assert.Single(Traffic.Run(cgroup, "--family 4"));
    }

    [Fact]
    public void A_dsl_object_through_elf_our_reader_and_our_loader_behaves_like_the_dsl_image()
    {
        KernelGate.Require();
        var read = ElfObjectReader.Read(ElfObjectWriter.ToBytes(Object("clamp", RunningKernel.Version)), "clamp.o");
        using var loaded = ObjectLoader.Load(read);
        using var cgroup = Cgroup.CreateTemporary(prefix: "sockops-elf");
        using var attachment = cgroup.Attach(loaded.Program("clamp"));
        var clamped = Traffic.Run(cgroup, "--family 6 --port 55601").Single();
        Assert.Equal(300000, clamped.Client.SndBuf);
        // The C# lines travel with it: the kernel reports them for the loaded program.
        var lines = ProgramLineInfo.Read(loaded.Program("clamp")).Lines;
        Assert.Contains(lines, l => l.File.EndsWith("Clamp.cs", StringComparison.Ordinal) && l.Line > 0);
    }

    [Fact]
    public void A_refused_clang_program_names_its_c_source_line()
    {
        KernelGate.Require();
        var e = Assert.Throws<VerifierException>(() => LoadClang("bad_return").Dispose());
        Assert.Contains("return skops->op + 2;", e.SourceLine, StringComparison.Ordinal);
        Assert.Contains("R0", e.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bpf_to_bpf_call_into_text_is_linked_as_libbpf_links_it_and_the_kernel_accepts_it()
    {
        var obj = ElfObjectReader.Read(Path.Combine(ObjectsDirectory, "subprog.o"));
        var p = Assert.Single(obj.Programs);
        Assert.Equal("subprogram_call", p.Name);
        // The program's two instructions, then is_established's five; the call points at the appended copy.
        Assert.Equal(7, p.Instructions.Count);
        var call = p.Instructions[0];
        Assert.True(call.IsCall);
        Assert.Equal((byte)CallKind.Local, call.SourceIndex);
        Assert.Equal(2 - 1, call.Immediate);
        // One func record per function, the subprogram's at its new place; its lines came along.
        Assert.Equal([0, 2], p.FuncInfo.Select(f => f.InstructionIndex));
        var btf = Emit.Btf.BtfReader.Read(obj.Btf.Span);
        Assert.Equal(["subprogram_call", "is_established"], p.FuncInfo.Select(f => btf.Type(f.FuncTypeId).Name));
        Assert.Contains(p.LineInfo, l => l.InstructionIndex >= 2 && btf.String(l.LineTextOffset).Contains("BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB", StringComparison.Ordinal));
        KernelGate.Require();
        using var loaded = ObjectLoader.Load(obj);
        // The kernel holds both functions: seven instructions, the call still a bpf-to-bpf call.
        var xlated = loaded.Program("subprogram_call").Info.XlatedInstructions;
        Assert.Equal(7, xlated.Count);
        Assert.Equal((byte)CallKind.Local, xlated[0].SourceIndex);
    }

    [Fact]
    public void Clangs_kfunc_calls_are_read_as_kfunc_references_and_the_kernel_runs_them()
    {
        var obj = ElfObjectReader.Read(Path.Combine(ObjectsDirectory, "kfuncs.o"));
        var p = Assert.Single(obj.Programs);
        Assert.Equal(["bpf_cast_to_kern_ctx", "bpf_sock_ops_enable_tx_tstamp"], p.KfuncReferences.Select(k => k.Name));
        foreach (var k in p.KfuncReferences)
        {
            Assert.True(p.Instructions[k.InstructionIndex].IsCall);
            Assert.Equal((byte)CallKind.Kfunc, p.Instructions[k.InstructionIndex].SourceIndex);
        }
        // llvm-objdump's view: the two R_BPF_64_32 relocations are at these instructions.
        string dump = ExternalTool.Check("llvm-objdump", "-d", "-r", Path.Combine(ObjectsDirectory, "kfuncs.o"));
        var calls = ObjdumpCallRelocation().Matches(dump).Select(m => (Convert.ToInt32(m.Groups["offset"].Value, 16), m.Groups["symbol"].Value));
        Assert.Equal(p.KfuncReferences.Select(k => (p.SlotOf(k.InstructionIndex) * 8, k.Name)), calls);

        KernelGate.Require();
        if (RunningKernel.Version < new KernelVersion(6, 15))
            KernelGate.Skip($"bpf_sock_ops_enable_tx_tstamp needs Linux 6.15; this kernel is {RunningKernel.Version}");
        // The object's BTF declares the kfuncs as externs, which the kernel refuses as written: the loader rewrites
        // them as libbpf does, and patches the kernel's BTF ids into the calls.
        using var loaded = ObjectLoader.Load(obj);
        var xlated = loaded.Program("kfunc_calls").Info.XlatedInstructions;
        // The verifier inlines bpf_cast_to_kern_ctx as "r0 = r1"; bpf_sock_ops_enable_tx_tstamp stays a kfunc call.
        Assert.Equal(1, xlated.Count(i => i.IsCall && i.SourceIndex == (byte)CallKind.Kfunc));
        Assert.Equal(p.Instructions.Count, xlated.Count);
    }
}
