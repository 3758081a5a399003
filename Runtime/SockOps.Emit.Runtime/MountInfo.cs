namespace SockOps.Emit.Runtime;

/// <summary>One line of /proc/self/mountinfo.</summary>
internal readonly record struct MountInfo(string MountPoint, string FileSystemType, string Root)
{
    public static IEnumerable<MountInfo> Read(string path = "/proc/self/mountinfo")
    {
        foreach (string line in File.ReadLines(path))
        {
            // "36 35 98:0 /root /mnt rw,noatime master:1 - ext3 /dev/root rw" — optional fields end at " - ".
            int separator = line.IndexOf(" - ", StringComparison.Ordinal);
            if (separator < 0) continue;
            string[] left = line[..separator].Split(' ');
            string[] right = line[(separator + 3)..].Split(' ');
            if (left.Length < 5 || right.Length < 1) continue;
            yield return new MountInfo(Unescape(left[4]), right[0], Unescape(left[3]));
        }
    }

    /// <summary>mountinfo escapes space, tab, newline and backslash as \ooo octal.</summary>
    private static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal)) return field;
        var builder = new System.Text.StringBuilder(field.Length);
        for (int i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && IsOctal(field, i + 1))
            {
                builder.Append((char)Convert.ToInt32(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else builder.Append(field[i]);
        }
        return builder.ToString();
    }

    private static bool IsOctal(string s, int at) =>
        at + 3 <= s.Length && s[at] is >= '0' and <= '7' && s[at + 1] is >= '0' and <= '7' && s[at + 2] is >= '0' and <= '7';
}
