using System.Runtime.CompilerServices;

namespace SockOps.Emit;

/// <summary>A map a program declares: created by the loader, referenced by name from <c>ld_imm64</c> instructions.</summary>
/// <param name="Name">The name (unique in the program).</param>
/// <param name="Kind">The map type.</param>
/// <param name="KeyType">The C# key type (null for RingBuf).</param>
/// <param name="ValueType">The C# value type (null for RingBuf).</param>
/// <param name="KeySize">Key size in bytes.</param>
/// <param name="ValueSize">Value size in bytes.</param>
/// <param name="MaxEntries">Maximum entries (ring buffer size in bytes for RingBuf; 0 for SkStorage).</param>
/// <param name="Flags">Creation flags.</param>
public sealed partial record MapDeclaration(string Name, MapType Kind, Type? KeyType, Type? ValueType, int KeySize, int ValueSize, uint MaxEntries, MapFlags Flags)
{
    /// <summary>
    /// The value the loader writes under key 0 right after creating the map (an array's first element), or empty for
    /// none. The program's read-only data (<see cref="ReadOnlyDataName"/>) carries its constant strings here.
    /// </summary>
    public ReadOnlyMemory<byte> InitialValue { get; init; }

    /// <summary>
    /// Whether the loader freezes the map (BPF_MAP_FREEZE) after writing <see cref="InitialValue"/>: user space can
    /// no longer change it, and with <see cref="MapFlags.ReadOnlyProgram"/> the verifier treats it as constant.
    /// </summary>
    public bool Frozen { get; init; }

    /// <summary>The name of the array map that holds a program's constant data (printk formats), as clang's <c>.rodata</c>.</summary>
    public const string ReadOnlyDataName = ".rodata";
}

/// <summary>A declared map with typed key and value, usable in helper calls of the program that declared it.</summary>
/// <typeparam name="TKey">The key type (unmanaged).</typeparam>
/// <typeparam name="TValue">The value type (unmanaged).</typeparam>
public sealed class Map<TKey, TValue>
    where TKey : unmanaged
    where TValue : unmanaged
{
    internal Map(MapDeclaration declaration, SockOpsBuilder owner)
    {
        Declaration = declaration;
        Owner = owner;
    }

    /// <summary>The declaration handed to the loader.</summary>
    public MapDeclaration Declaration { get; }

    internal SockOpsBuilder Owner { get; }

    /// <summary>The map's name.</summary>
    public string Name => Declaration.Name;

    /// <summary>The map's kind.</summary>
    public MapType Kind => Declaration.Kind;

    internal static int KeySize => Unsafe.SizeOf<TKey>();

    internal static int ValueSize => Unsafe.SizeOf<TValue>();
}

/// <summary>A key or value type that occupies no bytes (ring buffers and perf event arrays have none).</summary>
public readonly struct NoData;
