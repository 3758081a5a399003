using System.Globalization;

namespace SockOps.Emit.Tests.Model;

/// <summary>
/// The committed golden file golden/btf-sockops.txt (from scripts/golden/gen-sockops-btf.sh: the
/// running kernel's BTF plus socket-option macros of the system headers).
/// </summary>
internal static class BtfGolden
{
    public sealed record Field(string Struct, string Name, int Offset, int Size, string Kind, int Elements);

    /// <summary>A helper prototype from the uapi header: argument count and which arguments are pointers.</summary>
    public sealed record Prototype(string Name, int ArgumentCount, bool[] Pointers, string[] ArgumentNames);

    private static readonly Lazy<(Dictionary<string, int> Sizes, List<Field> Fields, Dictionary<string, long> Enums, Dictionary<string, long> Macros, Dictionary<string, Prototype> Protos)> Data = new(Parse);

    public static IReadOnlyDictionary<string, Prototype> Prototypes => Data.Value.Protos;

    /// <summary>The 'header' lines: the system uapi header (6.1 here), keyed "struct NAME", "field STRUCT NAME", "const NAME"; value null when missing.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>?> Header => HeaderData.Value;

    private static readonly Lazy<Dictionary<string, IReadOnlyDictionary<string, string>?>> HeaderData = new(() =>
    {
        var result = new Dictionary<string, IReadOnlyDictionary<string, string>?>(StringComparer.Ordinal);
        foreach (string line in File.ReadLines(Path.Combine(AppContext.BaseDirectory, "golden", "btf-sockops.txt")))
        {
            if (!line.StartsWith("header ", StringComparison.Ordinal)) continue;
            string[] parts = line.Split(' ');
            int keyParts = parts[1] == "field" ? 3 : 2;
            string key = string.Join(' ', parts[1..(1 + keyParts)]);
            result[key] = parts[^1] == "missing" ? null
                : parts[(1 + keyParts)..].ToDictionary(p => p[..p.IndexOf('=', StringComparison.Ordinal)], p => p[(p.IndexOf('=', StringComparison.Ordinal) + 1)..]);
        }
        return result;
    });

    public static int StructSize(string name) => Data.Value.Sizes[name];

    public static IReadOnlyList<Field> Fields(string structName) => [.. Data.Value.Fields.Where(f => f.Struct == structName)];

    public static IReadOnlyDictionary<string, long> Enums => Data.Value.Enums;

    public static IReadOnlyDictionary<string, long> Macros => Data.Value.Macros;

    /// <summary>An enumerator or macro value by name, or null when the golden file does not have it.</summary>
    public static long? Constant(string name) =>
        Enums.TryGetValue(name, out long e) ? e : Macros.TryGetValue(name, out long m) ? m : null;

    private static (Dictionary<string, int>, List<Field>, Dictionary<string, long>, Dictionary<string, long>, Dictionary<string, Prototype>) Parse()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "golden", "btf-sockops.txt");
        var sizes = new Dictionary<string, int>(StringComparer.Ordinal);
        var fields = new List<Field>();
        var enums = new Dictionary<string, long>(StringComparer.Ordinal);
        var macros = new Dictionary<string, long>(StringComparer.Ordinal);
        var protos = new Dictionary<string, Prototype>(StringComparer.Ordinal);
        foreach (string line in File.ReadLines(path))
        {
            if (line.StartsWith('#') || line.Length == 0 || line.StartsWith("header ", StringComparison.Ordinal)) continue;
            string[] parts = line.Split(' ');
            var attrs = parts.Where(p => p.Contains('=', StringComparison.Ordinal))
                .ToDictionary(p => p[..p.IndexOf('=', StringComparison.Ordinal)], p => p[(p.IndexOf('=', StringComparison.Ordinal) + 1)..]);
            switch (parts[0])
            {
                case "struct":
                    sizes[parts[1]] = int.Parse(attrs["size"], CultureInfo.InvariantCulture);
                    break;
                case "field":
                    fields.Add(new Field(parts[1], parts[2], int.Parse(attrs["offset"], CultureInfo.InvariantCulture),
                        int.Parse(attrs["size"], CultureInfo.InvariantCulture), attrs["kind"],
                        attrs.TryGetValue("elements", out string? n) ? int.Parse(n, CultureInfo.InvariantCulture) : 0));
                    break;
                case "enum":
                    enums.TryAdd(parts[1], long.Parse(parts[2], CultureInfo.InvariantCulture));
                    break;
                case "proto":
                    protos[parts[1]] = new Prototype(parts[1], int.Parse(attrs["args"], CultureInfo.InvariantCulture),
                        attrs["pointers"] == "-" ? [] : [.. attrs["pointers"].Split(',').Select(p => p == "1")],
                        attrs["names"] == "-" ? [] : attrs["names"].Split(','));
                    break;
                case "macro":
                    macros[parts[1]] = long.Parse(parts[2], CultureInfo.InvariantCulture);
                    break;
                default:
                    throw new InvalidDataException($"{path}: unknown line '{line}'");
            }
        }
        return (sizes, fields, enums, macros, protos);
    }

    /// <summary>KERNEL_NAME_LIKE_THIS → KernelNameLikeThis (how the model names enum members).</summary>
    public static string Pascal(string upperSnake) =>
        string.Concat(upperSnake.Split('_', StringSplitOptions.RemoveEmptyEntries)
            .Select(w => char.ToUpperInvariant(w[0]) + w[1..].ToLowerInvariant()));
}
