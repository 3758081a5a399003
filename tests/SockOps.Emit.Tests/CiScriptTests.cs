using System.Text.RegularExpressions;
using SockOps.Emit.TestSupport;

namespace SockOps.Emit.Tests;

/// <summary>
/// .ci/run installs every external program a test starts: a missing one would make a kernel-facing test fail under
/// SOCKOPS_REQUIRE_KERNEL=1 on a fresh machine (or, before KernelGate.RequireTool, skip silently).
/// </summary>
public partial class CiScriptTests
{
    // Process.Start("kill", …), new ProcessStartInfo("python3", …), Exec("mount", …), KernelGate.RequireTool("bpftool", …),
    // and absolute program paths such as "/bin/bash".
    [GeneratedRegex(@"(?:ProcessStartInfo|Process\.Start|Exec|RequireTool|ExternalTool\.(?:Check|Run|Require))\(""([a-z0-9._-]+)""|""/(?:usr/)?s?bin/([a-z0-9._-]+)""")]
    private static partial Regex StartedProgram();

    [GeneratedRegex(@"^oracle_tools=\(([^)]*)\)", RegexOptions.Multiline)]
    private static partial Regex OracleToolsLine();

    [Fact]
    public void Every_program_the_tests_start_is_installed_by_the_ci_script()
    {
        string root = SharedData.RepositoryRoot();
        // dotnet runs the tests themselves; the gate's own tests name a tool that must not exist and the always-present sh.
        string[] notTools = ["dotnet", "sockops-no-such-tool", "sh"];
        var started = Directory.EnumerateFiles(Path.Combine(root, "tests"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/bin/", StringComparison.Ordinal) && !f.Contains("/obj/", StringComparison.Ordinal))
            .SelectMany(f => StartedProgram().Matches(File.ReadAllText(f)).Select(m => (File: Path.GetFileName(f), Name: m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value)))
            .Where(s => !notTools.Contains(s.Name))
            .ToList();
        Assert.Contains(started, s => s.Name == "bpftool");
        Assert.Contains(started, s => s.Name == "python3");

        var ci = OracleToolsLine().Match(File.ReadAllText(Path.Combine(root, ".ci", "run")));
        Assert.True(ci.Success, ".ci/run has no oracle_tools=(...) line");
        var installed = ci.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(e => e.Split(':')[0]).ToHashSet(StringComparer.Ordinal);
        var missing = started.Where(s => !installed.Contains(s.Name)).Select(s => $"{s.Name} ({s.File})").Distinct().ToList();
        Assert.True(missing.Count == 0, ".ci/run does not install: " + string.Join(", ", missing));
    }
}
