using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using SockOps.Emit.TestSupport;

namespace SockOps.Cli.Tests;

/// <summary>
/// A BPF object file wherever a verb takes a program name: clang's objects (compiled by
/// scripts/elf-oracle/build-clang-objects.sh) and the CLI's own <c>dump --format elf</c> output, judged by the kernel
/// (verify, exec with a real connection) and by llvm-objdump (disasm).
/// </summary>
public sealed class ObjectFileCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sockops-cli-elf-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string ClangObject(string name) => Path.Combine(AppContext.BaseDirectory, "objects", name + ".o");

    [Fact]
    public void Verify_of_clang_objects_prints_one_verdict_per_program()
    {
        KernelGate.Require();
        var clamp = CliRun.Invoke(["verify", ClangObject("clamp")]);
        Assert.Equal(0, clamp.ExitCode);
        Assert.Matches(new Regex(@"^bpf_clamp: accepted: section sockops, 105 slots, 1 maps, verified_insns \d+, jited \d+ bytes; processed \d+ insns"), clamp.Out);
        var two = CliRun.Invoke(["verify", ClangObject("two_programs")]);
        Assert.Equal(0, two.ExitCode);
        Assert.Equal(["count_all", "count_rtt"], two.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l[..l.IndexOf(':', StringComparison.Ordinal)]));
    }

    [Fact]
    public void Verify_of_a_refused_clang_program_names_the_c_line_and_exits_1()
    {
        KernelGate.Require();
        var run = CliRun.Invoke(["verify", ClangObject("bad_return")]);
        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("bad_return: refused: At program exit the register R0", run.Out, StringComparison.Ordinal);
        Assert.Contains("[line: return skops->op + 2; /* not 0 or 1 */ @ bad_return.c:7]", run.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("core", "CO-RE relocation at sockops+0x0")]
    [InlineData("extern", "'LINUX_KERNEL_VERSION' is an extern other than a kfunc call")]
    [InlineData("legacy_maps", "legacy map definitions")]
    public void Unsupported_objects_are_input_errors_naming_what_is_unsupported(string file, string message)
    {
        foreach (string verb in new[] { "verify", "disasm" })
        {
            var run = CliRun.Invoke([verb, ClangObject(file)]);
            Assert.Equal(1, run.ExitCode);
            Assert.Contains(message, run.Error, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", run.Error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Program_options_with_an_object_file_are_usage_errors()
    {
        var run = CliRun.Invoke(["verify", ClangObject("clamp"), "--target", "6.1"]);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--target applies to shipped programs only", run.Error, StringComparison.Ordinal);
        Assert.Equal(2, CliRun.Invoke(["verify", ClangObject("clamp"), "--set", "port=1"]).ExitCode);
        Assert.Equal(1, CliRun.Invoke(["verify", Path.Combine(_dir, "missing.o")]).ExitCode);
    }

    [Fact]
    public void Disasm_of_an_object_prints_each_program_as_llvm_objdump_decodes_it()
    {
        string path = ClangObject("two_programs");
        var run = CliRun.Invoke(["disasm", path]);
        Assert.Equal(0, run.ExitCode);
        var lines = run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Count(l => l.StartsWith("; ", StringComparison.Ordinal)));
        Assert.StartsWith("; count_all: section sockops, license GPL, 12 slots, maps op_counts", lines[0], StringComparison.Ordinal);
        // llvm-objdump prints one line per instruction (ld_imm64 once): as many as we print.
        string dump = ExternalTool.Check("llvm-objdump", "-d", path);
        int llvmInstructions = Regex.Count(dump, @"^\s*\d+:\t", RegexOptions.Multiline);
        Assert.Equal(llvmInstructions, lines.Count(l => !l.StartsWith("; ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Exec_of_the_clis_own_elf_export_gives_the_command_clamps_buffers()
    {
        KernelGate.Require();
        // A free port for the clamp built into the object (the program matches it on either end).
        int port;
        using (var probe = new TcpListener(IPAddress.IPv6Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        string obj = Path.Combine(_dir, "clamp.o");
        var dump = CliRun.Invoke(["dump", "clamp", "--set", $"port={port}", "--format", "elf", "-o", obj]);
        Assert.Equal(0, dump.ExitCode);
        string script = $"import socket\nl = socket.socket(socket.AF_INET6)\nl.bind(('::1', {port}))\nl.listen(1)\n" +
                        $"c = socket.socket(socket.AF_INET6)\nc.connect(('::1', {port}))\n" +
                        "print(c.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF), c.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))\n";
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { Path.Combine(AppContext.BaseDirectory, "sockops.dll"), "exec", obj, "--", "python3", "-c", script }) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {await stderr}");
        // clamp sets 150000; Linux reports twice what was set.
        Assert.Equal("300000 300000", (await stdout).Trim());
        Assert.Empty(Directory.GetDirectories(Emit.Runtime.Cgroup.FindMountPoint(), $"sockops-exec-{process.Id}-*"));
    }
}
