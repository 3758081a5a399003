using System.Buffers.Binary;
using System.Text;
using SockOps.Emit.Assembler;
using SockOps.Emit.Runtime;
using SockOps.Emit.TestSupport;

namespace SockOps.Emit.Tests.Dsl;

/// <summary>Finds a kernel function's BTF id in /sys/kernel/btf/vmlinux (test-side stand-in for the loader's kfunc resolution).</summary>
internal static class VmlinuxBtf
{
    public static int? FindFunction(string name)
    {
        const string Path = "/sys/kernel/btf/vmlinux";
        if (!File.Exists(Path)) return null;
        byte[] btf = File.ReadAllBytes(Path);
        var span = btf.AsSpan();
        if (BinaryPrimitives.ReadUInt16LittleEndian(span) != 0xeb9f) return null;
        int headerLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(span[4..]);
        int typeOffset = headerLength + (int)BinaryPrimitives.ReadUInt32LittleEndian(span[8..]);
        int typeLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(span[12..]);
        int stringOffset = headerLength + (int)BinaryPrimitives.ReadUInt32LittleEndian(span[16..]);
        byte[] wanted = Encoding.ASCII.GetBytes(name + "\0");
        int id = 1;
        for (int p = typeOffset; p < typeOffset + typeLength; id++)
        {
            uint nameOffset = BinaryPrimitives.ReadUInt32LittleEndian(span[p..]);
            uint info = BinaryPrimitives.ReadUInt32LittleEndian(span[(p + 4)..]);
            int kind = (int)((info >> 24) & 0x1f), vlen = (int)(info & 0xffff);
            if (kind == 12 && span.Slice(stringOffset + (int)nameOffset, wanted.Length).SequenceEqual(wanted)) return id;
            p += 12 + kind switch
            {
                1 or 14 or 17 => 4,
                3 => 12,
                4 or 5 or 15 or 19 => 12 * vlen,
                6 or 13 => 8 * vlen,
                _ => 0,
            };
        }
        return null;
    }
}

public class KfuncTests
{
    private static ProgramImage TxTimestamps() => SockOpsProgram.Build("tx_tstamp", b =>
    {
        var ctx = b.Context;
        b.If(ctx.Op == SockOp.TstampSendmsgCb, () => ctx.Reply.Set(b.SockOpsEnableTxTimestamping(0)));
        b.Return(1);
    }, target: new Assembler.KernelVersion(6, 15));

    [Fact]
    public void Kfunc_calls_are_left_for_the_loader_by_name()
    {
        var image = TxTimestamps();
        Snapshot.Verify(DslKernel.Listing(image), "Construct_Kfunc");
        Assert.Equal(["bpf_cast_to_kern_ctx", "bpf_sock_ops_enable_tx_tstamp"], image.KfuncReferences.Select(k => k.Name));
        foreach (var k in image.KfuncReferences)
        {
            var call = image.Instructions[k.InstructionIndex];
            Assert.Equal(0x85, call.Opcode);
            Assert.Equal((byte)CallKind.Kfunc, call.SourceIndex);
        }
        Assert.Equal(EmitRule.HelperNotAllowed, Assert.Throws<EmitException>(() => SockOpsProgram.Build("x", b =>
        {
            b.SockOpsEnableTxTimestamping(0);
            b.Return(1);
        }, license: "Proprietary", target: Assembler.KernelVersion.Linux6_18)).Rule);
        // For an older target the kfunc is a feature the kernel lacks, refused with the C# line and the version.
        int kfuncLine = 0;
        var old = Assert.Throws<EmitException>(() => SockOpsProgram.Build("x", b =>
        {
            kfuncLine = new System.Diagnostics.StackTrace(true).GetFrame(0)!.GetFileLineNumber() + 1;
            b.SockOpsEnableTxTimestamping(0);
            b.Return(1);
        }, target: Assembler.KernelVersion.Linux6_12));
        Assert.Equal(EmitRule.TargetKernel, old.Rule);
        Assert.Equal(kfuncLine, old.Line);
        Assert.Contains("bpf_sock_ops_enable_tx_tstamp needs Linux 6.15; this program targets 6.12", old.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void With_btf_ids_patched_in_the_kernel_accepts_the_kfunc_program()
    {
        var image = TxTimestamps();
        KernelGate.Require();
        var code = image.Instructions.ToArray();
        foreach (var k in image.KfuncReferences)
        {
            // The kfunc exists from Linux 6.15 (the program's target): an older kernel legitimately cannot run this
            // test, a newer one must have it in its BTF.
            var since = new Assembler.KernelVersion(6, 15);
            if (RunningKernel.Version < since) KernelGate.Skip($"{k.Name} needs Linux {since}; this kernel is {RunningKernel.Version}");
            int? id = VmlinuxBtf.FindFunction(k.Name);
            Assert.True(id is not null, $"Linux {RunningKernel.Version} has no {k.Name} in /sys/kernel/btf/vmlinux");
            var c = code[k.InstructionIndex];
            code[k.InstructionIndex] = new Instruction(c.Opcode, c.DestinationIndex, c.SourceIndex, 0, id.Value);
        }
        using var program = DslKernel.LoadRaw("tx_tstamp", code);
        Assert.True(program.Info.Id > 0);
        // Without the ids (imm 0) the kernel refuses the calls: the references are needed.
        Assert.Throws<VerifierException>(() => DslKernel.LoadRaw("tx_tstamp0", image.Instructions).Dispose());
    }
}
