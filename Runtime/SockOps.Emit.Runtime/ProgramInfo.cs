using System.Buffers.Binary;
using SockOps.Emit.Assembler;
using SockOps.Emit.Runtime.Interop;

namespace SockOps.Emit.Runtime;

/// <summary>What the kernel reports about a loaded program (struct bpf_prog_info).</summary>
/// <param name="Id">The kernel-wide program id.</param>
/// <param name="Type">The program type.</param>
/// <param name="Name">The name given at load time.</param>
/// <param name="Tag">The 8-byte program tag (a hash of the instructions) as 16 hex digits.</param>
/// <param name="JitedSize">Size of the JIT-compiled image in bytes (0 when not JITed or hidden).</param>
/// <param name="XlatedInstructions">The instructions after the verifier's rewrites, decoded from 8-byte slots.</param>
/// <param name="VerifiedInstructions">How many instructions the verifier processed.</param>
/// <param name="RunCount">Number of runs counted while statistics were enabled (<see cref="BpfStats"/>).</param>
/// <param name="RunTimeNanoseconds">Total run time counted while statistics were enabled.</param>
/// <param name="MapIds">Ids of the maps the program uses.</param>
/// <param name="BtfId">Id of the program's BTF object (0 when loaded without BTF).</param>
public sealed record ProgramInfo(
    uint Id,
    ProgramType Type,
    string Name,
    string Tag,
    uint JitedSize,
    IReadOnlyList<Instruction> XlatedInstructions,
    uint VerifiedInstructions,
    ulong RunCount,
    ulong RunTimeNanoseconds,
    IReadOnlyList<uint> MapIds,
    uint BtfId)
{
    internal static unsafe ProgramInfo Query(BpfFileDescriptor fd)
    {
        bool added = false;
        try
        {
            fd.DangerousAddRef(ref added);
            // First call learns the sizes, second fetches the arrays.
            var info = default(ProgInfoNative);
            Fetch(fd.Value, ref info);
            byte[] xlated = new byte[info.XlatedProgLen];
            uint[] mapIds = new uint[info.NrMapIds];
            fixed (byte* xlatedPtr = xlated)
            fixed (uint* mapIdsPtr = mapIds)
            {
                var second = new ProgInfoNative
                {
                    XlatedProgLen = (uint)xlated.Length,
                    XlatedProgInsns = (ulong)xlatedPtr,
                    NrMapIds = (uint)mapIds.Length,
                    MapIds = (ulong)mapIdsPtr,
                };
                Fetch(fd.Value, ref second);
                info.RunCnt = second.RunCnt;
                info.RunTimeNs = second.RunTimeNs;
            }
            Span<byte> tag = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(tag, info.Tag);
            return new ProgramInfo(info.Id, (ProgramType)info.Type, ObjectName.Read(info.Name), Convert.ToHexStringLower(tag),
                info.JitedProgLen, DecodeSlots(xlated), info.VerifiedInsns, info.RunCnt, info.RunTimeNs, mapIds, info.BtfId);
        }
        finally
        {
            if (added) fd.DangerousRelease();
        }
    }

    private static unsafe void Fetch(int fd, ref ProgInfoNative info)
    {
        fixed (ProgInfoNative* p = &info)
        {
            var attr = new InfoAttr { BpfFd = (uint)fd, InfoLength = (uint)sizeof(ProgInfoNative), Info = (ulong)p };
            BpfSyscall.Invoke(BpfCommand.ObjectGetInfoByFd, ref attr, "program info");
        }
    }

    /// <summary>Decodes little-endian 8-byte instruction slots; an ld_imm64 takes two.</summary>
    internal static Instruction[] DecodeSlots(ReadOnlySpan<byte> code)
    {
        var result = new List<Instruction>(code.Length / Instruction.SlotSize);
        for (int at = 0; at + Instruction.SlotSize <= code.Length;)
        {
            byte opcode = code[at];
            byte regs = code[at + 1];
            short offset = BinaryPrimitives.ReadInt16LittleEndian(code[(at + 2)..]);
            int imm = BinaryPrimitives.ReadInt32LittleEndian(code[(at + 4)..]);
            if (opcode == Opcode.LoadImmediate64 && at + 2 * Instruction.SlotSize <= code.Length)
            {
                int high = BinaryPrimitives.ReadInt32LittleEndian(code[(at + 12)..]);
                result.Add(new Instruction(opcode, (byte)(regs & 0xf), (byte)(regs >> 4), offset, imm, high));
                at += 2 * Instruction.SlotSize;
            }
            else
            {
                result.Add(new Instruction(opcode, (byte)(regs & 0xf), (byte)(regs >> 4), offset, imm));
                at += Instruction.SlotSize;
            }
        }
        return [.. result];
    }
}
