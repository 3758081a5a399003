using System.CommandLine;
using SockOps.Emit.Assembler;

namespace SockOps.Cli;

internal static partial class Commands
{
    private static Command Asm(CliConsole console)
    {
        var file = FileArgument("Assembly text; '-' reads stdin. With --syntax conformance also a conformance-suite .data file (its '-- asm' section).");
        var syntax = new Option<string>("--syntax") { Description = "Input dialect.", DefaultValueFactory = _ => "llvm" };
        syntax.AcceptOnlyFromAmong("llvm", "conformance");
        var output = new Option<string?>("--output", "-o") { Description = "Write the raw little-endian bytes to this file." };
        var hex = new Option<bool>("--hex") { Description = "Print one line per instruction: its bytes as lowercase hex (16 bytes for ld_imm64)." };
        var command = new Command("asm", "Assemble BPF text into instruction bytes.") { file, syntax, output, hex };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(file)!;
            string? outPath = parse.GetValue(output);
            bool asHex = parse.GetValue(hex);
            if (asHex && outPath is not null) throw new CliUsageException("--hex prints to stdout; it cannot be combined with -o.");

            TextAssemblyResult result = AssembleInput(console, path, parse.GetValue(syntax) == "conformance");
            if (asHex)
            {
                Span<byte> buffer = stackalloc byte[16];
                foreach (Instruction insn in result.Instructions)
                {
                    int n = insn.WriteTo(buffer);
                    console.Out.WriteLine(CliIo.Hex(buffer[..n]));
                }
                return 0;
            }
            byte[] bytes = result.ToBytes();
            if (outPath is null)
            {
                using Stream stdout = console.OpenOutput();
                stdout.Write(bytes);
            }
            else
            {
                File.WriteAllBytes(outPath, bytes);
            }
            return 0;
        });
        return command;
    }

    private static TextAssemblyResult AssembleInput(CliConsole console, string path, bool conformance)
    {
        string text = CliIo.ReadText(console, path);
        if (!conformance) return WithFileName(path, () => TextAssembler.Assemble(text, AsmDialect.Llvm));
        // A suite .data file has sections; plain dialect text has none.
        bool isDataFile = text.Split('\n').Any(l => l.TrimStart().StartsWith("-- ", StringComparison.Ordinal));
        return isDataFile
            ? WithFileName(path, () => ConformanceDataFile.Parse(text, path == "-" ? null : Path.GetFileName(path)).AssembleProgram())
            : WithFileName(path, () => TextAssembler.Assemble(text, AsmDialect.Conformance));
    }

    private static TextAssemblyResult WithFileName(string path, Func<TextAssemblyResult> assemble)
    {
        try
        {
            return assemble();
        }
        catch (AsmSyntaxException e)
        {
            // "FILE:line:col: message", the shape compilers use, so editors can jump to it.
            string name = path == "-" ? "<stdin>" : path;
            throw new InvalidDataException(string.Join(Environment.NewLine, e.Diagnostics.Select(d => $"{name}:{d}")), e);
        }
    }

    private static Command Disasm(CliConsole console)
    {
        var file = FileArgument("Raw little-endian instruction bytes ('-' reads stdin), or a BPF object file (FILE.o): each program.");
        var syntax = new Option<string>("--syntax") { Description = "Output syntax: llvm (as llvm-objdump -d prints) or kernel (as bpftool and verifier logs print).", DefaultValueFactory = _ => "llvm" };
        syntax.AcceptOnlyFromAmong("llvm", "kernel");
        var addresses = new Option<bool>("--addresses") { Description = "Prefix each line with its slot number." };
        var command = new Command("disasm", "Disassemble BPF instruction bytes.") { file, syntax, addresses };
        command.SetAction(parse =>
        {
            var style = parse.GetValue(syntax) == "kernel" ? DisassemblySyntax.Kernel : DisassemblySyntax.Llvm;
            if (parse.GetValue(file) is { } path && path != "-" && ObjectFiles.IsObjectFile(path))
            {
                ObjectFiles.Disassemble(console, path, style, parse.GetValue(addresses));
                return 0;
            }
            byte[] bytes = CliIo.ReadBytes(console, parse.GetValue(file)!);
            Instruction[] program = InstructionDecoder.Decode(bytes);
            Disassembler.WriteProgram(program, console.Out, style, parse.GetValue(addresses));
            return 0;
        });
        return command;
    }
}
