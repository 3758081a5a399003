using System.Buffers.Binary;
using System.Text;
using SockOps.Emit.Runtime.Interop;

namespace SockOps.Emit.Runtime;

/// <summary>One line record as the kernel keeps it for a loaded program, its strings resolved through the program's BTF.</summary>
/// <param name="Slot">The 8-byte slot (xlated program) the line starts at.</param>
/// <param name="File">The file name.</param>
/// <param name="Text">The source text of the line.</param>
/// <param name="Line">The line number.</param>
/// <param name="Column">The column.</param>
public readonly record struct KernelLineInfo(int Slot, string File, string Text, int Line, int Column);

/// <summary>The BTF debug information the kernel reports for a loaded program (BPF_OBJ_GET_INFO_BY_FD).</summary>
/// <param name="BtfId">The program's BTF object id (0 without BTF).</param>
/// <param name="FuncInfoCount">Number of func_info records.</param>
/// <param name="JitedLineInfoCount">Number of line records mapped to JITed addresses (0 when not JITed or hidden).</param>
/// <param name="Lines">The line records, strings read from the kernel's copy of the BTF.</param>
public sealed record ProgramDebugInfoReport(uint BtfId, int FuncInfoCount, int JitedLineInfoCount, IReadOnlyList<KernelLineInfo> Lines);

/// <summary>Reads back func_info/line_info of a loaded program (what <c>bpftool prog dump xlated linum</c> prints).</summary>
public static class ProgramLineInfo
{
    // struct bpf_prog_info offsets (include/uapi/linux/bpf.h).
    private const int InfoSize = 232, BtfIdAt = 128, FuncInfoRecSizeAt = 132, NrFuncInfoAt = 144, NrLineInfoAt = 148,
        LineInfoAt = 152, NrJitedLineInfoAt = 168, LineInfoRecSizeAt = 172;

    /// <summary>Queries the kernel for the program's line records and resolves their strings.</summary>
    /// <exception cref="BpfException">A bpf() call failed.</exception>
    public static unsafe ProgramDebugInfoReport Read(BpfProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        var fd = program.Fd;
        bool added = false;
        try
        {
            fd.DangerousAddRef(ref added);
            byte[] info = new byte[InfoSize];
            QueryInfo(fd.Value, info);
            uint btfId = BinaryPrimitives.ReadUInt32LittleEndian(info.AsSpan(BtfIdAt));
            int funcCount = (int)BinaryPrimitives.ReadUInt32LittleEndian(info.AsSpan(NrFuncInfoAt));
            int lineCount = (int)BinaryPrimitives.ReadUInt32LittleEndian(info.AsSpan(NrLineInfoAt));
            int jitedLines = (int)BinaryPrimitives.ReadUInt32LittleEndian(info.AsSpan(NrJitedLineInfoAt));
            if (lineCount == 0 || btfId == 0) return new ProgramDebugInfoReport(btfId, funcCount, jitedLines, []);

            const int recordSize = 16;
            byte[] records = new byte[lineCount * recordSize];
            fixed (byte* recordsPtr = records)
            {
                // Ask for the line records only (every other array length 0).
                byte[] second = new byte[InfoSize];
                BinaryPrimitives.WriteUInt32LittleEndian(second.AsSpan(NrLineInfoAt), (uint)lineCount);
                BinaryPrimitives.WriteUInt32LittleEndian(second.AsSpan(LineInfoRecSizeAt), recordSize);
                BinaryPrimitives.WriteUInt64LittleEndian(second.AsSpan(LineInfoAt), (ulong)recordsPtr);
                BinaryPrimitives.WriteUInt32LittleEndian(second.AsSpan(FuncInfoRecSizeAt), 8);
                QueryInfo(fd.Value, second);
            }
            byte[] strings = ReadBtfStrings(btfId);
            var lines = new KernelLineInfo[lineCount];
            for (int i = 0; i < lineCount; i++)
            {
                var r = records.AsSpan(i * recordSize, recordSize);
                uint lineCol = BinaryPrimitives.ReadUInt32LittleEndian(r[12..]);
                lines[i] = new KernelLineInfo(
                    (int)BinaryPrimitives.ReadUInt32LittleEndian(r),
                    StringAt(strings, BinaryPrimitives.ReadUInt32LittleEndian(r[4..])),
                    StringAt(strings, BinaryPrimitives.ReadUInt32LittleEndian(r[8..])),
                    (int)(lineCol >> 10), (int)(lineCol & 0x3ff));
            }
            return new ProgramDebugInfoReport(btfId, funcCount, jitedLines, lines);
        }
        finally
        {
            if (added) fd.DangerousRelease();
        }
    }

    private static unsafe void QueryInfo(int fd, byte[] info)
    {
        fixed (byte* p = info)
        {
            var attr = new InfoAttr { BpfFd = (uint)fd, InfoLength = (uint)info.Length, Info = (ulong)p };
            BpfSyscall.Invoke(BpfCommand.ObjectGetInfoByFd, ref attr, "program line info");
        }
    }

    /// <summary>The string section of a BTF object, read back from the kernel by id.</summary>
    private static unsafe byte[] ReadBtfStrings(uint btfId)
    {
        var idAttr = new GetIdAttr { StartOrObjectId = btfId };
        using var btfFd = BpfSyscall.InvokeForFd(BpfCommand.BtfGetFdById, ref idAttr, $"BTF id {btfId}");
        bool added = false;
        try
        {
            btfFd.DangerousAddRef(ref added);
            // struct bpf_btf_info { u64 btf; u32 btf_size; u32 id; u64 name; u32 name_len; u32 kernel_btf; }
            byte[] info = new byte[32];
            fixed (byte* infoPtr = info)
            {
                var attr = new InfoAttr { BpfFd = (uint)btfFd.Value, InfoLength = (uint)info.Length, Info = (ulong)infoPtr };
                BpfSyscall.Invoke(BpfCommand.ObjectGetInfoByFd, ref attr, "BTF info");
            }
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(info.AsSpan(8));
            byte[] blob = new byte[size];
            fixed (byte* blobPtr = blob)
            fixed (byte* infoPtr = info)
            {
                info.AsSpan().Clear();
                BinaryPrimitives.WriteUInt64LittleEndian(info, (ulong)blobPtr);
                BinaryPrimitives.WriteUInt32LittleEndian(info.AsSpan(8), size);
                var attr = new InfoAttr { BpfFd = (uint)btfFd.Value, InfoLength = (uint)info.Length, Info = (ulong)infoPtr };
                BpfSyscall.Invoke(BpfCommand.ObjectGetInfoByFd, ref attr, "BTF blob");
            }
            // struct btf_header { u16 magic; u8 version; u8 flags; u32 hdr_len; u32 type_off; u32 type_len; u32 str_off; u32 str_len; }
            uint headerLength = BinaryPrimitives.ReadUInt32LittleEndian(blob.AsSpan(4));
            uint stringOffset = BinaryPrimitives.ReadUInt32LittleEndian(blob.AsSpan(16));
            uint stringLength = BinaryPrimitives.ReadUInt32LittleEndian(blob.AsSpan(20));
            return blob.AsSpan((int)(headerLength + stringOffset), (int)stringLength).ToArray();
        }
        finally
        {
            if (added) btfFd.DangerousRelease();
        }
    }

    private static string StringAt(byte[] strings, uint offset)
    {
        if (offset >= strings.Length) return "";
        int end = Array.IndexOf(strings, (byte)0, (int)offset);
        return Encoding.UTF8.GetString(strings, (int)offset, (end < 0 ? strings.Length : end) - (int)offset);
    }
}
