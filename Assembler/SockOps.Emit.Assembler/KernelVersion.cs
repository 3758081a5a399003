using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace SockOps.Emit.Assembler;

/// <summary>
/// A Linux kernel version, <c>major.minor[.patch]</c>: the kernel a program targets, the first kernel a feature
/// exists in, or the running kernel. Feature minimums are <c>major.minor</c> (patch 0), so every 6.1.x kernel
/// satisfies "needs Linux 6.1".
/// </summary>
/// <param name="Major">The major version (6 in 6.1.192).</param>
/// <param name="Minor">The minor version (1 in 6.1.192).</param>
/// <param name="Patch">The stable patch level (192 in 6.1.192), 0 when unknown or irrelevant.</param>
public readonly record struct KernelVersion(int Major, int Minor, int Patch = 0)
    : IComparable<KernelVersion>, ISpanFormattable, IParsable<KernelVersion>
{
    /// <summary>Linux 5.10 (LTS; declared from the sources, not proven here).</summary>
    public static KernelVersion Linux5_10 { get; } = new(5, 10);

    /// <summary>Linux 5.15 (LTS; declared from the sources, not proven here).</summary>
    public static KernelVersion Linux5_15 { get; } = new(5, 15);

    /// <summary>Linux 6.1 (LTS: Debian 12, Amazon Linux 2023). The oldest kernel the project proves.</summary>
    public static KernelVersion Linux6_1 { get; } = new(6, 1);

    /// <summary>Linux 6.12 (LTS).</summary>
    public static KernelVersion Linux6_12 { get; } = new(6, 12);

    /// <summary>Linux 6.18 (the kernel the model was measured on).</summary>
    public static KernelVersion Linux6_18 { get; } = new(6, 18);

    /// <summary>The version without its patch level (what feature minimums and targets compare).</summary>
    public KernelVersion MajorMinor => new(Major, Minor);

    /// <inheritdoc/>
    public int CompareTo(KernelVersion other)
    {
        int c = Major.CompareTo(other.Major);
        if (c != 0) return c;
        c = Minor.CompareTo(other.Minor);
        return c != 0 ? c : Patch.CompareTo(other.Patch);
    }

    /// <summary>Whether this kernel has everything <paramref name="minimum"/> introduced (compares major.minor only).</summary>
    public bool IsAtLeast(KernelVersion minimum) => MajorMinor.CompareTo(minimum.MajorMinor) >= 0;

    /// <summary>Compares versions.</summary>
    public static bool operator <(KernelVersion left, KernelVersion right) => left.CompareTo(right) < 0;

    /// <summary>Compares versions.</summary>
    public static bool operator >(KernelVersion left, KernelVersion right) => left.CompareTo(right) > 0;

    /// <summary>Compares versions.</summary>
    public static bool operator <=(KernelVersion left, KernelVersion right) => left.CompareTo(right) <= 0;

    /// <summary>Compares versions.</summary>
    public static bool operator >=(KernelVersion left, KernelVersion right) => left.CompareTo(right) >= 0;

    /// <summary>The larger of two versions.</summary>
    public static KernelVersion Max(KernelVersion a, KernelVersion b) => a >= b ? a : b;

    /// <summary><c>6.1</c>, or <c>6.1.192</c> when the patch level is known.</summary>
    public override string ToString() => Patch == 0
        ? string.Create(CultureInfo.InvariantCulture, $"{Major}.{Minor}")
        : string.Create(CultureInfo.InvariantCulture, $"{Major}.{Minor}.{Patch}");

    /// <inheritdoc/>
    public string ToString(string? format, IFormatProvider? formatProvider) => ToString();

    /// <inheritdoc/>
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider) =>
        Patch == 0
            ? destination.TryWrite(CultureInfo.InvariantCulture, $"{Major}.{Minor}", out charsWritten)
            : destination.TryWrite(CultureInfo.InvariantCulture, $"{Major}.{Minor}.{Patch}", out charsWritten);

    /// <summary>
    /// Parses <c>6.1</c>, <c>6.1.192</c> or a kernel release string (<c>uname -r</c>): the leading
    /// <c>major.minor[.patch]</c> is taken and any suffix (<c>-57-cloud-amd64</c>, <c>+deb12-cloud-amd64</c>,
    /// <c>-fc-v1300</c>) is ignored. A Debian release such as <c>6.1.0-57-cloud-amd64</c> says patch 0; the real
    /// patch level is in <c>uname -v</c> (see <see cref="ParseRelease"/>).
    /// </summary>
    /// <exception cref="FormatException">The text does not start with <c>major.minor</c>.</exception>
    public static KernelVersion Parse(string s, IFormatProvider? provider = null)
    {
        ArgumentNullException.ThrowIfNull(s);
        return TryParse(s, provider, out var version)
            ? version
            : throw new FormatException($"'{s}' is not a kernel version (expected major.minor, e.g. 6.1 or 6.12.118).");
    }

    /// <inheritdoc cref="Parse(string, IFormatProvider?)"/>
    public static bool TryParse([NotNullWhen(true)] string? s, IFormatProvider? provider, out KernelVersion result)
    {
        result = default;
        if (s is null) return false;
        ReadOnlySpan<char> text = s.AsSpan().Trim();
        Span<int> parts = stackalloc int[3];
        int count = 0;
        int i = 0;
        while (count < 3)
        {
            int start = i;
            long value = 0;
            while (i < text.Length && char.IsAsciiDigit(text[i]) && i - start < 6) value = (value * 10) + (text[i++] - '0');
            if (i == start) break;
            parts[count++] = (int)value;
            if (i < text.Length && text[i] == '.' && i + 1 < text.Length && char.IsAsciiDigit(text[i + 1])) i++;
            else break;
        }
        if (count < 2) return false;
        // Whatever follows must be a release suffix, not more digits glued to the version.
        if (i < text.Length && char.IsAsciiDigit(text[i])) return false;
        result = new KernelVersion(parts[0], parts[1], count == 3 ? parts[2] : 0);
        return true;
    }

    /// <summary>
    /// The version of a kernel from its release (<c>uname -r</c>, <c>/proc/sys/kernel/osrelease</c>) and build
    /// string (<c>uname -v</c>, <c>/proc/sys/kernel/version</c>). Debian names its 6.1 kernels
    /// <c>6.1.0-ABI-flavour</c> and puts the real version in the build string (<c>#1 SMP PREEMPT_DYNAMIC Debian
    /// 6.1.192-1 (2026-…)</c>); when the build string names a version of the same major.minor, its patch level wins.
    /// </summary>
    /// <exception cref="FormatException">The release does not start with <c>major.minor</c>.</exception>
    public static KernelVersion ParseRelease(string release, string? build)
    {
        var version = Parse(release);
        if (build is null) return version;
        // "Debian 6.1.192-1", "Ubuntu 6.8.0-45.45-generic": look for "<distro> X.Y.Z" in the build string.
        foreach (string word in build.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!TryParse(word, null, out var candidate) || candidate.MajorMinor != version.MajorMinor) continue;
            if (word.Count(c => c == '.') >= 2 && candidate.Patch > version.Patch) return candidate;
        }
        return version;
    }
}
