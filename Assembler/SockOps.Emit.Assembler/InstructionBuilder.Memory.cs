using System.Globalization;

namespace SockOps.Emit.Assembler;

// Loads, stores, atomics, 64-bit immediates and legacy packet loads.
public sealed partial class InstructionBuilder
{
    /// <summary>dst = *(size *)(src + offset), zero-extended.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10 or the size is undefined.</exception>
    public InstructionBuilder Ldx(MemorySize size, Register dst, Register src, short offset)
    {
        if (!IsSize(size) || dst.IsFramePointer) throw LdxRefusal(size, dst, src, offset);
        return Emit(Opcode.Memory(InstructionClass.Ldx, MemoryMode.Mem, size), dst.Index, src.Index, offset, 0);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static InvalidInstructionException LdxRefusal(MemorySize size, Register dst, Register src, short offset) =>
        Invalid("ldx", MemoryOperands(size, dst, src, offset), IsSize(size) ? FramePointerReason("the destination") : SizeReason(size));

    /// <summary>dst = *(s8/s16/s32 *)(src + offset), sign-extended to 64 bits (cpu v4).</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10 or the size is not B, H or W.</exception>
    public InstructionBuilder LdxSx(MemorySize size, Register dst, Register src, short offset)
    {
        if (size is not (MemorySize.B or MemorySize.H or MemorySize.W))
            throw Invalid("ldxsx", MemoryOperands(size, dst, src, offset), "sign-extending loads have sizes B, H and W only.");
        if (dst.IsFramePointer) throw Invalid("ldxsx", MemoryOperands(size, dst, src, offset), FramePointerReason("the destination"));
        return Emit(Opcode.Memory(InstructionClass.Ldx, MemoryMode.MemSx, size), dst.Index, src.Index, offset, 0);
    }

    /// <summary>*(size *)(dst + offset) = imm (truncated to the size).</summary>
    /// <exception cref="InvalidInstructionException">The size is undefined.</exception>
    public InstructionBuilder St(MemorySize size, Register dst, short offset, int imm)
    {
        if (!IsSize(size)) throw StRefusal(size, dst, offset, imm);
        return Emit(Opcode.Memory(InstructionClass.St, MemoryMode.Mem, size), dst.Index, 0, offset, imm);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static InvalidInstructionException StRefusal(MemorySize size, Register dst, short offset, int imm) =>
        Invalid("st", string.Create(CultureInfo.InvariantCulture, $"{SizeName(size)}, {dst}, {offset}, {imm}"), SizeReason(size));

    /// <summary>*(size *)(dst + offset) = src.</summary>
    /// <exception cref="InvalidInstructionException">The size is undefined.</exception>
    public InstructionBuilder Stx(MemorySize size, Register dst, short offset, Register src)
    {
        if (!IsSize(size)) throw Invalid("stx", MemoryOperands(size, dst, src, offset), SizeReason(size)); // MemoryOperands formats only here
        return Emit(Opcode.Memory(InstructionClass.Stx, MemoryMode.Mem, size), dst.Index, src.Index, offset, 0);
    }

    /// <summary>lock *(size *)(dst + offset) += src; size W or DW.</summary>
    /// <exception cref="InvalidInstructionException">The size is not W or DW.</exception>
    public InstructionBuilder AtomicAdd(MemorySize size, Register dst, short offset, Register src) => Atomic(AtomicOperation.Add, size, dst, offset, src);

    /// <summary>lock *(size *)(dst + offset) |= src; size W or DW.</summary>
    /// <exception cref="InvalidInstructionException">The size is not W or DW.</exception>
    public InstructionBuilder AtomicOr(MemorySize size, Register dst, short offset, Register src) => Atomic(AtomicOperation.Or, size, dst, offset, src);

    /// <summary>lock *(size *)(dst + offset) &amp;= src; size W or DW.</summary>
    /// <exception cref="InvalidInstructionException">The size is not W or DW.</exception>
    public InstructionBuilder AtomicAnd(MemorySize size, Register dst, short offset, Register src) => Atomic(AtomicOperation.And, size, dst, offset, src);

    /// <summary>lock *(size *)(dst + offset) ^= src; size W or DW.</summary>
    /// <exception cref="InvalidInstructionException">The size is not W or DW.</exception>
    public InstructionBuilder AtomicXor(MemorySize size, Register dst, short offset, Register src) => Atomic(AtomicOperation.Xor, size, dst, offset, src);

    /// <summary>src = atomic_fetch_add((size *)(dst + offset), src); size W or DW.</summary>
    /// <exception cref="InvalidInstructionException">The size is not W or DW, or src is r10.</exception>
    public InstructionBuilder AtomicFetchAdd(MemorySize size, Register dst, short offset, Register src) => Atomic(AtomicOperation.FetchAdd, size, dst, offset, src);

    /// <summary>src = atomic_fetch_or((size *)(dst + offset), src); size W or DW.</summary>
    /// <exception cref="InvalidInstructionException">The size is not W or DW, or src is r10.</exception>
    public InstructionBuilder AtomicFetchOr(MemorySize size, Register dst, short offset, Register src) => Atomic(AtomicOperation.FetchOr, size, dst, offset, src);

    /// <summary>src = atomic_fetch_and((size *)(dst + offset), src); size W or DW.</summary>
    /// <exception cref="InvalidInstructionException">The size is not W or DW, or src is r10.</exception>
    public InstructionBuilder AtomicFetchAnd(MemorySize size, Register dst, short offset, Register src) => Atomic(AtomicOperation.FetchAnd, size, dst, offset, src);

    /// <summary>src = atomic_fetch_xor((size *)(dst + offset), src); size W or DW.</summary>
    /// <exception cref="InvalidInstructionException">The size is not W or DW, or src is r10.</exception>
    public InstructionBuilder AtomicFetchXor(MemorySize size, Register dst, short offset, Register src) => Atomic(AtomicOperation.FetchXor, size, dst, offset, src);

    /// <summary>src = xchg((size *)(dst + offset), src); size W or DW.</summary>
    /// <exception cref="InvalidInstructionException">The size is not W or DW, or src is r10.</exception>
    public InstructionBuilder AtomicExchange(MemorySize size, Register dst, short offset, Register src) => Atomic(AtomicOperation.Xchg, size, dst, offset, src);

    /// <summary>r0 = cmpxchg((size *)(dst + offset), r0, src): stores src if the old value equals r0; size W or DW.</summary>
    /// <exception cref="InvalidInstructionException">The size is not W or DW.</exception>
    public InstructionBuilder AtomicCompareExchange(MemorySize size, Register dst, short offset, Register src) => Atomic(AtomicOperation.CmpXchg, size, dst, offset, src);

    /// <summary>dst = load_acquire((size *)(src + offset)); any size (Linux 6.15+).</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10 or the size is undefined.</exception>
    public InstructionBuilder LoadAcquire(MemorySize size, Register dst, Register src, short offset)
    {
        if (!IsSize(size)) throw Invalid("load_acquire", MemoryOperands(size, dst, src, offset), SizeReason(size));
        if (dst.IsFramePointer) throw Invalid("load_acquire", MemoryOperands(size, dst, src, offset), FramePointerReason("the destination"));
        return Emit(Opcode.Memory(InstructionClass.Stx, MemoryMode.Atomic, size), dst.Index, src.Index, offset, (int)AtomicOperation.LoadAcquire);
    }

    /// <summary>store_release((size *)(dst + offset), src); any size (Linux 6.15+).</summary>
    /// <exception cref="InvalidInstructionException">The size is undefined.</exception>
    public InstructionBuilder StoreRelease(MemorySize size, Register dst, short offset, Register src)
    {
        if (!IsSize(size)) throw Invalid("store_release", MemoryOperands(size, dst, src, offset), SizeReason(size));
        return Emit(Opcode.Memory(InstructionClass.Stx, MemoryMode.Atomic, size), dst.Index, src.Index, offset, (int)AtomicOperation.StoreRelease);
    }

    /// <summary>
    /// Any atomic operation on (size *)(dst + offset) with operand src. Read-modify-write operations
    /// have sizes W and DW; load-acquire (dst is loaded from src + offset) and store-release have all four.
    /// </summary>
    /// <exception cref="InvalidInstructionException">The operation or size is undefined, or a register it writes is r10.</exception>
    public InstructionBuilder Atomic(AtomicOperation operation, MemorySize size, Register dst, short offset, Register src)
    {
        switch (operation)
        {
            case AtomicOperation.LoadAcquire: return LoadAcquire(size, dst, src, offset);
            case AtomicOperation.StoreRelease: return StoreRelease(size, dst, offset, src);
            case AtomicOperation.Add or AtomicOperation.Or or AtomicOperation.And or AtomicOperation.Xor
                or AtomicOperation.FetchAdd or AtomicOperation.FetchOr or AtomicOperation.FetchAnd or AtomicOperation.FetchXor
                or AtomicOperation.Xchg or AtomicOperation.CmpXchg:
                break;
            default:
                throw Invalid("atomic", string.Create(CultureInfo.InvariantCulture, $"0x{(int)operation:x}, {size}, {dst}, {offset}, {src}"),
                    "not an atomic operation.");
        }
        if (size is not (MemorySize.W or MemorySize.DW))
            throw Invalid(AtomicMnemonic(operation), MemoryOperands(size, dst, src, offset),
                $"atomic read-modify-write operations have sizes W and DW only, not {SizeName(size)}.");
        // Fetching operations write the old value back into src (cmpxchg into r0).
        if (((int)operation & Isa.AtomicFetch) != 0 && operation != AtomicOperation.CmpXchg && src.IsFramePointer)
            throw Invalid(AtomicMnemonic(operation), MemoryOperands(size, dst, src, offset), FramePointerReason("the register that receives the old value"));
        return Emit(Opcode.Memory(InstructionClass.Stx, MemoryMode.Atomic, size), dst.Index, src.Index, offset, (int)operation);
    }

    /// <summary>dst = imm64 (ld_imm64, two slots).</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder LoadImm64(Register dst, long value) =>
        LoadPseudo("ld_imm64", dst, PseudoSource.None, (int)value, (int)(value >> 32));

    /// <summary>
    /// dst = pointer to the map named <paramref name="mapName"/>: emits ld_imm64 with source
    /// <see cref="PseudoSource.MapFd"/> and immediate 0, and records a <see cref="MapReference"/> for the
    /// loader to patch the fd in.
    /// </summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10 or the name is empty.</exception>
    public InstructionBuilder LoadMap(Register dst, string mapName)
    {
        CheckMapName("ld_map", dst, mapName);
        LoadPseudo("ld_map", dst, PseudoSource.MapFd, 0, 0);
        // The reference names the instruction just emitted.
        (_mapReferences ??= []).Add(new MapReference(_count - 1, mapName, PseudoSource.MapFd, 0));
        return this;
    }

    /// <summary>
    /// dst = pointer into the value of the (array) map <paramref name="mapName"/> at
    /// <paramref name="valueOffset"/>: ld_imm64 with source <see cref="PseudoSource.MapValue"/>,
    /// immediate 0 (patched by the loader) and the offset in the second immediate.
    /// </summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10, the name is empty or the offset negative.</exception>
    public InstructionBuilder LoadMapValue(Register dst, string mapName, int valueOffset = 0)
    {
        CheckMapName("ld_map_value", dst, mapName);
        if (valueOffset < 0)
            throw Invalid("ld_map_value", string.Create(CultureInfo.InvariantCulture, $"{dst}, {mapName}, {valueOffset}"), "the value offset cannot be negative.");
        LoadPseudo("ld_map_value", dst, PseudoSource.MapValue, 0, valueOffset);
        (_mapReferences ??= []).Add(new MapReference(_count - 1, mapName, PseudoSource.MapValue, valueOffset));
        return this;
    }

    /// <summary>dst = pointer to the map whose fd is <paramref name="mapFd"/> (ld_imm64, source <see cref="PseudoSource.MapFd"/>).</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder LoadMapFd(Register dst, int mapFd) => LoadPseudo("ld_map_fd", dst, PseudoSource.MapFd, mapFd, 0);

    /// <summary>dst = pointer to the map at <paramref name="fdArrayIndex"/> of the load-time fd array (source <see cref="PseudoSource.MapIndex"/>).</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder LoadMapByIndex(Register dst, int fdArrayIndex) => LoadPseudo("ld_map_idx", dst, PseudoSource.MapIndex, fdArrayIndex, 0);

    /// <summary>dst = pointer into the value of the map at <paramref name="fdArrayIndex"/> (source <see cref="PseudoSource.MapIndexValue"/>).</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10 or the offset is negative.</exception>
    public InstructionBuilder LoadMapValueByIndex(Register dst, int fdArrayIndex, int valueOffset)
    {
        if (valueOffset < 0)
            throw Invalid("ld_map_idx_value", string.Create(CultureInfo.InvariantCulture, $"{dst}, {fdArrayIndex}, {valueOffset}"), "the value offset cannot be negative.");
        return LoadPseudo("ld_map_idx_value", dst, PseudoSource.MapIndexValue, fdArrayIndex, valueOffset);
    }

    /// <summary>dst = address of the kernel variable with BTF id <paramref name="btfId"/> (source <see cref="PseudoSource.BtfId"/>); <paramref name="moduleBtfFd"/> 0 means vmlinux.</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    public InstructionBuilder LoadBtfId(Register dst, int btfId, int moduleBtfFd = 0) => LoadPseudo("ld_btf_id", dst, PseudoSource.BtfId, btfId, moduleBtfFd);

    /// <summary>dst = address of the bpf-to-bpf function at <paramref name="function"/> (source <see cref="PseudoSource.Func"/>, resolved at encode time).</summary>
    /// <exception cref="InvalidInstructionException"><paramref name="dst"/> is r10.</exception>
    /// <exception cref="ArgumentException">The label is default or from another builder.</exception>
    public InstructionBuilder LoadFunctionAddress(Register dst, Label function)
    {
        if (dst.IsFramePointer) throw Invalid("ld_func", $"{dst}, {function}", FramePointerReason("the destination"));
        return EmitWithFixup(Opcode.LoadImmediate64, dst.Index, (byte)PseudoSource.Func, 0, 0, function, FixupKind.Immediate32);
    }

    /// <summary>r0 = ntoh(*(size *)(skb->data + imm)): legacy packet load, sizes B, H, W; the verifier accepts it only for program types whose context is an skb.</summary>
    /// <exception cref="InvalidInstructionException">The size is DW or undefined.</exception>
    public InstructionBuilder LdAbs(MemorySize size, int imm)
    {
        if (size is not (MemorySize.B or MemorySize.H or MemorySize.W))
            throw Invalid("ldabs", string.Create(CultureInfo.InvariantCulture, $"{size}, {imm}"), "legacy packet loads have sizes B, H and W only.");
        return Emit(Opcode.Memory(InstructionClass.Ld, MemoryMode.Abs, size), 0, 0, 0, imm);
    }

    /// <summary>r0 = ntoh(*(size *)(skb->data + src + imm)): legacy packet load, sizes B, H, W; skb program types only.</summary>
    /// <exception cref="InvalidInstructionException">The size is DW or undefined.</exception>
    public InstructionBuilder LdInd(MemorySize size, Register src, int imm)
    {
        if (size is not (MemorySize.B or MemorySize.H or MemorySize.W))
            throw Invalid("ldind", string.Create(CultureInfo.InvariantCulture, $"{size}, {src}, {imm}"), "legacy packet loads have sizes B, H and W only.");
        return Emit(Opcode.Memory(InstructionClass.Ld, MemoryMode.Ind, size), 0, src.Index, 0, imm);
    }

    private InstructionBuilder LoadPseudo(string mnemonic, Register dst, PseudoSource kind, int imm, int immHigh)
    {
        if (dst.IsFramePointer)
            throw Invalid(mnemonic, string.Create(CultureInfo.InvariantCulture, $"{dst}, {imm}, {immHigh}"), FramePointerReason("the destination"));
        return Emit(new Instruction(Opcode.LoadImmediate64, dst.Index, (byte)kind, 0, imm, immHigh, true));
    }

    private static void CheckMapName(string mnemonic, Register dst, string mapName)
    {
        ArgumentNullException.ThrowIfNull(mapName);
        if (mapName.Length == 0) throw Invalid(mnemonic, $"{dst}, \"\"", "the map name is empty.");
    }

    private static bool IsSize(MemorySize size) => size is MemorySize.B or MemorySize.H or MemorySize.W or MemorySize.DW;

    private static string SizeReason(MemorySize size) =>
        string.Create(CultureInfo.InvariantCulture, $"0x{(byte)size:x2} is not a memory size (B, H, W, DW).");

    private static string AtomicMnemonic(AtomicOperation operation) => "atomic_" + operation.ToString().ToLowerInvariant();

    private static string SizeName(MemorySize size) =>
        Enum.IsDefined(size) ? size.ToString() : string.Create(CultureInfo.InvariantCulture, $"0x{(byte)size:x2}");

    private static string MemoryOperands(MemorySize size, Register dst, Register src, short offset) =>
        string.Create(CultureInfo.InvariantCulture, $"{SizeName(size)}, {dst}, {src}, {offset}");
}
