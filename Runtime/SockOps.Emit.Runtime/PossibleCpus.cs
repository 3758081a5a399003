using System.Globalization;

namespace SockOps.Emit.Runtime;

/// <summary>The number of possible CPUs (/sys/devices/system/cpu/possible), which sizes per-CPU map values.</summary>
internal static class PossibleCpus
{
    private static readonly Lazy<int> Value = new(() => Parse(File.ReadAllText("/sys/devices/system/cpu/possible")));

    public static int Count => Value.Value;

    /// <summary>Parses a CPU list like "0-3,5,7-8" into the highest index + 1.</summary>
    internal static int Parse(string list)
    {
        int max = -1;
        foreach (string part in list.Trim().Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            int dash = part.IndexOf('-', StringComparison.Ordinal);
            int last = int.Parse(dash < 0 ? part : part[(dash + 1)..], CultureInfo.InvariantCulture);
            max = Math.Max(max, last);
        }
        return max + 1;
    }
}
