using System.Diagnostics;
using System.Globalization;
using SockOps.Emit;
using SockOps.Emit.TestSupport;

namespace SockOps.Programs.Tests;

/// <summary>
/// bpf_printk with its format strings in the program's frozen <c>.rodata</c> map: a sock_ops program on real
/// loopback traffic writes the expected lines into the kernel's trace buffer (read through tracefs).
/// </summary>
[Collection(nameof(KernelCollection))]
public class PrintkTraceTests
{
    [Fact]
    public void Printk_prints_the_rodata_format_strings_with_their_arguments()
    {
        KernelGate.Require();
        // A fresh marker per run: the trace buffer is global and keeps older lines.
        string marker = "rodata" + Guid.NewGuid().ToString("N")[..12];
        var image = SockOpsProgram.Build("printk_trace", b =>
        {
            b.If(b.Context.Op == SockOp.PassiveEstablishedCb, () =>
            {
                b.Printk(marker + " passive local_port=%u\n", b.Context.LocalPort);
                b.Printk(marker + " second string op=%u\n", b.Context.Op);
            });
            b.If(b.Context.Op == SockOp.ActiveEstablishedCb, () => b.Printk(marker + " passive local_port=%u\n", b.Context.LocalPort));
            b.Return(1);
        });
        var rodata = Assert.Single(image.Maps, m => m.Name == MapDeclaration.ReadOnlyDataName);
        // The first string is stored once although two calls print it.
        Assert.Equal(2, rodata.InitialValue.ToArray().Count(b => b == 0));
        Assert.Equal(0, image.StackSize);

        using var tracefs = TraceFs.Open();
        using var run = new Attached(image);
        var connection = run.Run("--family 4").Single();
        int server = connection.Server.LocalPort, client = connection.Client.LocalPort;
        string[] expected =
        [
            $"{marker} passive local_port={server.ToString(CultureInfo.InvariantCulture)}",
            $"{marker} second string op={((int)SockOp.PassiveEstablishedCb).ToString(CultureInfo.InvariantCulture)}",
            $"{marker} passive local_port={client.ToString(CultureInfo.InvariantCulture)}",
        ];
        string[] lines = [];
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            lines = tracefs.LinesContaining(marker);
            if (expected.All(e => lines.Any(l => l.EndsWith(e, StringComparison.Ordinal)))) break;
            Thread.Sleep(50);
        }
        foreach (var e in expected)
            Assert.True(lines.Any(l => l.EndsWith(e, StringComparison.Ordinal)), $"no trace line ending with '{e}' in:\n{string.Join('\n', lines)}");
        Assert.Equal(3, lines.Length);
    }

    /// <summary>The tracefs mount (mounted on a temporary directory when the system has none; unmounted on dispose).</summary>
    private sealed class TraceFs : IDisposable
    {
        private readonly string _root;
        private readonly bool _mountedByUs;
        private readonly bool _turnedOn;

        private TraceFs(string root, bool mountedByUs)
        {
            _root = root;
            _mountedByUs = mountedByUs;
            // The trace buffer only records while tracing_on is 1; switch it on for the test and back off after.
            string tracingOn = Path.Combine(root, "tracing_on");
            if (File.ReadAllText(tracingOn).Trim() == "0")
            {
                File.WriteAllText(tracingOn, "1");
                _turnedOn = true;
            }
        }

        public static TraceFs Open()
        {
            foreach (string line in File.ReadLines("/proc/self/mountinfo"))
            {
                // mountinfo: ... mount-point ... - fstype source options
                string[] fields = line.Split(' ');
                int dash = Array.IndexOf(fields, "-");
                if (dash > 0 && dash + 1 < fields.Length && fields[dash + 1] == "tracefs" && File.Exists(Path.Combine(fields[4], "trace")))
                    return new TraceFs(fields[4], false);
            }
            string dir = Directory.CreateTempSubdirectory("sockops-tracefs").FullName;
            if (Exec("mount", $"-t tracefs nodev {dir}") is string error)
            {
                Directory.Delete(dir);
                KernelGate.Skip($"tracefs is not mounted and mounting it failed: {error}");
            }
            try
            {
                return new TraceFs(dir, true);
            }
            catch
            {
                if (Exec("umount", dir) is null) Directory.Delete(dir);
                throw;
            }
        }

        public string[] LinesContaining(string marker) =>
            [.. File.ReadLines(Path.Combine(_root, "trace")).Where(l => l.Contains(marker, StringComparison.Ordinal))];

        public void Dispose()
        {
            if (_turnedOn) File.WriteAllText(Path.Combine(_root, "tracing_on"), "0");
            if (!_mountedByUs) return;
            if (Exec("umount", _root) is null) Directory.Delete(_root);
        }

        /// <summary>Runs a command; null on success, else its error output.</summary>
        private static string? Exec(string command, string arguments)
        {
            using var process = Process.Start(new ProcessStartInfo(command, arguments) { RedirectStandardError = true, UseShellExecute = false })
                ?? throw new InvalidOperationException($"could not start {command}");
            string error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0 ? null : $"{command} exited with {process.ExitCode.ToString(CultureInfo.InvariantCulture)}: {error}";
        }
    }
}
