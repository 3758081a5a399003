using System.Text;

namespace SockOps.Cli;

/// <summary>Input and output plumbing shared by the verbs: '-' means stdin/stdout.</summary>
internal static class CliIo
{
    public static string ReadText(CliConsole console, string path) =>
        path == "-" ? console.In.ReadToEnd() : File.ReadAllText(RequireFile(path));

    public static byte[] ReadBytes(CliConsole console, string path)
    {
        if (path != "-") return File.ReadAllBytes(RequireFile(path));
        using var stdin = console.OpenInput();
        using var buffer = new MemoryStream();
        stdin.CopyTo(buffer);
        return buffer.ToArray();
    }

    private static string RequireFile(string path) =>
        File.Exists(path) ? path : throw new FileNotFoundException($"{path}: no such file");

    /// <summary>Lowercase two-digit hex bytes separated by single spaces.</summary>
    public static string Hex(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder(bytes.Length * 3);
        for (int i = 0; i < bytes.Length; i++)
        {
            if (i > 0) sb.Append(' ');
            sb.Append(bytes[i].ToString("x2"));
        }
        return sb.ToString();
    }
}
