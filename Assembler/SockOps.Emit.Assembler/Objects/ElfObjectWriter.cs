using System.Buffers.Binary;
using System.Text;
using SockOps.Emit.Assembler;
using SockOps.Emit.Btf;

namespace SockOps.Emit.Objects;

/// <summary>
/// Writes a <see cref="BpfObject"/> as a relocatable BPF ELF object (ELF64, little-endian, EM_BPF, ET_REL) in the
/// layout clang produces and libbpf ≥ 1.0, bpftool and bpfman load: one executable section per program section with a
/// global FUNC symbol per program, <c>license</c>, BTF-defined maps in <c>.maps</c> (a global OBJECT symbol each),
/// data sections such as <c>.rodata</c>, <c>SHT_REL</c> sections with <c>R_BPF_64_64</c> for map loads and
/// <c>R_BPF_64_32</c> against an undefined symbol for each kfunc call (declared in BTF), <c>.BTF</c>
/// and <c>.BTF.ext</c> (func and line info with byte offsets), <c>.symtab</c> and <c>.strtab</c>.
/// </summary>
/// <remarks>
/// Hand-written rather than on an ELF library: a BPF object is a small, fixed subset of ELF (no segments, no
/// dynamic linking, one relocation type per use), the bytes must match what libbpf expects to the field (section
/// flags, symbol binding, the .BTF.ext layout), and the kernel-free Assembler package stays dependency-free.
/// llvm-objdump, readelf, bpftool and libbpf check the result in the tests.
/// </remarks>
public static class ElfObjectWriter
{
    /// <summary>Writes <paramref name="obj"/> to <paramref name="stream"/>.</summary>
    /// <exception cref="ObjectFileException">The object cannot be expressed as an ELF file libbpf loads (the message says why).</exception>
    public static void Write(BpfObject obj, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[] bytes = ToBytes(obj);
        stream.Write(bytes);
    }

    /// <summary>The ELF file of <paramref name="obj"/>.</summary>
    /// <exception cref="ObjectFileException">The object cannot be expressed as an ELF file libbpf loads (the message says why).</exception>
    public static byte[] ToBytes(BpfObject obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        return new Layout(obj).Build();
    }

    private sealed class Section
    {
        public required string Name;
        public uint Type;
        public ulong Flags;
        public byte[] Data = [];
        public ulong Size; // differs from Data.Length only for NOBITS
        public uint Link, Info;
        public ulong Align = 1, EntrySize;
        public int Index;
    }

    private sealed class Layout(BpfObject obj)
    {
        private readonly List<Section> _sections = [new Section { Name = "", Type = Elf.SectionNull, Align = 0 }];
        private readonly StringTable _strings = new();
        private readonly List<(string Name, byte Bind, byte Type, int SectionIndex, ulong Value, ulong Size)> _locals = [];
        private readonly List<(string Name, byte Bind, byte Type, int SectionIndex, ulong Value, ulong Size)> _globals = [];

        private Section Add(Section section)
        {
            section.Index = _sections.Count;
            _sections.Add(section);
            return section;
        }

        public byte[] Build()
        {
            string license = CheckLicense();
            var strtab = Add(new Section { Name = ".strtab", Type = Elf.SectionStrtab });
            BtfReader? btf = obj.Btf.IsEmpty ? null : BtfReader.Read(obj.Btf.Span);

            // Program sections (in order of first appearance), programs concatenated within each.
            var programOffsets = new Dictionary<ObjectProgram, (Section Section, int Offset)>();
            var relocationSections = new List<(Section Target, List<(ulong Offset, string Symbol, bool Kfunc)> Relocations)>();
            var kfuncs = new SortedSet<string>(StringComparer.Ordinal);
            var symbolIndexOfSection = new Dictionary<Section, string>();
            foreach (var group in obj.Programs.GroupBy(p => p.Section))
            {
                CheckName(group.Key, "section");
                var code = new List<byte>();
                var section = Add(new Section { Name = group.Key, Type = Elf.SectionProgBits, Flags = Elf.FlagAlloc | Elf.FlagExec, Align = 8 });
                var relocations = new List<(ulong, string, bool)>();
                foreach (var program in group)
                {
                    foreach (var kfunc in program.KfuncReferences)
                    {
                        // libbpf resolves a kfunc from its BTF declaration (an extern FUNC, listed in DATASEC .ksyms) and
                        // checks that declaration's prototype against the kernel's.
                        if (btf?.DeclaresExternFunction(kfunc.Name) != true)
                            throw new ObjectFileException($"Program '{program.Name}' calls kfunc '{kfunc.Name}', which the object's BTF does not declare (an extern FUNC with the kernel's prototype in DATASEC .ksyms).");
                        kfuncs.Add(kfunc.Name);
                    }
                    CheckName(program.Name, "program");
                    int start = code.Count;
                    programOffsets[program] = (section, start);
                    code.AddRange(ElfInstructions(program));
                    foreach (var reference in program.MapReferences)
                        relocations.Add(((ulong)(start + program.SlotOf(reference.InstructionIndex) * Instruction.SlotSize), reference.MapName, false));
                    foreach (var kfunc in program.KfuncReferences)
                        relocations.Add(((ulong)(start + program.SlotOf(kfunc.InstructionIndex) * Instruction.SlotSize), kfunc.Name, true));
                    _globals.Add((program.Name, Elf.BindGlobal, Elf.TypeFunc, section.Index, (ulong)start, (ulong)(code.Count - start)));
                }
                section.Data = [.. code];
                section.Size = (ulong)code.Count;
                _locals.Add((group.Key, Elf.BindLocal, Elf.TypeSection, section.Index, 0, 0));
                if (relocations.Count > 0) relocationSections.Add((section, relocations));
            }

            var licenseSection = Add(new Section { Name = "license", Type = Elf.SectionProgBits, Flags = Elf.FlagAlloc | Elf.FlagWrite, Data = Encoding.ASCII.GetBytes(license + "\0") });
            licenseSection.Size = (ulong)licenseSection.Data.Length;
            _globals.Add(("_license", Elf.BindGlobal, Elf.TypeObject, licenseSection.Index, 0, licenseSection.Size));

            // .maps: the definitions' bytes are zeros; BTF describes them. Data sections carry their bytes.
            var mapSymbol = new Dictionary<string, string>(StringComparer.Ordinal);
            var declared = obj.Maps.Where(m => m.DataSection is null).ToList();
            if (declared.Count > 0)
            {
                if (btf is null) throw new ObjectFileException("The object's maps need BTF (BTF-defined maps in .maps), but it has none.");
                var datasec = btf.Find(BtfKind.DataSection, ".maps")
                    ?? throw new ObjectFileException("The object's BTF has no DATASEC '.maps' describing its maps.");
                var maps = Add(new Section { Name = ".maps", Type = Elf.SectionProgBits, Flags = Elf.FlagAlloc | Elf.FlagWrite, Align = 8 });
                maps.Size = datasec.SizeOrType;
                maps.Data = new byte[maps.Size];
                foreach (var map in declared)
                {
                    CheckName(map.Name, "map");
                    var entry = datasec.Entries.FirstOrDefault(e => btf.Type(e.TypeId).Name == map.Name);
                    if (entry.TypeId == 0) throw new ObjectFileException($"Map '{map.Name}' has no VAR in the BTF DATASEC '.maps'.");
                    _globals.Add((map.Name, Elf.BindGlobal, Elf.TypeObject, maps.Index, (ulong)entry.Value, entry.Size));
                    mapSymbol[map.Name] = map.Name;
                }
            }
            foreach (var map in obj.Maps.Where(m => m.DataSection is not null))
            {
                string name = map.DataSection!;
                bool bss = name.StartsWith(".bss", StringComparison.Ordinal);
                var data = new byte[map.ValueSize];
                map.InitialValue.Span.CopyTo(data);
                var section = Add(new Section
                {
                    Name = name,
                    Type = bss ? Elf.SectionNoBits : Elf.SectionProgBits,
                    Flags = name.StartsWith(".rodata", StringComparison.Ordinal) ? Elf.FlagAlloc : Elf.FlagAlloc | Elf.FlagWrite,
                    Data = bss ? [] : data,
                    Size = (ulong)data.Length,
                    Align = 8,
                });
                _locals.Add((name, Elf.BindLocal, Elf.TypeSection, section.Index, 0, 0));
                mapSymbol[map.Name] = name;
            }

            if (btf is not null)
            {
                var btfSection = Add(new Section { Name = ".BTF", Type = Elf.SectionProgBits, Data = obj.Btf.ToArray(), Align = 4 });
                btfSection.Size = (ulong)btfSection.Data.Length;
                byte[]? ext = BuildBtfExt(btf, programOffsets);
                if (ext is not null) Add(new Section { Name = ".BTF.ext", Type = Elf.SectionProgBits, Data = ext, Size = (ulong)ext.Length, Align = 4 });
            }
            else if (obj.Programs.Any(p => p.FuncInfo.Count > 0 || p.LineInfo.Count > 0))
            {
                throw new ObjectFileException("Func/line info needs the object's BTF.");
            }

            // A kfunc is an undefined global without type, as clang writes an extern function.
            foreach (var kfunc in kfuncs) _globals.Add((kfunc, Elf.BindGlobal, Elf.TypeNoType, Elf.SectionUndefined, 0, 0));

            // Symbols: locals first (ELF rule), sh_info of .symtab = index of the first global.
            var symbols = new List<(string Name, byte Bind, byte Type, int SectionIndex, ulong Value, ulong Size)> { ("", 0, 0, 0, 0, 0) };
            symbols.AddRange(_locals);
            int firstGlobal = symbols.Count;
            symbols.AddRange(_globals);
            var symbolIndex = new Dictionary<(string, byte), int>();
            for (int i = 1; i < symbols.Count; i++) symbolIndex.TryAdd((symbols[i].Name, symbols[i].Type), i);

            var relSections = new List<Section>();
            foreach (var (target, relocations) in relocationSections)
            {
                var rel = new byte[relocations.Count * Elf.RelSize];
                int at = 0;
                foreach (var (offset, name, kfunc) in relocations.OrderBy(r => r.Offset))
                {
                    int sym;
                    if (kfunc)
                    {
                        sym = symbolIndex[(name, Elf.TypeNoType)];
                    }
                    else
                    {
                        string symbolName = mapSymbol.TryGetValue(name, out var s) ? s : throw new ObjectFileException($"Map '{name}' is referenced but not in the object.");
                        bool isData = obj.FindMap(name)!.DataSection is not null;
                        sym = symbolIndex[(symbolName, isData ? Elf.TypeSection : Elf.TypeObject)];
                    }
                    BinaryPrimitives.WriteUInt64LittleEndian(rel.AsSpan(at), offset);
                    BinaryPrimitives.WriteUInt64LittleEndian(rel.AsSpan(at + 8), (ulong)sym << 32 | (kfunc ? Elf.RelocBpf64_32 : Elf.RelocBpf64_64));
                    at += Elf.RelSize;
                }
                relSections.Add(new Section
                {
                    Name = ".rel" + target.Name, Type = Elf.SectionRel, Flags = Elf.FlagInfoLink, Data = rel, Size = (ulong)rel.Length,
                    Info = (uint)target.Index, Align = 8, EntrySize = Elf.RelSize,
                });
            }
            foreach (var rel in relSections) Add(rel);

            var symtab = Add(new Section { Name = ".symtab", Type = Elf.SectionSymtab, Align = 8, EntrySize = Elf.SymbolSize, Link = (uint)strtab.Index, Info = (uint)firstGlobal });
            foreach (var rel in relSections) rel.Link = (uint)symtab.Index;
            var symbolBytes = new byte[symbols.Count * Elf.SymbolSize];
            for (int i = 1; i < symbols.Count; i++)
            {
                var (name, bind, type, sectionIndex, value, size) = symbols[i];
                var entry = symbolBytes.AsSpan(i * Elf.SymbolSize);
                BinaryPrimitives.WriteUInt32LittleEndian(entry, type == Elf.TypeSection ? 0 : _strings.Add(name));
                entry[4] = (byte)(bind << 4 | type);
                entry[5] = 0; // STV_DEFAULT
                BinaryPrimitives.WriteUInt16LittleEndian(entry[6..], (ushort)sectionIndex);
                BinaryPrimitives.WriteUInt64LittleEndian(entry[8..], value);
                BinaryPrimitives.WriteUInt64LittleEndian(entry[16..], size);
            }
            symtab.Data = symbolBytes;
            symtab.Size = (ulong)symbolBytes.Length;

            foreach (var section in _sections) _strings.Add(section.Name);
            strtab.Data = _strings.ToArray();
            strtab.Size = (ulong)strtab.Data.Length;
            return Serialize(strtab.Index);
        }

        private byte[] Serialize(int shstrndx)
        {
            using var output = new MemoryStream();
            output.Write(new byte[Elf.HeaderSize]);
            var offsets = new ulong[_sections.Count];
            for (int i = 1; i < _sections.Count; i++)
            {
                var section = _sections[i];
                ulong align = Math.Max(section.Align, 1);
                while ((ulong)output.Position % align != 0) output.WriteByte(0);
                offsets[i] = (ulong)output.Position;
                output.Write(section.Data);
            }
            while (output.Position % 8 != 0) output.WriteByte(0);
            ulong sectionHeaders = (ulong)output.Position;
            var header = new byte[Elf.SectionHeaderSize];
            foreach (var section in _sections)
            {
                Array.Clear(header);
                var h = header.AsSpan();
                if (section.Type != Elf.SectionNull)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(h, _strings.Add(section.Name));
                    BinaryPrimitives.WriteUInt32LittleEndian(h[4..], section.Type);
                    BinaryPrimitives.WriteUInt64LittleEndian(h[8..], section.Flags);
                    BinaryPrimitives.WriteUInt64LittleEndian(h[24..], offsets[section.Index]);
                    BinaryPrimitives.WriteUInt64LittleEndian(h[32..], section.Size);
                    BinaryPrimitives.WriteUInt32LittleEndian(h[40..], section.Link);
                    BinaryPrimitives.WriteUInt32LittleEndian(h[44..], section.Info);
                    BinaryPrimitives.WriteUInt64LittleEndian(h[48..], section.Align);
                    BinaryPrimitives.WriteUInt64LittleEndian(h[56..], section.EntrySize);
                }
                output.Write(header);
            }
            byte[] file = output.ToArray();
            var e = file.AsSpan();
            e[0] = 0x7f; e[1] = (byte)'E'; e[2] = (byte)'L'; e[3] = (byte)'F';
            e[4] = 2; // ELFCLASS64
            e[5] = 1; // ELFDATA2LSB
            e[6] = 1; // EV_CURRENT
            BinaryPrimitives.WriteUInt16LittleEndian(e[16..], Elf.RelocatableType);
            BinaryPrimitives.WriteUInt16LittleEndian(e[18..], Elf.MachineBpf);
            BinaryPrimitives.WriteUInt32LittleEndian(e[20..], 1);
            BinaryPrimitives.WriteUInt64LittleEndian(e[40..], sectionHeaders);
            BinaryPrimitives.WriteUInt16LittleEndian(e[52..], Elf.HeaderSize);
            BinaryPrimitives.WriteUInt16LittleEndian(e[58..], Elf.SectionHeaderSize);
            BinaryPrimitives.WriteUInt16LittleEndian(e[60..], (ushort)_sections.Count);
            BinaryPrimitives.WriteUInt16LittleEndian(e[62..], (ushort)shstrndx);
            return file;
        }

        private string CheckLicense()
        {
            var licenses = obj.Programs.Select(p => p.License).Distinct(StringComparer.Ordinal).ToList();
            if (licenses.Count != 1)
                throw new ObjectFileException($"An ELF object has one license section; the programs have {string.Join(", ", licenses.Select(l => $"\"{l}\""))}.");
            if (licenses[0].Contains('\0', StringComparison.Ordinal)) throw new ObjectFileException("The license contains a NUL character.");
            return licenses[0];
        }

        /// <summary>
        /// The program's bytes as clang writes them: ld_imm64 map loads with source 0 and the data offset in the low
        /// immediate, kfunc calls as <c>call -1</c> with source BPF_PSEUDO_CALL (libbpf sets the rest).
        /// </summary>
        private static byte[] ElfInstructions(ObjectProgram program)
        {
            byte[] code = program.ToBytes();
            foreach (var reference in program.MapReferences)
            {
                var slot = code.AsSpan(program.SlotOf(reference.InstructionIndex) * Instruction.SlotSize, 2 * Instruction.SlotSize);
                slot[1] &= 0x0f;
                BinaryPrimitives.WriteInt32LittleEndian(slot[4..], reference.Kind == PseudoSource.MapValue ? reference.ValueOffset : 0);
                BinaryPrimitives.WriteInt32LittleEndian(slot[12..], 0);
            }
            foreach (var kfunc in program.KfuncReferences)
            {
                var call = code.AsSpan(program.SlotOf(kfunc.InstructionIndex) * Instruction.SlotSize, Instruction.SlotSize);
                call[1] = (byte)((byte)CallKind.Local << 4 | (call[1] & 0x0f));
                BinaryPrimitives.WriteInt32LittleEndian(call[4..], -1);
            }
            return code;
        }

        private byte[]? BuildBtfExt(BtfReader btf, Dictionary<ObjectProgram, (Section Section, int Offset)> offsets)
        {
            if (!obj.Programs.Any(p => p.FuncInfo.Count > 0 || p.LineInfo.Count > 0)) return null;
            var funcs = new List<byte>();
            var lines = new List<byte>();
            void U32(List<byte> to, uint value) { Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, value); to.AddRange(b); }
            U32(funcs, 8);
            U32(lines, 16);
            foreach (var group in obj.Programs.GroupBy(p => p.Section))
            {
                uint sectionName = btf.FindString(group.Key)
                    ?? throw new ObjectFileException($"The object's BTF string section lacks the section name '{group.Key}' that .BTF.ext records name.");
                var funcRecords = group.SelectMany(p => p.FuncInfo.Select(f => (Offset: offsets[p].Offset + p.SlotOf(f.InstructionIndex) * 8, f.FuncTypeId))).ToList();
                var lineRecords = group.SelectMany(p => p.LineInfo.Select(l => (Offset: offsets[p].Offset + p.SlotOf(l.InstructionIndex) * 8, Line: l))).ToList();
                if (funcRecords.Count > 0)
                {
                    U32(funcs, sectionName);
                    U32(funcs, (uint)funcRecords.Count);
                    foreach (var (offset, type) in funcRecords)
                    {
                        U32(funcs, (uint)offset);
                        U32(funcs, type);
                    }
                }
                if (lineRecords.Count > 0)
                {
                    U32(lines, sectionName);
                    U32(lines, (uint)lineRecords.Count);
                    foreach (var (offset, line) in lineRecords)
                    {
                        U32(lines, (uint)offset);
                        U32(lines, line.FileNameOffset);
                        U32(lines, line.LineTextOffset);
                        U32(lines, (uint)line.Line << 10 | (uint)(line.Column & 0x3ff));
                    }
                }
            }
            const int headerLength = 24;
            var ext = new byte[headerLength + funcs.Count + lines.Count];
            var h = ext.AsSpan();
            BinaryPrimitives.WriteUInt16LittleEndian(h, Elf.BtfExtMagic);
            h[2] = 1;
            BinaryPrimitives.WriteUInt32LittleEndian(h[4..], headerLength);
            BinaryPrimitives.WriteUInt32LittleEndian(h[8..], 0);
            BinaryPrimitives.WriteUInt32LittleEndian(h[12..], (uint)funcs.Count);
            BinaryPrimitives.WriteUInt32LittleEndian(h[16..], (uint)funcs.Count);
            BinaryPrimitives.WriteUInt32LittleEndian(h[20..], (uint)lines.Count);
            funcs.CopyTo(ext, headerLength);
            lines.CopyTo(ext, headerLength + funcs.Count);
            return ext;
        }

        private static void CheckName(string name, string what)
        {
            if (name.Length == 0 || name.Contains('\0', StringComparison.Ordinal))
                throw new ObjectFileException($"The {what} name \"{name}\" cannot be an ELF symbol or section name.");
        }
    }

    /// <summary>An ELF string table: NUL first, each distinct string once.</summary>
    private sealed class StringTable
    {
        private readonly List<byte> _bytes = [0];
        private readonly Dictionary<string, uint> _offsets = new(StringComparer.Ordinal) { [""] = 0 };

        public uint Add(string value)
        {
            if (_offsets.TryGetValue(value, out uint offset)) return offset;
            offset = (uint)_bytes.Count;
            _bytes.AddRange(Encoding.UTF8.GetBytes(value));
            _bytes.Add(0);
            _offsets[value] = offset;
            return offset;
        }

        public byte[] ToArray() => [.. _bytes];
    }
}
