using System.Reflection;
using SockOps.Emit.Assembler;
using SockOps.Emit.Btf;
using SockOps.Emit.Objects;

namespace SockOps.Emit;

public sealed partial class ProgramImage
{
    /// <summary>The ELF section of sock_ops programs (libbpf maps it to BPF_PROG_TYPE_SOCK_OPS, BPF_CGROUP_SOCK_OPS).</summary>
    public const string SockOpsSection = "sockops";

    /// <summary>
    /// The program as a kernel-free <see cref="BpfObject"/>: one program in section <c>sockops</c> named after
    /// <see cref="Name"/> as a C identifier, its maps as BTF-defined maps (libbpf's <c>.maps</c> encoding: <c>type</c>,
    /// <c>key</c>/<c>value</c> types or sizes, <c>max_entries</c>, <c>map_flags</c>), its read-only data as
    /// <c>.rodata</c>, and BTF with the program's FUNC and its C# lines as line info.
    /// </summary>
    /// <exception cref="ObjectFileException">A map name is not a C identifier (BTF VAR names must be).</exception>
    public BpfObject ToObject()
    {
        var btf = new BtfBuilder();
        var (funcInfo, lineInfo) = ProgramDebugInfo.AddTo(btf, this);
        btf.AddString(SockOpsSection);
        uint intId = btf.AddInt("int", 4, signed: true);
        uint arrayIndex = btf.AddInt("__ARRAY_SIZE_TYPE__", 4);
        uint Dimension(uint n) => btf.AddPointer(btf.AddArray(intId, arrayIndex, n));

        var maps = new List<ObjectMap>();
        var variables = new List<(uint VarId, int Offset, int Size)>();
        int mapsSize = 0;
        foreach (var declaration in Maps)
        {
            if (declaration.Name == MapDeclaration.ReadOnlyDataName)
            {
                maps.Add(new ObjectMap
                {
                    Name = declaration.Name, DataSection = declaration.Name, Type = declaration.Kind, KeySize = declaration.KeySize,
                    ValueSize = declaration.ValueSize, MaxEntries = declaration.MaxEntries, Flags = declaration.Flags,
                    InitialValue = declaration.InitialValue, Frozen = declaration.Frozen,
                });
                continue;
            }
            if (ProgramDebugInfo.FunctionName(declaration.Name) != declaration.Name)
                throw new ObjectFileException($"Map '{declaration.Name}' cannot be a BTF-defined map: its name is not a C identifier.");
            var members = new List<BtfMember>();
            void Member(string name, uint type) => members.Add(new BtfMember(name, type, (uint)members.Count * 64));
            Member("type", Dimension((uint)declaration.Kind));
            uint keyType = declaration.KeyType is null ? 0 : AddClrType(btf, declaration.KeyType);
            uint valueType = declaration.ValueType is null ? 0 : AddClrType(btf, declaration.ValueType);
            if (keyType != 0) Member("key", btf.AddPointer(keyType));
            else if (declaration.KeySize != 0) Member("key_size", Dimension((uint)declaration.KeySize));
            if (valueType != 0) Member("value", btf.AddPointer(valueType));
            else if (declaration.ValueSize != 0) Member("value_size", Dimension((uint)declaration.ValueSize));
            if (declaration.MaxEntries != 0) Member("max_entries", Dimension(declaration.MaxEntries));
            if (declaration.Flags != MapFlags.None) Member("map_flags", Dimension((uint)declaration.Flags));
            int size = members.Count * 8;
            uint definition = btf.AddStruct("", size, members);
            variables.Add((btf.AddVar(declaration.Name, definition, linkage: 1), mapsSize, size));
            mapsSize += size;
            maps.Add(new ObjectMap
            {
                Name = declaration.Name, Type = declaration.Kind, KeySize = declaration.KeySize, ValueSize = declaration.ValueSize,
                MaxEntries = declaration.MaxEntries, Flags = declaration.Flags, KeyTypeId = keyType, ValueTypeId = valueType,
                InitialValue = declaration.InitialValue, Frozen = declaration.Frozen,
            });
        }
        if (variables.Count > 0) btf.AddDataSection(".maps", mapsSize, variables);
        var kfuncs = KfuncReferences.Select(k => k.Name).Distinct(StringComparer.Ordinal).ToList();
        if (kfuncs.Count > 0)
            btf.AddDataSection(".ksyms", 0, [.. kfuncs.Select(name => (AddKfuncDeclaration(btf, name, intId), 0, 0))]);

        var program = new ObjectProgram
        {
            Name = ProgramDebugInfo.FunctionName(Name),
            Section = SockOpsSection,
            Type = ProgramType.SockOps,
            ExpectedAttachType = AttachType.CgroupSockOps,
            License = License,
            Instructions = Instructions,
            MapReferences = MapReferences,
            KfuncReferences = KfuncReferences,
            FuncInfo = funcInfo,
            LineInfo = lineInfo,
        };
        return new BpfObject([program], maps, btf.Build());
    }

    /// <summary>
    /// The extern FUNC declaring a kfunc with the kernel's prototype, as clang writes <c>extern … __ksym</c>: libbpf finds
    /// the kernel function by name and accepts it only if the prototypes are compatible (same kinds: a struct pointer
    /// must point to a STRUCT, not a forward declaration).
    /// </summary>
    private static uint AddKfuncDeclaration(BtfBuilder btf, string name, uint intId)
    {
        uint proto = name switch
        {
            "bpf_cast_to_kern_ctx" => btf.AddFuncProto(btf.AddPointer(0), [("obj", btf.AddPointer(0))]),
            "bpf_sock_ops_enable_tx_tstamp" => btf.AddFuncProto(intId,
                [("skops", btf.AddPointer(btf.AddStruct("bpf_sock_ops_kern", 0, []))), ("flags", btf.AddInt("unsigned long long", 8))]),
            _ => throw new ObjectFileException($"The prototype of kfunc '{name}' is not known, so it cannot be declared in BTF."),
        };
        return btf.AddFunc(name, proto, BtfFuncLinkage.Extern);
    }

    private static readonly MethodInfo AddTypeMethod = typeof(BtfBuilder).GetMethod(nameof(BtfBuilder.AddType))!;

    /// <summary>The BTF of a C# key or value type (the generic <see cref="BtfBuilder.AddType{T}"/> for a runtime type).</summary>
    internal static uint AddClrType(BtfBuilder builder, Type type)
    {
        try
        {
            return (uint)AddTypeMethod.MakeGenericMethod(type).Invoke(builder, null)!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
    }
}
