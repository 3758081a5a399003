using SockOps.Emit.Assembler;
using System.Globalization;
using System.Reflection;
using System.Text;
using SockOps.Emit;

namespace SockOps.Programs;

/// <summary>A parameter of a shipped program, settable with <c>--set name=value</c>.</summary>
/// <param name="Name">The kebab-case name.</param>
/// <param name="Type">The value type (int, uint, ulong, ushort, bool or string).</param>
/// <param name="Default">The default, as text.</param>
/// <param name="Range">The values it accepts (e.g. "1..65535"), or null when its type is the only limit.</param>
public sealed record ProgramParameter(string Name, Type Type, string Default, string? Range)
{
    /// <summary>A short type name for help text.</summary>
    public string TypeName => Type == typeof(bool) ? "bool" : Type == typeof(string) ? "string" : Type.Name.ToLowerInvariant() switch
    {
        "int32" => "int", "uint32" => "uint", "uint64" => "ulong", "uint16" => "ushort", var other => other,
    };
}

/// <summary>Bad <c>--set</c> input: unknown program or parameter, malformed or out-of-range value.</summary>
public sealed class ProgramParameterException(string message) : ArgumentException(message);

/// <summary>One shipped program: its kebab-case name, summary, parameters and builder.</summary>
public sealed class CatalogEntry
{
    private readonly Type? _optionsType;
    private readonly Func<object?, KernelVersion?, ProgramImage>? _build;

    internal CatalogEntry(string name, string summary, KernelVersion minimumKernel, Type? optionsType, Func<object?, KernelVersion?, ProgramImage>? build,
        string? unavailableReason = null)
    {
        Name = name;
        MinimumKernel = minimumKernel;
        Summary = summary;
        _optionsType = optionsType;
        _build = build;
        UnavailableReason = unavailableReason;
        Parameters = optionsType is null ? [] : [.. Settable(optionsType).Select(p =>
            new ProgramParameter(Kebab(p.Name), p.PropertyType, Format(p.GetValue(Activator.CreateInstance(optionsType))), OptionValidation.Describe(p)))];
    }

    /// <summary>The kebab-case name (<c>sockops dump NAME</c>).</summary>
    public string Name { get; }

    /// <summary>One line describing what it does.</summary>
    public string Summary { get; }

    /// <summary>The oldest kernel the program can be built for (the first kernel with every feature it uses).</summary>
    public KernelVersion MinimumKernel { get; }

    /// <summary>The parameters <c>--set</c> accepts.</summary>
    public IReadOnlyList<ProgramParameter> Parameters { get; }

    /// <summary>Why this program cannot be built here, or null when it can.</summary>
    public string? UnavailableReason { get; }

    /// <summary>Builds the program with <paramref name="settings"/> (<c>key=value</c> pairs) over the defaults, for <paramref name="target"/>.</summary>
    /// <param name="settings">Parameter values.</param>
    /// <param name="target">The kernel the program will run on (default <see cref="KernelTargets.Default"/>).</param>
    /// <exception cref="ProgramParameterException">A setting names no parameter, its value does not parse or is outside the parameter's <see cref="ProgramParameter.Range"/>.</exception>
    /// <exception cref="NotSupportedException">The program is unavailable (<see cref="UnavailableReason"/>).</exception>
    /// <exception cref="EmitException">The program uses a feature newer than <paramref name="target"/> (<see cref="EmitRule.TargetKernel"/>).</exception>
    public ProgramImage Build(IEnumerable<KeyValuePair<string, string>>? settings = null, KernelVersion? target = null)
    {
        if (_build is null || _optionsType is null)
            throw new NotSupportedException($"{Name} is not available: {UnavailableReason}");
        object options = Activator.CreateInstance(_optionsType)!;
        var properties = Settable(_optionsType).ToDictionary(p => Kebab(p.Name), StringComparer.Ordinal);
        foreach (var (key, text) in settings ?? [])
        {
            if (!properties.TryGetValue(key, out var property))
            {
                string known = properties.Count == 0 ? "it has no parameters" : "parameters: " + string.Join(", ", properties.Keys);
                throw new ProgramParameterException($"{Name}: unknown parameter '{key}' ({known}).");
            }
            property.SetValue(options, Parse(key, text, property));
        }
        try
        {
            return _build(options, target);
        }
        catch (ArgumentException e) when (e is not ProgramParameterException)
        {
            string message = e.ParamName is null ? e.Message : e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal);
            throw new ProgramParameterException($"{Name}: {message}");
        }
    }

    /// <summary>Parses <c>key=value</c> strings (as given to <c>--set</c>).</summary>
    /// <exception cref="ProgramParameterException">A string has no '=' or an empty key.</exception>
    public static IReadOnlyList<KeyValuePair<string, string>> ParseSettings(IEnumerable<string> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var result = new List<KeyValuePair<string, string>>();
        foreach (string setting in settings)
        {
            int eq = setting.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw new ProgramParameterException($"--set '{setting}': expected key=value.");
            result.Add(new(setting[..eq].Trim(), setting[(eq + 1)..].Trim()));
        }
        return result;
    }

    private object Parse(string key, string text, PropertyInfo property)
    {
        Type type = property.PropertyType;
        string what = type == typeof(bool) ? "true or false" : type == typeof(string) ? "a string"
            : $"an integer in {OptionValidation.Describe(property) ?? $"{type.GetField("MinValue")!.GetValue(null)}..{type.GetField("MaxValue")!.GetValue(null)}"}";
        try
        {
            if (type == typeof(string)) return text;
            if (type == typeof(bool))
                return text.ToLowerInvariant() switch { "true" or "1" or "yes" or "on" => true, "false" or "0" or "no" or "off" => false, _ => throw new FormatException() };
            bool hex = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase);
            string digits = hex ? text[2..] : text.Replace("_", "", StringComparison.Ordinal);
            var style = hex ? NumberStyles.AllowHexSpecifier : NumberStyles.AllowLeadingSign;
            if (type == typeof(int)) return int.Parse(digits, style, CultureInfo.InvariantCulture);
            if (type == typeof(uint)) return uint.Parse(digits, style, CultureInfo.InvariantCulture);
            if (type == typeof(ulong)) return ulong.Parse(digits, style, CultureInfo.InvariantCulture);
            if (type == typeof(ushort)) return ushort.Parse(digits, style, CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new ProgramParameterException($"{Name}: {key} must be {what}, got '{text}'.");
        }
        throw new ProgramParameterException($"{Name}: {key} has an unsupported type {type.Name}.");
    }

    private static IEnumerable<PropertyInfo> Settable(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite && p.Name != "EqualityContract");

    private static string Format(object? value) => value switch
    {
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        null => "",
        var other => other.ToString() ?? "",
    };

    internal static string Kebab(string pascal)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < pascal.Length; i++)
        {
            char c = pascal[i];
            if (char.IsUpper(c) && i > 0) sb.Append('-');
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }
}

/// <summary>The shipped programs by kebab-case name (what <c>sockops list</c> prints).</summary>
public static class ProgramCatalog
{
    private static CatalogEntry Entry<TOptions>(string name, string summary, KernelVersion minimumKernel, Func<TOptions?, KernelVersion?, ProgramImage> build)
        where TOptions : class =>
        new(name, summary, minimumKernel, typeof(TOptions), (o, target) => build((TOptions?)o, target));

    /// <summary>All programs, in the order <c>sockops list</c> prints them.</summary>
    public static IReadOnlyList<CatalogEntry> All { get; } =
    [
        Entry<Clamp.Options>("clamp", Clamp.Summary, Clamp.MinimumKernel, Clamp.Build),
        Entry<DumpStats.Options>("dump-stats", DumpStats.Summary, DumpStats.MinimumKernel, DumpStats.Build),
        Entry<SockMapAdder.Options>("sockmap-adder", SockMapAdder.Summary, SockMapAdder.MinimumKernel, SockMapAdder.Build),
        Entry<SynRto.Options>("syn-rto", SynRto.Summary, SynRto.MinimumKernel, SynRto.Build),
        Entry<Bufs.Options>("bufs", Bufs.Summary, Bufs.MinimumKernel, Bufs.Build),
        Entry<Rwnd.Options>("rwnd", Rwnd.Summary, Rwnd.MinimumKernel, Rwnd.Build),
        Entry<Iw.Options>("iw", Iw.Summary, Iw.MinimumKernel, Iw.Build),
        Entry<Cong.Options>("cong", Cong.Summary, Cong.MinimumKernel, Cong.Build),
        Entry<BaseRtt.Options>("base-rtt", BaseRtt.Summary, BaseRtt.MinimumKernel, BaseRtt.Build),
        Entry<TosReflect.Options>("tos-reflect", TosReflect.Summary, TosReflect.MinimumKernel, TosReflect.Build),
        Entry<HeaderOption.Options>("header-option", HeaderOption.Summary, HeaderOption.MinimumKernel, HeaderOption.Build),
        Entry<RttMetrics.Options>("rtt-metrics", RttMetrics.Summary, RttMetrics.MinimumKernel, RttMetrics.Build),
        Entry<TxTimestamps.Options>("tx-timestamps", TxTimestamps.Summary, TxTimestamps.MinimumKernel, TxTimestamps.Build),
    ];

    /// <summary>The entry named <paramref name="name"/>.</summary>
    /// <exception cref="ProgramParameterException">No program has that name (the message lists the names).</exception>
    public static CatalogEntry Get(string name) =>
        All.FirstOrDefault(e => e.Name == name)
        ?? throw new ProgramParameterException($"unknown program '{name}'; programs: {string.Join(", ", All.Select(e => e.Name))}.");
}
