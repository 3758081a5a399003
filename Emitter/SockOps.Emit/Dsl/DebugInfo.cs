using SockOps.Emit.Btf;

namespace SockOps.Emit;

/// <summary>
/// BTF for a <see cref="ProgramImage"/>: one function and a line-info record wherever the C# location changes,
/// so the verifier log, <c>bpftool prog dump xlated … linum</c> and verifier errors show the C# source lines.
/// Load <see cref="Btf"/> with <c>LoadedBtf.Load</c> and pass it with <see cref="FuncInfo"/> and
/// <see cref="LineInfo"/> in <c>ProgramLoadOptions</c>.
/// </summary>
public sealed class ProgramDebugInfo
{
    internal ProgramDebugInfo(byte[] btf, IReadOnlyList<BtfFuncInfo> funcInfo, IReadOnlyList<BtfLineInfo> lineInfo)
    {
        Btf = btf;
        FuncInfo = funcInfo;
        LineInfo = lineInfo;
    }

    /// <summary>The raw BTF blob (types and strings).</summary>
    public ReadOnlyMemory<byte> Btf { get; }

    /// <summary>The program's single function (at instruction 0).</summary>
    public IReadOnlyList<BtfFuncInfo> FuncInfo { get; }

    /// <summary>Line records by instruction index (the loader converts them to slots).</summary>
    public IReadOnlyList<BtfLineInfo> LineInfo { get; }

    internal static ProgramDebugInfo Create(ProgramImage image)
    {
        var builder = new BtfBuilder();
        var (funcInfo, lineInfo) = AddTo(builder, image);
        return new ProgramDebugInfo(builder.Build(), funcInfo, lineInfo);
    }

    /// <summary>Adds the program's FUNC (<c>int NAME(struct bpf_sock_ops *skops)</c>) and line strings to <paramref name="builder"/>.</summary>
    internal static (BtfFuncInfo[] FuncInfo, BtfLineInfo[] LineInfo) AddTo(BtfBuilder builder, ProgramImage image)
    {
        uint intId = builder.AddInt("int", 4, signed: true);
        uint ctx = builder.AddStruct("bpf_sock_ops", 0, []);
        uint proto = builder.AddFuncProto(intId, [("skops", builder.AddPointer(ctx))]);
        uint func = builder.AddFunc(FunctionName(image.Name), proto, BtfFuncLinkage.Global);
        var sourceCache = new Dictionary<string, string[]?>(StringComparer.Ordinal);
        var lines = new List<BtfLineInfo>();
        SourceLocation previous = default;
        for (int i = 0; i < image.SourceMap.Count; i++)
        {
            var loc = image.SourceMap[i];
            if (i > 0 && loc == previous) continue;
            previous = loc;
            string file = loc.Line == 0 ? image.Name : loc.File;
            uint fileOffset = builder.AddString(file);
            uint textOffset = builder.AddString(LineText(loc, sourceCache));
            lines.Add(new BtfLineInfo(i, fileOffset, textOffset, loc.Line, 1));
        }
        return ([new BtfFuncInfo(0, func)], [.. lines]);
    }

    /// <summary>A C identifier for the BTF function (the kernel checks BTF names).</summary>
    internal static string FunctionName(string name)
    {
        var chars = name.Select(c => char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_').ToArray();
        string result = new(chars);
        return result.Length == 0 || char.IsAsciiDigit(result[0]) ? "_" + result : result;
    }

    /// <summary>The C# source text of the line when the file is at hand (the build machine), else the member name.</summary>
    private static string LineText(SourceLocation loc, Dictionary<string, string[]?> cache)
    {
        if (loc.Line == 0) return "(generated)";
        if (!cache.TryGetValue(loc.File, out var text))
        {
            try
            {
                text = File.Exists(loc.File) ? File.ReadAllLines(loc.File) : null;
            }
            catch (IOException)
            {
                text = null;
            }
            catch (UnauthorizedAccessException)
            {
                text = null;
            }
            cache[loc.File] = text;
        }
        string line = text is not null && loc.Line <= text.Length ? text[loc.Line - 1].Trim() : loc.Member;
        return line.Length == 0 ? loc.Member : line;
    }
}
