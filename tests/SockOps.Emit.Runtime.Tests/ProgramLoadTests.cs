using SockOps.Emit.Assembler;
using SockOps.Emit.TestSupport;
using static SockOps.Emit.Runtime.Tests.Asm;

namespace SockOps.Emit.Runtime.Tests;

public class ProgramLoadTests
{
    internal static ProgramLoadOptions SockOpsProgram(string name, params Instruction[] code) => ProgramLoadOptions.ForSockOps(name, code);

    [Fact]
    public void Minimal_sock_ops_program_loads_and_reports_its_info()
    {
        KernelGate.Require();
        using var program = BpfProgram.Load(SockOpsProgram("minimal", Mov64(0, 1), Exit()));
        var info = program.Info;
        Assert.True(info.Id > 0);
        Assert.Equal(ProgramType.SockOps, info.Type);
        Assert.Equal("minimal", info.Name);
        Assert.Matches("^[0-9a-f]{16}$", info.Tag);
        Assert.NotEqual("0000000000000000", info.Tag);
        Assert.Equal([Mov64(0, 1), Exit()], info.XlatedInstructions);
        Assert.Equal(2u, info.VerifiedInstructions);
        Assert.Null(program.VerifierLog);
    }

    [Fact]
    public void Span_overload_loads_the_same_program()
    {
        KernelGate.Require();
        ReadOnlySpan<Instruction> code = [Mov64(0, 0), Exit()];
        using var program = BpfProgram.Load(SockOpsProgram("span"), code);
        Assert.Equal(2, program.Info.XlatedInstructions.Count);
    }

    [Fact]
    public void Names_are_sanitized_to_the_kernel_alphabet_and_15_characters()
    {
        Assert.Equal("my_prog_name_th", BpfProgram.SanitizeName("my-prog name that is long"));
        Assert.Equal("a.b_c", BpfProgram.SanitizeName("a.b_c"));
        Assert.Equal("", BpfProgram.SanitizeName(null));
        KernelGate.Require();
        using var program = BpfProgram.Load(SockOpsProgram("count-ops/v2!", Mov64(0, 1), Exit()));
        Assert.Equal("count_ops_v2_", program.Info.Name);
    }

    [Fact]
    public void Requested_log_is_kept_and_grows_from_a_tiny_buffer()
    {
        KernelGate.Require();
        // 40 instructions at log level 2 produce far more than 256 bytes: the loader must grow the buffer on ENOSPC.
        var code = new List<Instruction>();
        for (int i = 0; i < 40; i++) code.Add(Mov64(2, i));
        code.Add(Mov64(0, 1));
        code.Add(Exit());
        using var program = BpfProgram.Load(new ProgramLoadOptions
        {
            Type = ProgramType.SockOps, Instructions = code, LogLevel = VerifierLogLevel.Verbose, InitialLogSize = 256, Name = "logged",
        });
        Assert.NotNull(program.VerifierLog);
        Assert.True(program.VerifierLog.Length > 256, program.VerifierLog);
        Assert.Contains("41: (95) exit", program.VerifierLog, StringComparison.Ordinal);
        Assert.Contains("processed 42 insns", program.VerifierLog, StringComparison.Ordinal);
    }

    [Fact]
    public void Map_references_are_patched_into_ld_imm64()
    {
        KernelGate.Require();
        using var counts = BpfMap<uint, ulong>.Create(MapType.Array, 4, "counts");
        Instruction[] code =
        [
            StW(10, -4, 2),          // key = 2 on the stack
            LdMapFd(1),              // r1 = &counts (patched)
            Mov64Reg(2, 10),
            Add64(2, -4),            // r2 = &key
            Call(HelperMapLookupElem),
            JeqImm(0, 0, 2),
            Mov64(1, 7),
            AtomicAdd64(0, 1, 0),    // *(u64*)value += 7
            Mov64(0, 1),
            Exit(),
        ];
        using var program = BpfProgram.Load(new ProgramLoadOptions
        {
            Type = ProgramType.SocketFilter,
            Name = "mapref",
            Instructions = code,
            MapReferences = [new MapReference(1, "counts")],
            Maps = new Dictionary<string, BpfMap> { ["counts"] = counts },
        });
        Assert.Contains(counts.Id, program.Info.MapIds);
        // Run it through BPF_PROG_TEST_RUN: the kernel executes the patched program on our map.
        uint result = program.TestRun(new byte[64]);
        Assert.Equal(1u, result);
        Assert.Equal(7ul, counts.Lookup(2));
        Assert.Equal(0ul, counts.Lookup(1));
    }

    [Fact]
    public void Map_value_reference_puts_the_offset_in_the_second_immediate()
    {
        KernelGate.Require();
        using var globals = BpfMap<uint, Pair>.Create(MapType.Array, 1, "globals");
        Instruction[] code =
        [
            Instruction.LoadImmediate64(Register.R1, 0, PseudoSource.MapValue), // r1 = &globals[0] + 8
            Mov64(2, 5),
            StxDW(1, 2, 0),
            Mov64(0, 0),
            Exit(),
        ];
        using var program = BpfProgram.Load(new ProgramLoadOptions
        {
            Type = ProgramType.SocketFilter,
            Name = "mapvalue",
            Instructions = code,
            MapReferences = [new MapReference(0, "globals", PseudoSource.MapValue, 8)],
            Maps = new Dictionary<string, BpfMap> { ["globals"] = globals },
        });
        program.TestRun(new byte[64]);
        Assert.Equal(new Pair(0, 5), globals.Lookup(0));
    }

    [Fact]
    public void Unresolvable_map_reference_names_the_instruction()
    {
        var e = Assert.Throws<MapReferenceException>(() => BpfProgram.Load(new ProgramLoadOptions
        {
            Type = ProgramType.SockOps,
            Instructions = [Mov64(0, 1), LdMapFd(1), Exit()],
            MapReferences = [new MapReference(1, "missing")],
            Maps = new Dictionary<string, BpfMap>(),
        }));
        Assert.Equal(1, e.InstructionIndex);
        Assert.Contains("'missing' at instruction 1", e.Message, StringComparison.Ordinal);

        var notWide = Assert.Throws<MapReferenceException>(() => BpfProgram.Load(new ProgramLoadOptions
        {
            Type = ProgramType.SockOps,
            Instructions = [Mov64(0, 1), Exit()],
            MapReferences = [new MapReference(0, "x")],
        }));
        Assert.Contains("not an ld_imm64", notWide.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Pinned_program_reopens_with_the_same_id()
    {
        KernelGate.Require();
        string path = Path.Combine(BpfFs.EnsureMounted(), "sockops_emit_prog_" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            uint id;
            using (var program = BpfProgram.Load(SockOpsProgram("pinned_prog", Mov64(0, 1), Exit())))
            {
                program.Pin(path);
                id = program.Info.Id;
            }
            using var reopened = BpfProgram.OpenPinned(path);
            Assert.Equal(id, reopened.Info.Id);
            Assert.Equal(ProgramType.SockOps, reopened.Type);
            Assert.Equal("pinned_prog", reopened.Name);
            var wrongKind = Assert.Throws<InvalidDataException>(() => BpfMap.OpenPinned(path));
            Assert.Contains("not a BPF map", wrongKind.Message, StringComparison.Ordinal);
            Assert.Throws<InvalidDataException>(() => CgroupAttachment.OpenPinnedLink(path));
        }
        finally
        {
            if (File.Exists(path)) BpfFs.Unpin(path);
        }
        Assert.False(File.Exists(path));
    }

    public readonly record struct Pair(ulong First, ulong Second);
}
