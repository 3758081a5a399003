using SockOps.Emit.Assembler;

namespace SockOps.Emit.Tests.Kernel;

/// <summary>Tiny instruction constructors for hand-built test programs (the Assembler's builder is written elsewhere).</summary>
internal static class Insn
{
    public static byte SizeCode(int size) => size switch
    {
        1 => (byte)MemorySize.B,
        2 => (byte)MemorySize.H,
        4 => (byte)MemorySize.W,
        8 => (byte)MemorySize.DW,
        _ => throw new ArgumentOutOfRangeException(nameof(size)),
    };

    public static Instruction Mov64(int dst, int imm) => new(Opcode.Alu(true, AluOperation.Mov, OperandSource.Immediate), (byte)dst, 0, 0, imm);
    public static Instruction Mov64Reg(int dst, int src) => new(Opcode.Alu(true, AluOperation.Mov, OperandSource.Register), (byte)dst, (byte)src, 0, 0);
    public static Instruction Mov32(int dst, int imm) => new(Opcode.Alu(false, AluOperation.Mov, OperandSource.Immediate), (byte)dst, 0, 0, imm);
    public static Instruction Alu64(AluOperation op, int dst, int imm, short offset = 0) => new(Opcode.Alu(true, op, OperandSource.Immediate), (byte)dst, 0, offset, imm);
    public static Instruction Alu32(AluOperation op, int dst, int imm, short offset = 0) => new(Opcode.Alu(false, op, OperandSource.Immediate), (byte)dst, 0, offset, imm);
    public static Instruction Alu64Reg(AluOperation op, int dst, int src) => new(Opcode.Alu(true, op, OperandSource.Register), (byte)dst, (byte)src, 0, 0);
    public static Instruction Ldx(int size, int dst, int src, short off) => new(Opcode.Memory(InstructionClass.Ldx, MemoryMode.Mem, (MemorySize)SizeCode(size)), (byte)dst, (byte)src, off, 0);
    public static Instruction Stx(int size, int dst, int src, short off) => new(Opcode.Memory(InstructionClass.Stx, MemoryMode.Mem, (MemorySize)SizeCode(size)), (byte)dst, (byte)src, off, 0);
    public static Instruction St(int size, int dst, short off, int imm) => new(Opcode.Memory(InstructionClass.St, MemoryMode.Mem, (MemorySize)SizeCode(size)), (byte)dst, 0, off, imm);
    public static Instruction AtomicAdd(int size, int dst, int src, short off) => new(Opcode.Memory(InstructionClass.Stx, MemoryMode.Atomic, (MemorySize)SizeCode(size)), (byte)dst, (byte)src, off, (int)AtomicOperation.Add);
    public static Instruction JeqImm(int dst, int imm, short off) => new(Opcode.Jump(true, JumpOperation.Jeq, OperandSource.Immediate), (byte)dst, 0, off, imm);
    public static Instruction JneImm(int dst, int imm, short off) => new(Opcode.Jump(true, JumpOperation.Jne, OperandSource.Immediate), (byte)dst, 0, off, imm);
    public static Instruction Ja(short off) => new(Opcode.Jump(true, JumpOperation.Ja, OperandSource.Immediate), 0, 0, off, 0);
    public static Instruction Call(int helper) => new(Opcode.Jump(true, JumpOperation.Call, OperandSource.Immediate), 0, 0, 0, helper);
    public static Instruction Exit() => new(Opcode.Jump(true, JumpOperation.Exit, OperandSource.Immediate), 0, 0, 0, 0);
    public static Instruction LdImm64(int dst, long value) => Instruction.LoadImmediate64(Register.FromIndex(dst), value);
}
