using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using SockOps.Emit.Assembler;

namespace SockOps.Emit.Benchmarks;

/// <summary>
/// Text assembler throughput: ~1000 lines of LLVM syntax (and the same program in the conformance
/// dialect) with labels, forward and backward jumps, ld_imm64, loads, stores and atomics.
/// Results are per instruction (OperationsPerInvoke). Target: parse text ≤ 300 ns per instruction.
/// </summary>
[MemoryDiagnoser]
public class TextAssemblerBenchmarks
{
    private const int Blocks = 50;

    private string _llvm = "";
    private string _conformance = "";

    [GlobalSetup]
    public void Setup()
    {
        var llvm = new StringBuilder();
        var conformance = new StringBuilder();
        for (int b = 0; b < Blocks; b++)
        {
            string next = "LBB0_" + (b + 1).ToString(CultureInfo.InvariantCulture);
            string self = "LBB0_" + b.ToString(CultureInfo.InvariantCulture);
            llvm.Append(self).Append(":\n").Append(CultureInfo.InvariantCulture, $"""
                  r1 = *(u32 *)(r6 + 4)
                  w2 = *(u8 *)(r6 + 12)
                  r3 = 0x123456789abcdef0 ll
                  r1 += r3
                  w2 &= 255
                  r4 = r10
                  r4 += -16    # frame slot
                  *(u64 *)(r10 - 8) = r1
                  *(u32 *)(r10 - 16) = 7
                  lock *(u64 *)(r10 - 8) += r1
                  if r1 s> 5 goto {next}
                  if w2 == w3 goto {self}
                  r0 = be16 r0
                  r5 <<= 3
                  r5 s>>= 1
                  call 1
                  r0 = -r0
                  if r0 != 0x7fffffff goto +1
                  goto {next}

                """);
            conformance.Append(self).Append(":\n").Append(CultureInfo.InvariantCulture, $"""
                ldxw %r1, [%r6+4]
                ldxb %r2, [%r6+12]
                lddw %r3, 0x123456789abcdef0
                add %r1, %r3
                and32 %r2, 255
                mov %r4, %r10
                add %r4, -16    # frame slot
                stxdw [%r10-8], %r1
                stw [%r10-16], 7
                lock add [%r10-8], %r1
                jsgt %r1, 5, {next}
                jeq32 %r2, %r3, {self}
                be16 %r0
                lsh %r5, 3
                arsh %r5, 1
                call 1
                neg %r0
                jne %r0, 0x7fffffff, +1
                ja {next}

                """);
        }
        llvm.Append("LBB0_").Append(Blocks).Append(":\n  exit\n");
        conformance.Append("LBB0_").Append(Blocks).Append(":\nexit\n");
        _llvm = llvm.ToString();
        _conformance = conformance.ToString();
        // 19 statements per block, one of them ld_imm64, plus the final exit: check the count once.
        int count = TextAssembler.Assemble(_llvm).Instructions.Count;
        if (count != Blocks * 19 + 1 || TextAssembler.Assemble(_conformance, AsmDialect.Conformance).Instructions.Count != count)
            throw new InvalidOperationException($"benchmark program has {count} instructions");
    }

    /// <summary>Time per instruction to assemble LLVM text (about 1000 lines).</summary>
    [Benchmark(OperationsPerInvoke = Blocks * 19 + 1)]
    public TextAssemblyResult AssembleLlvm() => TextAssembler.Assemble(_llvm);

    /// <summary>Time per instruction to assemble the same program in the conformance dialect.</summary>
    [Benchmark(OperationsPerInvoke = Blocks * 19 + 1)]
    public TextAssemblyResult AssembleConformance() => TextAssembler.Assemble(_conformance, AsmDialect.Conformance);
}
