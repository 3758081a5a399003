using System.Globalization;
using System.Text;

namespace SockOps.Emit;

/// <summary>Text forms of a declaration for listings (creating the map is the Runtime's: <c>ObjectLoader</c> loads <see cref="ProgramImage.ToObject"/>).</summary>
public sealed partial record MapDeclaration
{
    /// <summary>
    /// <see cref="InitialValue"/> as C string text (<c>\n</c>, <c>\0</c>, <c>\xNN</c> escapes), for listings; empty when there is none.
    /// </summary>
    public string InitialValueText()
    {
        var sb = new StringBuilder();
        foreach (byte b in InitialValue.Span)
        {
            sb.Append(b switch
            {
                0 => "\\0",
                (byte)'\n' => "\\n",
                (byte)'\t' => "\\t",
                (byte)'"' => "\\\"",
                (byte)'\\' => "\\\\",
                >= 0x20 and < 0x7f => ((char)b).ToString(),
                _ => string.Create(CultureInfo.InvariantCulture, $"\\x{b:x2}"),
            });
        }
        return sb.ToString();
    }
}
