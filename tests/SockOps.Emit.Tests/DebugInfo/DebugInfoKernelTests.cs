using System.Runtime.CompilerServices;
using SockOps.Emit.Runtime;
using SockOps.Emit.Runtime.Btf;
using SockOps.Emit.TestSupport;
using SockOps.Emit.Tests.Kernel;

namespace SockOps.Emit.Tests.DebugInfo;

/// <summary>
/// BTF func_info/line_info built from a DSL program's source map (<c>ProgramImage.CreateDebugInfo</c>), checked through the kernel: the program loads
/// with them, BPF_OBJ_GET_INFO_BY_FD gives back the C# file, line numbers and source text (what
/// <c>bpftool prog dump xlated id N linum</c> prints), and a kernel refusal names the C# line.
/// </summary>
public class DebugInfoKernelTests
{
    private static int Here([CallerLineNumber] int line = 0) => line;

    private static BpfProgram Load(ProgramImage image, ProgramDebugInfo debug, LoadedBtf btf) =>
        BpfProgram.Load(new ProgramLoadOptions
        {
            Type = ProgramType.SockOps,
            ExpectedAttachType = AttachType.CgroupSockOps,
            Name = image.Name,
            License = image.License,
            Instructions = image.Instructions,
            Btf = btf,
            FuncInfo = debug.FuncInfo,
            LineInfo = debug.LineInfo,
        });

    // Through the tests' loader, which also creates the program's maps (printk formats live in .rodata).
    private static Dsl.DslKernel.Loaded LoadWithMaps(ProgramImage image) => Dsl.DslKernel.Load(image, debugInfo: true);

    [Fact]
    public void Line_records_follow_the_source_map_one_per_change_of_line()
    {
        int first = Here() + 3;
        var image = SockOpsProgram.Build("lines", b =>
        {
            var rv = b.Local("rv", 0);
            b.If(b.Context.Op == SockOp.TimeoutInit, () => rv.Set(10));
            b.Context.Reply.Set(rv);
            b.Return(1);
        });
        var debug = image.CreateDebugInfo();
        Assert.Equal(0, debug.LineInfo[0].InstructionIndex);
        Assert.True(debug.LineInfo.Zip(debug.LineInfo.Skip(1)).All(p => p.First.InstructionIndex < p.Second.InstructionIndex));
        // Every record starts a new C# line; every instruction's line is that of the record covering it.
        for (int i = 0; i < image.Instructions.Count; i++)
        {
            var record = debug.LineInfo.Last(r => r.InstructionIndex <= i);
            if (image.SourceMap[i].Line > 0) Assert.Equal(image.SourceMap[i].Line, record.Line);
        }
        Assert.Contains(debug.LineInfo, r => r.Line == first + 1); // the If
        Assert.Contains(debug.LineInfo, r => r.Line == first + 2); // reply = rv
        Assert.Single(debug.FuncInfo);
    }

    [Fact]
    public void The_kernel_reports_the_csharp_file_lines_and_text()
    {
        KernelGate.Require();
        int first = Here() + 3;
        var image = SockOpsProgram.Build("csharp_lines", b =>
        {
            var rv = b.Local("rv", 0);
            b.If(b.Context.Op == SockOp.TimeoutInit, () => rv.Set(10));
            b.Context.Reply.Set(rv);
            b.Return(1);
        });
        var debug = image.CreateDebugInfo();
        using var btf = LoadedBtf.Load(debug.Btf.Span);
        using var program = Load(image, debug, btf);

        var report = ProgramLineInfo.Read(program);
        Assert.True(report.BtfId > 0);
        Assert.Equal(1, report.FuncInfoCount);
        Assert.Equal(debug.LineInfo.Count, report.Lines.Count);
        if (program.Info.JitedSize > 0) Assert.Equal(report.Lines.Count, report.JitedLineInfoCount);
        Assert.All(report.Lines, l => Assert.EndsWith("DebugInfoKernelTests.cs", l.File, StringComparison.Ordinal));
        Assert.Contains(report.Lines, l => l.Line == first + 1 && l.Text == "b.If(b.Context.Op == SockOp.TimeoutInit, () => rv.Set(10));");
        Assert.Contains(report.Lines, l => l.Line == first + 2 && l.Text == "b.Context.Reply.Set(rv);");
        Assert.Contains(report.Lines, l => l.Line == first + 3 && l.Text == "b.Return(1);");
    }

    [Fact]
    public void Without_a_readable_source_the_line_text_is_the_member_name()
    {
        KernelGate.Require();
        var image = SockOpsProgram.Build("no_source", b => b.Return(1, file: "/nonexistent/Elsewhere.cs", line: 12, member: "Elsewhere"));
        var debug = image.CreateDebugInfo();
        using var btf = LoadedBtf.Load(debug.Btf.Span);
        using var program = Load(image, debug, btf);
        var report = ProgramLineInfo.Read(program);
        Assert.Contains(report.Lines, l => l.File == "/nonexistent/Elsewhere.cs" && l.Line == 12 && l.Text == "Elsewhere");
    }

    [Fact]
    public void A_kernel_refusal_names_the_csharp_line()
    {
        KernelGate.Require();
        int printkLine = Here() + 4;
        var image = SockOpsProgram.Build("refused_line", b =>
        {
            b.Context.Reply.Set(1);
            b.Printk("hello\n");
            b.Return(1);
        });
        // The DSL was told the loader has CAP_PERFMON; loaded without it, the kernel refuses bpf_trace_printk.
        var error = RawBpf.WithoutPerfmon(() =>
        {
            try
            {
                LoadWithMaps(image).Dispose();
                return (VerifierException?)null;
            }
            catch (VerifierException e)
            {
                return e;
            }
        });
        Assert.NotNull(error);
        Assert.True(error.ErrorLine.Contains("cannot use helper", StringComparison.Ordinal), error.Log);
        // The kernel prints the C# line above the statement's first instruction; the failing call is the last one.
        Assert.Contains($"; b.Printk(\"hello\\n\"); @ DebugInfoKernelTests.cs:{printkLine}", error.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void A_refused_instruction_carries_its_csharp_line_in_the_verifier_exception()
    {
        KernelGate.Require();
        int replyLine = Here() + 3;
        var image = SockOpsProgram.Build("refused_store", b =>
        {
            b.Context.Reply.Set(7);
            b.Return(1);
        }, target: Assembler.KernelVersion.Linux6_18);
        // The reply store (the first instruction of its line) redirected to args[1], which the kernel refuses to write;
        // the source map still says which C# line emitted it.
        int store = Enumerable.Range(0, image.Instructions.Count).Single(i => image.Instructions[i].Class == Assembler.InstructionClass.St && image.Instructions[i].Offset == 4);
        var old = image.Instructions[store];
        var patched = Fuzz.RawPatch.Set(image, store, new Assembler.Instruction(old.Opcode, old.DestinationIndex, old.SourceIndex, 8, old.Immediate));
        var error = Assert.Throws<VerifierException>(() => LoadWithMaps(patched).Dispose());
        Assert.Equal("invalid bpf_context access off=8 size=4", error.ErrorLine);
        Assert.Equal($"b.Context.Reply.Set(7); @ DebugInfoKernelTests.cs:{replyLine}", error.SourceLine);
    }
}
