using SockOps.Emit.Assembler;
using SockOps.Emit.Runtime;
using SockOps.Emit.TestSupport;
using static SockOps.Emit.Tests.Kernel.Insn;

namespace SockOps.Emit.Tests.Dsl;

/// <summary>
/// Each verifier rule the DSL enforces at emit time: the DSL refuses the program naming the C# line, and the
/// same program forced through as raw instructions is refused by the real kernel (so the rule is proven).
/// </summary>
public class VerifierRuleTests
{
    private static EmitException Refused(EmitRule rule, Action<SockOpsBuilder> body, string license = "GPL", BpfCapabilities capabilities = BpfCapabilities.Root)
    {
        var e = Assert.Throws<EmitException>(() => SockOpsProgram.Build("refused", body, license, capabilities));
        Assert.Equal(rule, e.Rule);
        Assert.EndsWith("VerifierRuleTests.cs", e.File, StringComparison.Ordinal);
        Assert.True(e.Line > 0);
        return e;
    }

    private static void KernelRefuses(string expected, IReadOnlyList<Instruction> code, string license = "GPL",
        IReadOnlyList<MapReference>? references = null, IReadOnlyDictionary<string, BpfMap>? maps = null)
    {
        KernelGate.Require();
        var e = Assert.Throws<VerifierException>(() => DslKernel.LoadRaw("rule", code, license, references, maps).Dispose());
        Assert.Contains(expected, e.Log, StringComparison.Ordinal);
    }

    private static int Here([System.Runtime.CompilerServices.CallerLineNumber] int line = 0) => line;

    [Fact]
    public void Context_read_with_a_refused_size_or_offset()
    {
        int line = Here();
        var e = Refused(EmitRule.ContextRead, b => b.Context.Read(68, 8));
        Assert.Equal(line + 1, e.Line);
        Assert.Contains("invalid bpf_context access off=68 size=8", e.Message, StringComparison.Ordinal);
        Refused(EmitRule.ContextRead, b => b.Context.Read(2, 4));
        Refused(EmitRule.ContextRead, b => b.Context.Read(188, 4));
        KernelRefuses("invalid bpf_context access off=68 size=8", [Ldx(8, 2, 1, 68), Mov64(0, 1), Exit()]);
        KernelRefuses("invalid bpf_context access off=2 size=4", [Ldx(4, 2, 1, 2), Mov64(0, 1), Exit()]);
        KernelRefuses("invalid bpf_context access off=188 size=4", [Ldx(4, 2, 1, 188), Mov64(0, 1), Exit()]);
    }

    [Fact]
    public void Context_read_of_a_pointer_field_as_a_number()
    {
        // Found by the differential fuzzer: the load itself verifies, but the result is a pointer
        // (sock_or_null, pkt, pkt_end) and any arithmetic on it is refused.
        var e = Refused(EmitRule.ContextRead, b => b.Context.Read(184, 8));
        Assert.Contains("use ctx.Sk", e.Message, StringComparison.Ordinal);
        Refused(EmitRule.ContextRead, b => b.Context.Read(192, 8));
        Refused(EmitRule.ContextRead, b => b.Context.Read(200, 8));
        KernelRefuses("pointer arithmetic on sock_or_null prohibited", [Ldx(8, 2, 1, 184), Alu64(AluOperation.Xor, 2, 1), Mov64(0, 1), Exit()]);
    }

    [Fact]
    public void Context_write_to_a_read_only_field()
    {
        var e = Refused(EmitRule.ContextWrite, b => b.Context.LocalPort.Set(1));
        Assert.Contains("read-only", e.Message, StringComparison.Ordinal);
        Refused(EmitRule.ContextWrite, b => b.Context.Write(8, 4, 1));
        Refused(EmitRule.ContextWrite, b => b.Context.ReplyLong[1].Set(1));
        KernelRefuses("invalid bpf_context access off=68 size=4", [St(4, 1, 68, 1), Mov64(0, 1), Exit()]);
        KernelRefuses("invalid bpf_context access off=8 size=4", [St(4, 1, 8, 1), Mov64(0, 1), Exit()]);
    }

    [Fact]
    public void Context_pointer_arithmetic_cannot_be_written_and_the_kernel_refuses_it()
    {
        // The DSL has no value for the ctx pointer, so ctx + n is not expressible (fields fold into the load offset).
        Assert.DoesNotContain(typeof(SockOpsCtx).GetProperties(), p => p.PropertyType == typeof(U64) && p.Name == "Pointer");
        KernelRefuses("dereference of modified ctx ptr", [Alu64(AluOperation.Add, 1, 4), Ldx(4, 2, 1, 0), Mov64(0, 1), Exit()]);
    }

    [Fact]
    public void Socket_used_outside_its_null_check()
    {
        SockRef? escaped = null;
        var e = Refused(EmitRule.NullCheck, b =>
        {
            b.IfNotNull(b.Context.Sk, sk => escaped = sk);
            b.Context.Reply.Set((I32)escaped!.Family);
            b.Return(1);
        });
        Assert.Contains("outside the null check", e.Message, StringComparison.Ordinal);
        KernelRefuses("invalid mem access 'sock_or_null'", [Ldx(8, 2, 1, 184), Ldx(4, 3, 2, 4), Mov64(0, 1), Exit()]);
    }

    [Fact]
    public void Gpl_only_helper_with_a_proprietary_license()
    {
        var e = Refused(EmitRule.HelperNotAllowed, b => { b.Printk("hi\n"); b.Return(1); }, license: "Proprietary");
        Assert.Contains("cannot call GPL-restricted function from non-GPL compatible program", e.Message, StringComparison.Ordinal);
        // "hi\n\0" on the stack, r1 = fp-8, r2 = 4, call trace_printk.
        KernelRefuses("cannot call GPL-restricted function from non-GPL compatible program",
            [St(4, 10, -8, 0x000a6968), Mov64Reg(1, 10), Alu64(AluOperation.Add, 1, -8), Mov64(2, 4), Call(6), Mov64(0, 1), Exit()], license: "Proprietary");
    }

    [Fact]
    public void Perfmon_helper_without_cap_perfmon()
    {
        var e = Refused(EmitRule.HelperNotAllowed, b => { b.Printk("hi\n"); b.Return(1); },
            capabilities: BpfCapabilities.Bpf | BpfCapabilities.NetAdmin);
        Assert.Contains("program of this type cannot use helper", e.Message, StringComparison.Ordinal);
        KernelGate.Require();
        var result = Kernel.RawBpf.WithoutPerfmon(() => Kernel.RawBpf.LoadSockOps(
            [St(4, 10, -8, 0x000a6968), Mov64Reg(1, 10), Alu64(AluOperation.Add, 1, -8), Mov64(2, 4), Call(6), Mov64(0, 1), Exit()]));
        Assert.False(result.Accepted);
        Assert.Contains("program of this type cannot use helper", result.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void Helper_with_a_map_of_the_wrong_type()
    {
        var e = Refused(EmitRule.HelperArgument, b =>
        {
            var hash = b.Map<int, int>("sock_hash", MapType.SockHash, 4);
            b.SockMapUpdate(hash, 1, MapUpdateFlags.NoExist);
            b.Return(1);
        });
        Assert.Contains("cannot pass map_type 18 into func bpf_sock_map_update", e.Message, StringComparison.Ordinal);
        KernelGate.Require();
        using var map = BpfMap.Create(new MapSpec { Type = MapType.SockHash, KeySize = 4, ValueSize = 4, MaxEntries = 4, Name = "sock_hash" });
        KernelRefuses("cannot pass map_type 18 into func bpf_sock_map_update#53",
            [St(4, 10, -4, 1), LdImm64(2, 0), Mov64Reg(3, 10), Alu64(AluOperation.Add, 3, -4), Mov64(4, 1), Call(53), Mov64(0, 1), Exit()],
            references: [new MapReference(1, "sock_hash")], maps: new Dictionary<string, BpfMap> { ["sock_hash"] = map });
    }

    [Fact]
    public void Local_read_before_assignment_on_every_path()
    {
        var e = Refused(EmitRule.Uninitialized, b =>
        {
            var x = b.LocalI32("x");
            b.If(b.Context.Op == 3, () => x.Set(1));
            b.Context.Reply.Set(x);
            b.Return(1);
        });
        Assert.Contains("'x' is read before it is assigned", e.Message, StringComparison.Ordinal);
        // A helper's result made inside a branch and used after it: the call did not run on the other path.
        var e2 = Refused(EmitRule.Uninitialized, b =>
        {
            I32 rc = 0;
            b.If(b.Context.Op == 3, () => rc = b.SetSockOpt(TcpOption.NoDelay, 1));
            b.Context.Reply.Set(rc);
            b.Return(1);
        });
        Assert.Contains("did not run on every path", e2.Message, StringComparison.Ordinal);
        Refused(EmitRule.Uninitialized, b =>
        {
            var map = b.Map<uint, ulong>("m", MapType.Array, 4);
            MaybeNull<MapValueRef<ulong>> value = default;
            b.If(b.Context.Op == 3, () => value = b.MapLookup(map, 0));
            b.IfNotNull(value, v => v.U64().Set(1));
            b.Return(1);
        });
        // r2 is never written before the store.
        KernelRefuses("R2 !read_ok", [Stx(4, 1, 2, 4), Mov64(0, 1), Exit()]);
    }

    [Fact]
    public void Stack_beyond_512_bytes()
    {
        var e = Refused(EmitRule.StackBounds, b => { b.StackStruct<Big>(); b.Return(1); });
        Assert.Contains("allows 512", e.Message, StringComparison.Ordinal);
        KernelRefuses("invalid write to stack R10 off=-520 size=8", [St(8, 10, -520, 0), Mov64(0, 1), Exit()]);
    }

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential, Size = 520)]
    private struct Big;

    [Fact]
    public void Return_value_outside_0_and_1()
    {
        Refused(EmitRule.ReturnValue, b => b.Return(2));
        Refused(EmitRule.ReturnValue, b => b.Return(-1));
        var e = Refused(EmitRule.ReturnValue, b => b.Return((I32)b.Context.Op));
        Assert.Contains("not provably 0 or 1", e.Message, StringComparison.Ordinal);
        KernelRefuses("should have been in [0, 1]", [Mov64(0, 2), Exit()]);
        KernelRefuses("smin=0 smax=4294967295 should have been in [0, 1]", [Ldx(4, 0, 1, 0), Exit()]);
        // Provable values are accepted, and the kernel agrees.
        var image = SockOpsProgram.Build("ret_masked", b => b.Return((I32)(b.Context.Op & 1)));
        using var loaded = DslKernel.Load(image);
    }

    [Fact]
    public void Falling_off_the_end()
    {
        var e = Assert.Throws<EmitException>(() => SockOpsProgram.Build("fall", b => b.Context.Reply.Set(1)));
        Assert.Equal(EmitRule.FallThrough, e.Rule);
        Assert.EndsWith("VerifierRuleTests.cs", e.File, StringComparison.Ordinal);
        Refused(EmitRule.FallThrough, b => b.If(b.Context.Op == 1, () => b.Return(1)));
        KernelRefuses("last insn is not an exit or jmp", [Mov64(0, 1)]);
    }

    [Fact]
    public void Statement_after_return_is_unreachable()
    {
        var e = Refused(EmitRule.Unreachable, b => { b.Return(1); b.Context.Reply.Set(1); });
        Assert.Contains("Unreachable", e.Message, StringComparison.Ordinal);
        KernelRefuses("unreachable insn 2", [Mov64(0, 1), Exit(), St(4, 1, 4, 1), Exit()]);
    }

    [Fact]
    public void Ring_buffer_reservation_not_released_on_every_path()
    {
        Refused(EmitRule.ReferenceLeak, b =>
        {
            var ring = b.RingBuf("events", 4096);
            b.IfNotNull(b.RingBufReserve<ulong>(ring), record => record.U64().Set(1));
            b.Return(1);
        });
        Refused(EmitRule.ReferenceLeak, b =>
        {
            var ring = b.RingBuf("events", 4096);
            b.IfNotNull(b.RingBufReserve<ulong>(ring), record => b.If(b.Context.Op == 1, () => b.RingBufSubmit(record)));
            b.Return(1);
        });
        Refused(EmitRule.ReferenceLeak, b =>
        {
            var ring = b.RingBuf("events", 4096);
            b.IfNotNull(b.RingBufReserve<ulong>(ring), record => b.Return(1));
            b.Return(1);
        });
        KernelGate.Require();
        using var map = BpfMap.Create(new MapSpec { Type = MapType.RingBuf, KeySize = 0, ValueSize = 0, MaxEntries = 4096, Name = "events" });
        KernelRefuses("reference leak",
            [LdImm64(1, 0), Mov64(2, 8), Mov64(3, 0), Call(131), Mov64(0, 1), Exit()],
            references: [new MapReference(0, "events")], maps: new Dictionary<string, BpfMap> { ["events"] = map });
    }

    [Fact]
    public void Packet_read_beyond_the_checked_length()
    {
        var e = Refused(EmitRule.PacketBounds, b =>
        {
            b.IfPacketHas(20, p => b.Context.Reply.Set((I32)p.ReadU32(20)));
            b.Return(1);
        });
        Assert.Contains("outside the checked 20 bytes", e.Message, StringComparison.Ordinal);
        // r2 = data; r3 = data_end; r4 = r2 + 20; if r4 > r3 goto out; r5 = *(u32 *)(r2 + 20)
        KernelRefuses("invalid access to packet, off=20 size=4",
            [Ldx(8, 2, 1, 192), Ldx(8, 3, 1, 200), Mov64Reg(4, 2), Alu64(AluOperation.Add, 4, 20),
             new Instruction(Opcode.Jump(true, JumpOperation.Jgt, OperandSource.Register), 4, 3, 1, 0), Ldx(4, 5, 2, 20), Mov64(0, 1), Exit()]);
        // And without any check at all (not expressible in the DSL: packet bytes exist only inside IfPacketHas).
        KernelRefuses("invalid access to packet", [Ldx(8, 2, 1, 192), Ldx(4, 3, 2, 0), Mov64(0, 1), Exit()]);
    }

    [Fact]
    public void Packet_read_after_a_helper_that_changes_the_packet()
    {
        var e = Refused(EmitRule.PacketBounds, b =>
        {
            b.IfPacketHas(20, p =>
            {
                var option = b.StackStruct<ulong>();
                option.U8(0).Set(254);
                option.U8(1).Set(8);
                b.StoreHdrOpt(option, 0);
                b.Context.Reply.Set((I32)p.ReadU8(0));
            });
            b.Return(1);
        });
        Assert.Contains("invalid after bpf_store_hdr_opt", e.Message, StringComparison.Ordinal);
        // A read in the other branch of an If is fine: the helper did not run on that path.
        var image = SockOpsProgram.Build("other_path", b =>
        {
            b.IfPacketHas(20, p => b.If(b.Context.Op == SockOp.WriteHdrOptCb, () =>
            {
                var option = b.StackStruct<ulong>();
                option.U8(0).Set(254);
                option.U8(1).Set(8);
                b.StoreHdrOpt(option, 0);
            }, @else: () => b.Context.Reply.Set((I32)p.ReadU8(0))));
            b.Return(1);
        });
        KernelGate.Require();
        using (DslKernel.Load(image)) { }
        // r6 = ctx; r7 = data; r8 = data_end; bounds check; store_hdr_opt; then read through r7.
        KernelRefuses("R7 invalid mem access 'scalar'",
            [Mov64Reg(6, 1), Ldx(8, 7, 6, 192), Ldx(8, 8, 6, 200), Mov64Reg(2, 7), Alu64(AluOperation.Add, 2, 20),
             new Instruction(Opcode.Jump(true, JumpOperation.Jgt, OperandSource.Register), 2, 8, 8, 0),
             St(8, 10, -8, 0x08fe), Mov64Reg(1, 6), Mov64Reg(2, 10), Alu64(AluOperation.Add, 2, -8), Mov64(3, 8), Mov64(4, 0), Call(143),
             Ldx(1, 0, 7, 0), Mov64(0, 1), Exit()]);
    }

    [Fact]
    public void Shift_out_of_range()
    {
        var e = Refused(EmitRule.Operand, b => { b.Context.Reply.Set((I32)(b.Context.Op << 40)); b.Return(1); });
        Assert.Contains("Shift by 40", e.Message, StringComparison.Ordinal);
        KernelRefuses("invalid shift 40", [Ldx(4, 2, 1, 0), Alu32(AluOperation.Lsh, 2, 40), Mov64(0, 1), Exit()]);
    }

    [Fact]
    public void Division_by_the_constant_zero()
    {
        var e = Refused(EmitRule.Operand, b => { b.Context.Reply.Set((I32)(b.Context.Op / 0u)); b.Return(1); });
        Assert.Contains("Division by the constant zero", e.Message, StringComparison.Ordinal);
        KernelRefuses("div by zero", [Ldx(4, 2, 1, 0), Alu32(AluOperation.Div, 2, 0), Mov64(0, 1), Exit()]);
    }

    [Fact]
    public void Unbounded_loop_is_refused_and_so_is_a_kernel_back_edge_that_never_ends()
    {
        // Stricter than the kernel (which accepts bounded loops it can verify): the DSL only unrolls.
        Refused(EmitRule.Unbounded, b => { b.For(0, 1000, _ => { }); b.Return(1); });
        KernelRefuses("infinite loop detected", [Mov64(0, 1), JeqImm(0, 1, -2), Exit()]);
    }

    [Fact]
    public void Statements_outside_build_are_refused()
    {
        SockOpsBuilder? kept = null;
        SockOpsProgram.Build("kept", b => { kept = b; b.Return(1); });
        var e = Assert.Throws<EmitException>(() => kept!.Return(1));
        Assert.Equal(EmitRule.Usage, e.Rule);
    }
}
