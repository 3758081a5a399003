using System.Globalization;
using System.Text;
using System.Text.Json;
using SockOps.Emit;
using SockOps.Emit.Assembler;

namespace SockOps.Programs;

/// <summary>Text renderings of a program's bytecode (<c>sockops dump</c>, snapshots).</summary>
public static class ProgramText
{
    /// <summary>One line per instruction in LLVM (<c>llvm-objdump</c>) or kernel (<c>bpftool</c>) syntax; map loads name their map.</summary>
    public static IReadOnlyList<string> Instructions(ProgramImage image, DisassemblySyntax syntax = DisassemblySyntax.Llvm)
    {
        ArgumentNullException.ThrowIfNull(image);
        var lines = new string[image.Instructions.Count];
        for (int i = 0; i < lines.Length; i++)
        {
            string text = Disassembler.Format(image.Instructions[i], syntax);
            var map = image.MapReferences.FirstOrDefault(r => r.InstructionIndex == i);
            lines[i] = map.MapName is null ? text : $"{text} ; map {map.MapName}";
        }
        return lines;
    }

    /// <summary>The bytes of each instruction as lowercase hex pairs separated by spaces (16 bytes for ld_imm64).</summary>
    public static IReadOnlyList<string> Hex(ProgramImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var lines = new string[image.Instructions.Count];
        Span<byte> bytes = stackalloc byte[16];
        for (int i = 0; i < lines.Length; i++)
        {
            int n = image.Instructions[i].WriteTo(bytes);
            var sb = new StringBuilder(n * 3);
            for (int k = 0; k < n; k++)
            {
                if (k > 0) sb.Append(' ');
                sb.Append(bytes[k].ToString("x2", CultureInfo.InvariantCulture));
            }
            lines[i] = sb.ToString();
        }
        return lines;
    }

    /// <summary>The snapshot listing: a header (slots, stack, license, maps), then slot, llvm text and hex per instruction.</summary>
    public static string Listing(ProgramImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"; {image.Name}: {image.Slots} slots, {image.StackSize} bytes of stack, license {image.License}\n");
        foreach (var map in image.Maps)
        {
            sb.Append(CultureInfo.InvariantCulture, $"; map {map.Name}: {map.Kind} key {map.KeySize} value {map.ValueSize} max {map.MaxEntries} flags {map.Flags}{(map.Frozen ? ", frozen" : "")}\n");
            if (!map.InitialValue.IsEmpty) sb.Append(CultureInfo.InvariantCulture, $";   initial value \"{map.InitialValueText()}\"\n");
        }
        var text = Instructions(image);
        var hex = Hex(image);
        int slot = 0;
        for (int i = 0; i < text.Count; i++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{slot,4}: {text[i],-48} {hex[i]}\n");
            slot += image.Instructions[i].Slots;
        }
        return sb.ToString();
    }

    /// <summary><c>{"name": …, "slots": …, "instructions": [llvm text…], "hex": […]}</c>.</summary>
    public static string Json(string name, ProgramImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteString("name", name);
            writer.WriteNumber("slots", image.Slots);
            writer.WriteStartArray("instructions");
            foreach (string line in Instructions(image)) writer.WriteStringValue(line);
            writer.WriteEndArray();
            writer.WriteStartArray("hex");
            foreach (string line in Hex(image)) writer.WriteStringValue(line);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
