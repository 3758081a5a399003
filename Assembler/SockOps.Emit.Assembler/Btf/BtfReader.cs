using System.Buffers.Binary;
using System.Text;

namespace SockOps.Emit.Btf;

/// <summary>A BTF blob is malformed; the message names the type id or byte offset.</summary>
public sealed class BtfFormatException : FormatException
{
    /// <summary>Creates the exception.</summary>
    public BtfFormatException() { }

    /// <summary>Creates the exception with a message.</summary>
    public BtfFormatException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public BtfFormatException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>One member of a struct/union, parameter of a prototype, or entry of an enum/DATASEC, as stored.</summary>
/// <param name="Name">The name (empty when anonymous; for DATASEC entries empty).</param>
/// <param name="TypeId">The member/parameter type, or the VAR of a DATASEC entry; 0 for enum entries.</param>
/// <param name="Value">Bit offset (struct member), enum value, or byte offset (DATASEC entry).</param>
/// <param name="Size">Byte size of a DATASEC entry; 0 otherwise.</param>
public readonly record struct BtfTypeEntry(string Name, uint TypeId, long Value, uint Size);

/// <summary>One BTF type as stored: kind, name, the size-or-type word and its kind-specific entries.</summary>
public sealed record BtfType
{
    /// <summary>The type's id (1-based; 0 is void).</summary>
    public required uint Id { get; init; }
    /// <summary>The kind.</summary>
    public required BtfKind Kind { get; init; }
    /// <summary>The name (empty when anonymous).</summary>
    public required string Name { get; init; }
    /// <summary>The kind_flag bit.</summary>
    public bool KindFlag { get; init; }
    /// <summary>The vlen field (member count; linkage for FUNC).</summary>
    public int Vlen { get; init; }
    /// <summary>The size (INT, STRUCT, UNION, ENUM, DATASEC, FLOAT) or referenced type (PTR, TYPEDEF, FUNC, VAR, modifiers).</summary>
    public uint SizeOrType { get; init; }
    /// <summary>Members, parameters, enum values or DATASEC entries.</summary>
    public IReadOnlyList<BtfTypeEntry> Entries { get; init; } = [];
    /// <summary>ARRAY: element type, index type and element count; VAR: linkage in <see cref="BtfArray.Count"/>; INT: encoding word.</summary>
    public BtfArray Array { get; init; }
    /// <summary>Byte offset of the type's record in the type section (to patch DATASEC sizes in place).</summary>
    public int RecordOffset { get; init; }
}

/// <summary>The extra word(s) of ARRAY, INT and VAR records.</summary>
/// <param name="ElementType">ARRAY element type.</param>
/// <param name="IndexType">ARRAY index type.</param>
/// <param name="Count">ARRAY element count; VAR linkage; INT encoding word.</param>
public readonly record struct BtfArray(uint ElementType, uint IndexType, uint Count);

/// <summary>
/// The types and strings of a BTF blob (header, type section, string section), read strictly: every record is
/// checked against the blob's bounds and every name offset against the string section.
/// </summary>
public sealed class BtfReader
{
    private const ushort Magic = 0xeB9F;
    private readonly byte[] _blob;
    private readonly int _typeStart, _typeLength, _stringStart, _stringLength;
    private readonly List<BtfType> _types = [];

    private BtfReader(byte[] blob)
    {
        _blob = blob;
        if (blob.Length < 24) throw new BtfFormatException($"A BTF blob has a 24-byte header; this one has {blob.Length} bytes.");
        var span = blob.AsSpan();
        if (BinaryPrimitives.ReadUInt16LittleEndian(span) != Magic)
            throw new BtfFormatException($"Bad BTF magic 0x{BinaryPrimitives.ReadUInt16LittleEndian(span):x4} (expected 0xeb9f, little-endian).");
        if (span[2] != 1) throw new BtfFormatException($"BTF version {span[2]} is not 1.");
        uint headerLength = BinaryPrimitives.ReadUInt32LittleEndian(span[4..]);
        uint typeOff = BinaryPrimitives.ReadUInt32LittleEndian(span[8..]), typeLen = BinaryPrimitives.ReadUInt32LittleEndian(span[12..]);
        uint strOff = BinaryPrimitives.ReadUInt32LittleEndian(span[16..]), strLen = BinaryPrimitives.ReadUInt32LittleEndian(span[20..]);
        if (headerLength < 24 || headerLength > blob.Length) throw new BtfFormatException($"BTF header length {headerLength} is outside the blob.");
        if ((ulong)headerLength + typeOff + typeLen > (ulong)blob.Length || (ulong)headerLength + strOff + strLen > (ulong)blob.Length)
            throw new BtfFormatException($"BTF sections (types {typeOff}+{typeLen}, strings {strOff}+{strLen}) run past the {blob.Length}-byte blob.");
        if (typeLen % 4 != 0) throw new BtfFormatException($"The BTF type section length {typeLen} is not a multiple of 4.");
        if (strLen == 0 || blob[headerLength + strOff] != 0 || blob[headerLength + strOff + strLen - 1] != 0)
            throw new BtfFormatException("The BTF string section must start and end with a NUL byte.");
        _typeStart = (int)(headerLength + typeOff);
        _typeLength = (int)typeLen;
        _stringStart = (int)(headerLength + strOff);
        _stringLength = (int)strLen;
        ParseTypes();
    }

    /// <summary>Reads a BTF blob.</summary>
    /// <exception cref="BtfFormatException">The blob is malformed.</exception>
    public static BtfReader Read(ReadOnlySpan<byte> blob) => new(blob.ToArray());

    /// <summary>The types, by id − 1.</summary>
    public IReadOnlyList<BtfType> Types => _types;

    /// <summary>The blob as read.</summary>
    public ReadOnlySpan<byte> Blob => _blob;

    /// <summary>The type with id <paramref name="id"/>.</summary>
    /// <exception cref="BtfFormatException">No such type.</exception>
    public BtfType Type(uint id) =>
        id >= 1 && id <= _types.Count ? _types[(int)id - 1] : throw new BtfFormatException($"BTF type id {id} does not exist (the blob has {_types.Count} types).");

    /// <summary>The string at <paramref name="offset"/> in the string section.</summary>
    /// <exception cref="BtfFormatException">The offset is outside the string section.</exception>
    public string String(uint offset)
    {
        if (offset >= _stringLength) throw new BtfFormatException($"BTF string offset {offset} is outside the {_stringLength}-byte string section.");
        var rest = _blob.AsSpan(_stringStart + (int)offset, _stringLength - (int)offset);
        int end = rest.IndexOf((byte)0);
        return Encoding.UTF8.GetString(rest[..end]);
    }

    /// <summary>The offset of <paramref name="value"/> in the string section, or null when the section does not hold it.</summary>
    public uint? FindString(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        byte[] wanted = Encoding.UTF8.GetBytes(value + "\0");
        var strings = _blob.AsSpan(_stringStart, _stringLength);
        for (int at = 0; at < strings.Length;)
        {
            int end = strings[at..].IndexOf((byte)0);
            if (strings.Slice(at, end + 1).SequenceEqual(wanted)) return (uint)at;
            at += end + 1;
        }
        return null;
    }

    /// <summary>The first type of <paramref name="kind"/> named <paramref name="name"/>, or null.</summary>
    public BtfType? Find(BtfKind kind, string name) => _types.FirstOrDefault(t => t.Kind == kind && t.Name == name);

    /// <summary>Follows typedefs and const/volatile/restrict/type-tag modifiers to the underlying type (0 stays void).</summary>
    public uint Resolve(uint id)
    {
        for (int guard = 0; id != 0 && guard < 64; guard++)
        {
            var t = Type(id);
            if (t.Kind is not (BtfKind.Typedef or BtfKind.Const or BtfKind.Volatile or BtfKind.Restrict or BtfKind.TypeTag)) return id;
            id = t.SizeOrType;
        }
        return id;
    }

    /// <summary>The byte size of a type (following typedefs, arrays and modifiers); pointers are 8 bytes.</summary>
    /// <exception cref="BtfFormatException">The type has no size (void, FUNC, a forward declaration).</exception>
    public long SizeOf(uint id)
    {
        var t = Type(Resolve(id));
        return t.Kind switch
        {
            BtfKind.Int or BtfKind.Struct or BtfKind.Union or BtfKind.Enum or BtfKind.Enum64 or BtfKind.Float or BtfKind.DataSection => t.SizeOrType,
            BtfKind.Pointer => 8,
            BtfKind.Array => t.Array.Count * SizeOf(t.Array.ElementType),
            _ => throw new BtfFormatException($"BTF type {t.Id} ({t.Kind} '{t.Name}') has no size."),
        };
    }

    /// <summary>
    /// A copy of the blob with a DATASEC's size and its entries' offsets replaced (clang leaves them for the loader:
    /// the kernel refuses a DATASEC of size 0).
    /// </summary>
    public byte[] WithDataSection(uint datasecId, uint size, IReadOnlyList<(uint Offset, uint Size)> entries)
    {
        var t = Type(datasecId);
        if (t.Kind != BtfKind.DataSection) throw new ArgumentException($"BTF type {datasecId} is a {t.Kind}, not a DATASEC.", nameof(datasecId));
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count != t.Vlen) throw new ArgumentException($"DATASEC '{t.Name}' has {t.Vlen} entries, not {entries.Count}.", nameof(entries));
        var copy = (byte[])_blob.Clone();
        var record = copy.AsSpan(_typeStart + t.RecordOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(record[8..], size);
        for (int i = 0; i < entries.Count; i++)
        {
            var entry = record[(12 + 12 * i)..];
            BinaryPrimitives.WriteUInt32LittleEndian(entry[4..], entries[i].Offset);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[8..], entries[i].Size);
        }
        return copy;
    }

    /// <summary>Whether the BTF declares externs (a FUNC with extern linkage, or a DATASEC <c>.ksyms</c>/<c>.kconfig</c>), which the kernel refuses as they are.</summary>
    public bool HasExterns => _types.Any(t => IsExternFunction(t) || (t.Kind == BtfKind.DataSection && t.Name is ".ksyms" or ".kconfig"));

    /// <summary>Whether the BTF declares <paramref name="name"/> as an extern function (how clang declares a kfunc).</summary>
    internal bool DeclaresExternFunction(string name) => _types.Any(t => IsExternFunction(t) && t.Name == name);

    private static bool IsExternFunction(BtfType t) => t.Kind == BtfKind.Func && t.Vlen == (int)BtfFuncLinkage.Extern;

    /// <summary>
    /// A copy the kernel accepts, rewritten as libbpf rewrites an object's BTF before loading it: an extern FUNC gets
    /// global linkage (the kernel knows no extern linkage) and its unnamed parameters a name, and each entry of the
    /// DATASEC <c>.ksyms</c> becomes a 4-byte VAR (the kernel wants VARs there, not FUNCs). Type ids do not change: the
    /// VAR (and an <c>int</c> when the blob has none) is appended. Without externs, the blob as read.
    /// </summary>
    /// <exception cref="BtfFormatException">The BTF declares <c>.kconfig</c> externs, which have no kernel form here.</exception>
    public byte[] ForKernel()
    {
        if (!HasExterns) return (byte[])_blob.Clone();
        if (_types.Any(t => t.Kind == BtfKind.DataSection && t.Name == ".kconfig"))
            throw new BtfFormatException("The BTF declares .kconfig externs; they are not supported.");
        int headerLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(_blob.AsSpan(4));
        var types = new List<byte>(_blob.AsSpan(_typeStart, _typeLength).ToArray());
        var strings = new List<byte>(_blob.AsSpan(_stringStart, _stringLength).ToArray());
        uint nextId = (uint)_types.Count + 1;
        void U32(uint value) { Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, value); types.AddRange(b.ToArray()); }
        void Set(int offset, uint value)
        {
            Span<byte> b = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(b, value);
            for (int i = 0; i < 4; i++) types[offset + i] = b[i];
        }

        uint dummyName = (uint)strings.Count;
        strings.AddRange("dummy_ksym\0"u8.ToArray());
        uint intId = _types.FirstOrDefault(t => t.Kind == BtfKind.Int && t.SizeOrType == 4 && t.Array.Count == (1u << 24 | 32))?.Id ?? 0;
        if (intId == 0)
        {
            uint intName = (uint)strings.Count;
            strings.AddRange("int\0"u8.ToArray());
            intId = nextId++;
            U32(intName); U32((uint)BtfKind.Int << 24); U32(4); U32(1u << 24 | 32);
        }
        uint varId = nextId++;
        U32(dummyName); U32((uint)BtfKind.Var << 24); U32(intId); U32(1); // BTF_VAR_GLOBAL_ALLOCATED

        foreach (var t in _types)
        {
            if (IsExternFunction(t))
            {
                Set(t.RecordOffset + 4, (uint)BtfKind.Func << 24 | (uint)BtfFuncLinkage.Global);
                var proto = Type(t.SizeOrType);
                for (int i = 0; i < proto.Entries.Count; i++)
                    if (proto.Entries[i].TypeId != 0 && proto.Entries[i].Name.Length == 0) Set(proto.RecordOffset + 12 + 8 * i, dummyName);
            }
            else if (t.Kind == BtfKind.DataSection && t.Name == ".ksyms")
            {
                for (int i = 0; i < t.Vlen; i++)
                {
                    int entry = t.RecordOffset + 12 + 12 * i;
                    Set(entry, varId);
                    Set(entry + 4, (uint)(4 * i));
                    Set(entry + 8, 4);
                }
                Set(t.RecordOffset + 8, (uint)(4 * t.Vlen));
            }
        }

        var blob = new byte[headerLength + types.Count + strings.Count];
        _blob.AsSpan(0, headerLength).CopyTo(blob);
        BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(8), 0);
        BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(12), (uint)types.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(16), (uint)types.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(20), (uint)strings.Count);
        types.CopyTo(blob, headerLength);
        strings.CopyTo(blob, headerLength + types.Count);
        return blob;
    }

    private void ParseTypes()
    {
        var section = new ReadOnlyMemory<byte>(_blob, _typeStart, _typeLength);
        int at = 0;
        uint id = 1;
        while (at < section.Length)
        {
            if (section.Length - at < 12) throw new BtfFormatException($"BTF type {id} at byte {at} is truncated.");
            uint nameOff = BinaryPrimitives.ReadUInt32LittleEndian(section.Span[at..]);
            uint info = BinaryPrimitives.ReadUInt32LittleEndian(section.Span[(at + 4)..]);
            uint sizeOrType = BinaryPrimitives.ReadUInt32LittleEndian(section.Span[(at + 8)..]);
            var kind = (BtfKind)((info >> 24) & 0x1f);
            int vlen = (int)(info & 0xffff);
            bool kindFlag = (info >> 31) != 0;
            int start = at;
            at += 12;
            uint currentId = id;
            var currentKind = kind;
            uint U(int offset) => offset + 4 <= section.Length ? BinaryPrimitives.ReadUInt32LittleEndian(section.Span[offset..])
                : throw new BtfFormatException($"BTF type {currentId} ({currentKind}) at byte {start} runs past the type section.");
            string name = String(nameOff);
            var entries = new List<BtfTypeEntry>();
            BtfArray array = default;
            switch (kind)
            {
                case BtfKind.Int:
                    array = new BtfArray(0, 0, U(at));
                    at += 4;
                    break;
                case BtfKind.Pointer or BtfKind.Forward or BtfKind.Typedef or BtfKind.Volatile or BtfKind.Const or BtfKind.Restrict
                    or BtfKind.Func or BtfKind.Float or BtfKind.TypeTag:
                    break;
                case BtfKind.Array:
                    array = new BtfArray(U(at), U(at + 4), U(at + 8));
                    at += 12;
                    break;
                case BtfKind.Struct or BtfKind.Union:
                    for (int i = 0; i < vlen; i++, at += 12)
                        entries.Add(new BtfTypeEntry(String(U(at)), U(at + 4), kindFlag ? U(at + 8) & 0xffffff : U(at + 8), 0));
                    break;
                case BtfKind.Enum:
                    for (int i = 0; i < vlen; i++, at += 8) entries.Add(new BtfTypeEntry(String(U(at)), 0, (int)U(at + 4), 0));
                    break;
                case BtfKind.Enum64:
                    for (int i = 0; i < vlen; i++, at += 12) entries.Add(new BtfTypeEntry(String(U(at)), 0, (long)((ulong)U(at + 8) << 32 | U(at + 4)), 0));
                    break;
                case BtfKind.FuncProto:
                    for (int i = 0; i < vlen; i++, at += 8) entries.Add(new BtfTypeEntry(String(U(at)), U(at + 4), 0, 0));
                    break;
                case BtfKind.Var:
                    array = new BtfArray(0, 0, U(at));
                    at += 4;
                    break;
                case BtfKind.DataSection:
                    for (int i = 0; i < vlen; i++, at += 12) entries.Add(new BtfTypeEntry("", U(at), U(at + 4), U(at + 8)));
                    break;
                case BtfKind.DeclTag:
                    array = new BtfArray(0, 0, U(at));
                    at += 4;
                    break;
                default:
                    throw new BtfFormatException($"BTF type {id} at byte {start} has unknown kind {(int)kind}.");
            }
            _types.Add(new BtfType
            {
                Id = id, Kind = kind, Name = name, KindFlag = kindFlag, Vlen = vlen, SizeOrType = sizeOrType,
                Entries = entries, Array = array, RecordOffset = start,
            });
            id++;
        }
    }
}
