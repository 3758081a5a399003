using System.CommandLine;
using System.Globalization;
using SockOps.Emit;
using SockOps.Emit.Assembler;
using SockOps.Emit.Lint;

namespace SockOps.Cli;

internal static partial class Commands
{
    private static Command Lint(CliConsole console)
    {
        var file = FileArgument("Assembly text ('-' reads stdin); with --syntax conformance also a suite .data file.");
        var syntax = new Option<string>("--syntax") { Description = "Input dialect.", DefaultValueFactory = _ => "llvm" };
        syntax.AcceptOnlyFromAmong("llvm", "conformance");
        var command = new Command("lint", "Check a raw instruction stream for what the verifier refuses regardless of types: uninitialized registers, r10 writes, bad jumps, falling off the end, invalid shifts.") { file, syntax };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(file)!;
            bool conformance = parse.GetValue(syntax) == "conformance";
            TextAssemblyResult program = AssembleInput(console, path, conformance);
            // Conformance programs run as a callee with r1-r5 set up by the runner, and are not sock_ops.
            var options = conformance
                ? new LintOptions { ProgramType = LintProgramType.Generic, EntryRegisters = LintOptions.CalleeEntryRegisters }
                : LintOptions.Default;
            IReadOnlyList<LintFinding> findings = InstructionLinter.Lint(program.Instructions, options);
            string name = path == "-" ? "<stdin>" : path;
            foreach (LintFinding finding in findings)
            {
                int index = finding.InstructionIndex;
                string line = index < program.SourceLines.Count ? $":{program.SourceLines[index]}" : "";
                console.Out.WriteLine($"{name}{line}: insn {index}: {finding.Rule}: {finding.Message}");
            }
            return findings.Count == 0 ? 0 : 1;
        });
        return command;
    }

    private static Command Ctx(CliConsole console)
    {
        var format = new Option<string>("--format") { Description = "table (aligned columns) or tsv: name, offset, size, access, byte order, minimum kernel.", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "tsv");
        var command = new Command("ctx", "Print the layout of struct bpf_sock_ops as the verifier enforces it.") { format };
        command.SetAction(parse =>
        {
            var rows = SockOpsContext.Fields.Select(f => new[]
            {
                f.Name,
                f.Offset.ToString(CultureInfo.InvariantCulture),
                f.Size.ToString(CultureInfo.InvariantCulture),
                f.IsWritable ? "rw" : "r",
                f.ByteOrder == FieldByteOrder.Host ? "host" : "network",
                f.MinimumKernel.ToString(),
            }).ToList();
            if (parse.GetValue(format) == "tsv")
            {
                foreach (string[] row in rows) console.Out.WriteLine(string.Join('\t', row));
                return 0;
            }
            string[] header = ["name", "offset", "size", "access", "byte order", "min kernel"];
            int[] widths = [.. header.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length)))];
            console.Out.WriteLine(string.Join("  ", header.Select((h, i) => h.PadRight(widths[i]))).TrimEnd());
            foreach (string[] row in rows)
                console.Out.WriteLine(string.Join("  ", row.Select((c, i) => i is 1 or 2 ? c.PadLeft(widths[i]) : c.PadRight(widths[i]))).TrimEnd());
            return 0;
        });
        return command;
    }
}
