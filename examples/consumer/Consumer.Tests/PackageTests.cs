using System.IO.Compression;
using System.Xml.Linq;

namespace Consumer.Tests;

/// <summary>The packages in the folder feed this project restored from (scripts/consumer/run.sh sets SOCKOPS_FEED).</summary>
public sealed class PackageTests
{
    private static readonly string[] Expected =
        ["SockOps.Emit.Assembler", "SockOps.Emit.Runtime", "SockOps.Emit", "SockOps.Programs", "SockOps.Emit.Hosting", "SockOps.Emit.Testing", "SockOps.Cli"];

    [Fact]
    public void Every_package_has_license_readme_repository_symbols_and_one_version()
    {
        string feed = Environment.GetEnvironmentVariable("SOCKOPS_FEED")
            ?? throw new InvalidOperationException("SOCKOPS_FEED is not set: run this through scripts/consumer/run.sh");
        var versions = new HashSet<string>();
        foreach (string id in Expected)
        {
            string nupkg = Assert.Single(Directory.GetFiles(feed, id + ".*.nupkg"), f => IsPackage(f, id));
            using var zip = ZipFile.OpenRead(nupkg);
            var nuspecEntry = Assert.Single(zip.Entries, e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
            XElement metadata;
            using (var stream = nuspecEntry.Open()) metadata = XDocument.Load(stream).Root!.Elements().First(e => e.Name.LocalName == "metadata");
            string Get(string name) => metadata.Elements().FirstOrDefault(e => e.Name.LocalName == name)?.Value ?? "";
            var repository = metadata.Elements().Single(e => e.Name.LocalName == "repository");

            Assert.Equal(id, Get("id"));
            versions.Add(Get("version"));
            Assert.Equal("MIT", Get("license"));
            Assert.Equal("README.md", Get("readme"));
            Assert.NotNull(zip.GetEntry("README.md"));
            Assert.False(string.IsNullOrWhiteSpace(Get("description")), id + " has no description");
            Assert.Contains("sock_ops", Get("tags"), StringComparison.Ordinal);
            Assert.Equal("https://github.com/sockops-emit/sockops-emit", repository.Attribute("url")?.Value);
            Assert.Matches("^[0-9a-f]{40}$", repository.Attribute("commit")?.Value ?? "");
            Assert.True(File.Exists(Path.ChangeExtension(nupkg, ".snupkg")), id + " has no symbol package");
        }
        Assert.Single(versions);
    }

    private static bool IsPackage(string path, string id)
    {
        // SockOps.Emit.*.nupkg also matches SockOps.Emit.Runtime.0.1.0.nupkg: the rest must be the version.
        string rest = Path.GetFileNameWithoutExtension(path)[(id.Length + 1)..];
        return rest.Length > 0 && char.IsAsciiDigit(rest[0]);
    }
}
