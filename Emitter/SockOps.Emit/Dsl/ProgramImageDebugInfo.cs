using SockOps.Emit.Runtime;
using SockOps.Emit.Runtime.Btf;

namespace SockOps.Emit;

/// <summary>
/// BTF debug information for an emitted program: one FUNC (<c>int name(struct bpf_sock_ops *skops)</c>) and one
/// line record per change of C# file:line in the source map, ready for <see cref="ProgramLoadOptions.Btf"/>,
/// <see cref="ProgramLoadOptions.FuncInfo"/> and <see cref="ProgramLoadOptions.LineInfo"/>. With it the kernel's
/// own tools (<c>bpftool prog dump xlated id N linum</c>, verifier logs) show the C# lines.
/// </summary>
/// <param name="Btf">The BTF types and strings; <see cref="BtfBuilder.Load"/> it and pass the result as <c>Btf</c>.</param>
/// <param name="FuncInfo">The program's single function record (instruction 0).</param>
/// <param name="LineInfo">The line records (the first at instruction 0, then increasing instruction indices).</param>
public sealed record ProgramDebugInfo(BtfBuilder Btf, IReadOnlyList<BtfFuncInfo> FuncInfo, IReadOnlyList<BtfLineInfo> LineInfo);

/// <summary>Builds <see cref="ProgramDebugInfo"/> from a <see cref="ProgramImage"/>'s source map.</summary>
public static class ProgramImageDebugInfo
{
    /// <summary>The kernel's limit for a line number in <c>line_col</c> (22 bits).</summary>
    private const int MaxLine = (1 << 22) - 1;

    /// <summary>
    /// Builds the BTF FUNC and the line records of <paramref name="image"/>. The text of each line is the C# source
    /// line when the file can be read (it is read once per file), otherwise the calling member's name.
    /// </summary>
    /// <param name="image">The emitted program.</param>
    /// <param name="readSource">Reads a source file's lines (null when unreadable); defaults to the file system.</param>
    public static ProgramDebugInfo BuildDebugInfo(this ProgramImage image, Func<string, string[]?>? readSource = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        readSource ??= ReadFile;
        var btf = new BtfBuilder();
        // int name(struct bpf_sock_ops *skops): the kernel checks that the FUNC's proto exists; the ctx struct may be opaque.
        uint intType = btf.AddInt("int", 4, signed: true);
        uint ctxStruct = btf.AddStruct("bpf_sock_ops", 0, []);
        uint proto = btf.AddFuncProto(intType, [("skops", btf.AddPointer(ctxStruct))]);
        uint func = btf.AddFunc(FunctionName(image.Name), proto, BtfFuncLinkage.Global);

        var sources = new Dictionary<string, string[]?>(StringComparer.Ordinal);
        var lines = new List<BtfLineInfo>();
        SourceLocation previous = default;
        for (int i = 0; i < image.Instructions.Count; i++)
        {
            var location = image.SourceMap[i];
            if (location.Line <= 0 && i > 0) continue; // compiler-generated: stays with the line before
            if (i > 0 && location.Line == previous.Line && location.File == previous.File) continue;
            previous = location;
            string file = location.Line > 0 ? location.File : "<generated>";
            string text = location.Member;
            if (location.Line > 0)
            {
                if (!sources.TryGetValue(file, out var content)) sources[file] = content = readSource(file);
                if (content is not null && location.Line <= content.Length) text = content[location.Line - 1].Trim();
            }
            lines.Add(new BtfLineInfo(i, btf.AddString(file), btf.AddString(text), Math.Clamp(location.Line, 0, MaxLine), 1));
        }
        return new ProgramDebugInfo(btf, [new BtfFuncInfo(0, func)], lines);
    }

    /// <summary>A valid C identifier for the FUNC (the kernel checks BTF names).</summary>
    private static string FunctionName(string name)
    {
        var chars = name.Select(c => char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_').ToArray();
        string result = new(chars);
        return result.Length == 0 || char.IsAsciiDigit(result[0]) ? "_" + result : result;
    }

    private static string[]? ReadFile(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllLines(path) : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
