using System.Buffers;
using System.Globalization;
using System.Text;

namespace SockOps.Emit.Assembler;

/// <summary>
/// Turns instructions into text in the llvm-objdump syntax or the kernel's verifier-log syntax
/// (<see cref="DisassemblySyntax"/>). Formatting one instruction allocates nothing but the
/// returned string (the <see cref="StringBuilder"/>, <see cref="IBufferWriter{T}"/> and span
/// overloads allocate nothing).
/// </summary>
public static partial class Disassembler
{
    /// <summary>An upper bound on the length of one instruction's text in either syntax.</summary>
    public const int MaxInstructionLength = 96;

    /// <summary>What <c>llvm-objdump</c> prints for bytes it cannot decode.</summary>
    public const string LlvmUnknown = "<unknown>";

    /// <summary>Formats one instruction.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="syntax"/> is not a defined value.</exception>
    public static string Format(in Instruction instruction, DisassemblySyntax syntax = DisassemblySyntax.Llvm)
    {
        Span<char> buffer = stackalloc char[MaxInstructionLength];
        int length = FormatCore(instruction, syntax, buffer);
        return new string(buffer[..length]);
    }

    /// <summary>Appends one instruction's text to <paramref name="output"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="syntax"/> is not a defined value.</exception>
    public static void Format(in Instruction instruction, DisassemblySyntax syntax, StringBuilder output)
    {
        ArgumentNullException.ThrowIfNull(output);
        Span<char> buffer = stackalloc char[MaxInstructionLength];
        int length = FormatCore(instruction, syntax, buffer);
        output.Append(buffer[..length]);
    }

    /// <summary>Writes one instruction's text to <paramref name="output"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="syntax"/> is not a defined value.</exception>
    public static void Format(in Instruction instruction, DisassemblySyntax syntax, IBufferWriter<char> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        Span<char> destination = output.GetSpan(MaxInstructionLength);
        int length = FormatCore(instruction, syntax, destination);
        output.Advance(length);
    }

    /// <summary>Formats one instruction into <paramref name="destination"/>.</summary>
    /// <returns>False when <paramref name="destination"/> is shorter than the text (then nothing is written).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="syntax"/> is not a defined value.</exception>
    public static bool TryFormat(in Instruction instruction, DisassemblySyntax syntax, Span<char> destination, out int charsWritten)
    {
        if (destination.Length >= MaxInstructionLength)
        {
            charsWritten = FormatCore(instruction, syntax, destination);
            return true;
        }
        Span<char> buffer = stackalloc char[MaxInstructionLength];
        int length = FormatCore(instruction, syntax, buffer);
        if (length > destination.Length)
        {
            charsWritten = 0;
            return false;
        }
        buffer[..length].CopyTo(destination);
        charsWritten = length;
        return true;
    }

    /// <summary>
    /// Formats a whole program, one line per instruction. With <paramref name="includeAddresses"/>
    /// each line starts with the instruction's slot number (an <c>ld_imm64</c> takes two slots) the
    /// way the syntax's own tool prints it: <c>"       3:\t"</c> like <c>llvm-objdump --no-show-raw-insn</c>,
    /// <c>"   3: "</c> like <c>bpftool prog dump xlated</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="syntax"/> is not a defined value.</exception>
    public static IReadOnlyList<string> FormatProgram(IReadOnlyList<Instruction> program, DisassemblySyntax syntax = DisassemblySyntax.Llvm, bool includeAddresses = false)
    {
        ArgumentNullException.ThrowIfNull(program);
        var lines = new string[program.Count];
        Span<char> buffer = stackalloc char[MaxInstructionLength + 16];
        int slot = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            Instruction instruction = program[i];
            int prefix = includeAddresses ? WriteAddress(slot, syntax, buffer) : 0;
            int length = FormatCore(instruction, syntax, buffer[prefix..]);
            lines[i] = new string(buffer[..(prefix + length)]);
            slot += instruction.Slots;
        }
        return lines;
    }

    /// <summary>Writes <see cref="FormatProgram"/>'s lines to <paramref name="output"/>, each ended by '\n'.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="syntax"/> is not a defined value.</exception>
    public static void WriteProgram(IReadOnlyList<Instruction> program, TextWriter output, DisassemblySyntax syntax = DisassemblySyntax.Llvm, bool includeAddresses = false)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(output);
        Span<char> buffer = stackalloc char[MaxInstructionLength + 17];
        int slot = 0;
        for (int i = 0; i < program.Count; i++)
        {
            Instruction instruction = program[i];
            int prefix = includeAddresses ? WriteAddress(slot, syntax, buffer) : 0;
            int length = prefix + FormatCore(instruction, syntax, buffer[prefix..]);
            buffer[length++] = '\n';
            output.Write(buffer[..length]);
            slot += instruction.Slots;
        }
    }

    private static int WriteAddress(int slot, DisassemblySyntax syntax, Span<char> buffer)
    {
        // llvm-objdump: "%8d:\t"; bpftool: "% 4d: ".
        bool llvm = syntax == DisassemblySyntax.Llvm;
        int width = llvm ? 8 : 4;
        slot.TryFormat(buffer, out int digits, default, CultureInfo.InvariantCulture);
        int pad = Math.Max(0, width - digits);
        if (pad > 0)
        {
            buffer[..digits].CopyTo(buffer[pad..]);
            buffer[..pad].Fill(' ');
        }
        int length = pad + digits;
        buffer[length++] = ':';
        buffer[length++] = llvm ? '\t' : ' ';
        return length;
    }

    private static int FormatCore(in Instruction instruction, DisassemblySyntax syntax, Span<char> destination)
    {
        var writer = new DisassemblerTextWriter(destination);
        switch (syntax)
        {
            case DisassemblySyntax.Llvm:
                FormatLlvm(instruction, ref writer);
                break;
            case DisassemblySyntax.Kernel:
                FormatKernel(instruction, ref writer);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(syntax), syntax, "Unknown disassembly syntax.");
        }
        return writer.Length;
    }
}
