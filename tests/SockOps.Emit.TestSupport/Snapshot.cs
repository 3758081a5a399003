using System.Runtime.CompilerServices;
using System.Text;
using DiffPlex.DiffBuilder;
using DiffPlex.DiffBuilder.Model;
using Xunit;

namespace SockOps.Emit.TestSupport;

/// <summary>
/// Verify-style snapshots: <c>{name}.verified.txt</c> beside the calling test file. A mismatch writes
/// <c>{name}.received.txt</c> and fails with a line diff. A missing snapshot fails in CI (CI=true);
/// set SOCKOPS_ACCEPT_SNAPSHOTS=1 to accept received output as the new verified snapshot.
/// </summary>
public static class Snapshot
{
    public static void Verify(string actual, string name, [CallerFilePath] string callerFile = "")
    {
        string directory = Path.Combine(Path.GetDirectoryName(callerFile)!, "snapshots");
        Directory.CreateDirectory(directory);
        string verifiedPath = Path.Combine(directory, name + ".verified.txt");
        string receivedPath = Path.Combine(directory, name + ".received.txt");
        string normalized = Normalize(actual);
        bool accept = Environment.GetEnvironmentVariable("SOCKOPS_ACCEPT_SNAPSHOTS") == "1";

        if (!File.Exists(verifiedPath))
        {
            if (accept && !IsCi)
            {
                File.WriteAllText(verifiedPath, normalized);
                return;
            }
            File.WriteAllText(receivedPath, normalized);
            Assert.Fail($"Snapshot {verifiedPath} does not exist. Received output written to {receivedPath}; " +
                        "review it and rerun with SOCKOPS_ACCEPT_SNAPSHOTS=1 to accept.");
        }

        string expected = Normalize(File.ReadAllText(verifiedPath));
        if (expected == normalized)
        {
            if (File.Exists(receivedPath)) File.Delete(receivedPath);
            return;
        }
        if (accept && !IsCi)
        {
            File.WriteAllText(verifiedPath, normalized);
            return;
        }
        File.WriteAllText(receivedPath, normalized);
        Assert.Fail($"Snapshot mismatch for {name} ({verifiedPath}):\n{Diff(expected, normalized)}");
    }

    private static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    private static string Normalize(string text)
    {
        string s = text.Replace("\r\n", "\n", StringComparison.Ordinal);
        return s.EndsWith('\n') ? s : s + "\n";
    }

    /// <summary>A unified-style line diff: '-' verified, '+' received.</summary>
    public static string Diff(string expected, string actual)
    {
        var model = InlineDiffBuilder.Diff(expected, actual);
        var sb = new StringBuilder();
        foreach (var line in model.Lines)
        {
            char tag = line.Type switch { ChangeType.Inserted => '+', ChangeType.Deleted => '-', _ => ' ' };
            sb.Append(tag).Append(' ').Append(line.Text).Append('\n');
        }
        return sb.ToString();
    }
}
