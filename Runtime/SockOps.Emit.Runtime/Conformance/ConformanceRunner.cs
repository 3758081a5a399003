using System.Buffers.Binary;
using SockOps.Emit.Assembler;

namespace SockOps.Emit.Runtime.Conformance;

/// <summary>Outcome of one conformance test.</summary>
public enum ConformanceOutcome
{
    /// <summary>The kernel ran the program and r0 matched <c>-- result</c>.</summary>
    Passed,
    /// <summary>r0 differed, the program could not be assembled, or the kernel refused it.</summary>
    Failed,
    /// <summary>The test needs a cpu version above the selected one, or an instruction Linux lacks.</summary>
    Skipped,
    /// <summary>An instruction form is newer than the target kernel: refused before loading (never sent to the kernel).</summary>
    Unsupported,
}

/// <summary>Result of one conformance test file.</summary>
/// <param name="Name">The file name.</param>
/// <param name="Outcome">Passed, failed or skipped.</param>
/// <param name="Detail">Why it failed or was skipped; the kernel's reason for a refusal.</param>
/// <param name="KernelRefused">True when the kernel verifier refused the program (then <see cref="Detail"/> is its error line).</param>
public sealed record ConformanceResult(string Name, ConformanceOutcome Outcome, string Detail, bool KernelRefused = false);

/// <summary>
/// Runs the BPF ISA conformance suite's <c>.data</c> files through this project's text assembler
/// and loader the way the suite's own Linux runner does: the test code becomes a bpf-to-bpf
/// subprogram of an XDP program that stores the full 64-bit r0 into a one-entry array map, the
/// program runs once with BPF_PROG_TEST_RUN, and the map value is compared with <c>-- result</c>.
/// </summary>
public static class ConformanceRunner
{
    // XDP test runs need at least an Ethernet header of input.
    private const int MinimumPacketSize = 14;

    /// <summary>Runs one test file with the given cpu version (3 or 4).</summary>
    /// <param name="path">The <c>.data</c> file.</param>
    /// <param name="cpuVersion">3 skips the v4-only tests, as the suite's own runner does.</param>
    /// <param name="target">
    /// The kernel the programs are for: a test whose instructions include a form newer than it
    /// (<see cref="InstructionKernelSupport"/>) is <see cref="ConformanceOutcome.Unsupported"/> and never loaded.
    /// Null: no check (whatever the running kernel says).
    /// </param>
    public static ConformanceResult Run(string path, int cpuVersion = 4, KernelVersion? target = null)
    {
        string name = Path.GetFileName(path);
        ConformanceDataFile data;
        TextAssemblyResult assembled;
        try
        {
            data = ConformanceDataFile.Load(path);
            assembled = data.AssembleProgram();
        }
        catch (AsmSyntaxException e) when (e.Message.Contains("callx", StringComparison.Ordinal))
        {
            return new(name, ConformanceOutcome.Skipped, "callx (opcode 0x8d) is not a Linux instruction");
        }
        catch (Exception e) when (e is FormatException or InvalidDataException)
        {
            return new(name, ConformanceOutcome.Failed, "does not assemble: " + e.Message);
        }

        if (data.ExpectedResult is not ulong expected)
            return new(name, ConformanceOutcome.Skipped, data.ExpectedError is null ? "no '-- result' section" : "expects an error: " + data.ExpectedError);
        if (assembled.Instructions.Any(i => i.Opcode == 0x8d))
            return new(name, ConformanceOutcome.Skipped, "callx (opcode 0x8d) is not a Linux instruction");
        int required = CpuVersion.Required(assembled.Instructions);
        if (required > cpuVersion)
            return new(name, ConformanceOutcome.Skipped, $"needs cpu v{required}");
        if (target is { } kernel && InstructionKernelSupport.FirstUnsupported(assembled.Instructions, kernel) is { } unsupported)
            return new(name, ConformanceOutcome.Unsupported,
                $"instruction {unsupported.Index} is {unsupported.Form.Name}, which needs Linux {unsupported.Form.MinimumKernel}; the target is {kernel}");

        byte[] memory = [.. data.Memory];
        List<Instruction> program = Wrap(assembled.Instructions, data.HasMemory ? memory.Length : null);
        using var result = BpfMap.Create(new MapSpec { Type = MapType.Array, KeySize = 4, ValueSize = 8, MaxEntries = 1, Name = "result" });
        BpfProgram loaded;
        try
        {
            loaded = BpfProgram.Load(new ProgramLoadOptions
            {
                Type = ProgramType.Xdp,
                Name = "conformance",
                License = "GPL",
                Instructions = program,
                MapReferences = [new MapReference(ResultMapInstruction(data.HasMemory), "result", PseudoSource.MapValue)],
                Maps = new Dictionary<string, BpfMap> { ["result"] = result },
            });
        }
        catch (VerifierException e)
        {
            return new(name, ConformanceOutcome.Failed, "kernel refuses: " + e.ErrorLine, KernelRefused: true);
        }
        using (loaded)
        {
            byte[] packet = memory.Length >= MinimumPacketSize ? memory : [.. memory, .. new byte[MinimumPacketSize - memory.Length]];
            loaded.TestRun(packet);
        }
        Span<byte> value = stackalloc byte[8];
        result.TryLookup(stackalloc byte[4], value);
        ulong actual = BinaryPrimitives.ReadUInt64LittleEndian(value);
        return actual == expected
            ? new(name, ConformanceOutcome.Passed, $"0x{actual:x}")
            : new(name, ConformanceOutcome.Failed, $"expected 0x{expected:x}, got 0x{actual:x}");
    }

    /// <summary>Runs every <c>*.data</c> file of a directory, in name order.</summary>
    /// <param name="directory">The directory.</param>
    /// <param name="cpuVersion">3 or 4.</param>
    /// <param name="target">The target kernel (see <see cref="Run"/>).</param>
    public static IEnumerable<ConformanceResult> RunDirectory(string directory, int cpuVersion = 4, KernelVersion? target = null) =>
        Directory.GetFiles(directory, "*.data").Order(StringComparer.Ordinal).Select(f => Run(f, cpuVersion, target));

    /// <summary>
    /// Whether a failure is one the suite's own runner also has on Linux: the kernel verifier refuses
    /// shifts by an out-of-range immediate, which the suite expects to execute.
    /// </summary>
    public static bool IsKnownKernelRefusal(ConformanceResult result) =>
        result.Outcome == ConformanceOutcome.Failed && result.KernelRefused && result.Detail.Contains("invalid shift", StringComparison.Ordinal);

    // Instruction index (not slot) of the ld_imm64 of the result map in the wrapper below.
    private static int ResultMapInstruction(bool withMemory) => withMemory ? 8 : 1;

    // Wrapper, by slot. Without memory:    With memory (r1 = data, r2 = size, as the suite's runner does):
    //   0: call test (slot 5)               0: r2 = *(u32 *)(r1 + 0)      ; xdp_md->data
    //   1: r1 = map_value(result) ll        1: r3 = *(u32 *)(r1 + 4)      ; xdp_md->data_end
    //   3: *(u64 *)(r1 + 0) = r0            2: r4 = r2
    //   4: exit                             3: r4 += size
    //   5..: test code                      4: if r4 > r3 goto 12
    //                                       5: r1 = r2
    //                                       6: r2 = size
    //                                       7: call test (slot 14)
    //                                       8: r1 = map_value(result) ll
    //                                      10: *(u64 *)(r1 + 0) = r0
    //                                      11: exit
    //                                      12: r0 = 0
    //                                      13: exit
    //                                      14..: test code
    private static List<Instruction> Wrap(IReadOnlyList<Instruction> test, int? memorySize)
    {
        var b = new List<Instruction>(test.Count + 16);
        byte callPseudo = (byte)CallKind.Local;
        byte call = Opcode.Jump(true, JumpOperation.Call, OperandSource.Immediate);
        byte exit = Opcode.Jump(true, JumpOperation.Exit, OperandSource.Immediate);
        byte stxdw = Opcode.Memory(InstructionClass.Stx, MemoryMode.Mem, MemorySize.DW);
        Instruction loadResult = Instruction.LoadImmediate64(Register.R1, 0, PseudoSource.MapValue);
        if (memorySize is int size)
        {
            byte ldxw = Opcode.Memory(InstructionClass.Ldx, MemoryMode.Mem, MemorySize.W);
            b.Add(new(ldxw, 2, 1, 0, 0));
            b.Add(new(ldxw, 3, 1, 4, 0));
            b.Add(new(Opcode.Alu(true, AluOperation.Mov, OperandSource.Register), 4, 2, 0, 0));
            b.Add(new(Opcode.Alu(true, AluOperation.Add, OperandSource.Immediate), 4, 0, 0, size));
            b.Add(new(Opcode.Jump(true, JumpOperation.Jgt, OperandSource.Register), 4, 3, 7, 0)); // slot 4 -> 12
            b.Add(new(Opcode.Alu(true, AluOperation.Mov, OperandSource.Register), 1, 2, 0, 0));
            b.Add(new(Opcode.Alu(true, AluOperation.Mov, OperandSource.Immediate), 2, 0, 0, size));
            b.Add(new(call, 0, callPseudo, 0, 6));                                                // slot 7 -> 14 (test)
            b.Add(loadResult);                                                                    // slots 8-9
            b.Add(new(stxdw, 1, 0, 0, 0));                                                        // slot 10
            b.Add(new(exit, 0, 0, 0, 0));                                                         // slot 11
            b.Add(new(Opcode.Alu(true, AluOperation.Mov, OperandSource.Immediate), 0, 0, 0, 0));  // slot 12 fail
            b.Add(new(exit, 0, 0, 0, 0));                                                         // slot 13
        }
        else
        {
            b.Add(new(call, 0, callPseudo, 0, 4));  // slot 0 -> 5 (test)
            b.Add(loadResult);                      // slots 1-2
            b.Add(new(stxdw, 1, 0, 0, 0));          // slot 3
            b.Add(new(exit, 0, 0, 0, 0));           // slot 4
        }
        b.AddRange(test);
        return b;
    }
}
