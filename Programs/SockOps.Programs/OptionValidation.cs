using System.Globalization;
using System.Reflection;

namespace SockOps.Programs;

/// <summary>The integer values a program option accepts (inclusive), as the kernel gives them a meaning.</summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class OptionRangeAttribute(long minimum, long maximum) : Attribute
{
    public long Minimum { get; } = minimum;
    public long Maximum { get; } = maximum;
}

/// <summary>The lengths (in ASCII characters) a string option accepts.</summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class OptionLengthAttribute(int minimum, int maximum) : Attribute
{
    public int Minimum { get; } = minimum;
    public int Maximum { get; } = maximum;
}

/// <summary>A BPF_MAP_TYPE_RINGBUF size: a power of two, a multiple of the page size, at most 2^31 bytes.</summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class RingBufferSizeAttribute : Attribute
{
    /// <summary>The largest size a uint option can hold that is a power of two.</summary>
    public const long Maximum = 1L << 31;
}

/// <summary>
/// Checks program options against their declared ranges before anything is built or loaded: an out-of-range option
/// would otherwise give a program that can never match (port 70000) or a map the kernel refuses.
/// </summary>
internal static class OptionValidation
{
    /// <summary>Ports are 16-bit and port 0 never appears on an established TCP connection.</summary>
    public const long PortMin = 1, PortMax = 65535;

    /// <summary>
    /// max_entries of a hash or sockhash map: the kernel rounds it up to a power-of-two number of 16-byte buckets and
    /// refuses more than U32_MAX / 16 of them (hash: E2BIG, sockhash: EINVAL), so 2^27 is the most; zero is EINVAL.
    /// A sockmap has no such bound, but 2^27 pointers (1 GiB) is as far as the one range goes.
    /// </summary>
    public const long HashEntriesMax = 1L << 27;

    /// <summary>Throws when a property of <paramref name="options"/> is outside its declared range.</summary>
    /// <exception cref="ArgumentException">The message names the option (kebab-case, as <c>--set</c> spells it), its range and the value.</exception>
    public static void Validate(object options)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (PropertyInfo property in options.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (Describe(property) is not { } range) continue;
            object? value = property.GetValue(options);
            if (!Accepts(property, value))
                throw new ArgumentException($"{CatalogEntry.Kebab(property.Name)} must be {range}, got {Show(value)}.", nameof(options));
        }
    }

    /// <summary>The accepted values of <paramref name="property"/> as text ("1..65535"), or null when it declares none.</summary>
    public static string? Describe(PropertyInfo property)
    {
        ArgumentNullException.ThrowIfNull(property);
        if (property.GetCustomAttribute<OptionRangeAttribute>() is { } range)
            return string.Create(CultureInfo.InvariantCulture, $"{range.Minimum}..{range.Maximum}");
        if (property.GetCustomAttribute<OptionLengthAttribute>() is { } length)
            return string.Create(CultureInfo.InvariantCulture, $"{length.Minimum}..{length.Maximum} ASCII characters");
        if (property.GetCustomAttribute<RingBufferSizeAttribute>() is not null)
            return string.Create(CultureInfo.InvariantCulture, $"a power of two from the page size ({Environment.SystemPageSize}) to {RingBufferSizeAttribute.Maximum}");
        return null;
    }

    private static bool Accepts(PropertyInfo property, object? value)
    {
        if (property.GetCustomAttribute<OptionRangeAttribute>() is { } range)
        {
            decimal number = Convert.ToDecimal(value, CultureInfo.InvariantCulture);
            return number >= range.Minimum && number <= range.Maximum;
        }
        if (property.GetCustomAttribute<OptionLengthAttribute>() is { } length)
            return value is string s && s.Length >= length.Minimum && s.Length <= length.Maximum && s.All(c => c is > ' ' and < (char)127);
        decimal size = Convert.ToDecimal(value, CultureInfo.InvariantCulture);
        return size >= Environment.SystemPageSize && size <= RingBufferSizeAttribute.Maximum && ulong.IsPow2((ulong)size);
    }

    private static string Show(object? value) => value switch
    {
        string s => $"'{s}'",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        null => "null",
        var other => other.ToString() ?? "",
    };
}
