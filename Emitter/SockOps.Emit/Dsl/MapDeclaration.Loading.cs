using SockOps.Emit.Btf;
using System.Globalization;
using System.Reflection;
using System.Text;
using SockOps.Emit.Runtime;
using SockOps.Emit.Runtime.Btf;

namespace SockOps.Emit;

/// <summary>Creating the kernel map a declaration describes: one place for every loader.</summary>
public sealed partial record MapDeclaration
{
    /// <summary>The runtime's map attributes for this declaration.</summary>
    /// <param name="btf">BTF for key and value (sk_storage needs it; <see cref="CreateMap"/> builds it).</param>
    public MapSpec ToMapSpec(MapBtf? btf = null) => new()
    {
        Type = Kind,
        KeySize = KeySize,
        ValueSize = ValueSize,
        MaxEntries = checked((int)MaxEntries),
        Flags = Flags,
        Name = Name,
        Btf = btf,
    };

    /// <summary>
    /// Creates the map: with BTF describing key and value for sk_storage (the kernel requires it), then writes
    /// <see cref="InitialValue"/> under key 0 and freezes the map when <see cref="Frozen"/> is set. Nothing stays
    /// open when a step fails.
    /// </summary>
    /// <exception cref="ArgumentException">The declaration breaks a rule the kernel enforces.</exception>
    /// <exception cref="BpfException">The kernel refused to create, fill or freeze the map.</exception>
    public BpfMap CreateMap()
    {
        if (!InitialValue.IsEmpty && (Kind is not (MapType.Array or MapType.PerCpuArray) || InitialValue.Length > ValueSize))
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"Map '{Name}': an initial value needs an array map whose {ValueSize}-byte value can hold its {InitialValue.Length} bytes (kind {Kind})."));
        BpfMap map;
        if (Kind == MapType.SkStorage)
        {
            // The map keeps its own reference to the BTF object; ours can close right after creation.
            var builder = new BtfBuilder();
            uint key = AddType(builder, KeyType ?? typeof(int));
            uint value = AddType(builder, ValueType ?? throw new ArgumentException($"sk_storage map '{Name}' has no value type."));
            using var loaded = builder.Load();
            map = BpfMap.Create(ToMapSpec(new MapBtf(loaded, key, value)));
        }
        else
        {
            map = BpfMap.Create(ToMapSpec());
        }
        try
        {
            if (!InitialValue.IsEmpty)
            {
                var value = new byte[map.ValueBufferSize];
                // A per-CPU array takes one 8-byte aligned copy per possible CPU.
                int stride = map.IsPerCpu ? (ValueSize + 7) / 8 * 8 : ValueSize;
                for (int at = 0; at < value.Length; at += stride) InitialValue.Span.CopyTo(value.AsSpan(at));
                map.Update(new byte[4], value);
            }
            if (Frozen) map.Freeze();
            return map;
        }
        catch
        {
            map.Dispose();
            throw;
        }
    }

    /// <summary>
    /// <see cref="InitialValue"/> as C string text (<c>\n</c>, <c>\0</c>, <c>\xNN</c> escapes), for listings; empty when there is none.
    /// </summary>
    public string InitialValueText()
    {
        var sb = new StringBuilder();
        foreach (byte b in InitialValue.Span)
        {
            sb.Append(b switch
            {
                0 => "\\0",
                (byte)'\n' => "\\n",
                (byte)'\t' => "\\t",
                (byte)'"' => "\\\"",
                (byte)'\\' => "\\\\",
                >= 0x20 and < 0x7f => ((char)b).ToString(),
                _ => string.Create(CultureInfo.InvariantCulture, $"\\x{b:x2}"),
            });
        }
        return sb.ToString();
    }

    private static readonly MethodInfo AddTypeMethod = typeof(BtfBuilder).GetMethod(nameof(BtfBuilder.AddType))!;

    private static uint AddType(BtfBuilder builder, Type type)
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
