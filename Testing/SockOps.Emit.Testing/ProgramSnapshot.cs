using System.Runtime.CompilerServices;
using System.Text;
using DiffPlex.DiffBuilder;
using DiffPlex.DiffBuilder.Model;

namespace SockOps.Emit.Testing;

/// <summary>
/// Verify-style snapshot tests of a program's bytecode, for any test framework (a failure is an exception).
/// <para>
/// <see cref="Verify(ProgramImage, string?, string?, string, string)"/> compares <see cref="ProgramListing.Format"/> of
/// the image with <c>{Class}.{Method}.verified.txt</c> beside the calling test's source file (Verify's convention):
/// <c>{Method}</c> is the calling member (<see cref="CallerMemberNameAttribute"/>), <c>{Class}</c> the source file's name
/// without extension — the test class by the one-class-per-file convention — or the <c>className</c> argument. The file
/// name is used rather than a stack frame because it is exact under inlining, async state machines and lambdas.
/// </para>
/// <para>
/// A mismatch writes <c>{Class}.{Method}.received.txt</c> and throws <see cref="SnapshotMismatchException"/> with a line
/// diff; a missing verified file writes the received one and throws <see cref="SnapshotMissingException"/>. Outside CI,
/// <c>SOCKOPS_ACCEPT_SNAPSHOTS=1</c> accepts the received text as the verified snapshot instead; under CI (<c>CI=true</c>
/// or <c>CI=1</c>, or <c>TF_BUILD=True</c>) nothing is ever accepted, so a missing or changed snapshot fails the build.
/// </para>
/// </summary>
public static class ProgramSnapshot
{
    /// <summary>The environment variable that, set to <c>1</c> outside CI, accepts received text as the new snapshot.</summary>
    public const string AcceptVariable = "SOCKOPS_ACCEPT_SNAPSHOTS";

    /// <summary>Checks <paramref name="image"/>'s listing against <c>{Class}.{Method}.verified.txt</c> beside the calling source file.</summary>
    /// <param name="image">The program to check.</param>
    /// <param name="parameters">For a parameterized test: a suffix naming the case, giving <c>{Class}.{Method}_{parameters}.verified.txt</c>.</param>
    /// <param name="className">The class part of the name; default: the calling source file's name without extension.</param>
    /// <param name="sourceFile">Filled in by the compiler: the calling source file.</param>
    /// <param name="methodName">Filled in by the compiler: the calling member.</param>
    /// <exception cref="SnapshotMismatchException">The listing differs from the verified snapshot.</exception>
    /// <exception cref="SnapshotMissingException">There is no verified snapshot (and it was not accepted).</exception>
    /// <exception cref="SnapshotException">The calling source file's directory does not exist (a mapped path, see docs/testing.md).</exception>
    public static void Verify(ProgramImage image, string? parameters = null, string? className = null,
        [CallerFilePath] string sourceFile = "", [CallerMemberName] string methodName = "")
    {
        ArgumentNullException.ThrowIfNull(image);
        VerifyText(ProgramListing.Format(image), parameters, className, sourceFile, methodName);
    }

    /// <summary>As <see cref="Verify(ProgramImage, string?, string?, string, string)"/> for any text (e.g. a listing of your own).</summary>
    /// <param name="text">The text to check; line endings are normalized to <c>\n</c> and a final newline is added.</param>
    /// <param name="parameters">A suffix naming a parameterized case.</param>
    /// <param name="className">The class part of the name; default: the calling source file's name.</param>
    /// <param name="sourceFile">Filled in by the compiler.</param>
    /// <param name="methodName">Filled in by the compiler.</param>
    /// <exception cref="SnapshotMismatchException">The text differs from the verified snapshot.</exception>
    /// <exception cref="SnapshotMissingException">There is no verified snapshot (and it was not accepted).</exception>
    /// <exception cref="SnapshotException">The calling source file's directory does not exist.</exception>
    public static void VerifyText(string text, string? parameters = null, string? className = null,
        [CallerFilePath] string sourceFile = "", [CallerMemberName] string methodName = "")
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentException.ThrowIfNullOrWhiteSpace(methodName);
        VerifyFile(text, VerifiedPath(sourceFile, methodName, parameters, className));
    }

    /// <summary>
    /// The verified-file path <see cref="VerifyText"/> uses: <c>{directory of sourceFile}/{Class}.{Method}[_{parameters}].verified.txt</c>,
    /// characters that cannot be in a file name replaced by <c>-</c>.
    /// </summary>
    /// <param name="sourceFile">The test's source file (an absolute path, as <see cref="CallerFilePathAttribute"/> gives it).</param>
    /// <param name="methodName">The test method.</param>
    /// <param name="parameters">A suffix naming a parameterized case, or null.</param>
    /// <param name="className">The class part, or null for the source file's name.</param>
    /// <exception cref="SnapshotException">The source file's directory does not exist.</exception>
    public static string VerifiedPath(string sourceFile, string methodName, string? parameters = null, string? className = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sourceFile);
        ArgumentException.ThrowIfNullOrWhiteSpace(methodName);
        string? directory = Path.GetDirectoryName(sourceFile);
        // A deterministic CI build maps source paths (/_/...); the snapshot then cannot be found beside the test.
        if (string.IsNullOrEmpty(directory) || !Directory.Exists(directory))
            throw new SnapshotException($"The test's source directory '{directory}' (from [CallerFilePath] {sourceFile}) does not exist: " +
                "is the test project built with a path map (ContinuousIntegrationBuild=true or PathMap)? Snapshot tests need real source paths.");
        string name = (className ?? Path.GetFileNameWithoutExtension(sourceFile)) + "." + methodName;
        if (!string.IsNullOrEmpty(parameters)) name += "_" + parameters;
        foreach (char c in Path.GetInvalidFileNameChars()) name = name.Replace(c, '-');
        return Path.Combine(directory, name + ".verified.txt");
    }

    /// <summary>
    /// Checks <paramref name="text"/> against the explicit <paramref name="verifiedPath"/> (ending in <c>.verified.txt</c>);
    /// the received file is written beside it as <c>.received.txt</c> on a mismatch and deleted on a match.
    /// </summary>
    /// <param name="text">The text to check.</param>
    /// <param name="verifiedPath">The verified snapshot's path; its directory is created when missing.</param>
    /// <exception cref="ArgumentException"><paramref name="verifiedPath"/> does not end in <c>.verified.txt</c>.</exception>
    /// <exception cref="SnapshotMismatchException">The text differs from the verified snapshot.</exception>
    /// <exception cref="SnapshotMissingException">There is no verified snapshot (and it was not accepted).</exception>
    public static void VerifyFile(string text, string verifiedPath) => VerifyFile(text, verifiedPath, IsCi, IsAcceptRequested);

    /// <summary><see cref="VerifyFile(string, string)"/> with CI and accept given instead of read from the environment.</summary>
    internal static void VerifyFile(string text, string verifiedPath, bool ci, bool acceptRequested)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentException.ThrowIfNullOrWhiteSpace(verifiedPath);
        const string VerifiedSuffix = ".verified.txt";
        if (!verifiedPath.EndsWith(VerifiedSuffix, StringComparison.Ordinal))
            throw new ArgumentException($"A snapshot path must end in {VerifiedSuffix}: {verifiedPath}", nameof(verifiedPath));
        string receivedPath = verifiedPath[..^VerifiedSuffix.Length] + ".received.txt";
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(verifiedPath))!);
        string received = Normalize(text);
        bool accept = acceptRequested && !ci;

        if (!File.Exists(verifiedPath))
        {
            if (accept)
            {
                File.WriteAllText(verifiedPath, received);
                DeleteIfExists(receivedPath);
                return;
            }
            File.WriteAllText(receivedPath, received);
            throw new SnapshotMissingException(verifiedPath, receivedPath, ci);
        }

        string verified = Normalize(File.ReadAllText(verifiedPath));
        if (verified == received)
        {
            DeleteIfExists(receivedPath);
            return;
        }
        if (accept)
        {
            File.WriteAllText(verifiedPath, received);
            DeleteIfExists(receivedPath);
            return;
        }
        File.WriteAllText(receivedPath, received);
        throw new SnapshotMismatchException(verifiedPath, receivedPath, Diff(verified, received));
    }

    /// <summary>True under CI: <c>CI</c> is <c>true</c> or <c>1</c> (GitHub Actions, GitLab, most others) or <c>TF_BUILD</c> is <c>True</c> (Azure Pipelines).</summary>
    public static bool IsCi =>
        IsTrue(Environment.GetEnvironmentVariable("CI")) || IsTrue(Environment.GetEnvironmentVariable("TF_BUILD"));

    /// <summary>True when <see cref="AcceptVariable"/> is <c>1</c> (it has no effect under <see cref="IsCi"/>).</summary>
    public static bool IsAcceptRequested => Environment.GetEnvironmentVariable(AcceptVariable) == "1";

    /// <summary>A line diff of two texts: every line prefixed <c>'-'</c> (only in <paramref name="expected"/>), <c>'+'</c> (only in <paramref name="actual"/>) or <c>' '</c>.</summary>
    /// <param name="expected">The verified text.</param>
    /// <param name="actual">The received text.</param>
    public static string Diff(string expected, string actual)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(actual);
        var model = InlineDiffBuilder.Diff(expected, actual);
        var sb = new StringBuilder();
        foreach (var line in model.Lines)
        {
            char tag = line.Type switch { ChangeType.Inserted => '+', ChangeType.Deleted => '-', _ => ' ' };
            sb.Append(tag).Append(' ').Append(line.Text).Append('\n');
        }
        return sb.ToString();
    }

    private static bool IsTrue(string? value) =>
        string.Equals(value, "true", StringComparison.OrdinalIgnoreCase) || value == "1";

    private static string Normalize(string text)
    {
        string s = text.Replace("\r\n", "\n", StringComparison.Ordinal);
        return s.EndsWith('\n') ? s : s + "\n";
    }

    private static void DeleteIfExists(string path)
    {
        if (File.Exists(path)) File.Delete(path);
    }
}
