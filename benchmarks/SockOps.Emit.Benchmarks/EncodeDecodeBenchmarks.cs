using BenchmarkDotNet.Attributes;
using SockOps.Emit.Assembler;
using static SockOps.Emit.Assembler.Register;

namespace SockOps.Emit.Benchmarks;

/// <summary>
/// Assembler throughput per instruction (OperationsPerInvoke = instruction count): building a
/// ~1000-instruction program with ~180 labels and 270 fix-ups and encoding it, and decoding it.
/// Targets: encode ≤ 10 ns and ≤ 8 B allocated per instruction (excluding the output), decode ≤ 5 ns.
/// </summary>
[MemoryDiagnoser]
#pragma warning disable CA1001 // BenchmarkDotNet needs an unsealed class; [GlobalCleanup] disposes the builders.
public class EncodeDecodeBenchmarks
#pragma warning restore CA1001
{
    private const int Blocks = 90;
    // Instructions Emit produces (checked in Setup): 1 + 11 per block + 2; ~181 labels, 270 fix-ups.
    private const int Instructions = 1 + Blocks * 11 + 2;
    private InstructionBuilder _reused = null!;
    private InstructionBuilder _built = null!;
    private byte[] _bytes = [];
    private byte[] _output = [];
    private Instruction[] _instructions = [];
    private Instruction[] _copy = [];

    [GlobalSetup]
    public void Setup()
    {
        _reused = new InstructionBuilder(2048);
        _built = new InstructionBuilder(2048);
        Emit(_built);
        if (_built.Count != Instructions) throw new InvalidOperationException($"Emit produced {_built.Count} instructions, not {Instructions}.");
        var program = _built.Encode();
        _bytes = program.ToBytes();
        _output = new byte[_bytes.Length];
        _instructions = program.Instructions.ToArray();
        _copy = new Instruction[_instructions.Length];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _reused.Dispose();
        _built.Dispose();
    }

    // A loop-heavy program: per block a backward loop, forward exits, a map load and a helper call.
    private static void Emit(InstructionBuilder b)
    {
        var done = b.CreateLabel();
        b.Mov(R6, R1);
        for (int block = 0; block < Blocks; block++)
        {
            var top = b.CreateLabel();
            var skip = b.CreateLabel();
            b.Mov(R7, 16)
             .MarkLabel(top)
             .Ldx(MemorySize.W, R2, R6, 4)
             .Add(R2.W, 1)
             .Stx(MemorySize.W, R10, -8, R2)
             .JumpIf(R2, JumpCondition.Greater, 1000, skip)
             .Sub(R7, 1)
             .JumpIf(R7.W, JumpCondition.NotEqual, 0, top)
             .LoadImm64(R3, 0x1122334455667788L)
             .MarkLabel(skip)
             .Mov(R1, R6)
             .Call(14)
             .JumpIf(R0, JumpCondition.SignedLess, R3, done);
        }
        b.MarkLabel(done).Mov(R0, 1).Exit();
    }

    /// <summary>Emit + resolve labels into a new builder each time (pooled buffers; allocates the result).</summary>
    [Benchmark(OperationsPerInvoke = Instructions)]
    public EncodedProgram BuildAndEncode_NewBuilder()
    {
        using var b = new InstructionBuilder();
        Emit(b);
        return b.Encode();
    }

    /// <summary>Emit + resolve labels, reusing one builder (allocates only the result).</summary>
    [Benchmark(OperationsPerInvoke = Instructions)]
    public EncodedProgram BuildAndEncode_ReusedBuilder()
    {
        _reused.Clear();
        Emit(_reused);
        return _reused.Encode();
    }

    /// <summary>Label resolution alone on an already built program.</summary>
    [Benchmark(OperationsPerInvoke = Instructions)]
    public EncodedProgram EncodeOnly() => _built.Encode();

    /// <summary>Emit + resolve + write bytes into a caller buffer.</summary>
    [Benchmark(OperationsPerInvoke = Instructions)]
    public int BuildEncodeAndWriteBytes()
    {
        _reused.Clear();
        Emit(_reused);
        return _reused.Encode().WriteTo(_output);
    }

    /// <summary>
    /// The machine's floor under the same conditions: copying the 16-byte instructions one by one,
    /// without any work. Compare the other rows with it when the machine is loaded.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Instructions, Baseline = true)]
    public int CopyInstructionsBaseline()
    {
        var source = _instructions;
        var destination = _copy;
        for (int i = 0; i < source.Length && i < destination.Length; i++) destination[i] = source[i];
        return destination.Length;
    }

    /// <summary>Bytes → Instruction[] with validation.</summary>
    [Benchmark(OperationsPerInvoke = Instructions)]
    public Instruction[] Decode() => InstructionDecoder.Decode(_bytes);

    /// <summary>Bytes → instructions with validation, no allocation.</summary>
    [Benchmark(OperationsPerInvoke = Instructions)]
    public int DecodeEnumerate()
    {
        int sum = 0;
        foreach (var insn in InstructionDecoder.Enumerate(_bytes)) sum += insn.Opcode;
        return sum;
    }
}
