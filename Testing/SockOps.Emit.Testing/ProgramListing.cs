using System.Globalization;
using System.Text;
using SockOps.Emit.Assembler;

namespace SockOps.Emit.Testing;

/// <summary>The text <see cref="ProgramSnapshot.Verify(ProgramImage, string?, string?, string, string)"/> compares: a program's bytecode as a reviewer reads it.</summary>
public static class ProgramListing
{
    /// <summary>
    /// A header line (name, slots, stack bytes, license), one line per map (type, key and value sizes, max entries,
    /// flags, frozen, initial value), then one line per instruction: its slot, the <c>llvm-objdump -d</c> text (map and
    /// kfunc references named), its bytes in hex and the C# <c>File.cs:line</c> that emitted it. Lines end with
    /// <c>\n</c>; the text depends only on the image, so it is stable across machines.
    /// </summary>
    /// <param name="image">The program.</param>
    public static string Format(ProgramImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"; {image.Name}: {image.Slots} slots, {image.StackSize} bytes of stack, license {image.License}\n");
        foreach (var map in image.Maps)
        {
            sb.Append(CultureInfo.InvariantCulture, $"; map {map.Name}: {map.Kind} key {map.KeySize} value {map.ValueSize} max {map.MaxEntries} flags {map.Flags}{(map.Frozen ? ", frozen" : "")}\n");
            if (!map.InitialValue.IsEmpty) sb.Append(CultureInfo.InvariantCulture, $";   initial value \"{map.InitialValueText()}\"\n");
        }
        int slot = 0;
        var bytes = new byte[16];
        for (int i = 0; i < image.Instructions.Count; i++)
        {
            var insn = image.Instructions[i];
            int n = insn.WriteTo(bytes);
            string hex = Convert.ToHexString(bytes, 0, n).ToLowerInvariant();
            hex = string.Join(' ', Enumerable.Range(0, n).Select(k => hex.Substring(2 * k, 2)));
            string text = Disassembler.Format(insn, DisassemblySyntax.Llvm);
            var map = image.MapReferences.FirstOrDefault(r => r.InstructionIndex == i);
            if (map.MapName is not null) text += $" ; map {map.MapName}";
            var kfunc = image.KfuncReferences.FirstOrDefault(r => r.InstructionIndex == i);
            if (kfunc.Name is not null) text += $" ; kfunc {kfunc.Name}";
            var loc = image.SourceMap[i];
            // The file name only: the listing must not depend on where the repository is checked out.
            string where = loc.Line == 0 ? "" : $"{Path.GetFileName(loc.File)}:{loc.Line}";
            sb.Append(CultureInfo.InvariantCulture, $"{slot,4}: {text,-44} {hex,-47} {where}\n");
            slot += insn.Slots;
        }
        return sb.ToString();
    }
}
