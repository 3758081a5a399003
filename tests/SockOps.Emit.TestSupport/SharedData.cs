using System.Runtime.CompilerServices;

namespace SockOps.Emit.TestSupport;

/// <summary>Locates data the tests read from outside the repository.</summary>
public static class SharedData
{
    /// <summary>
    /// The BPF ISA conformance suite: SOCKOPS_CONFORMANCE_DIR, else <c>shared/conformance</c> beside the
    /// repository root (the folder holding SockOps.Emit.sln), as laid out for developers and CI.
    /// </summary>
    public static string ConformanceDirectory => Conformance.Value;

    /// <summary>The suite's <c>tests/*.data</c> folder.</summary>
    public static string ConformanceTestsDirectory => Path.Combine(ConformanceDirectory, "tests");

    private static readonly Lazy<string> Conformance = new(FindConformance);

    private static string FindConformance()
    {
        string? configured = Environment.GetEnvironmentVariable("SOCKOPS_CONFORMANCE_DIR");
        if (!string.IsNullOrEmpty(configured)) return configured;
        string root = RepositoryRoot();
        string path = Path.Combine(Path.GetDirectoryName(root)!, "shared", "conformance");
        return Directory.Exists(path) ? path
            : throw new DirectoryNotFoundException($"Conformance suite data not found at {path}; set SOCKOPS_CONFORMANCE_DIR.");
    }

    /// <summary>The repository root: the nearest folder above this source file holding SockOps.Emit.sln.</summary>
    public static string RepositoryRoot([CallerFilePath] string thisFile = "")
    {
        // The compile-time path works for tests run from a checkout; the binary's folder as a fallback.
        foreach (string start in new[] { Path.GetDirectoryName(thisFile)!, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "SockOps.Emit.sln"))) return dir.FullName;
        }
        throw new DirectoryNotFoundException("Repository root (SockOps.Emit.sln) not found.");
    }
}
