namespace SockOps.Emit.Assembler;

/// <summary>The instruction class: the low three bits of the opcode (RFC 9669 §3).</summary>
public enum InstructionClass : byte
{
    /// <summary>Non-standard load (only the 64-bit immediate form and legacy packet loads).</summary>
    Ld = 0x00,
    /// <summary>Load from memory into a register.</summary>
    Ldx = 0x01,
    /// <summary>Store an immediate into memory.</summary>
    St = 0x02,
    /// <summary>Store a register into memory (also atomics).</summary>
    Stx = 0x03,
    /// <summary>32-bit arithmetic.</summary>
    Alu = 0x04,
    /// <summary>64-bit jumps, calls and exit.</summary>
    Jmp = 0x05,
    /// <summary>32-bit jumps.</summary>
    Jmp32 = 0x06,
    /// <summary>64-bit arithmetic.</summary>
    Alu64 = 0x07,
}

/// <summary>Access size of a load or store: opcode bits 3-4.</summary>
public enum MemorySize : byte
{
    /// <summary>4 bytes (u32).</summary>
    W = 0x00,
    /// <summary>2 bytes (u16).</summary>
    H = 0x08,
    /// <summary>1 byte (u8).</summary>
    B = 0x10,
    /// <summary>8 bytes (u64).</summary>
    DW = 0x18,
}

/// <summary>Addressing mode of a load or store: opcode bits 5-7.</summary>
public enum MemoryMode : byte
{
    /// <summary>Immediate (only the 64-bit immediate load).</summary>
    Imm = 0x00,
    /// <summary>Legacy packet access, absolute offset.</summary>
    Abs = 0x20,
    /// <summary>Legacy packet access, indirect offset.</summary>
    Ind = 0x40,
    /// <summary>Regular memory access.</summary>
    Mem = 0x60,
    /// <summary>Sign-extending load (cpu v4).</summary>
    MemSx = 0x80,
    /// <summary>Atomic operation; the operation is in the immediate.</summary>
    Atomic = 0xc0,
}

/// <summary>Operand source of an ALU or jump instruction: opcode bit 3.</summary>
public enum OperandSource : byte
{
    /// <summary>The 32-bit immediate.</summary>
    Immediate = 0x00,
    /// <summary>The source register.</summary>
    Register = 0x08,
}

/// <summary>Arithmetic operation: opcode bits 4-7 of ALU and ALU64 instructions.</summary>
public enum AluOperation : byte
{
    /// <summary>dst += src</summary>
    Add = 0x00,
    /// <summary>dst -= src</summary>
    Sub = 0x10,
    /// <summary>dst *= src</summary>
    Mul = 0x20,
    /// <summary>dst /= src (signed when the offset is 1)</summary>
    Div = 0x30,
    /// <summary>dst |= src</summary>
    Or = 0x40,
    /// <summary>dst &amp;= src</summary>
    And = 0x50,
    /// <summary>dst &lt;&lt;= src</summary>
    Lsh = 0x60,
    /// <summary>dst &gt;&gt;= src (logical)</summary>
    Rsh = 0x70,
    /// <summary>dst = -dst</summary>
    Neg = 0x80,
    /// <summary>dst %= src (signed when the offset is 1)</summary>
    Mod = 0x90,
    /// <summary>dst ^= src</summary>
    Xor = 0xa0,
    /// <summary>dst = src (sign-extending when the offset is 8, 16 or 32)</summary>
    Mov = 0xb0,
    /// <summary>dst &gt;&gt;= src (arithmetic)</summary>
    Arsh = 0xc0,
    /// <summary>Byte swap; the width is in the immediate.</summary>
    End = 0xd0,
}

/// <summary>Jump operation: opcode bits 4-7 of JMP and JMP32 instructions.</summary>
public enum JumpOperation : byte
{
    /// <summary>Unconditional jump (JMP: offset; JMP32: 32-bit immediate, "gotol").</summary>
    Ja = 0x00,
    /// <summary>Jump if equal.</summary>
    Jeq = 0x10,
    /// <summary>Jump if unsigned greater.</summary>
    Jgt = 0x20,
    /// <summary>Jump if unsigned greater or equal.</summary>
    Jge = 0x30,
    /// <summary>Jump if dst &amp; src is not zero.</summary>
    Jset = 0x40,
    /// <summary>Jump if not equal.</summary>
    Jne = 0x50,
    /// <summary>Jump if signed greater.</summary>
    Jsgt = 0x60,
    /// <summary>Jump if signed greater or equal.</summary>
    Jsge = 0x70,
    /// <summary>Function call (helper, bpf-to-bpf or kfunc, by the source register field).</summary>
    Call = 0x80,
    /// <summary>Return from the function.</summary>
    Exit = 0x90,
    /// <summary>Jump if unsigned less.</summary>
    Jlt = 0xa0,
    /// <summary>Jump if unsigned less or equal.</summary>
    Jle = 0xb0,
    /// <summary>Jump if signed less.</summary>
    Jslt = 0xc0,
    /// <summary>Jump if signed less or equal.</summary>
    Jsle = 0xd0,
    /// <summary>Conditional pseudo jump (JMP class only): <c>may_goto</c> when the source field is 0 (Linux 6.9+).</summary>
    Jcond = 0xe0,
}

/// <summary>Atomic operation codes carried in the immediate of a BPF_ATOMIC instruction.</summary>
public enum AtomicOperation
{
    /// <summary>*addr += src</summary>
    Add = 0x00,
    /// <summary>*addr |= src</summary>
    Or = 0x40,
    /// <summary>*addr &amp;= src</summary>
    And = 0x50,
    /// <summary>*addr ^= src</summary>
    Xor = 0xa0,
    /// <summary>src = atomic_fetch_add(addr, src)</summary>
    FetchAdd = 0x01,
    /// <summary>src = atomic_fetch_or(addr, src)</summary>
    FetchOr = 0x41,
    /// <summary>src = atomic_fetch_and(addr, src)</summary>
    FetchAnd = 0x51,
    /// <summary>src = atomic_fetch_xor(addr, src)</summary>
    FetchXor = 0xa1,
    /// <summary>src = xchg(addr, src)</summary>
    Xchg = 0xe1,
    /// <summary>r0 = cmpxchg(addr, r0, src)</summary>
    CmpXchg = 0xf1,
    /// <summary>dst = load_acquire(src + off) (Linux 6.15+)</summary>
    LoadAcquire = 0x100,
    /// <summary>store_release(dst + off, src) (Linux 6.15+)</summary>
    StoreRelease = 0x110,
}

/// <summary>Meaning of the source register field of a 64-bit immediate load (<c>ld_imm64</c>).</summary>
public enum PseudoSource : byte
{
    /// <summary>A plain 64-bit constant.</summary>
    None = 0,
    /// <summary>The immediate is a map fd; the register receives the map pointer.</summary>
    MapFd = 1,
    /// <summary>The immediate is a map fd, the next immediate an offset into its value.</summary>
    MapValue = 2,
    /// <summary>The immediate is a BTF id of a kernel variable.</summary>
    BtfId = 3,
    /// <summary>The immediate is a relative instruction offset of a bpf-to-bpf function.</summary>
    Func = 4,
    /// <summary>The immediate is an index into the fd array given at load time.</summary>
    MapIndex = 5,
    /// <summary>Map index plus an offset into the value.</summary>
    MapIndexValue = 6,
}

/// <summary>Meaning of the source register field of a <c>call</c> instruction.</summary>
public enum CallKind : byte
{
    /// <summary>A kernel helper by id.</summary>
    Helper = 0,
    /// <summary>A bpf-to-bpf call; the immediate is the relative instruction offset.</summary>
    Local = 1,
    /// <summary>A kernel function by BTF id.</summary>
    Kfunc = 2,
}

/// <summary>Opcode constants and helpers to take opcodes apart.</summary>
public static class Opcode
{
    /// <summary>The opcode of the 16-byte 64-bit immediate load (<c>BPF_LD | BPF_IMM | BPF_DW</c>).</summary>
    public const byte LoadImmediate64 = 0x18;

    /// <summary>The opcode of a call (<c>BPF_JMP | BPF_CALL</c>): helper, bpf-to-bpf or kfunc by the source field.</summary>
    public const byte Call = 0x85;

    /// <summary>The class bits of an opcode.</summary>
    public static InstructionClass ClassOf(byte opcode) => (InstructionClass)(opcode & 0x07);

    /// <summary>Whether the class is ALU or ALU64.</summary>
    public static bool IsAlu(InstructionClass c) => c is InstructionClass.Alu or InstructionClass.Alu64;

    /// <summary>Whether the class is JMP or JMP32.</summary>
    public static bool IsJump(InstructionClass c) => c is InstructionClass.Jmp or InstructionClass.Jmp32;

    /// <summary>Builds an ALU opcode.</summary>
    public static byte Alu(bool is64, AluOperation op, OperandSource source) =>
        (byte)((byte)op | (byte)source | (byte)(is64 ? InstructionClass.Alu64 : InstructionClass.Alu));

    /// <summary>Builds a jump opcode.</summary>
    public static byte Jump(bool is64, JumpOperation op, OperandSource source) =>
        (byte)((byte)op | (byte)source | (byte)(is64 ? InstructionClass.Jmp : InstructionClass.Jmp32));

    /// <summary>Builds a load/store opcode.</summary>
    public static byte Memory(InstructionClass cls, MemoryMode mode, MemorySize size) =>
        (byte)((byte)mode | (byte)size | (byte)cls);
}
