using System.Buffers.Binary;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace SockOps.Emit.Btf;

/// <summary>BTF kinds (<c>BTF_KIND_*</c>, include/uapi/linux/btf.h).</summary>
public enum BtfKind
{
    /// <summary>BTF_KIND_INT</summary>
    Int = 1,
    /// <summary>BTF_KIND_PTR</summary>
    Pointer = 2,
    /// <summary>BTF_KIND_ARRAY</summary>
    Array = 3,
    /// <summary>BTF_KIND_STRUCT</summary>
    Struct = 4,
    /// <summary>BTF_KIND_UNION</summary>
    Union = 5,
    /// <summary>BTF_KIND_ENUM</summary>
    Enum = 6,
    /// <summary>BTF_KIND_FWD</summary>
    Forward = 7,
    /// <summary>BTF_KIND_TYPEDEF</summary>
    Typedef = 8,
    /// <summary>BTF_KIND_VOLATILE</summary>
    Volatile = 9,
    /// <summary>BTF_KIND_CONST</summary>
    Const = 10,
    /// <summary>BTF_KIND_RESTRICT</summary>
    Restrict = 11,
    /// <summary>BTF_KIND_FUNC</summary>
    Func = 12,
    /// <summary>BTF_KIND_FUNC_PROTO</summary>
    FuncProto = 13,
    /// <summary>BTF_KIND_VAR</summary>
    Var = 14,
    /// <summary>BTF_KIND_DATASEC</summary>
    DataSection = 15,
    /// <summary>BTF_KIND_FLOAT</summary>
    Float = 16,
    /// <summary>BTF_KIND_DECL_TAG</summary>
    DeclTag = 17,
    /// <summary>BTF_KIND_TYPE_TAG</summary>
    TypeTag = 18,
    /// <summary>BTF_KIND_ENUM64</summary>
    Enum64 = 19,
}

/// <summary>Linkage of a BTF function.</summary>
public enum BtfFuncLinkage
{
    /// <summary>BTF_FUNC_STATIC</summary>
    Static = 0,
    /// <summary>BTF_FUNC_GLOBAL</summary>
    Global = 1,
    /// <summary>BTF_FUNC_EXTERN</summary>
    Extern = 2,
}

/// <summary>A struct member: its name, type id and offset in bits.</summary>
/// <param name="Name">Member name.</param>
/// <param name="TypeId">Member type id.</param>
/// <param name="BitOffset">Offset from the start of the struct, in bits.</param>
public readonly record struct BtfMember(string Name, uint TypeId, uint BitOffset);

/// <summary>Builds a BTF blob (types + strings) that BPF_BTF_LOAD accepts. Type ids start at 1 (0 is void).</summary>
public sealed class BtfBuilder
{
    private const ushort Magic = 0xeB9F;
    private const int HeaderLength = 24;

    private readonly List<byte> _types = [];
    private readonly List<byte> _strings = [];
    private readonly Dictionary<string, uint> _stringOffsets = new(StringComparer.Ordinal);
    private readonly Dictionary<Type, uint> _clrTypes = [];
    private readonly Dictionary<(string Name, int Size, uint Encoding), uint> _ints = [];
    private uint _nextId = 1;

    /// <summary>Creates an empty builder.</summary>
    public BtfBuilder()
    {
        _strings.Add(0);
        _stringOffsets[""] = 0;
    }

    /// <summary>Number of types added so far.</summary>
    public int TypeCount => (int)_nextId - 1;

    /// <summary>Adds an integer type.</summary>
    /// <param name="name">C name, e.g. "int" or "__u64".</param>
    /// <param name="size">Size in bytes (1, 2, 4, 8 or 16).</param>
    /// <param name="signed">Whether it is signed.</param>
    /// <param name="isBool">Whether it is a boolean.</param>
    public uint AddInt(string name, int size, bool signed = false, bool isBool = false)
    {
        if (size is not (1 or 2 or 4 or 8 or 16)) throw new ArgumentOutOfRangeException(nameof(size), size, "BTF ints are 1, 2, 4, 8 or 16 bytes.");
        uint encoding = (signed ? 1u : 0u) | (isBool ? 4u : 0u);
        // One type per distinct integer: callers that each need "int" share it.
        if (_ints.TryGetValue((name, size, encoding), out uint known)) return known;
        uint id = AddType(name, BtfKind.Int, 0, (uint)size, extra => extra(encoding << 24 | (uint)(size * 8)));
        _ints[(name, size, encoding)] = id;
        return id;
    }

    /// <summary>Adds a pointer to <paramref name="target"/>.</summary>
    public uint AddPointer(uint target) => AddType("", BtfKind.Pointer, 0, target, null);

    /// <summary>Adds an array of <paramref name="count"/> elements.</summary>
    public uint AddArray(uint elementType, uint indexType, uint count) =>
        AddType("", BtfKind.Array, 0, 0, extra =>
        {
            extra(elementType);
            extra(indexType);
            extra(count);
        });

    /// <summary>Adds a struct of <paramref name="size"/> bytes.</summary>
    public uint AddStruct(string name, int size, IReadOnlyList<BtfMember> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        var names = members.Select(m => String(m.Name)).ToArray();
        return AddType(name, BtfKind.Struct, (ushort)members.Count, (uint)size, extra =>
        {
            for (int i = 0; i < members.Count; i++)
            {
                extra(names[i]);
                extra(members[i].TypeId);
                extra(members[i].BitOffset);
            }
        });
    }

    /// <summary>Adds a function prototype.</summary>
    public uint AddFuncProto(uint returnType, IReadOnlyList<(string Name, uint TypeId)> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var names = parameters.Select(p => String(p.Name)).ToArray();
        return AddType("", BtfKind.FuncProto, (ushort)parameters.Count, returnType, extra =>
        {
            for (int i = 0; i < parameters.Count; i++)
            {
                extra(names[i]);
                extra(parameters[i].TypeId);
            }
        });
    }

    /// <summary>Adds a function with a prototype.</summary>
    public uint AddFunc(string name, uint protoId, BtfFuncLinkage linkage = BtfFuncLinkage.Global) =>
        AddType(name, BtfKind.Func, (ushort)linkage, protoId, null);

    /// <summary>Adds a variable (BTF_KIND_VAR) of type <paramref name="typeId"/>.</summary>
    /// <param name="name">The variable's name.</param>
    /// <param name="typeId">Its type.</param>
    /// <param name="linkage">0 static, 1 global allocated (a map definition in <c>.maps</c>), 2 global extern.</param>
    public uint AddVar(string name, uint typeId, uint linkage) =>
        AddType(name, BtfKind.Var, 0, typeId, extra => extra(linkage));

    /// <summary>Adds a data section (BTF_KIND_DATASEC) of <paramref name="size"/> bytes holding the given variables.</summary>
    /// <param name="name">The ELF section's name (e.g. <c>.maps</c>).</param>
    /// <param name="size">The section's size in bytes.</param>
    /// <param name="variables">Each VAR's type id, byte offset in the section and size.</param>
    public uint AddDataSection(string name, int size, IReadOnlyList<(uint VarId, int Offset, int Size)> variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        return AddType(name, BtfKind.DataSection, (ushort)variables.Count, (uint)size, extra =>
        {
            foreach (var (varId, offset, varSize) in variables)
            {
                extra(varId);
                extra((uint)offset);
                extra((uint)varSize);
            }
        });
    }

    /// <summary>Adds (once per CLR type) a BTF description of an unmanaged type: primitive integers, bool,
    /// and structs of those (field offsets as laid out by the runtime; fixed-size buffers become arrays).</summary>
    public uint AddType<T>() where T : unmanaged => AddClrType(typeof(T));

    private uint AddClrType(Type type)
    {
        if (_clrTypes.TryGetValue(type, out uint known)) return known;
        uint id = type switch
        {
            _ when type == typeof(byte) => AddInt("unsigned char", 1),
            _ when type == typeof(sbyte) => AddInt("signed char", 1, signed: true),
            _ when type == typeof(bool) => AddInt("_Bool", 1, isBool: true),
            _ when type == typeof(short) => AddInt("short", 2, signed: true),
            _ when type == typeof(ushort) => AddInt("unsigned short", 2),
            _ when type == typeof(char) => AddInt("unsigned short", 2),
            _ when type == typeof(int) => AddInt("int", 4, signed: true),
            _ when type == typeof(uint) => AddInt("unsigned int", 4),
            _ when type == typeof(long) => AddInt("long long", 8, signed: true),
            _ when type == typeof(ulong) => AddInt("unsigned long long", 8),
            _ when type == typeof(nint) => AddInt("long", IntPtr.Size, signed: true),
            _ when type == typeof(nuint) => AddInt("unsigned long", IntPtr.Size),
            _ when type.IsEnum => AddClrType(Enum.GetUnderlyingType(type)),
            _ when type.IsValueType && !type.IsPrimitive => AddClrStruct(type),
            _ => throw new NotSupportedException($"BtfBuilder cannot describe {type}: only integers, bool, enums and structs of them."),
        };
        _clrTypes[type] = id;
        return id;
    }

    private uint AddClrStruct(Type type)
    {
        var members = new List<BtfMember>();
        foreach (FieldInfo field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
        {
            uint offset = (uint)Marshal.OffsetOf(type, field.Name);
            uint memberType;
            if (field.GetCustomAttribute<FixedBufferAttribute>() is { } fixedBuffer)
            {
                uint element = AddClrType(fixedBuffer.ElementType);
                memberType = AddArray(element, AddClrType(typeof(int)), (uint)fixedBuffer.Length);
            }
            else memberType = AddClrType(field.FieldType);
            // Compiler-generated names (<Name>k__BackingField, <FixedElementField>) are not valid C identifiers.
            string name = field.Name.StartsWith('<') ? field.Name[1..field.Name.IndexOf('>', StringComparison.Ordinal)] : field.Name;
            members.Add(new BtfMember(name, memberType, offset * 8));
        }
        members.Sort((a, b) => a.BitOffset.CompareTo(b.BitOffset));
        int managedSize = (int)typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!.MakeGenericMethod(type).Invoke(null, null)!;
        if (managedSize != Marshal.SizeOf(type))
            throw new NotSupportedException($"BtfBuilder cannot describe {type}: its managed and native layouts differ (bool or char fields?).");
        return AddStruct(type.Name, managedSize, members);
    }

    /// <summary>The BTF blob: header, type section, string section.</summary>
    public byte[] Build()
    {
        int typeLength = _types.Count;
        int stringLength = _strings.Count;
        byte[] blob = new byte[HeaderLength + typeLength + stringLength];
        Span<byte> header = blob;
        BinaryPrimitives.WriteUInt16LittleEndian(header, Magic);
        header[2] = 1; // version
        header[3] = 0; // flags
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], HeaderLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], 0); // type_off
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], (uint)typeLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], (uint)typeLength); // str_off
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], (uint)stringLength);
        _types.CopyTo(blob, HeaderLength);
        _strings.CopyTo(blob, HeaderLength + typeLength);
        return blob;
    }

    /// <summary>Adds a string to the string section (deduplicated) and returns its offset, e.g. for line info.</summary>
    public uint AddString(string value) => String(value ?? throw new ArgumentNullException(nameof(value)));

    private uint String(string value)
    {
        if (_stringOffsets.TryGetValue(value, out uint offset)) return offset;
        offset = (uint)_strings.Count;
        _strings.AddRange(Encoding.UTF8.GetBytes(value));
        _strings.Add(0);
        _stringOffsets[value] = offset;
        return offset;
    }

    private uint AddType(string name, BtfKind kind, ushort vlen, uint sizeOrType, Action<Action<uint>>? writeExtra)
    {
        uint nameOffset = String(name);
        void Write(uint value)
        {
            for (int shift = 0; shift < 32; shift += 8) _types.Add((byte)(value >> shift));
        }
        Write(nameOffset);
        Write(vlen | (uint)kind << 24);
        Write(sizeOrType);
        writeExtra?.Invoke(Write);
        return _nextId++;
    }
}

/// <summary>A function starts at an instruction and has a BTF FUNC type.</summary>
/// <param name="InstructionIndex">Index in the instruction list (ld_imm64 counts once).</param>
/// <param name="FuncTypeId">The BTF id of the FUNC type.</param>
public readonly record struct BtfFuncInfo(int InstructionIndex, uint FuncTypeId);

/// <summary>A source line for an instruction.</summary>
/// <param name="InstructionIndex">Index in the instruction list (ld_imm64 counts once).</param>
/// <param name="FileNameOffset">Offset of the file name in the BTF string section (<c>BtfBuilder.AddString</c>).</param>
/// <param name="LineTextOffset">Offset of the line's text in the BTF string section.</param>
/// <param name="Line">1-based line number (up to 2^22 - 1).</param>
/// <param name="Column">1-based column (up to 1023).</param>
public readonly record struct BtfLineInfo(int InstructionIndex, uint FileNameOffset, uint LineTextOffset, int Line, int Column);
