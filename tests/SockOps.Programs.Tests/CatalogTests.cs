namespace SockOps.Programs.Tests;

public class CatalogTests
{
    [Fact]
    public void Names_are_the_cli_contract()
    {
        Assert.Equal(
            ["clamp", "dump-stats", "sockmap-adder", "syn-rto", "bufs", "rwnd", "iw", "cong", "base-rtt", "tos-reflect", "header-option", "rtt-metrics", "tx-timestamps"],
            ProgramCatalog.All.Select(e => e.Name));
        Assert.All(ProgramCatalog.All, e => Assert.False(string.IsNullOrWhiteSpace(e.Summary)));
    }

    [Fact]
    public void Parameters_are_kebab_case_with_the_seed_defaults()
    {
        var clamp = ProgramCatalog.Get("clamp").Parameters.ToDictionary(p => p.Name, p => p.Default);
        Assert.Equal("55601", clamp["port"]);
        Assert.Equal("150000", clamp["buffer-size"]);
        Assert.Equal("10", clamp["syn-rto"]);
        Assert.Equal("100", clamp["cwnd-clamp"]);
        Assert.Equal("1000000000", ProgramCatalog.Get("dump-stats").Parameters.Single(p => p.Name == "interval-ns").Default);
        Assert.Equal("dctcp", ProgramCatalog.Get("cong").Parameters.Single(p => p.Name == "algorithm").Default);
    }

    [Fact]
    public void Settings_change_the_program()
    {
        var entry = ProgramCatalog.Get("clamp");
        var a = entry.Build();
        var b = entry.Build(CatalogEntry.ParseSettings(["buffer-size=0x20000", "port=8080"]));
        Assert.NotEqual(ProgramText.Hex(a), ProgramText.Hex(b));
        Assert.Contains(ProgramText.Instructions(b), l => l.Contains("131072", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("clamp", "nonsense=1", "clamp: unknown parameter 'nonsense' (parameters: port, buffer-size, syn-rto, cwnd-clamp, printk).")]
    [InlineData("clamp", "port=abc", "clamp: port must be an integer in 1..65535, got 'abc'.")]
    [InlineData("clamp", "printk=maybe", "clamp: printk must be true or false, got 'maybe'.")]
    [InlineData("header-option", "magic=70000", "header-option: magic must be an integer in 0..65535, got '70000'.")]
    [InlineData("syn-rto", "counters=maybe", "syn-rto: counters must be true or false, got 'maybe'.")]
    [InlineData("rwnd", "counter=false", "rwnd: unknown parameter 'counter' (parameters: port, initial-window, counters).")]
    [InlineData("tos-reflect", "x=1", "tos-reflect: unknown parameter 'x' (it has no parameters).")]
    [InlineData("cong", "algorithm=averyveryverylongname", "cong: algorithm must be 1..15 ASCII characters, got 'averyveryverylongname'.")]
    public void Bad_settings_have_precise_messages(string name, string setting, string message)
    {
        var e = Assert.Throws<ProgramParameterException>(() => ProgramCatalog.Get(name).Build(CatalogEntry.ParseSettings([setting])));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Malformed_set_and_unknown_program()
    {
        Assert.Equal("--set 'port': expected key=value.", Assert.Throws<ProgramParameterException>(() => CatalogEntry.ParseSettings(["port"])).Message);
        Assert.StartsWith("unknown program 'nope'; programs: clamp, dump-stats,", Assert.Throws<ProgramParameterException>(() => ProgramCatalog.Get("nope")).Message, StringComparison.Ordinal);
    }
}
