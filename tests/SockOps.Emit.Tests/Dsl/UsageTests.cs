namespace SockOps.Emit.Tests.Dsl;

/// <summary>Misuse of the DSL itself: each is a typed EmitException naming the C# line.</summary>
public class UsageTests
{
    private static EmitException Refused(Action<SockOpsBuilder> body)
    {
        var e = Assert.Throws<EmitException>(() => SockOpsProgram.Build("usage", body));
        Assert.EndsWith("UsageTests.cs", e.File, StringComparison.Ordinal);
        Assert.True(e.Line > 0);
        return e;
    }

    [Fact]
    public void Duplicate_case_and_closed_switch()
    {
        Assert.Contains("Duplicate case 1", Refused(b =>
        {
            b.Switch(b.Context.Op).Case(1, () => { }).Case(1, () => { });
            b.Return(1);
        }).Message, StringComparison.Ordinal);
        Assert.Contains("already closed", Refused(b =>
        {
            var sw = b.Switch(b.Context.Op);
            sw.Default(() => { });
            sw.Case(2, () => { });
            b.Return(1);
        }).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Map_declarations_are_checked()
    {
        Assert.Equal(EmitRule.HelperArgument, Refused(b => b.Map<int, ulong>("s", MapType.SkStorage, 10)).Rule);
        Assert.Equal(EmitRule.HelperArgument, Refused(b => b.RingBuf("r", 1000)).Rule);
        Assert.Equal(EmitRule.HelperArgument, Refused(b => b.Map<ulong, int>("a", MapType.Array, 4)).Rule);
        Assert.Contains("declared twice", Refused(b => { b.Map<int, int>("m", MapType.Hash, 4); b.Map<int, int>("m", MapType.Hash, 4); }).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_map_of_another_program_is_refused()
    {
        Map<int, int>? other = null;
        SockOpsProgram.Build("first", b => { other = b.Map<int, int>("m", MapType.Hash, 4); b.Return(1); });
        Assert.Contains("declared by another program", Refused(b => { b.MapDelete(other!, 1); b.Return(1); }).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_ring_buffer_reservation_is_null_checked_once()
    {
        Assert.Equal(EmitRule.NullCheck, Refused(b =>
        {
            var ring = b.RingBuf("r", 4096);
            var reservation = b.RingBufReserve<ulong>(ring);
            b.IfNotNull(reservation, r => b.RingBufDiscard(r));
            b.IfNotNull(reservation, r => b.RingBufDiscard(r));
            b.Return(1);
        }).Rule);
    }

    [Fact]
    public void Packet_lengths_and_helper_buffers_are_checked()
    {
        Assert.Equal(EmitRule.PacketBounds, Refused(b => b.IfPacketHas(0, _ => { })).Rule);
        Assert.Equal(EmitRule.HelperArgument, Refused(b => { b.TracePrintk("%d %d %d %d", [1, 2, 3, 4]); b.Return(1); }).Rule);
        // A key of the wrong type (b.MapLookup(map<ulong,…>, b.StackStruct<uint>())) does not compile.
    }

    [Fact]
    public void Values_outside_build_are_refused()
    {
        I32 kept = default;
        SockOpsProgram.Build("kept", b => { kept = b.Local("x", 1); b.Return(1); });
        var e = Assert.Throws<EmitException>(() => kept.Set(2));
        Assert.Equal(EmitRule.Usage, e.Rule);
    }

    [Fact]
    public void Constants_fold_and_a_folded_branch_is_not_emitted()
    {
        var image = SockOpsProgram.Build("folded", b =>
        {
            U32 two = 2;
            b.If(two * 3 == 6u, () => b.Return(1), @else: () => b.Return(0));
        });
        Assert.Equal(2, image.Slots);
    }
}

public class CrossProgramTests
{
    [Fact]
    public void A_value_of_one_program_cannot_be_used_in_another()
    {
        var e = Assert.Throws<EmitException>(() => SockOpsProgram.Build("outer", outer =>
        {
            var x = outer.Local("x", 1);
            SockOpsProgram.Build("inner", inner => { inner.Context.Reply.Set(x); inner.Return(1); });
        }));
        Assert.Equal(EmitRule.Usage, e.Rule);
        Assert.Contains("another program", e.Message, StringComparison.Ordinal);
        var e2 = Assert.Throws<EmitException>(() => SockOpsProgram.Build("outer2", outer =>
        {
            var x = outer.Local("x", 1);
            SockOpsProgram.Build("inner2", inner => { x.Set(2); inner.Return(1); });
        }));
        Assert.Equal(EmitRule.Usage, e2.Rule);
    }
}
