using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using CsCheck;
using Microsoft.Win32.SafeHandles;
using SockOps.Emit.TestSupport;

namespace SockOps.Emit.Assembler.Tests;

/// <summary>
/// Isa.Validate against the rules of Linux 6.18 (kernel/bpf/core.c bpf_opcode_in_insntable, verifier.c
/// check_alu_op, check_cond_jmp_op, do_check_insn, check_atomic, check_ld_imm, check_ld_abs,
/// resolve_pseudo_ldimm64) and RFC 9669 (unused fields zero).
/// </summary>
public partial class IsaTests
{
    private static Instruction I(byte op, byte dst = 0, byte src = 0, short off = 0, int imm = 0, int hi = 0) =>
        new(op, dst, src, off, imm, hi);

    // The opcodes for which Linux 6.18's bpf_opcode_in_insntable (kernel/bpf/core.c: BPF_INSN_MAP plus
    // the LD ABS/IND and JMP|JCOND entries) returns true, listed from that table.
    private const string KernelOpcodeTable =
        "04 05 06 07 0c 0f 14 15 16 17 18 1c 1d 1e 1f 20 24 25 26 27 28 2c 2d 2e 2f 30 34 35 36 37 3c 3d 3e 3f " +
        "40 44 45 46 47 48 4c 4d 4e 4f 50 54 55 56 57 5c 5d 5e 5f 61 62 63 64 65 66 67 69 6a 6b 6c 6d 6e 6f " +
        "71 72 73 74 75 76 77 79 7a 7b 7c 7d 7e 7f 81 84 85 87 89 91 94 95 97 9c 9f a4 a5 a6 a7 ac ad ae af " +
        "b4 b5 b6 b7 bc bd be bf c3 c4 c5 c6 c7 cb cc cd ce cf d3 d4 d5 d6 d7 db dc dd de e5";

    [Fact]
    public void Known_opcodes_are_exactly_the_linux_6_18_opcode_table()
    {
        var kernel = KernelOpcodeTable.Split(' ').Select(h => Convert.ToByte(h, 16)).ToHashSet();
        Assert.Equal(128, kernel.Count);
        for (int op = 0; op < 256; op++)
            Assert.True(kernel.Contains((byte)op) == Isa.IsKnownOpcode((byte)op), $"opcode 0x{op:x2}");
    }

    [Theory]
    [InlineData(0x8c, "neg takes no source register")]        // ALU NEG | X
    [InlineData(0x8f, "neg takes no source register")]        // ALU64 NEG | X
    [InlineData(0xdf, "no big-endian form")]                  // ALU64 END | TO_BE
    [InlineData(0xe4, "no such ALU operation")]
    [InlineData(0xf7, "no such ALU operation")]
    [InlineData(0x86, "only in the JMP class")]               // JMP32 CALL
    [InlineData(0x96, "only in the JMP class")]               // JMP32 EXIT
    [InlineData(0xe6, "only in the JMP class")]               // JMP32 JCOND
    [InlineData(0x0d, "takes no register source")]            // JA | X (indirect jumps came after 6.18)
    [InlineData(0x8d, "takes no register source")]            // CALL | X
    [InlineData(0xf5, "no such jump operation")]
    [InlineData(0x38, "the LD class only has")]               // LD ABS DW
    [InlineData(0x00, "the LD class only has")]               // LD IMM W
    [InlineData(0x99, "LDX needs mode MEM")]                  // LDX MEMSX DW
    [InlineData(0x21, "LDX needs mode MEM")]                  // LDX ABS W
    [InlineData(0xc2, "ST needs mode MEM")]                   // ST ATOMIC
    [InlineData(0x83, "STX needs mode MEM or ATOMIC")]        // STX MEMSX
    public void Unknown_opcodes_are_refused_with_the_reason(int opcode, string reason)
    {
        string? message = Isa.Validate(I((byte)opcode));
        Assert.NotNull(message);
        Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"0x{opcode:x2}"), message, StringComparison.Ordinal);
        Assert.Contains(reason, message, StringComparison.Ordinal);
    }

    public static TheoryData<string, Instruction> Valid() => new()
    {
        { "sdiv: DIV K with offset 1", I(0x37, 1, 0, 1, -3) },
        { "smod: MOD X with offset 1", I(0x9c, 1, 2, 1) },
        { "movsx32 from 16", I(0xbc, 1, 2, 16) },
        { "movsx64 from 32", I(0xbf, 1, 2, 32) },
        { "addr_space_cast 1 -> 0", I(0xbf, 1, 2, 1, 1) },
        { "addr_space_cast 0 -> 1", I(0xbf, 1, 2, 1, 0x10000) },
        { "be64", I(0xdc, 3, 0, 0, 64) },
        { "bswap16", I(0xd7, 3, 0, 0, 16) },
        { "ja with any offset", I(0x05, 0, 0, -5) },
        { "gotol with any imm", I(0x06, 0, 0, 0, 1 << 20) },
        { "conditional jump with r10", I(0x1d, 10, 10, 3) },
        { "kfunc call with module offset", I(0x85, 0, 2, 7, 1234) },
        { "may_goto", I(0xe5, 0, 0, 9) },
        { "ld_imm64 map value offset", I(0x18, 1, 2, 0, 3, 64) },
        { "ld_imm64 btf id with module fd", I(0x18, 1, 3, 0, 5, 9) },
        { "ld_imm64 func", I(0x18, 1, 4, 0, 5, 0) },
        { "ld_imm64 map idx value", I(0x18, 1, 6, 0, 5, 8) },
        { "ldind with register", I(0x50, 0, 7, 0, 14) },
        { "ldxsx byte", I(0x91, 1, 2, -4) },
        { "st with any imm", I(0x7a, 10, 0, -8, -1) },
        { "load-acquire byte", I(0xd3, 0, 1, 0, 0x100) },
        { "store-release half", I(0xcb, 1, 2, 0, 0x110) },
        { "cmpxchg word", I(0xc3, 1, 2, 0, 0xf1) },
        { "alu writes r10 (the verifier refuses, the encoding exists)", I(0x07, 10, 0, 0, 8) },
    };

    [Theory]
    [MemberData(nameof(Valid))]
    public void Encodable_forms_are_accepted(string form, Instruction insn)
    {
        Assert.True(Isa.Validate(insn) is null, form + ": " + Isa.Validate(insn));
        Assert.True(Isa.IsValid(insn));
    }

    public static TheoryData<string, Instruction, string> Invalid() => new()
    {
        { "register field 11", I(0x07, 11, 0, 0, 1), "destination field 11 is not a register" },
        { "source register 15", I(0x0f, 1, 15), "source field 15 is not a register" },
        { "ALU K with source", I(0x07, 1, 2, 0, 1), "source field is unused and must be 0, is 2" },
        { "ALU X with imm", I(0x0f, 1, 2, 0, 1), "immediate is unused and must be 0, is 1" },
        { "add with offset 1", I(0x07, 1, 0, 1, 1), "offset is unused and must be 0, is 1" },
        { "div with offset 2", I(0x37, 1, 0, 2, 1), "div/mod offset must be 0 (unsigned) or 1 (signed), is 2" },
        { "mov32 sign-extend from 32", I(0xbc, 1, 2, 32), "32-bit mov offset must be 0, 8 or 16" },
        { "mov64 offset 4", I(0xbf, 1, 2, 4), "64-bit mov offset must be 0, 8, 16 or 32" },
        { "mov K with offset", I(0xb7, 1, 0, 8, 1), "offset is unused" },
        { "addr_space_cast 1 -> 2", I(0xbf, 1, 2, 1, 0x20001), "addr_space_cast immediate must be 1 or 0x10000" },
        { "neg with imm", I(0x87, 1, 0, 0, 1), "immediate is unused" },
        { "le8", I(0xd4, 1, 0, 0, 8), "byte swap width must be 16, 32 or 64, is 8" },
        { "ja with imm", I(0x05, 0, 0, 1, 1), "immediate is unused" },
        { "gotol with offset", I(0x06, 0, 0, 1, 1), "offset is unused" },
        { "jeq K with source", I(0x15, 1, 2, 1, 1), "source field is unused" },
        { "jeq X with imm", I(0x1d, 1, 2, 1, 1), "immediate is unused" },
        { "call with destination", I(0x85, 1, 0, 0, 1), "destination field is unused" },
        { "call kind 3", I(0x85, 0, 3, 0, 1), "call source field must be 0 (helper), 1 (bpf-to-bpf) or 2 (kfunc), is 3" },
        { "helper call with offset", I(0x85, 0, 0, 1, 1), "only a kfunc call uses the offset" },
        { "exit with offset (RFC: unused fields zero)", I(0x95, 0, 0, 1), "offset is unused" },
        { "exit with imm", I(0x95, 0, 0, 0, 1), "immediate is unused" },
        { "may_goto with imm", I(0xe5, 0, 0, 1, 1), "immediate is unused" },
        { "may_goto with source", I(0xe5, 0, 1, 1), "source field is unused" },
        { "ld_imm64 pseudo 7", I(0x18, 1, 7), "ld_imm64 source field must be a pseudo kind 0..6, is 7" },
        { "ld_imm64 with offset", I(0x18, 1, 0, 1), "offset is unused" },
        { "map fd with high imm", I(0x18, 1, 1, 0, 3, 1), "must have a zero second immediate" },
        { "map idx with high imm", I(0x18, 1, 5, 0, 3, 1), "must have a zero second immediate" },
        { "ldabs with destination", I(0x20, 1, 0, 0, 1), "destination field is unused" },
        { "ldabs with source", I(0x20, 0, 1, 0, 1), "source field is unused" },
        { "ldind with offset", I(0x40, 0, 1, 1, 1), "offset is unused" },
        { "ldx with imm", I(0x61, 1, 2, 0, 1), "immediate is unused" },
        { "stx with imm", I(0x63, 1, 2, 0, 1), "immediate is unused" },
        { "st with source", I(0x62, 1, 2, 0, 1), "source field is unused" },
        { "atomic add on a byte", I(0xd3, 1, 2, 0, 0x00), "needs size W or DW" },
        { "atomic imm 0x02", I(0xdb, 1, 2, 0, 0x02), "atomic immediate 0x2 is not an atomic operation" },
        { "load-acquire with fetch bit", I(0xdb, 1, 2, 0, 0x101), "atomic immediate 0x101 is not an atomic operation" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Field_violations_are_refused_precisely(string form, Instruction insn, string expected)
    {
        string? message = Isa.Validate(insn);
        Assert.True(message is not null, form + " was accepted");
        Assert.Contains(expected, message, StringComparison.Ordinal);
        Assert.False(Isa.IsValid(insn));
    }

    private static bool Explained(ulong slot, int hi) =>
        Isa.Check((byte)slot, (byte)((slot >> 8) & 0xf), (byte)((slot >> 12) & 0xf), (short)(slot >> 16), (int)(slot >> 32), hi) == Isa.IsaViolation.None;

    [Fact]
    public void Fast_check_agrees_with_the_explaining_check_on_random_slots()
    {
        // Field values near the special cases make disagreements likely to show up.
        var fieldValue = Gen.OneOf(Gen.Int, Gen.OneOfConst(0, 1, 2, 8, 16, 32, 64, 0x10000, 0x100, 0x110, 0xf1, 0xe1, 0x41, -1));
        var slot = from op in Gen.Byte from regs in Gen.Byte from off in fieldValue from imm in fieldValue
                   select (ulong)op | (ulong)regs << 8 | (ulong)(ushort)(short)off << 16 | (ulong)(uint)imm << 32;
        Gen.Select(slot, Gen.OneOf(Gen.Const(0), Gen.Int)).Sample((s, hi) =>
            Assert.True(Isa.IsValidFast(s, hi) == Explained(s, hi), $"slot 0x{s:x16} hi {hi}"), iter: 200_000);
    }

    [Fact]
    public void Fast_check_agrees_with_the_explaining_check_for_every_opcode_and_register_pair()
    {
        foreach (int off in new[] { 0, 1, 8, 16, 32, -1 })
            foreach (int imm in new[] { 0, 1, 16, 0x100, 0xf1, 0x10000 })
                for (int op = 0; op < 256; op++)
                    for (int regs = 0; regs < 256; regs++)
                    {
                        ulong s = (uint)op | (uint)regs << 8 | (ulong)(ushort)(short)off << 16 | (ulong)(uint)imm << 32;
                        if (Isa.IsValidFast(s, 0) != Explained(s, 0) || Isa.IsValidFast(s, 5) != Explained(s, 5))
                            Assert.Fail($"slot 0x{s:x16}");
                    }
    }

    // ---- the real kernel as the oracle ---------------------------------------------------------

    // Messages of Linux 6.18's structural checks (verifier.c / core.c), as opposed to checks of
    // program state (register types, memory bounds, helper ids) that come after them.
    [GeneratedRegex(@"unknown opcode|uses reserved fields|invalid BPF_ALU opcode|invalid BPF_JMP/JMP32 opcode|invalid BPF_LD_IMM insn|invalid bpf_ld_imm64 insn|unrecognized bpf_ld_imm64 insn|BPF_ATOMIC uses invalid atomic opcode|invalid atomic operand size|invalid may_goto imm|addr_space_cast insn can only convert|R\d+ is invalid|unknown insn class|invalid BPF_LD mode")]
    private static partial Regex StructuralRefusal();

    // Loads r0..r9 = 0; <insn>; r0 = 0; exit (or, for exit itself, r0 = 0; <insn>) as a socket
    // filter (it admits legacy packet loads) and returns the verifier's structural refusal, if any.
    private static string? KernelStructuralRefusal(Instruction insn) => KernelVerdict(insn).Refusal;

    private static (bool Loaded, string? Refusal, string Log) KernelVerdict(Instruction insn)
    {
        // The instruction may be one the builder refuses, so its bytes are spliced in as they are.
        using var before = new InstructionBuilder();
        using var after = new InstructionBuilder();
        for (int r = 0; r < 10; r++) before.Mov(Register.FromIndex(r), 0);
        if (insn.Opcode == 0x95) before.Mov(Register.R0, 0);
        else after.Mov(Register.R0, 0).Exit();
        var bytes = new byte[before.SlotCount * 8 + insn.Slots * 8 + after.SlotCount * 8];
        int at = before.Encode().WriteTo(bytes);
        at += insn.WriteTo(bytes.AsSpan(at));
        after.Encode().WriteTo(bytes.AsSpan(at));
        string log = ProgramLoader.Load(bytes, out bool loaded);
        var match = StructuralRefusal().Match(log);
        return (loaded, !loaded && match.Success ? match.Value : null, log);
    }

    [Fact]
    public void Kernel_oracle_tells_structural_refusals_from_loads()
    {
        KernelGate.Require();
        Assert.Equal("unknown opcode", KernelStructuralRefusal(I(0x8c, 1, 2)));
        Assert.Equal("R11 is invalid", KernelStructuralRefusal(I(0x07, 11, 0, 0, 1)));
        Assert.Equal("uses reserved fields", KernelStructuralRefusal(I(0x95, 0, 0, 0, 1)));
        // RFC 9669 wants unused fields zero; Linux 6.18 does not look at the offset of exit.
        var exitWithOffset = KernelVerdict(I(0x95, 0, 0, 1));
        Assert.True(exitWithOffset.Loaded, exitWithOffset.Log);
        var plain = KernelVerdict(I(0x07, 1, 0, 0, 1));
        Assert.True(plain.Loaded, plain.Log);
    }

    // Jumps keep every instruction reachable (offset or gotol immediate 0), so the control-flow
    // check that runs before the per-instruction checks does not hide them.
    private static Instruction Reachable(Instruction insn) => insn.Opcode switch
    {
        0x05 or 0xe5 => new Instruction(insn.Opcode, insn.DestinationIndex, insn.SourceIndex, 0, insn.Immediate),
        0x06 => new Instruction(insn.Opcode, insn.DestinationIndex, insn.SourceIndex, insn.Offset, 0),
        _ when Opcode.IsJump(insn.Class) && (insn.Opcode & 0xf0) is not (0x80 or 0x90) =>
            new Instruction(insn.Opcode, insn.DestinationIndex, insn.SourceIndex, 0, insn.Immediate),
        _ => insn,
    };

    [Fact]
    public void Linux_refuses_every_instruction_isa_refuses_except_exit_with_an_offset()
    {
        KernelGate.Require();
        var refused = new List<(string Form, Instruction Insn)>();
        foreach (var row in Invalid()) refused.Add(((string)row.Data.Item1, (Instruction)row.Data.Item2));
        for (int op = 0; op < 256; op++)
            if (!Isa.IsKnownOpcode((byte)op)) refused.Add(($"unknown opcode 0x{op:x2}", new Instruction((byte)op, 0, 0, 0, 0)));

        var wrong = new List<string>();
        foreach (var (form, insn) in refused)
        {
            var kernel = KernelStructuralRefusal(form.StartsWith("exit with offset", StringComparison.Ordinal) ? insn : Reachable(insn));
            bool rfcOnly = form.StartsWith("exit with offset", StringComparison.Ordinal);
            if (rfcOnly ? kernel is not null : kernel is null)
                wrong.Add($"{form} {insn}: kernel says {kernel ?? "nothing structural"}");
        }
        Assert.True(wrong.Count == 0, string.Join('\n', wrong));
    }

    [Fact]
    public void Linux_accepts_the_fields_of_every_instruction_isa_accepts()
    {
        KernelGate.Require();
        var accepted = Valid().Select(row => ((string)row.Data.Item1, (Instruction)row.Data.Item2)).ToList();
        var random = new List<Instruction>();
        RoundTripPropertyTests.AnyValidInstruction.Sample(random.Add, iter: 400, threads: 1);
        accepted.AddRange(random.Select(i => ("generated", i)));

        var wrong = new List<string>();
        foreach (var (form, insn) in accepted)
            if (KernelStructuralRefusal(Reachable(insn)) is { } refusal)
                wrong.Add($"{form} {insn}: {refusal}");
        Assert.True(wrong.Count == 0, string.Join('\n', wrong));
    }
}

/// <summary>A minimal BPF_PROG_LOAD / BPF_PROG_TEST_RUN for the oracle tests (the Runtime layer has the real loader).</summary>
internal static partial class ProgramLoader
{
    private const int BpfProgLoad = 5;
    private const int BpfProgTestRun = 10;
    private const int SocketFilter = 1;

    [LibraryImport("libc", SetLastError = true)]
    private static partial long syscall(long number, long cmd, IntPtr attr, long size);

    private static long BpfSyscall => RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 280 : 321;

    /// <summary>Loads a socket filter; returns the verifier log; <paramref name="loaded"/> says whether it loaded.</summary>
    public static string Load(byte[] program, out bool loaded)
    {
        using var fd = LoadProgram(program, 1, out string log);
        loaded = fd is not null;
        return log;
    }

    /// <summary>Loads a socket filter and runs it once on a 64-byte zero packet; returns r0.</summary>
    public static unsafe uint Run(byte[] program)
    {
        // Without a log: the log of a long accepted program would not fit the buffer.
        using var fd = LoadProgram(program, 0, out _)
            ?? throw new InvalidOperationException("The verifier refused the program:\n" + Load(program, out _));
        byte[] packet = new byte[64];
        byte* attr = stackalloc byte[80];
        new Span<byte>(attr, 80).Clear();
        fixed (byte* data = packet)
        {
            *(uint*)(attr + 0) = checked((uint)fd.DangerousGetHandle());
            *(uint*)(attr + 8) = (uint)packet.Length;
            *(ulong*)(attr + 16) = (ulong)data;
            *(uint*)(attr + 32) = 1; // repeat
            if (syscall(BpfSyscall, BpfProgTestRun, (IntPtr)attr, 80) < 0)
                throw new InvalidOperationException($"BPF_PROG_TEST_RUN failed: errno {Marshal.GetLastPInvokeError()}");
            return *(uint*)(attr + 4);
        }
    }

    private static unsafe SafeFileHandle? LoadProgram(byte[] program, uint logLevel, out string log)
    {
        byte[] license = "GPL\0"u8.ToArray();
        byte[] buffer = new byte[1 << 16];
        byte* attr = stackalloc byte[144];
        new Span<byte>(attr, 144).Clear();
        long fd;
        fixed (byte* insns = program)
        fixed (byte* lic = license)
        fixed (byte* logBuffer = buffer)
        {
            *(uint*)(attr + 0) = SocketFilter;
            *(uint*)(attr + 4) = (uint)(program.Length / 8);
            *(ulong*)(attr + 8) = (ulong)insns;
            *(ulong*)(attr + 16) = (ulong)lic;
            if (logLevel != 0)
            {
                *(uint*)(attr + 24) = logLevel;
                *(uint*)(attr + 28) = (uint)buffer.Length;
                *(ulong*)(attr + 32) = (ulong)logBuffer;
            }
            fd = syscall(BpfSyscall, BpfProgLoad, (IntPtr)attr, 144);
        }
        int errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        int end = Array.IndexOf(buffer, (byte)0);
        log = Encoding.UTF8.GetString(buffer, 0, end < 0 ? buffer.Length : end) + (fd < 0 ? $"\n(errno {errno})" : "");
        return fd >= 0 ? new SafeFileHandle(checked((IntPtr)fd), ownsHandle: true) : null;
    }
}
