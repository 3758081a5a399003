using SockOps.Emit;
using System.Globalization;
using SockOps.Emit.Runtime;
using SockOps.Emit.TestSupport;

namespace SockOps.Programs.Tests;

/// <summary>
/// Every program option is checked against the values the kernel gives a meaning before anything is built:
/// the last accepted value on each side builds, the first refused one throws a message naming the option and its range.
/// </summary>
public class OptionValidationTests
{
    private static readonly string Page = Environment.SystemPageSize.ToString(CultureInfo.InvariantCulture);
    private static readonly string RingRange = $"a power of two from the page size ({Page}) to 2147483648";

    /// <summary>program, option, smallest accepted, largest accepted, the range as messages print it.</summary>
    public static readonly TheoryData<string, string, string, string, string> Ranges = new()
    {
        { "clamp", "port", "1", "65535", "1..65535" },
        { "clamp", "buffer-size", "1", "2147483647", "1..2147483647" },
        { "clamp", "syn-rto", "1", "2147483647", "1..2147483647" },
        { "clamp", "cwnd-clamp", "1", "2147483647", "1..2147483647" },
        { "dump-stats", "interval-ns", "0", "9223372036854775807", "0..9223372036854775807" },
        { "dump-stats", "ring-buffer-bytes", Page, "2147483648", RingRange },
        { "sockmap-adder", "passive-port", "1", "65535", "1..65535" },
        { "sockmap-adder", "passive-key", "-2147483648", "2147483647", "-2147483648..2147483647" },
        { "sockmap-adder", "active-port", "1", "65535", "1..65535" },
        { "sockmap-adder", "active-key", "-2147483648", "2147483647", "-2147483648..2147483647" },
        { "sockmap-adder", "max-entries", "1", "134217728", "1..134217728" },
        { "syn-rto", "port", "1", "65535", "1..65535" },
        { "syn-rto", "rto-jiffies", "1", "2147483647", "1..2147483647" },
        { "bufs", "port", "1", "65535", "1..65535" },
        { "bufs", "buffer-size", "1", "2147483647", "1..2147483647" },
        { "bufs", "initial-window", "1", "65535", "1..65535" },
        { "rwnd", "port", "1", "65535", "1..65535" },
        { "rwnd", "initial-window", "1", "65535", "1..65535" },
        { "iw", "port", "1", "65535", "1..65535" },
        { "iw", "buffer-size", "1", "2147483647", "1..2147483647" },
        { "iw", "initial-window", "1", "65535", "1..65535" },
        { "iw", "initial-cwnd", "1", "2147483647", "1..2147483647" },
        { "cong", "port", "1", "65535", "1..65535" },
        { "cong", "algorithm", "r", "abcdefghijklmno", "1..15 ASCII characters" },
        { "base-rtt", "base-rtt-us", "1", "2147483647", "1..2147483647" },
        { "base-rtt", "algorithm", "v", "abcdefg", "1..7 ASCII characters" },
        { "header-option", "magic", "0", "65535", "0..65535" },
        { "header-option", "value", "0", "4294967295", "0..4294967295" },
        { "header-option", "max-connections", "1", "134217728", "1..134217728" },
        { "rtt-metrics", "ring-buffer-bytes", Page, "2147483648", RingRange },
        { "tx-timestamps", "ring-buffer-bytes", Page, "2147483648", RingRange },
        { "tx-timestamps", "max-sockets", "1", "134217728", "1..134217728" },
    };

    [Fact]
    public void The_table_covers_every_option_that_is_not_a_switch()
    {
        var covered = Ranges.Select(r => $"{r.Data.Item1} {r.Data.Item2}").ToHashSet();
        var options = ProgramCatalog.All.SelectMany(e => e.Parameters.Where(p => p.Type != typeof(bool)).Select(p => $"{e.Name} {p.Name}")).ToList();
        Assert.Equal(options.Order(StringComparer.Ordinal), covered.Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Ranges))]
    public void Each_boundary_builds_and_one_past_it_is_refused_naming_the_option_and_its_range(string program, string option, string minimum, string maximum, string range)
    {
        var entry = ProgramCatalog.Get(program);
        Assert.Equal(range, entry.Parameters.Single(p => p.Name == option).Range);
        Assert.NotNull(entry.Build(CatalogEntry.ParseSettings([$"{option}={minimum}"]), entry.MinimumKernel));
        Assert.NotNull(entry.Build(CatalogEntry.ParseSettings([$"{option}={maximum}"]), entry.MinimumKernel));
        foreach (string outside in Outside(option, minimum, maximum))
        {
            var e = Assert.Throws<ProgramParameterException>(() => entry.Build(CatalogEntry.ParseSettings([$"{option}={outside}"]), entry.MinimumKernel));
            Assert.True(
                e.Message == $"{program}: {option} must be {range}, got {Quote(option, outside)}." ||
                e.Message == $"{program}: {option} must be an integer in {range}, got '{outside}'.", // beyond what the property's type holds
                e.Message);
        }
    }

    private static string Quote(string option, string value) => option == "algorithm" ? $"'{value}'" : value;

    private static IEnumerable<string> Outside(string option, string minimum, string maximum)
    {
        if (option == "algorithm")
        {
            yield return "";
            yield return maximum + "x";
            yield return "dc tcp"; // not a kernel name (printable ASCII without spaces)
            yield break;
        }
        if (option == "ring-buffer-bytes")
        {
            int page = Environment.SystemPageSize;
            yield return (page / 2).ToString(CultureInfo.InvariantCulture);
            yield return (page * 3).ToString(CultureInfo.InvariantCulture); // a page multiple, not a power of two
            yield return "4294967295";
            yield return "4294967296";
            yield break;
        }
        yield return (decimal.Parse(minimum, CultureInfo.InvariantCulture) - 1).ToString(CultureInfo.InvariantCulture);
        yield return (decimal.Parse(maximum, CultureInfo.InvariantCulture) + 1).ToString(CultureInfo.InvariantCulture);
    }

    [Fact]
    public void The_issue_s_example_reads_as_the_issue_asks()
    {
        var e = Assert.Throws<ProgramParameterException>(() => ProgramCatalog.Get("clamp").Build(CatalogEntry.ParseSettings(["port=70000"])));
        Assert.Equal("clamp: port must be 1..65535, got 70000.", e.Message);
        Assert.Equal("clamp: port must be 1..65535, got -1.",
            Assert.Throws<ProgramParameterException>(() => ProgramCatalog.Get("clamp").Build(CatalogEntry.ParseSettings(["port=-1"]))).Message);
    }

    [Fact]
    public void The_builders_check_their_options_too_not_only_the_catalog()
    {
        var e = Assert.Throws<ArgumentException>(() => Clamp.Build(new Clamp.Options { Port = 0 }));
        Assert.Equal("options", e.ParamName);
        Assert.StartsWith("port must be 1..65535, got 0.", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Rwnd.Build(new Rwnd.Options { InitialWindow = 65536 }));
        Assert.Throws<ArgumentException>(() => TxTimestamps.Build(new TxTimestamps.Options { MaxSockets = 0 }));
    }

    [Theory]
    [InlineData("passive-key=20", "sockmap-adder: passive-key must be 0..19 (a sockmap index below max-entries), got 20.")]
    [InlineData("passive-key=-1", "sockmap-adder: passive-key must be 0..19 (a sockmap index below max-entries), got -1.")]
    [InlineData("active-key=20", "sockmap-adder: active-key must be 0..19 (a sockmap index below max-entries), got 20.")]
    public void A_sockmap_key_is_an_index_below_max_entries(string setting, string message)
    {
        var entry = ProgramCatalog.Get("sockmap-adder");
        var e = Assert.Throws<ProgramParameterException>(() => entry.Build(CatalogEntry.ParseSettings(["sock-map=true", setting]), entry.MinimumKernel));
        Assert.Equal(message, e.Message);
        // The same keys are fine in a sockhash, and the last index is fine in a sockmap.
        Assert.NotNull(entry.Build(CatalogEntry.ParseSettings([setting]), entry.MinimumKernel));
        Assert.NotNull(entry.Build(CatalogEntry.ParseSettings(["sock-map=true", "passive-key=19", "active-key=0"]), entry.MinimumKernel));
    }

    [Fact]
    public void The_kernel_refuses_a_hash_or_sockhash_map_one_entry_past_the_max_entries_bound()
    {
        KernelGate.Require();
        int past = (int)OptionValidation.HashEntriesMax + 1;
        // No preallocation: the bound is checked before any memory is allocated.
        var hash = Assert.ThrowsAny<BpfException>(() => BpfMap<ulong, uint>.Create(MapType.Hash, past, flags: MapFlags.NoPrealloc));
        Assert.Equal("E2BIG", hash.ErrnoName);
        var sockhash = Assert.ThrowsAny<BpfException>(() => BpfMap<int, ulong>.Create(MapType.SockHash, past));
        Assert.Equal("EINVAL", sockhash.ErrnoName);
        using var fine = BpfMap<int, ulong>.Create(MapType.SockHash, 20);
    }
}
