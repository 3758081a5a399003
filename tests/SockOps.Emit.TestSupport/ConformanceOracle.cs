using System.Globalization;
using SockOps.Emit.Assembler;

namespace SockOps.Emit.TestSupport;

/// <summary>
/// The verdicts of the BPF ISA conformance suite's own libbpf runner on the kernel it was measured on:
/// tests/SockOps.Emit.Runtime.Tests/golden/conformance-libbpf.tsv, written by scripts/conformance-oracle/run.sh.
/// </summary>
/// <param name="Release">The kernel release (<c>uname -r</c>) of the measurement.</param>
/// <param name="Version">Its version (build suffix ignored).</param>
/// <param name="Verdicts">PASS, FAIL, SKIP, ERROR or UNKNOWN per (test file, cpu version).</param>
public sealed record ConformanceOracle(string Release, KernelVersion Version, IReadOnlyDictionary<(string Test, int Cpu), string> Verdicts)
{
    /// <summary>The committed oracle file.</summary>
    public static string FilePath => Path.Combine(SharedData.RepositoryRoot(), "tests", "SockOps.Emit.Runtime.Tests", "golden", "conformance-libbpf.tsv");

    /// <summary>The committed oracle.</summary>
    public static ConformanceOracle Committed => CommittedOracle.Value;

    private static readonly Lazy<ConformanceOracle> CommittedOracle = new(() => Load(FilePath));

    /// <summary>The test files the suite's runner could not load with cpu <paramref name="cpu"/> (the kernel refused them: ERROR).</summary>
    public IReadOnlyList<string> KernelRefused(int cpu) =>
        [.. Verdicts.Where(v => v.Key.Cpu == cpu && v.Value == "ERROR").Select(v => v.Key.Test).Order(StringComparer.Ordinal)];

    /// <summary>Reads an oracle file.</summary>
    /// <exception cref="InvalidDataException">A line is malformed, a test is listed twice, or the kernel is not recorded.</exception>
    public static ConformanceOracle Load(string path)
    {
        string? release = null, build = null;
        var verdicts = new Dictionary<(string, int), string>();
        foreach (string line in File.ReadLines(path))
        {
            if (line.StartsWith("# kernel\t", StringComparison.Ordinal)) release = line["# kernel\t".Length..];
            else if (line.StartsWith("# build\t", StringComparison.Ordinal)) build = line["# build\t".Length..];
            if (line.StartsWith('#') || line.Length == 0) continue;
            string[] f = line.Split('\t');
            if (f.Length != 3 || !int.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out int cpu))
                throw new InvalidDataException($"{path}: expected 'test<TAB>cpu<TAB>verdict': {line}");
            if (!verdicts.TryAdd((f[0], cpu), f[2]))
                throw new InvalidDataException($"{path}: {f[0]} cpu v{cpu} is listed twice");
        }
        if (release is null) throw new InvalidDataException($"{path}: no '# kernel' line");
        return new ConformanceOracle(release, KernelVersion.ParseRelease(release, build), verdicts);
    }
}
