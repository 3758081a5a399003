using CsCheck;
using SockOps.Emit.Assembler;

namespace SockOps.Emit.Assembler.Tests;

/// <summary>
/// Property: any text, however broken, either assembles or yields diagnostics with a location;
/// TryAssemble never throws. Texts are random sequences of the tokens both dialects use, so the
/// parsers are driven deep into every form, plus random characters.
/// </summary>
public class TextAssemblerFuzzTests
{
    private static readonly string[] Tokens =
    [
        "r0", "r1", "r10", "r11", "w0", "w3", "w10", "%r0", "%r2", "%r10", "%r11", "%", "r", "w",
        "0", "1", "-1", "+3", "-8", "0x10", "0xffffffff", "4294967296", "32768", "-32769", "18446744073709551616", "0x", "-", "+",
        "=", "==", "+=", "-=", "*=", "/=", "%=", "|=", "&=", "^=", "<<=", ">>=", "s>>=", "s/=", "s%=", "s", "s>", "s<=", "!=", "<", ">", "&",
        "*", "(", ")", "[", "]", ",", ":", ";", "#", "//", "<LBB>", " ", " ", " ", "\t",
        "u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64", "skb", "ll", "goto", "gotol", "if", "call", "callx", "exit", "lock",
        "be16", "le64", "bswap32", "atomic_fetch_add", "atomic_fetch_xor", "xchg_64", "xchg32_32", "cmpxchg_64", "cmpxchg32_32",
        "load_acquire", "store_release", "ld_pseudo", "may_goto", "addr_space_cast", "L1", "L1:", "exit:", "fetch", "local", "helper", "runtime",
        "mov", "mov32", "add", "lddw", "ldxb", "ldxsw", "stxdw", "stw", "ja", "ja32", "jeq", "jne32", "neg", "movsx832", "be16", "swap64", "xor32",
        "add32", "cmpxchg", "xchg32", "and",
    ];

    private static readonly Gen<string> Line = Gen.OneOf(
        Gen.Int[0, Tokens.Length - 1].Array[0, 12].Select(indexes => string.Join(" ", indexes.Select(i => Tokens[i]))),
        Gen.Int[0, Tokens.Length - 1].Array[0, 12].Select(indexes => string.Concat(indexes.Select(i => Tokens[i]))),
        Gen.String[Gen.Char["r0123456789wx=+-*/()[]%<>&|^!:;#,. slgu\t"], 0, 40]);

    private static readonly Gen<string> Text = Line.Array[1, 8].Select(lines => string.Join("\n", lines));

    [Fact]
    public void TryAssemble_never_throws_and_locates_every_problem()
    {
        Gen.Select(Text, Gen.Bool).Sample((text, conformance) =>
        {
            var dialect = conformance ? AsmDialect.Conformance : AsmDialect.Llvm;
            bool ok = TextAssembler.TryAssemble(text, dialect, out var program, out var diagnostics);
            int lines = text.Split('\n').Length;
            return ok
                ? program is not null && diagnostics.Count == 0
                : program is null && diagnostics.Count > 0 && diagnostics.All(d => d.Line >= 1 && d.Line <= lines && d.Column >= 1 && d.Message.Length > 0);
        }, iter: 30_000, print: pair => $"{pair.Item2}: {pair.Item1.Replace("\n", "⏎", StringComparison.Ordinal)}");
    }
}
