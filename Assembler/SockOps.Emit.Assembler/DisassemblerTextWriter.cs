using System.Globalization;

namespace SockOps.Emit.Assembler;

/// <summary>
/// Appends text to a caller-provided span without allocating. The span is sized by
/// <see cref="Disassembler.MaxInstructionLength"/>, which bounds every instruction's text, so
/// running out of room is a bug, not an input error.
/// </summary>
internal ref struct DisassemblerTextWriter
{
    private readonly Span<char> buffer;
    private int length;

    public DisassemblerTextWriter(Span<char> buffer)
    {
        this.buffer = buffer;
        length = 0;
    }

    public readonly int Length => length;

    /// <summary>Discards what was written.</summary>
    public void Reset() => length = 0;

    public void Append(char c) => buffer[length++] = c;

    public void Append(string text)
    {
        text.AsSpan().CopyTo(buffer[length..]);
        length += text.Length;
    }

    public void Append(int value)
    {
        if (!value.TryFormat(buffer[length..], out int written, default, CultureInfo.InvariantCulture))
            throw new InvalidOperationException("Disassembly buffer too small.");
        length += written;
    }

    public void Append(long value)
    {
        if (!value.TryFormat(buffer[length..], out int written, default, CultureInfo.InvariantCulture))
            throw new InvalidOperationException("Disassembly buffer too small.");
        length += written;
    }

    public void Append(uint value)
    {
        if (!value.TryFormat(buffer[length..], out int written, default, CultureInfo.InvariantCulture))
            throw new InvalidOperationException("Disassembly buffer too small.");
        length += written;
    }

    /// <summary>C's <c>%+d</c>: the sign is always printed.</summary>
    public void AppendSigned(int value)
    {
        if (value >= 0) Append('+');
        Append(value);
    }

    /// <summary>Lowercase hexadecimal without leading zeros (C's <c>%x</c>/<c>%llx</c>).</summary>
    public void AppendHex(ulong value)
    {
        if (!value.TryFormat(buffer[length..], out int written, "x", CultureInfo.InvariantCulture))
            throw new InvalidOperationException("Disassembly buffer too small.");
        length += written;
    }

    /// <summary>Two lowercase hex digits (C's <c>%02x</c>).</summary>
    public void AppendHexByte(byte value)
    {
        const string digits = "0123456789abcdef";
        Append(digits[value >> 4]);
        Append(digits[value & 0xf]);
    }

    /// <summary>A register name: <paramref name="prefix"/> ('r' or 'w') and the field value.</summary>
    public void AppendRegister(char prefix, int index)
    {
        Append(prefix);
        if (index >= 10)
        {
            Append((char)('0' + index / 10));
            index %= 10;
        }
        Append((char)('0' + index));
    }

    public readonly ReadOnlySpan<char> Written => buffer[..length];
}
