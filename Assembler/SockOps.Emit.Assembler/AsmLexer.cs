using System.Globalization;

namespace SockOps.Emit.Assembler;

/// <summary>
/// A scanner over one line of assembler text (comments already removed). It reads the small
/// set of token shapes both dialects need (words, numbers, punctuation, operators) straight
/// from the span, so parsing allocates nothing but label names.
/// </summary>
internal ref struct AsmLexer
{
    private readonly ReadOnlySpan<char> _text;
    private int _pos;

    public AsmLexer(ReadOnlySpan<char> text, int line, int columnOffset = 0)
    {
        _text = text;
        Line = line;
        ColumnOffset = columnOffset;
    }

    /// <summary>1-based line number, for diagnostics.</summary>
    public int Line { get; }

    /// <summary>Characters before the scanned span on its line (for column numbers).</summary>
    public int ColumnOffset { get; }

    /// <summary>Current position in the span (0-based).</summary>
    public readonly int Position => _pos;

    /// <summary>Whether only blanks remain.</summary>
    public bool AtEnd
    {
        get
        {
            SkipSpaces();
            return _pos >= _text.Length;
        }
    }

    public static bool IsWordStart(char c) => char.IsAsciiLetter(c) || c is '_' or '.' or '$';

    public static bool IsWordChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '$';

    public void SkipSpaces()
    {
        while (_pos < _text.Length && (_text[_pos] == ' ' || _text[_pos] == '\t')) _pos++;
    }

    /// <summary>The next non-blank character, or '\0' at the end.</summary>
    public char Peek()
    {
        SkipSpaces();
        return _pos < _text.Length ? _text[_pos] : '\0';
    }

    /// <summary>The character <paramref name="ahead"/> places after the next non-blank one, or '\0'.</summary>
    public char PeekAhead(int ahead)
    {
        SkipSpaces();
        int i = _pos + ahead;
        return i < _text.Length ? _text[i] : '\0';
    }

    public bool TryChar(char c)
    {
        if (Peek() != c) return false;
        _pos++;
        return true;
    }

    public void ExpectChar(char c)
    {
        if (!TryChar(c)) throw Expected("'" + c + "'");
    }

    /// <summary>Consumes <paramref name="text"/> if it comes next (no word-boundary check: for operators).</summary>
    public bool TryText(string text)
    {
        SkipSpaces();
        if (!_text[_pos..].StartsWith(text, StringComparison.Ordinal)) return false;
        _pos += text.Length;
        return true;
    }

    /// <summary>The word (identifier) that comes next, or empty.</summary>
    public ReadOnlySpan<char> PeekWord()
    {
        SkipSpaces();
        if (_pos >= _text.Length || !IsWordStart(_text[_pos])) return default;
        int end = _pos + 1;
        while (end < _text.Length && IsWordChar(_text[end])) end++;
        return _text[_pos..end];
    }

    /// <summary>Consumes the next word if it equals <paramref name="word"/>.</summary>
    public bool TryWord(string word)
    {
        var next = PeekWord();
        if (!next.SequenceEqual(word)) return false;
        _pos += next.Length;
        return true;
    }

    public void ExpectWord(string word)
    {
        if (!TryWord(word)) throw Expected("'" + word + "'");
    }

    /// <summary>Consumes and returns the next word; fails with "expected <paramref name="what"/>".</summary>
    public ReadOnlySpan<char> ReadWord(string what)
    {
        var word = PeekWord();
        if (word.IsEmpty) throw Expected(what);
        _pos += word.Length;
        return word;
    }

    /// <summary>Skips the word that <see cref="PeekWord"/> returned.</summary>
    public void Advance(int length) => _pos += length;

    /// <summary>Whether a number (optionally signed) comes next.</summary>
    public bool AtNumber()
    {
        char c = Peek();
        if (char.IsAsciiDigit(c)) return true;
        return (c == '-' || c == '+') && _pos + 1 < _text.Length && char.IsAsciiDigit(_text[_pos + 1]);
    }

    /// <summary>
    /// Reads an integer: optional sign, then decimal digits or 0x and hex digits. The value is
    /// exact up to 2^64 in magnitude; callers check the range their field allows.
    /// </summary>
    public AsmNumber ReadInteger(string what, out int start, out bool isHex)
    {
        SkipSpaces();
        start = _pos;
        bool negative = false;
        if (_pos < _text.Length && (_text[_pos] == '-' || _text[_pos] == '+'))
        {
            negative = _text[_pos] == '-';
            _pos++;
        }
        return ReadMagnitude(what, start, negative, out isHex);
    }

    /// <summary>Reads the digits of a number whose sign was already consumed at <paramref name="start"/>.</summary>
    public AsmNumber ReadMagnitude(string what, int start, bool negative, out bool isHex)
    {
        int digitsStart = _pos;
        isHex = _pos + 1 < _text.Length && _text[_pos] == '0' && (_text[_pos + 1] is 'x' or 'X');
        if (isHex) _pos += 2;
        int valueStart = _pos;
        ulong value = 0;
        ulong radix = isHex ? 16u : 10u;
        ulong limit = ulong.MaxValue / radix;
        bool overflow = false;
        while (_pos < _text.Length)
        {
            char c = _text[_pos];
            uint digit;
            if (char.IsAsciiDigit(c)) digit = (uint)(c - '0');
            else if (isHex && char.IsAsciiHexDigit(c)) digit = (uint)((c | 0x20) - 'a' + 10);
            else break;
            if (value > limit || value * radix > ulong.MaxValue - digit) overflow = true;
            value = unchecked(value * radix + digit);
            _pos++;
        }
        if (_pos == valueStart || (_pos < _text.Length && IsWordChar(_text[_pos])))
        {
            _pos = digitsStart;
            throw ErrorAt(start, what.Length == 0 ? "expected a number" : "expected " + what, TokenAt(start));
        }
        if (overflow)
            throw ErrorAt(start, $"number {TokenAt(start)} does not fit in 64 bits", TokenAt(start));
        return new AsmNumber(value, negative);
    }

    /// <summary>An error "expected X but found 'token'" at the current position.</summary>
    public AsmSyntaxException Expected(string what)
    {
        SkipSpaces();
        string token = TokenAt(_pos);
        string found = token.Length == 0 ? "the end of the line" : "'" + token + "'";
        return ErrorAt(_pos, $"expected {what} but found {found}", token);
    }

    /// <summary>An error at a position of this line.</summary>
    public readonly AsmSyntaxException ErrorAt(int position, string message, string token) =>
        new(Line, ColumnOffset + position + 1, token, message);

    /// <summary>An error at a position, naming the token that starts there.</summary>
    public readonly AsmSyntaxException ErrorAt(int position, string message) =>
        ErrorAt(position, message, TokenAt(position));

    /// <summary>The token text starting at <paramref name="position"/>, for messages.</summary>
    public readonly string TokenAt(int position)
    {
        int i = position;
        while (i < _text.Length && (_text[i] == ' ' || _text[i] == '\t')) i++;
        if (i >= _text.Length) return string.Empty;
        int end = i;
        char c = _text[i];
        if (c == '%' || c == '+' || c == '-')
        {
            end++;
            while (end < _text.Length && IsWordChar(_text[end])) end++;
            if (end == i + 1)
                while (end < _text.Length && IsOperatorChar(_text[end])) end++;
        }
        else if (IsWordChar(c))
        {
            while (end < _text.Length && IsWordChar(_text[end])) end++;
        }
        else if (IsOperatorChar(c))
        {
            while (end < _text.Length && IsOperatorChar(_text[end])) end++;
        }
        else
        {
            end++;
        }
        return _text[i..end].ToString();
    }

    /// <summary>A piece of the line (for words whose position was remembered).</summary>
    public readonly ReadOnlySpan<char> Slice(int start, int length) => _text.Slice(start, length);

    /// <summary>The rest of the line from the current position (trimmed), for messages.</summary>
    public readonly string Rest() => _text[_pos..].Trim().ToString();

    private static bool IsOperatorChar(char c) => c is '=' or '+' or '-' or '*' or '/' or '%' or '|' or '&' or '^' or '<' or '>' or '!';

}

/// <summary>
/// An integer as written: a 64-bit magnitude and a sign, so every value from -2^64+1 to 2^64-1 is
/// exact without wide arithmetic. Fields check their own range with <see cref="InRange"/>.
/// </summary>
internal readonly struct AsmNumber
{
    public AsmNumber(ulong magnitude, bool negative)
    {
        Magnitude = magnitude;
        Negative = negative && magnitude != 0;
    }

    public ulong Magnitude { get; }

    public bool Negative { get; }

    /// <summary>Whether <paramref name="min"/> ≤ value ≤ <paramref name="max"/> (with <paramref name="min"/> ≤ 0).</summary>
    public bool InRange(long min, ulong max) =>
        Negative ? min < 0 && Magnitude - 1 <= (ulong)(-(min + 1)) : Magnitude <= max;

    /// <summary>The low 64 bits of the value in two's complement.</summary>
    public ulong Bits => Negative ? unchecked(0 - Magnitude) : Magnitude;

    public override string ToString() =>
        (Negative ? "-" : "") + Magnitude.ToString(CultureInfo.InvariantCulture);
}
