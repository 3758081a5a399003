namespace SockOps.Cli.Tests;

/// <summary>The sockops executable is a host, not a library: nothing in it is public API.</summary>
public sealed class ApiSurfaceTests
{
    [Fact]
    public void The_cli_assembly_exports_no_types()
    {
        Assert.Empty(typeof(CliApp).Assembly.GetExportedTypes().Select(t => t.FullName));
    }
}
