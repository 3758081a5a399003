using SockOps.Emit.Btf;
using System.Buffers.Binary;
using System.Text;

namespace SockOps.Emit.Runtime.Btf;

/// <summary>A member of a BTF struct or union.</summary>
/// <param name="Name">Member name (empty for anonymous members).</param>
/// <param name="TypeId">Member type id.</param>
/// <param name="BitOffset">Offset in bits (bitfield members: the offset part only).</param>
public readonly record struct BtfStructMember(string Name, uint TypeId, uint BitOffset);

/// <summary>
/// Reads a BTF blob — typically the running kernel's <c>/sys/kernel/btf/vmlinux</c> — and finds types and
/// functions (kfunc ids) by name.
/// </summary>
public sealed class KernelBtf
{
    /// <summary>The running kernel's BTF.</summary>
    public const string VmlinuxPath = "/sys/kernel/btf/vmlinux";

    private static readonly Lazy<KernelBtf> Vmlinux = new(() => Load(VmlinuxPath));

    private readonly byte[] _blob;
    private readonly int _typeStart;
    private readonly int _stringStart;
    private readonly int _stringLength;
    private readonly int[] _offsets; // _offsets[id] = byte offset of type id (id 0 = void is unused)
    private readonly Dictionary<(string, BtfKind), uint> _byName = [];

    private KernelBtf(byte[] blob)
    {
        _blob = blob;
        ReadOnlySpan<byte> span = blob;
        if (blob.Length < 24 || BinaryPrimitives.ReadUInt16LittleEndian(span) != 0xeB9F)
            throw new InvalidDataException("Not a little-endian BTF blob (magic 0xeB9F missing).");
        int headerLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(span[4..]);
        _typeStart = headerLength + (int)BinaryPrimitives.ReadUInt32LittleEndian(span[8..]);
        int typeLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(span[12..]);
        _stringStart = headerLength + (int)BinaryPrimitives.ReadUInt32LittleEndian(span[16..]);
        _stringLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(span[20..]);

        var offsets = new List<int> { -1 };
        int at = _typeStart, end = _typeStart + typeLength;
        while (at < end)
        {
            offsets.Add(at);
            uint info = BinaryPrimitives.ReadUInt32LittleEndian(span[(at + 4)..]);
            var kind = (BtfKind)((info >> 24) & 0x1f);
            int vlen = (int)(info & 0xffff);
            string name = ReadString(BinaryPrimitives.ReadUInt32LittleEndian(span[at..]));
            if (name.Length > 0) _byName.TryAdd((name, kind), (uint)(offsets.Count - 1));
            at += 12 + kind switch
            {
                BtfKind.Int => 4,
                BtfKind.Array => 12,
                BtfKind.Struct or BtfKind.Union => vlen * 12,
                BtfKind.Enum => vlen * 8,
                BtfKind.FuncProto => vlen * 8,
                BtfKind.Var => 4,
                BtfKind.DataSection => vlen * 12,
                BtfKind.DeclTag => 4,
                BtfKind.Enum64 => vlen * 12,
                BtfKind.Pointer or BtfKind.Forward or BtfKind.Typedef or BtfKind.Volatile or BtfKind.Const or BtfKind.Restrict
                    or BtfKind.Func or BtfKind.Float or BtfKind.TypeTag => 0,
                _ => throw new InvalidDataException($"Unknown BTF kind {(int)kind} at type id {offsets.Count - 1}."),
            };
        }
        _offsets = [.. offsets];
    }

    /// <summary>The running kernel's BTF, read once.</summary>
    public static KernelBtf Current => Vmlinux.Value;

    /// <summary>Reads a BTF file.</summary>
    public static KernelBtf Load(string path) => new(File.ReadAllBytes(path));

    /// <summary>Parses a BTF blob.</summary>
    public static KernelBtf Parse(byte[] blob) => new(blob ?? throw new ArgumentNullException(nameof(blob)));

    /// <summary>Number of types (ids 1..TypeCount).</summary>
    public int TypeCount => _offsets.Length - 1;

    /// <summary>The id of the first type with this name and kind, or null.</summary>
    public uint? FindType(string name, BtfKind kind) => _byName.TryGetValue((name, kind), out uint id) ? id : null;

    /// <summary>The BTF id of a kernel function (what a kfunc call puts in its immediate), or null.</summary>
    public uint? FindFunction(string name) => FindType(name, BtfKind.Func);

    /// <summary>The kind of a type.</summary>
    public BtfKind GetKind(uint id) => (BtfKind)((Info(id) >> 24) & 0x1f);

    /// <summary>The name of a type (empty when anonymous).</summary>
    public string GetName(uint id) => ReadString(Word(id, 0));

    /// <summary>The size in bytes of an int, struct, union, enum or data section.</summary>
    public uint GetSize(uint id) => GetKind(id) is BtfKind.Int or BtfKind.Struct or BtfKind.Union or BtfKind.Enum or BtfKind.Enum64 or BtfKind.DataSection or BtfKind.Float
        ? Word(id, 8)
        : throw new InvalidOperationException($"Type {id} ({GetKind(id)}) has no size field.");

    /// <summary>The referenced type of a pointer, typedef, qualifier or function (its prototype).</summary>
    public uint GetReferencedType(uint id) => Word(id, 8);

    /// <summary>The members of a struct or union.</summary>
    public IReadOnlyList<BtfStructMember> GetMembers(uint id)
    {
        uint info = Info(id);
        var kind = (BtfKind)((info >> 24) & 0x1f);
        if (kind is not (BtfKind.Struct or BtfKind.Union)) throw new InvalidOperationException($"Type {id} is a {kind}, not a struct or union.");
        bool bitfields = (info >> 31) != 0; // kind_flag: offset holds bitfield size << 24 | bit offset
        int count = (int)(info & 0xffff);
        var members = new BtfStructMember[count];
        for (int i = 0; i < count; i++)
        {
            int at = 12 + i * 12;
            uint offset = Word(id, at + 8);
            members[i] = new BtfStructMember(ReadString(Word(id, at)), Word(id, at + 4), bitfields ? offset & 0xffffff : offset);
        }
        return members;
    }

    /// <summary>Finds a member of a struct by name, searching anonymous struct/union members too; offsets are
    /// relative to the outer struct.</summary>
    public BtfStructMember? FindMember(uint structId, string name)
    {
        foreach (var member in GetMembers(structId))
        {
            if (member.Name == name) return member;
            if (member.Name.Length == 0 && GetKind(member.TypeId) is BtfKind.Struct or BtfKind.Union && FindMember(member.TypeId, name) is { } inner)
                return inner with { BitOffset = inner.BitOffset + member.BitOffset };
        }
        return null;
    }

    private uint Info(uint id) => Word(id, 4);

    private uint Word(uint id, int offset)
    {
        if (id == 0 || id >= _offsets.Length) throw new ArgumentOutOfRangeException(nameof(id), id, $"BTF type ids are 1..{TypeCount}.");
        return BinaryPrimitives.ReadUInt32LittleEndian(_blob.AsSpan(_offsets[id] + offset));
    }

    private string ReadString(uint offset)
    {
        if (offset >= _stringLength) return "";
        var span = _blob.AsSpan(_stringStart + (int)offset, _stringLength - (int)offset);
        int end = span.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? span : span[..end]);
    }
}
