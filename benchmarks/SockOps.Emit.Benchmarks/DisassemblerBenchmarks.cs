using System.Buffers;
using BenchmarkDotNet.Attributes;
using SockOps.Emit.Assembler;

namespace SockOps.Emit.Benchmarks;

/// <summary>
/// Disassembly of a 1000-instruction program with a typical mix (ALU, jumps, stack loads and
/// stores, ld_imm64, calls, atomics). Target: at most 150 ns per instruction. Results are per
/// instruction (OperationsPerInvoke).
/// </summary>
[MemoryDiagnoser]
public class DisassemblerBenchmarks
{
    private const int Count = 1000;

    private static readonly Instruction[] Mix =
    [
        new(0xbf, 6, 1, 0, 0),                             // r6 = r1
        new(0xb7, 0, 0, 0, 1),                             // r0 = 1
        new(0x07, 1, 0, 0, -64),                           // r1 += -64
        new(0x0c, 2, 3, 0, 0),                             // w2 += w3
        new(0x61, 1, 6, 16, 0),                            // r1 = *(u32 *)(r6 + 16)
        new(0x7b, 10, 1, -8, 0),                           // *(u64 *)(r10 - 8) = r1
        new(0x79, 2, 10, -8, 0),                           // r2 = *(u64 *)(r10 - 8)
        new(0x15, 1, 0, 3, 0),                             // if r1 == 0 goto +3
        new(0x5e, 2, 3, -5, 0),                            // if w2 != w3 goto -5
        new(0xa5, 4, 0, 12, 1024),                         // if r4 < 1024 goto +12
        Instruction.LoadImmediate64(Register.R1, 5, PseudoSource.MapFd),
        Instruction.LoadImmediate64(Register.R2, 0x123456789abcdef0),
        new(0x85, 0, 0, 0, 1),                             // call 1
        new(0xdb, 10, 2, -16, (int)AtomicOperation.FetchAdd),
        new(0xdc, 3, 0, 0, 16),                            // r3 = be16 r3
        new(0x05, 0, 0, -20, 0),                           // goto -20
        new(0x95, 0, 0, 0, 0),                             // exit
    ];

    private readonly Instruction[] program = new Instruction[Count];
    private readonly ArrayBufferWriter<char> buffer = new(Count * Disassembler.MaxInstructionLength);

    [GlobalSetup]
    public void Setup()
    {
        for (int i = 0; i < Count; i++) program[i] = Mix[i % Mix.Length];
    }

    [Benchmark(OperationsPerInvoke = Count)]
    public void Llvm_into_buffer()
    {
        buffer.ResetWrittenCount();
        foreach (Instruction insn in program) Disassembler.Format(insn, DisassemblySyntax.Llvm, buffer);
    }

    [Benchmark(OperationsPerInvoke = Count)]
    public void Kernel_into_buffer()
    {
        buffer.ResetWrittenCount();
        foreach (Instruction insn in program) Disassembler.Format(insn, DisassemblySyntax.Kernel, buffer);
    }

    [Benchmark(OperationsPerInvoke = Count)]
    public int Llvm_to_string()
    {
        int total = 0;
        foreach (Instruction insn in program) total += Disassembler.Format(insn).Length;
        return total;
    }

    [Benchmark(OperationsPerInvoke = Count)]
    public IReadOnlyList<string> Llvm_program_listing_with_addresses() =>
        Disassembler.FormatProgram(program, DisassemblySyntax.Llvm, includeAddresses: true);
}
