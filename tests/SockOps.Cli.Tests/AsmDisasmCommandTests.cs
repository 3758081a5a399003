namespace SockOps.Cli.Tests;

/// <summary>The asm/disasm contract of issue 2, checked against llvm-mc/llvm-objdump golden data.</summary>
public sealed class AsmDisasmCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sockops-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Rows llvm-mc assembled (source column not '-'): source text, bytes, objdump's text.</summary>
    private static IEnumerable<(string Source, string Hex, string ObjdumpText)> LlvmGolden()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "golden", "llvm14.tsv");
        foreach (string line in File.ReadLines(path))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            string[] cols = line.Split('\t');
            // Columns: source, hex, llvm14, ...; raw rows (source '-') are forms llvm-mc 14 cannot assemble.
            if (cols[0] == "-") continue;
            yield return (cols[0].Replace("\\t", "\t", StringComparison.Ordinal), cols[1], cols[2].Replace("\\t", "\t", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Asm_hex_prints_each_instruction_as_llvm_mc_encodes_it()
    {
        var rows = LlvmGolden().Where(r => !r.Source.Contains("goto", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(rows);
        string text = string.Join("\n", rows.Select(r => r.Source));
        var run = CliRun.Invoke(["asm", "-", "--hex"], text);
        Assert.True(run.ExitCode == 0, run.Error);
        string[] lines = run.Out.TrimEnd('\n').Split('\n');
        Assert.Equal(rows.Count, lines.Length);
        for (int i = 0; i < rows.Count; i++)
        {
            string expected = string.Join(' ', Enumerable.Range(0, rows[i].Hex.Length / 2).Select(b => rows[i].Hex.Substring(b * 2, 2)));
            Assert.Equal(expected, lines[i]);
        }
    }

    [Fact]
    public void Disasm_prints_exactly_what_llvm_objdump_prints()
    {
        // LLVM 14's objdump (default cpu) prints some v3 atomics as <unknown>; the disassembler prints them properly.
        var rows = LlvmGolden().Where(r => r.ObjdumpText != "<unknown>").ToList();
        string bin = Path.Combine(_dir, "golden.bin");
        // Each row decodes on its own; concatenating them keeps every jump offset printable as-is.
        File.WriteAllBytes(bin, rows.SelectMany(r => Convert.FromHexString(r.Hex)).ToArray());
        var run = CliRun.Invoke(["disasm", bin]);
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Equal(rows.Select(r => r.ObjdumpText), run.Out.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void Shipped_example_round_trips_through_bytes_and_back()
    {
        string example = Path.Combine(AppContext.BaseDirectory, "examples", "op-counter.s");
        string bin = Path.Combine(_dir, "op-counter.bin");
        Assert.Equal(0, CliRun.Invoke(["asm", example, "-o", bin]).ExitCode);
        var first = CliRun.Invoke(["disasm", bin]);
        Assert.Equal(0, first.ExitCode);
        // Disassembled text assembles to the same bytes (labels became numeric offsets).
        var again = CliRun.Invoke(["asm", "-", "-o", Path.Combine(_dir, "again.bin")], first.Out);
        Assert.Equal(0, again.ExitCode);
        Assert.Equal(File.ReadAllBytes(bin), File.ReadAllBytes(Path.Combine(_dir, "again.bin")));
        Assert.Contains("lock *(u64 *)(r0 + 0) += r1", first.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Asm_without_output_writes_raw_bytes_to_stdout()
    {
        var run = CliRun.Invoke(["asm", "-"], "r0 = 1\nexit\n");
        Assert.Equal(0, run.ExitCode);
        Assert.Equal(Convert.FromHexString("b70000000100000095000000000000000"[..32]), run.OutBytes);
    }

    [Fact]
    public void Disasm_kernel_syntax_with_addresses_reads_stdin()
    {
        var run = CliRun.Invoke(["disasm", "-", "--syntax", "kernel", "--addresses"], stdinBytes: Convert.FromHexString("61610000000000009500000000000000"));
        Assert.Equal(0, run.ExitCode);
        Assert.Equal("   0: (61) r1 = *(u32 *)(r6 +0)\n   1: (95) exit\n", run.Out);
    }

    [Fact]
    public void Conformance_data_file_assembles_its_asm_section()
    {
        var run = CliRun.Invoke(["asm", "--syntax", "conformance", "-", "--hex"], "-- asm\nmov32 %r0, 0\nexit\n-- result\n0x0\n");
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Equal("b4 00 00 00 00 00 00 00\n95 00 00 00 00 00 00 00\n", run.Out);
    }

    [Fact]
    public void Malformed_text_names_line_and_column_and_exits_1_without_a_stack_trace()
    {
        var run = CliRun.Invoke(["asm", "-", "--hex"], "r0 = 1\n  r11 = 2\n");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("<stdin>:2:3", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_bytes_name_the_instruction_and_exit_1()
    {
        var run = CliRun.Invoke(["disasm", "-"], stdinBytes: Convert.FromHexString("18000000f0debc9a"));
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("Instruction 0", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Usage_errors_exit_2()
    {
        Assert.Equal(2, CliRun.Invoke(["asm", "-", "--hex", "-o", "x.bin"], "exit\n").ExitCode);
        Assert.Equal(2, CliRun.Invoke(["disasm", "-", "--syntax", "intel"]).ExitCode);
        Assert.Equal(2, CliRun.Invoke(["asm"]).ExitCode);
        Assert.Equal(2, CliRun.Invoke(["asm", "--bogus"]).ExitCode);
    }
}
