using System.Buffers.Binary;
using System.Text;
using SockOps.Emit.Assembler;
using SockOps.Emit.Btf;

namespace SockOps.Emit.Objects;

/// <summary>
/// Reads a relocatable BPF ELF object — clang's <c>-target bpf -O2 -g</c> output or <see cref="ElfObjectWriter"/>'s —
/// into a <see cref="BpfObject"/>: every global function of a program section is a program (several per object),
/// BTF-defined maps from <c>.maps</c>, <c>.rodata</c>/<c>.data</c>/<c>.bss</c> as data maps, map relocations, and func and
/// line info from <c>.BTF.ext</c>. What it does not support is refused with the section and relocation named, never
/// loaded half-right: CO-RE relocations, externs other than kfunc calls (<c>.kconfig</c>, <c>.ksyms</c> variables), struct_ops, legacy <c>maps</c>
/// definitions, map-in-map <c>values</c>. Functions in <c>.text</c> that a program calls are appended to it (each once,
/// calls re-pointed, their func and line info and map loads moved along), as libbpf links subprograms.
/// </summary>
public static class ElfObjectReader
{
    /// <summary>Reads the object file at <paramref name="path"/>.</summary>
    /// <exception cref="ObjectFileException">The file is not a BPF object, is malformed, or uses what is not supported.</exception>
    public static BpfObject Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Read(File.ReadAllBytes(path), path);
    }

    /// <summary>Reads an object file from <paramref name="stream"/>.</summary>
    /// <exception cref="ObjectFileException">The file is not a BPF object, is malformed, or uses what is not supported.</exception>
    public static BpfObject Read(Stream stream, string fileName = "(stream)")
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return Read(copy.ToArray(), fileName);
    }

    /// <summary>Reads an object file's bytes.</summary>
    /// <exception cref="ObjectFileException">The file is not a BPF object, is malformed, or uses what is not supported.</exception>
    public static BpfObject Read(ReadOnlySpan<byte> bytes, string fileName = "(bytes)") => new Parser(bytes.ToArray(), fileName).Parse();

    private sealed record SectionHeader(int Index, string Name, uint Type, ulong Flags, ulong Offset, ulong Size, uint Link, uint Info, ulong EntrySize);

    private sealed record Symbol(int Index, string Name, byte Bind, byte Type, int SectionIndex, ulong Value, ulong Size);

    private sealed class ProgramBuilder
    {
        public required string Name;
        public required SectionHeader Section;
        public required int Offset;
        public required int Size;
        public required Instruction[] Instructions; // replaced when subprograms are appended
        public required int[] SlotToIndex; // -1 for the second slot of an ld_imm64
        public readonly List<MapReference> MapReferences = [];
        public readonly List<KfuncReference> KfuncReferences = [];
        public readonly List<(int Index, long TargetTextOffset)> Calls = []; // bpf-to-bpf calls into .text
        public readonly List<BtfFuncInfo> FuncInfo = [];
        public readonly List<BtfLineInfo> LineInfo = [];
    }

    private sealed class Parser(byte[] file, string fileName)
    {
        private SectionHeader[] _sections = [];
        private Symbol[] _symbols = [];

        private ObjectFileException Error(string? section, string detail) => new(fileName, section, detail);

        public BpfObject Parse()
        {
            ReadHeader(out ulong sectionOffset, out int sectionCount, out int stringsIndex);
            _sections = ReadSections(sectionOffset, sectionCount, stringsIndex);
            var symtab = _sections.FirstOrDefault(s => s.Type == Elf.SectionSymtab) ?? throw Error(null, "no symbol table (.symtab)");
            _symbols = ReadSymbols(symtab);

            foreach (var s in _sections)
            {
                if (s.Name == "maps") throw Error(s.Name, "legacy map definitions (struct bpf_map_def) are not supported; declare maps in .maps with BTF (__uint/__type)");
                if (s.Name.StartsWith(".struct_ops", StringComparison.Ordinal)) throw Error(s.Name, "struct_ops maps are not supported");
                if (s.Name is ".kconfig" or ".ksyms") throw Error(s.Name, "externs (kconfig/ksyms) are not supported");
                if (s.Type == Elf.SectionRela) throw Error(s.Name, "RELA relocations are not used by BPF objects (expected SHT_REL)");
            }

            string license = ReadLicense();
            byte[]? btfBytes = _sections.FirstOrDefault(s => s.Name == ".BTF") is { } btfSection ? Data(btfSection).ToArray() : null;
            BtfReader? btf = btfBytes is null ? null : ReadBtf(btfBytes);

            var programs = ReadPrograms();
            var maps = new List<ObjectMap>();
            var mapOfSection = new Dictionary<int, string>();
            if (_sections.FirstOrDefault(s => s.Name == ".maps") is { } mapsSection)
            {
                if (btf is null) throw Error(".maps", "BTF-defined maps need the object's .BTF section (compile with -g)");
                maps.AddRange(ReadBtfMaps(mapsSection, btf));
                mapOfSection[mapsSection.Index] = ".maps";
            }
            foreach (var s in _sections.Where(IsDataSection))
            {
                maps.Add(DataMap(s, btf));
                mapOfSection[s.Index] = s.Name;
            }
            foreach (var s in _sections.Where(s => s.Type == Elf.SectionRel))
            {
                var target = s.Info < _sections.Length ? _sections[s.Info] : throw Error(s.Name, $"relocates section {s.Info}, which does not exist");
                if ((target.Flags & Elf.FlagExec) == 0) continue; // .rel.BTF, .rel.BTF.ext, .rel.debug_*: for linkers, not loaders
                ApplyRelocations(s, target, programs, mapOfSection, btf);
            }
            foreach (var program in WithText(programs)) CheckCalls(program);

            byte[]? fixedBtf = btfBytes;
            if (btf is not null)
            {
                if (_sections.FirstOrDefault(s => s.Name == ".BTF.ext") is { } ext) ReadBtfExt(ext, btf, programs);
                fixedBtf = FixDataSections(btf);
            }
            foreach (var program in programs) LinkSubprograms(program);

            var result = programs.Select(p => new ObjectProgram
            {
                Name = p.Name,
                Section = p.Section.Name,
                Type = ProgramTypeOf(p.Section.Name).Type,
                ExpectedAttachType = ProgramTypeOf(p.Section.Name).Attach,
                License = license,
                Instructions = p.Instructions,
                MapReferences = [.. p.MapReferences.OrderBy(r => r.InstructionIndex)],
                KfuncReferences = [.. p.KfuncReferences.OrderBy(r => r.InstructionIndex)],
                FuncInfo = [.. p.FuncInfo],
                LineInfo = [.. p.LineInfo],
            }).ToList();
            if (result.Count == 0) throw Error(null, "no program: no global function in an executable section other than .text");
            try
            {
                return new BpfObject(result, maps, fixedBtf);
            }
            catch (ArgumentException e)
            {
                throw Error(null, e.Message);
            }
        }

        private (ProgramType Type, AttachType? Attach) ProgramTypeOf(string section) => section switch
        {
            "sockops" => (ProgramType.SockOps, AttachType.CgroupSockOps),
            "sk_msg" => (ProgramType.SkMsg, AttachType.SkMsgVerdict),
            "sk_skb/stream_parser" => (ProgramType.SkSkb, AttachType.SkSkbStreamParser),
            "sk_skb/stream_verdict" => (ProgramType.SkSkb, AttachType.SkSkbStreamVerdict),
            "cgroup_skb/ingress" => (ProgramType.CgroupSkb, AttachType.CgroupInetIngress),
            "cgroup_skb/egress" => (ProgramType.CgroupSkb, AttachType.CgroupInetEgress),
            "cgroup/sock_create" or "cgroup/sock" => (ProgramType.CgroupSock, AttachType.CgroupInetSockCreate),
            "xdp" => (ProgramType.Xdp, null),
            "tc" or "classifier" => (ProgramType.SchedClassifier, null),
            "socket" => (ProgramType.SocketFilter, null),
            _ => throw Error(section, "is not a program section this loader knows (sockops, sk_msg, sk_skb/stream_parser|stream_verdict, cgroup_skb/ingress|egress, cgroup/sock_create, xdp, tc, socket)"),
        };

        private static bool IsDataSection(SectionHeader s) =>
            s.Size > 0 && (s.Name is ".rodata" or ".data" or ".bss" || s.Name.StartsWith(".rodata.", StringComparison.Ordinal)
                || s.Name.StartsWith(".data.", StringComparison.Ordinal) || s.Name.StartsWith(".bss.", StringComparison.Ordinal))
            && (s.Flags & Elf.FlagAlloc) != 0 && (s.Flags & (Elf.FlagMerge | Elf.FlagStrings)) != (Elf.FlagMerge | Elf.FlagStrings);

        private void ReadHeader(out ulong sectionOffset, out int sectionCount, out int stringsIndex)
        {
            if (file.Length < Elf.HeaderSize || file[0] != 0x7f || file[1] != 'E' || file[2] != 'L' || file[3] != 'F')
                throw Error(null, "not an ELF file");
            if (file[4] != 2) throw Error(null, "not a 64-bit ELF file (BPF objects are ELF64)");
            if (file[5] != 1) throw Error(null, "not little-endian (this loader reads little-endian BPF objects)");
            var h = file.AsSpan();
            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(h[16..]);
            ushort machine = BinaryPrimitives.ReadUInt16LittleEndian(h[18..]);
            if (machine != Elf.MachineBpf) throw Error(null, $"not a BPF object (e_machine {machine}, expected {Elf.MachineBpf} EM_BPF)");
            if (type != Elf.RelocatableType) throw Error(null, $"not a relocatable object (e_type {type}, expected 1 ET_REL)");
            sectionOffset = BinaryPrimitives.ReadUInt64LittleEndian(h[40..]);
            ushort entrySize = BinaryPrimitives.ReadUInt16LittleEndian(h[58..]);
            sectionCount = BinaryPrimitives.ReadUInt16LittleEndian(h[60..]);
            stringsIndex = BinaryPrimitives.ReadUInt16LittleEndian(h[62..]);
            if (entrySize != Elf.SectionHeaderSize) throw Error(null, $"section header size {entrySize}, expected {Elf.SectionHeaderSize}");
            if (sectionOffset > (ulong)file.Length || (ulong)sectionCount * Elf.SectionHeaderSize > (ulong)file.Length - sectionOffset)
                throw Error(null, "the section header table runs past the end of the file");
            if (stringsIndex >= sectionCount) throw Error(null, $"section name table index {stringsIndex} is outside the {sectionCount} sections");
        }

        private SectionHeader[] ReadSections(ulong offset, int count, int stringsIndex)
        {
            var raw = new (uint Name, uint Type, ulong Flags, ulong Offset, ulong Size, uint Link, uint Info, ulong EntrySize)[count];
            for (int i = 0; i < count; i++)
            {
                var h = file.AsSpan((int)offset + i * Elf.SectionHeaderSize, Elf.SectionHeaderSize);
                raw[i] = (BinaryPrimitives.ReadUInt32LittleEndian(h), BinaryPrimitives.ReadUInt32LittleEndian(h[4..]), BinaryPrimitives.ReadUInt64LittleEndian(h[8..]),
                    BinaryPrimitives.ReadUInt64LittleEndian(h[24..]), BinaryPrimitives.ReadUInt64LittleEndian(h[32..]), BinaryPrimitives.ReadUInt32LittleEndian(h[40..]),
                    BinaryPrimitives.ReadUInt32LittleEndian(h[44..]), BinaryPrimitives.ReadUInt64LittleEndian(h[56..]));
                if (raw[i].Type != Elf.SectionNoBits && raw[i].Type != Elf.SectionNull && (raw[i].Offset > (ulong)file.Length || raw[i].Size > (ulong)file.Length - raw[i].Offset))
                    throw Error($"#{i}", $"its data ({raw[i].Size} bytes at {raw[i].Offset}) runs past the end of the file");
            }
            var names = raw[stringsIndex];
            var sections = new SectionHeader[count];
            for (int i = 0; i < count; i++)
            {
                string name = CString(file.AsSpan((int)names.Offset, (int)names.Size), raw[i].Name, $"section #{i} name");
                sections[i] = new SectionHeader(i, name, raw[i].Type, raw[i].Flags, raw[i].Offset, raw[i].Size, raw[i].Link, raw[i].Info, raw[i].EntrySize);
            }
            return sections;
        }

        private ReadOnlySpan<byte> Data(SectionHeader s) => s.Type == Elf.SectionNoBits ? new byte[s.Size] : file.AsSpan((int)s.Offset, (int)s.Size);

        private string CString(ReadOnlySpan<byte> table, uint offset, string what)
        {
            if (offset >= table.Length) throw Error(null, $"{what}: string offset {offset} is outside its {table.Length}-byte string table");
            var rest = table[(int)offset..];
            int end = rest.IndexOf((byte)0);
            if (end < 0) throw Error(null, $"{what}: unterminated string");
            return Encoding.UTF8.GetString(rest[..end]);
        }

        private Symbol[] ReadSymbols(SectionHeader symtab)
        {
            if (symtab.EntrySize != Elf.SymbolSize || symtab.Size % Elf.SymbolSize != 0) throw Error(symtab.Name, $"symbol entries of {symtab.EntrySize} bytes, expected {Elf.SymbolSize}");
            if (symtab.Link >= _sections.Length) throw Error(symtab.Name, $"its string table {symtab.Link} does not exist");
            var strings = Data(_sections[symtab.Link]);
            var data = Data(symtab);
            var symbols = new Symbol[data.Length / Elf.SymbolSize];
            for (int i = 0; i < symbols.Length; i++)
            {
                var e = data.Slice(i * Elf.SymbolSize, Elf.SymbolSize);
                string name = CString(strings, BinaryPrimitives.ReadUInt32LittleEndian(e), $"symbol #{i}");
                symbols[i] = new Symbol(i, name, (byte)(e[4] >> 4), (byte)(e[4] & 0xf), BinaryPrimitives.ReadUInt16LittleEndian(e[6..]),
                    BinaryPrimitives.ReadUInt64LittleEndian(e[8..]), BinaryPrimitives.ReadUInt64LittleEndian(e[16..]));
            }
            return symbols;
        }

        private string ReadLicense()
        {
            if (_sections.FirstOrDefault(s => s.Name == "license") is not { } section) return "";
            var data = Data(section);
            int end = data.IndexOf((byte)0);
            return Encoding.ASCII.GetString(end < 0 ? data : data[..end]);
        }

        private BtfReader ReadBtf(byte[] bytes)
        {
            try
            {
                return BtfReader.Read(bytes);
            }
            catch (BtfFormatException e)
            {
                throw Error(".BTF", e.Message);
            }
        }

        private List<ProgramBuilder> ReadPrograms()
        {
            var programs = new List<ProgramBuilder>();
            foreach (var section in _sections.Where(s => s.Type == Elf.SectionProgBits && (s.Flags & Elf.FlagExec) != 0 && s.Size > 0))
            {
                if (section.Size % Instruction.SlotSize != 0) throw Error(section.Name, $"its size {section.Size} is not a multiple of 8");
                var functions = _symbols.Where(s => s.SectionIndex == section.Index && s.Type == Elf.TypeFunc && s.Bind is Elf.BindGlobal or Elf.BindWeak)
                    .OrderBy(s => s.Value).ToList();
                if (section.Name == ".text")
                {
                    // Subprograms, appended to each program that calls them (as libbpf does); decoded whole.
                    _text = Decode(section, ".text", 0, (int)section.Size);
                    continue;
                }
                if (functions.Count == 0) throw Error(section.Name, "holds code but no global function symbol names a program in it");
                foreach (var f in functions)
                {
                    if (f.Value % 8 != 0 || f.Size % 8 != 0 || f.Size == 0 || f.Value + f.Size > section.Size)
                        throw Error(section.Name, $"program '{f.Name}' (offset {f.Value}, size {f.Size}) is not a whole number of instructions inside the section");
                    programs.Add(Decode(section, f.Name, (int)f.Value, (int)f.Size));
                }
            }
            return programs;
        }

        private ProgramBuilder? _text;

        private ProgramBuilder Decode(SectionHeader section, string name, int offset, int size)
        {
            Instruction[] instructions;
            try
            {
                instructions = InstructionDecoder.Decode(Data(section).Slice(offset, size));
            }
            catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
            {
                throw Error(section.Name, $"program '{name}': {e.Message}");
            }
            var slotToIndex = new int[size / 8];
            int slot = 0;
            for (int i = 0; i < instructions.Length; i++)
            {
                slotToIndex[slot] = i;
                if (instructions[i].IsWide) slotToIndex[slot + 1] = -1;
                slot += instructions[i].Slots;
            }
            return new ProgramBuilder { Name = name, Section = section, Offset = offset, Size = size, Instructions = instructions, SlotToIndex = slotToIndex };
        }

        /// <summary>The programs and, when present, the .text subprograms (a relocation or record may be in either).</summary>
        private List<ProgramBuilder> WithText(List<ProgramBuilder> programs) => _text is null ? programs : [.. programs, _text];

        /// <summary>
        /// Appends the .text functions a program calls (transitively, each once) after its own code and points each call
        /// at its copy, with the functions' map references and func/line info moved along, as libbpf links subprograms.
        /// </summary>
        private void LinkSubprograms(ProgramBuilder program)
        {
            if (program.Calls.Count == 0) return;
            var text = _text ?? throw Error(program.Section.Name, $"program '{program.Name}' calls into .text, which the object does not have");
            var code = new List<Instruction>(program.Instructions);
            var placed = new Dictionary<long, int>();
            var calls = new List<(int Index, long Target)>(program.Calls);
            var queue = new Queue<long>(program.Calls.Select(c => c.TargetTextOffset).Distinct());
            foreach (long target in queue) placed[target] = -1;
            while (queue.Count > 0)
            {
                long start = queue.Dequeue();
                var function = _symbols.FirstOrDefault(sym => sym.SectionIndex == text.Section.Index && sym.Type == Elf.TypeFunc && (long)sym.Value == start)
                    ?? throw Error(".text", $"program '{program.Name}' calls .text+0x{start:x}, where no function starts");
                if (function.Size == 0 || function.Size % 8 != 0 || (long)(function.Value + function.Size) > text.Size)
                    throw Error(".text", $"function '{function.Name}' (offset {function.Value}, size {function.Size}) is not a whole number of instructions");
                int first = text.SlotToIndex[start / 8];
                long endSlot = (long)(function.Value + function.Size) / 8;
                int end = endSlot >= text.SlotToIndex.Length ? text.Instructions.Length : text.SlotToIndex[endSlot];
                int at = code.Count;
                placed[start] = at;
                for (int i = first; i < end; i++) code.Add(text.Instructions[i]);
                foreach (var r in text.MapReferences.Where(r => r.InstructionIndex >= first && r.InstructionIndex < end))
                    program.MapReferences.Add(r with { InstructionIndex = r.InstructionIndex - first + at });
                foreach (var k in text.KfuncReferences.Where(k => k.InstructionIndex >= first && k.InstructionIndex < end))
                    program.KfuncReferences.Add(k with { InstructionIndex = k.InstructionIndex - first + at });
                foreach (var f in text.FuncInfo.Where(f => f.InstructionIndex >= first && f.InstructionIndex < end))
                    program.FuncInfo.Add(f with { InstructionIndex = f.InstructionIndex - first + at });
                foreach (var l in text.LineInfo.Where(l => l.InstructionIndex >= first && l.InstructionIndex < end))
                    program.LineInfo.Add(l with { InstructionIndex = l.InstructionIndex - first + at });
                foreach (var (index, target) in text.Calls.Where(c => c.Index >= first && c.Index < end))
                {
                    calls.Add((index - first + at, target));
                    if (placed.TryAdd(target, -1)) queue.Enqueue(target);
                }
            }
            var slotOf = new int[code.Count + 1];
            for (int i = 0; i < code.Count; i++) slotOf[i + 1] = slotOf[i] + code[i].Slots;
            foreach (var (index, target) in calls)
            {
                var call = code[index];
                code[index] = new Instruction(call.Opcode, call.DestinationIndex, (byte)CallKind.Local, call.Offset, slotOf[placed[target]] - (slotOf[index] + 1));
            }
            program.Instructions = [.. code];
        }

        /// <summary>Which program holds the byte at <paramref name="offset"/> of <paramref name="section"/>, and the instruction there.</summary>
        private (ProgramBuilder Program, int Index) InstructionAt(List<ProgramBuilder> programs, SectionHeader section, ulong offset, string what)
        {
            var program = programs.FirstOrDefault(p => p.Section == section && offset >= (ulong)p.Offset && offset < (ulong)(p.Offset + p.Size))
                ?? throw Error(section.Name, $"{what} at offset {offset} is outside every program");
            ulong relative = offset - (ulong)program.Offset;
            int index = relative % 8 == 0 ? program.SlotToIndex[relative / 8] : -1;
            if (index < 0) throw Error(section.Name, $"{what} at offset {offset} is not at the start of an instruction of '{program.Name}'");
            return (program, index);
        }

        private void ApplyRelocations(SectionHeader rel, SectionHeader target, List<ProgramBuilder> programs, Dictionary<int, string> mapOfSection, BtfReader? btf)
        {
            var data = Data(rel);
            if (data.Length % Elf.RelSize != 0) throw Error(rel.Name, $"its size {data.Length} is not a multiple of {Elf.RelSize}");
            for (int at = 0; at < data.Length; at += Elf.RelSize)
            {
                ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(data[at..]);
                ulong info = BinaryPrimitives.ReadUInt64LittleEndian(data[(at + 8)..]);
                uint type = (uint)info;
                int symbolIndex = (int)(info >> 32);
                if (symbolIndex >= _symbols.Length) throw Error(rel.Name, $"relocation at {target.Name}+{offset} names symbol {symbolIndex}, which does not exist");
                var symbol = _symbols[symbolIndex];
                string where = $"relocation at {target.Name}+0x{offset:x} against '{(symbol.Type == Elf.TypeSection ? _sections[symbol.SectionIndex].Name : symbol.Name)}'";
                var (program, index) = InstructionAt(WithText(programs), target, offset, where);
                var instruction = program.Instructions[index];
                if (symbol.SectionIndex == Elf.SectionUndefined)
                {
                    // A kfunc: clang writes "call -1" (BPF_PSEUDO_CALL) with R_BPF_64_32 against the extern and declares it
                    // in BTF as an extern FUNC in DATASEC .ksyms; the loader patches in the kernel's BTF id, as libbpf does.
                    if (type == Elf.RelocBpf64_32 && instruction.IsCall && instruction.SourceIndex == (byte)CallKind.Local && symbol.Type == Elf.TypeNoType
                        && btf?.DeclaresExternFunction(symbol.Name) == true)
                    {
                        program.KfuncReferences.Add(new KfuncReference(index, symbol.Name));
                        program.Instructions[index] = new Instruction(instruction.Opcode, instruction.DestinationIndex, (byte)CallKind.Kfunc, instruction.Offset, 0);
                        continue;
                    }
                    throw Error(target.Name, $"{where}: '{symbol.Name}' is an extern other than a kfunc call declared in BTF (a ksym variable or kconfig value); such externs are not supported");
                }
                if (type == Elf.RelocBpf64_32 && instruction.IsCall && instruction.SourceIndex == (byte)CallKind.Local)
                {
                    if (_text is null || symbol.SectionIndex != _text.Section.Index)
                        throw Error(target.Name, $"{where}: a bpf-to-bpf call must target a function in .text");
                    program.Calls.Add((index, (long)symbol.Value + ((long)instruction.Immediate + 1) * 8));
                    continue;
                }
                if (type != Elf.RelocBpf64_64 || !instruction.IsWide)
                    throw Error(target.Name, $"{where}: relocation type {type} on {instruction} is not a map load (R_BPF_64_64 on ld_imm64)");
                if (!mapOfSection.TryGetValue(symbol.SectionIndex, out var mapSection))
                    throw Error(target.Name, $"{where}: the symbol is in section {_sections[symbol.SectionIndex].Name}, which holds no map or data");
                if (mapSection == ".maps")
                {
                    if (symbol.Type == Elf.TypeSection) throw Error(target.Name, $"{where}: a map load must name the map's symbol");
                    program.MapReferences.Add(new MapReference(index, symbol.Name, PseudoSource.MapFd));
                    program.Instructions[index] = new Instruction(instruction.Opcode, instruction.DestinationIndex, (byte)PseudoSource.MapFd, instruction.Offset, 0, 0);
                }
                else
                {
                    long valueOffset = (long)symbol.Value + instruction.Immediate;
                    if (valueOffset < 0 || (ulong)valueOffset >= Math.Max(_sections[symbol.SectionIndex].Size, 1))
                        throw Error(target.Name, $"{where}: offset {valueOffset} is outside the {_sections[symbol.SectionIndex].Size}-byte section");
                    program.MapReferences.Add(new MapReference(index, mapSection, PseudoSource.MapValue, (int)valueOffset));
                    program.Instructions[index] = new Instruction(instruction.Opcode, instruction.DestinationIndex, (byte)PseudoSource.MapValue, instruction.Offset, 0, (int)valueOffset);
                }
            }
        }

        private void CheckCalls(ProgramBuilder program)
        {
            for (int i = 0; i < program.Instructions.Length; i++)
            {
                var instruction = program.Instructions[i];
                if (!instruction.IsCall) continue;
                if (instruction.SourceIndex == (byte)CallKind.Local && !program.Calls.Any(c => c.Index == i))
                    throw Error(program.Section.Name, $"program '{program.Name}' makes a bpf-to-bpf call at instruction {i} without a relocation naming its target");
                if (instruction.SourceIndex == (byte)CallKind.Kfunc && !program.KfuncReferences.Any(k => k.InstructionIndex == i))
                    throw Error(program.Section.Name, $"program '{program.Name}' calls a kfunc at instruction {i} without a relocation naming it");
            }
        }

        private IEnumerable<ObjectMap> ReadBtfMaps(SectionHeader section, BtfReader btf)
        {
            var datasec = btf.Find(BtfKind.DataSection, ".maps") ?? throw Error(section.Name, "the BTF has no DATASEC '.maps' describing the maps");
            foreach (var entry in datasec.Entries)
            {
                var variable = btf.Type(entry.TypeId);
                if (variable.Kind != BtfKind.Var) throw Error(section.Name, $"DATASEC entry {entry.TypeId} is a {variable.Kind}, not a VAR");
                string name = variable.Name;
                var definition = btf.Type(btf.Resolve(variable.SizeOrType));
                if (definition.Kind != BtfKind.Struct) throw Error(section.Name, $"map '{name}' is a {definition.Kind}, not a struct of __uint/__type members");
                MapType? type = null;
                int keySize = 0, valueSize = 0;
                uint maxEntries = 0, keyType = 0, valueType = 0, pinning = 0;
                MapFlags flags = MapFlags.None;
                foreach (var member in definition.Entries)
                {
                    uint Number()
                    {
                        var pointer = btf.Type(btf.Resolve(member.TypeId));
                        var array = pointer.Kind == BtfKind.Pointer ? btf.Type(btf.Resolve(pointer.SizeOrType)) : null;
                        return array is { Kind: BtfKind.Array } ? array.Array.Count
                            : throw Error(section.Name, $"map '{name}': member '{member.Name}' is not __uint(name, value) (a pointer to an array)");
                    }
                    uint Pointee()
                    {
                        var pointer = btf.Type(btf.Resolve(member.TypeId));
                        return pointer.Kind == BtfKind.Pointer ? pointer.SizeOrType
                            : throw Error(section.Name, $"map '{name}': member '{member.Name}' is not __type(name, type) (a pointer)");
                    }
                    int SizeOf(uint id)
                    {
                        try
                        {
                            return checked((int)btf.SizeOf(id));
                        }
                        catch (BtfFormatException e)
                        {
                            throw Error(section.Name, $"map '{name}': member '{member.Name}': {e.Message}");
                        }
                    }
                    switch (member.Name)
                    {
                        case "type": type = (MapType)Number(); break;
                        case "max_entries": maxEntries = Number(); break;
                        case "map_flags": flags = (MapFlags)Number(); break;
                        case "key_size": keySize = (int)Number(); break;
                        case "value_size": valueSize = (int)Number(); break;
                        case "key": keyType = Pointee(); keySize = SizeOf(keyType); break;
                        case "value": valueType = Pointee(); valueSize = SizeOf(valueType); break;
                        case "pinning": pinning = Number(); break;
                        case "numa_node" or "map_extra":
                            throw Error(section.Name, $"map '{name}': member '{member.Name}' is not supported");
                        case "values":
                            throw Error(section.Name, $"map '{name}': map-in-map and program-array initial 'values' are not supported");
                        default:
                            throw Error(section.Name, $"map '{name}': unknown member '{member.Name}' (libbpf knows type, key, value, key_size, value_size, max_entries, map_flags, pinning)");
                    }
                }
                if (type is null) throw Error(section.Name, $"map '{name}' has no 'type' member");
                if (pinning > (uint)MapPinning.ByName) throw Error(section.Name, $"map '{name}': pinning {pinning} is not LIBBPF_PIN_NONE (0) or LIBBPF_PIN_BY_NAME (1)");
                yield return new ObjectMap
                {
                    Name = name, Type = type.Value, KeySize = keySize, ValueSize = valueSize, MaxEntries = maxEntries, Flags = flags,
                    KeyTypeId = keyType, ValueTypeId = valueType, Pinning = (MapPinning)pinning,
                };
            }
        }

        private ObjectMap DataMap(SectionHeader section, BtfReader? btf)
        {
            bool readOnly = section.Name.StartsWith(".rodata", StringComparison.Ordinal);
            bool bss = section.Type == Elf.SectionNoBits;
            return new ObjectMap
            {
                Name = section.Name,
                DataSection = section.Name,
                Type = MapType.Array,
                KeySize = 4,
                ValueSize = checked((int)section.Size),
                MaxEntries = 1,
                Flags = readOnly ? MapFlags.ReadOnlyProgram : MapFlags.None,
                InitialValue = bss ? ReadOnlyMemory<byte>.Empty : Data(section).ToArray(),
                Frozen = readOnly,
                ValueTypeId = btf?.Find(BtfKind.DataSection, section.Name)?.Id ?? 0,
            };
        }

        /// <summary>clang leaves DATASEC sizes and variable offsets to the loader; the kernel refuses a DATASEC of size 0.</summary>
        private byte[] FixDataSections(BtfReader btf)
        {
            byte[] blob = btf.Blob.ToArray();
            // .ksyms has no ELF section when it declares only kfuncs; the loader rewrites it for the kernel.
            foreach (var datasec in btf.Types.Where(t => t.Kind == BtfKind.DataSection && t.Name != ".ksyms"))
            {
                var section = _sections.FirstOrDefault(s => s.Name == datasec.Name)
                    ?? throw Error(".BTF", $"DATASEC '{datasec.Name}' names a section the object does not have");
                var entries = new List<(uint Offset, uint Size)>();
                foreach (var entry in datasec.Entries)
                {
                    var variable = btf.Type(entry.TypeId);
                    var symbol = _symbols.FirstOrDefault(s => s.SectionIndex == section.Index && s.Name == variable.Name && s.Type == Elf.TypeObject);
                    uint size = entry.Size != 0 ? entry.Size : (uint)btf.SizeOf(variable.SizeOrType);
                    entries.Add((symbol is null ? (uint)entry.Value : (uint)symbol.Value, size));
                }
                blob = BtfReader.Read(blob).WithDataSection(datasec.Id, (uint)section.Size, entries);
            }
            return blob;
        }

        private void ReadBtfExt(SectionHeader section, BtfReader btf, List<ProgramBuilder> programs)
        {
            var ext = Data(section);
            if (ext.Length < 24 || BinaryPrimitives.ReadUInt16LittleEndian(ext) != Elf.BtfExtMagic) throw Error(section.Name, "bad .BTF.ext header");
            uint headerLength = BinaryPrimitives.ReadUInt32LittleEndian(ext[4..]);
            uint funcOff = BinaryPrimitives.ReadUInt32LittleEndian(ext[8..]), funcLen = BinaryPrimitives.ReadUInt32LittleEndian(ext[12..]);
            uint lineOff = BinaryPrimitives.ReadUInt32LittleEndian(ext[16..]), lineLen = BinaryPrimitives.ReadUInt32LittleEndian(ext[20..]);
            if (headerLength >= 32 && ext.Length >= 32)
            {
                uint coreOff = BinaryPrimitives.ReadUInt32LittleEndian(ext[24..]), coreLen = BinaryPrimitives.ReadUInt32LittleEndian(ext[28..]);
                if (coreLen > 4)
                {
                    var core = Slice(ext, headerLength + coreOff, coreLen, "CO-RE relocations");
                    int recordSize = (int)BinaryPrimitives.ReadUInt32LittleEndian(core);
                    ForEachSection(core[4..], recordSize, btf, (name, records) =>
                    {
                        if (records.Length == 0) return;
                        uint insn = BinaryPrimitives.ReadUInt32LittleEndian(records);
                        string access = btf.String(BinaryPrimitives.ReadUInt32LittleEndian(records[8..]));
                        throw Error(name, $"CO-RE relocation at {name}+0x{insn:x} (type {BinaryPrimitives.ReadUInt32LittleEndian(records[4..])}, access \"{access}\"): CO-RE is not supported");
                    });
                }
            }
            var funcs = Slice(ext, headerLength + funcOff, funcLen, "func info");
            if (funcs.Length >= 4)
            {
                int recordSize = (int)BinaryPrimitives.ReadUInt32LittleEndian(funcs);
                ForEachSection(funcs[4..], recordSize, btf, (name, records) =>
                {
                    for (int at = 0; at < records.Length; at += recordSize)
                    {
                        uint offset = BinaryPrimitives.ReadUInt32LittleEndian(records[at..]);
                        var holder = FindSection(name);
                        if (holder is null || (holder.Flags & Elf.FlagExec) == 0) continue;
                        var (program, index) = InstructionAt(WithText(programs), holder, offset, "func info record");
                        program.FuncInfo.Add(new BtfFuncInfo(index, BinaryPrimitives.ReadUInt32LittleEndian(records[(at + 4)..])));
                    }
                });
            }
            var lines = Slice(ext, headerLength + lineOff, lineLen, "line info");
            if (lines.Length >= 4)
            {
                int recordSize = (int)BinaryPrimitives.ReadUInt32LittleEndian(lines);
                ForEachSection(lines[4..], recordSize, btf, (name, records) =>
                {
                    for (int at = 0; at < records.Length; at += recordSize)
                    {
                        uint offset = BinaryPrimitives.ReadUInt32LittleEndian(records[at..]);
                        var holder = FindSection(name);
                        if (holder is null || (holder.Flags & Elf.FlagExec) == 0) continue;
                        var (program, index) = InstructionAt(WithText(programs), holder, offset, "line info record");
                        uint lineCol = BinaryPrimitives.ReadUInt32LittleEndian(records[(at + 12)..]);
                        program.LineInfo.Add(new BtfLineInfo(index, BinaryPrimitives.ReadUInt32LittleEndian(records[(at + 4)..]),
                            BinaryPrimitives.ReadUInt32LittleEndian(records[(at + 8)..]), (int)(lineCol >> 10), (int)(lineCol & 0x3ff)));
                    }
                });
            }
        }

        private SectionHeader? FindSection(string name) => _sections.FirstOrDefault(s => s.Name == name);

        private ReadOnlySpan<byte> Slice(ReadOnlySpan<byte> ext, uint offset, uint length, string what)
        {
            if ((ulong)offset + length > (ulong)ext.Length) throw Error(".BTF.ext", $"its {what} ({length} bytes at {offset}) run past the section");
            return ext.Slice((int)offset, (int)length);
        }

        private delegate void SectionRecords(string section, ReadOnlySpan<byte> records);

        private void ForEachSection(ReadOnlySpan<byte> data, int recordSize, BtfReader btf, SectionRecords visit)
        {
            if (recordSize < 8) throw Error(".BTF.ext", $"record size {recordSize} is too small");
            int at = 0;
            while (at < data.Length)
            {
                if (data.Length - at < 8) throw Error(".BTF.ext", "a section header is truncated");
                string name = btf.String(BinaryPrimitives.ReadUInt32LittleEndian(data[at..]));
                int count = (int)BinaryPrimitives.ReadUInt32LittleEndian(data[(at + 4)..]);
                at += 8;
                if ((long)count * recordSize > data.Length - at) throw Error(".BTF.ext", $"the records of section '{name}' run past the data");
                visit(name, data.Slice(at, count * recordSize));
                at += count * recordSize;
            }
        }
    }
}
