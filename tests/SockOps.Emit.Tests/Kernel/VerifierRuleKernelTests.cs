using SockOps.Emit.Assembler;
using SockOps.Emit.TestSupport;
using static SockOps.Emit.Tests.Kernel.Insn;

namespace SockOps.Emit.Tests.Kernel;

/// <summary>Every catalogued verifier rule, broken by a raw program the kernel must refuse with the rule's message.</summary>
public class VerifierRuleKernelTests
{
    private static readonly Instruction One = Mov64(0, 1);
    private static Instruction LoadSk(int dst) => Ldx(8, dst, 1, (short)SockOpsContext.Sk.Offset);
    private static Instruction Jgt(int dst, int src, short off) => new(Opcode.Jump(true, JumpOperation.Jgt, OperandSource.Register), (byte)dst, (byte)src, off, 0);
    private static Instruction Map(int reg, int fd) => Instruction.LoadImmediate64(Register.FromIndex(reg), fd, PseudoSource.MapFd);
    private static Instruction StackPointer(int reg, int offset) => Alu64(AluOperation.Add, reg, offset);

    /// <summary>A bounds-checked r2 = skb_data (4 bytes readable), r3 = skb_data_end; jumps to the end when too short.</summary>
    private static Instruction[] CheckedPacket(short skipToEnd) =>
        [Ldx(8, 2, 1, 192), Ldx(8, 3, 1, 200), Mov64Reg(4, 2), Alu64(AluOperation.Add, 4, 4), Jgt(4, 3, skipToEnd)];

    private static readonly Dictionary<string, (MapType? Map, Func<int, Instruction[]> Build)> Programs = new()
    {
        ["ctx-field-access"] = (null, _ => [Ldx(4, 0, 1, 2), One, Exit()]),
        ["ctx-write"] = (null, _ => [Mov64(2, 0), Stx(4, 1, 2, 8), One, Exit()]),
        ["ctx-atomic"] = (null, _ => [Mov64(2, 1), AtomicAdd(4, 1, 2, 4), One, Exit()]),
        ["ctx-pointer-store"] = (null, _ => [Mov64Reg(2, 1), Stx(4, 1, 2, 4), One, Exit()]),
        ["ctx-modified-pointer"] = (null, _ => [Mov64Reg(2, 1), Alu64(AluOperation.Add, 2, 4), Ldx(4, 0, 2, 0), One, Exit()]),
        ["ctx-variable-offset"] = (null, _ => [Ldx(4, 2, 1, 0), Alu64(AluOperation.And, 2, 4), Mov64Reg(3, 1), Alu64Reg(AluOperation.Add, 3, 2), Ldx(4, 0, 3, 0), One, Exit()]),
        ["sock-null-check"] = (null, _ => [LoadSk(2), Ldx(4, 0, 2, 4), One, Exit()]),
        ["sock-read-only"] = (null, _ => [LoadSk(2), JeqImm(2, 0, 1), St(4, 2, 16, 0), One, Exit()]),
        ["sock-field-access"] = (null, _ => [LoadSk(2), JeqImm(2, 0, 1), Ldx(2, 0, 2, 16), One, Exit()]),
        ["tcp-sock-argument"] = (null, _ => [Call(96), One, Exit()]),
        ["tcp-sock-argument-null-check"] = (null, _ => [LoadSk(1), Call(96), One, Exit()]),
        ["tcp-sock-null-check"] = (null, _ => [LoadSk(1), JeqImm(1, 0, 2), Call(96), Ldx(4, 0, 0, 0), One, Exit()]),
        ["packet-bounds-check"] = (null, _ => [Ldx(8, 2, 1, 192), Ldx(4, 0, 2, 0), One, Exit()]),
        ["packet-read-only"] = (null, _ => [.. CheckedPacket(1), St(4, 2, 0, 0), One, Exit()]),
        ["packet-end-deref"] = (null, _ => [Ldx(8, 2, 1, 200), Ldx(4, 0, 2, 0), One, Exit()]),
        ["packet-to-helper"] = (null, _ => [.. CheckedPacket(6), Mov64Reg(4, 2), Mov64(2, 6), Mov64(3, 1), Mov64(5, 4), Call(49), One, Exit()]),
        ["helper-not-allowed"] = (null, _ => [Call(86), One, Exit()]),
        ["helper-gpl-only"] = (null, _ => [Call(35), One, Exit()]),
        ["helper-ctx-argument"] = (null, _ => [Mov64(1, 0), Call(59), One, Exit()]),
        ["helper-zero-size"] = (null, _ => [St(4, 10, -4, 1), Mov64Reg(4, 10), StackPointer(4, -4), Mov64(2, 6), Mov64(3, 1), Mov64(5, 0), Call(49), One, Exit()]),
        ["helper-uninitialized-buffer"] = (null, _ => [Mov64Reg(4, 10), StackPointer(4, -8), Mov64(2, 6), Mov64(3, 1), Mov64(5, 4), Call(49), One, Exit()]),
        ["map-value-null-check"] = (MapType.Hash, fd => [St(4, 10, -4, 0), Map(1, fd), Mov64Reg(2, 10), StackPointer(2, -4), Call(1), Ldx(8, 0, 0, 0), One, Exit()]),
        ["helper-map-type"] = (MapType.Hash, fd => [St(4, 10, -4, 0), Map(2, fd), Mov64Reg(3, 10), StackPointer(3, -4), Mov64(4, 0), Call(53), One, Exit()]),
        ["sockmap-update"] = (MapType.SockMap, fd => [LoadSk(7), JeqImm(7, 0, 8), St(4, 10, -4, 0), Map(1, fd), Mov64Reg(2, 10), StackPointer(2, -4),
            Mov64Reg(3, 7), Mov64(4, 0), Call(2), One, Exit()]),
        ["ringbuf-release"] = (MapType.RingBuf, fd => [Map(1, fd), Mov64(2, 8), Mov64(3, 0), Call(131), One, Exit()]),
        ["stack-bounds"] = (null, _ => [Mov64(2, 0), Stx(8, 10, 2, -520), One, Exit()]),
        ["stack-uninitialized-read"] = (null, _ => [Ldx(8, 0, 10, -8), One, Exit()]),
        ["return-range"] = (null, _ => [Ldx(4, 0, 1, 0), Exit()]),
        ["return-uninitialized"] = (null, _ => [Exit()]),
        ["infinite-loop"] = (null, _ => [One, JneImm(0, 0, -1), Exit()]),
    };

    [Fact]
    public void Every_rule_has_a_proof_program() =>
        Assert.Equal(VerifierRules.All.Select(r => r.Id).Order(StringComparer.Ordinal), Programs.Keys.Order(StringComparer.Ordinal));

    public static TheoryData<string> RuleIds => [.. VerifierRules.All.Select(r => r.Id)];

    [Theory]
    [MemberData(nameof(RuleIds))]
    public void Kernel_refuses_the_rule_breaking_program_with_the_rules_message(string id)
    {
        KernelGate.Require();
        var rule = VerifierRules.Find(id)!;
        var (mapType, build) = Programs[id];
        using var map = mapType switch
        {
            null => null,
            MapType.RingBuf => RawBpf.CreateMap(MapType.RingBuf, 0, 0, 4096),
            MapType.SockMap => RawBpf.CreateMap(MapType.SockMap, 4, 8, 1),
            _ => RawBpf.CreateMap(mapType.Value, 4, 8, 4),
        };
        var program = build(map is null ? 0 : (int)map.DangerousGetHandle());
        string license = id == "helper-gpl-only" ? "Proprietary" : "GPL";
        var result = rule.OnlyWithoutPerfmon ? RawBpf.WithoutPerfmon(() => RawBpf.LoadSockOps(program, license)) : RawBpf.LoadSockOps(program, license);
        Assert.False(result.Accepted, "the kernel accepted the program");
        Assert.True(result.Log.Contains(rule.KernelMessage, StringComparison.Ordinal), result.ToString());
        if (rule.OnlyWithoutPerfmon)
            Assert.True(RawBpf.LoadSockOps(program, license).Accepted, "a strict-loader rule should not apply to root");
    }
}
