using System.Runtime.CompilerServices;
using SockOps.Emit.Testing;

namespace SockOps.Emit.TestSupport;

/// <summary>
/// The repository's snapshot layout over the public kit (<see cref="ProgramSnapshot"/>): <c>snapshots/{name}.verified.txt</c>
/// beside the calling test file, names chosen by the test (program names and options) rather than Verify's
/// <c>{Class}.{Method}</c>. Comparison, the received file, the line diff and the CI/accept rules are the kit's.
/// </summary>
public static class Snapshot
{
    public static void Verify(string actual, string name, [CallerFilePath] string callerFile = "")
    {
        string directory = Path.Combine(Path.GetDirectoryName(callerFile)!, "snapshots");
        ProgramSnapshot.VerifyFile(actual, Path.Combine(directory, name + ".verified.txt"));
    }

    /// <summary>A unified-style line diff: '-' verified, '+' received.</summary>
    public static string Diff(string expected, string actual) => ProgramSnapshot.Diff(expected, actual);
}
