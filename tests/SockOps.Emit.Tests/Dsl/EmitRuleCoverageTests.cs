using System.Runtime.InteropServices;
using SockOps.Emit.Assembler;

namespace SockOps.Emit.Tests.Dsl;

/// <summary>
/// Every <see cref="EmitRule"/> a user can catch is one the DSL actually raises: one misuse per rule, each refused
/// with that rule and this file's line. A rule nothing raises (a dead enum member) fails the first test.
/// </summary>
public class EmitRuleCoverageTests
{
    [StructLayout(LayoutKind.Sequential, Size = 520)]
    private struct TooBigForTheStack;

    private static readonly Dictionary<EmitRule, Action<SockOpsBuilder>> s_misuse = new()
    {
        [EmitRule.ContextRead] = b => b.Context.Read(68, 8),
        [EmitRule.ContextWrite] = b => b.Context.LocalPort.Set(1),
        [EmitRule.NullCheck] = b =>
        {
            SockRef? escaped = null;
            b.IfNotNull(b.Context.Sk, sk => escaped = sk);
            b.Context.Reply.Set((I32)escaped!.Family);
        },
        [EmitRule.HelperNotAllowed] = b => b.Printk("hi\n"),
        [EmitRule.HelperArgument] = b => b.SockMapUpdate(b.Map<int, int>("sock_hash", MapType.SockHash, 4), 1, MapUpdateFlags.NoExist),
        [EmitRule.Uninitialized] = b =>
        {
            var x = b.LocalI32("x");
            b.If(b.Context.Op == 3, () => x.Set(1));
            b.Context.Reply.Set(x);
        },
        [EmitRule.StackBounds] = b => b.StackStruct<TooBigForTheStack>(),
        [EmitRule.ReturnValue] = b => b.Return(2),
        [EmitRule.FallThrough] = b => b.If(b.Context.Op == 1, () => b.Return(1)),
        [EmitRule.Unreachable] = b => { b.Return(1); b.Context.Reply.Set(1); },
        [EmitRule.ReferenceLeak] = b => b.IfNotNull(b.RingBufReserve<ulong>(b.RingBuf("events", 4096)), record => record.U64().Set(1)),
        [EmitRule.PacketBounds] = b => b.IfPacketHas(20, p => b.Context.Reply.Set((I32)p.ReadU32(20))),
        [EmitRule.Unbounded] = b => b.For(0, 1000, _ => { }),
        [EmitRule.Operand] = b => b.Context.Reply.Set((I32)(b.Context.Op << 40)),
        [EmitRule.Usage] = b => b.IfNotNull(default(MaybeNull<SockRef>), _ => { }),
        [EmitRule.TargetKernel] = b => b.Context.Reply.Set((I32)(U32)b.Context.SkbHwTimestamp),
    };

    [Fact]
    public void Every_rule_has_a_misuse_that_raises_it()
    {
        Assert.Equal(Enum.GetValues<EmitRule>().Order(), s_misuse.Keys.Order());
    }

    public static TheoryData<EmitRule> Rules() => new(s_misuse.Keys);

    [Theory]
    [MemberData(nameof(Rules))]
    public void The_misuse_is_refused_with_its_rule_and_this_line(EmitRule rule)
    {
        // A proprietary license makes the GPL-only helper the HelperNotAllowed case; the other misuses do not care.
        var e = Assert.Throws<EmitException>(() => SockOpsProgram.Build("misuse", b =>
        {
            s_misuse[rule](b);
            // The fall-through case is a program without a final return; the others end as programs do.
            if (rule is not (EmitRule.FallThrough or EmitRule.ReturnValue or EmitRule.Unreachable)) b.Return(1);
        }, license: "Proprietary", target: KernelVersion.Linux6_1));
        Assert.Equal(rule, e.Rule);
        Assert.EndsWith("EmitRuleCoverageTests.cs", e.File, StringComparison.Ordinal);
        Assert.True(e.Line > 0);
    }

    [Fact]
    public void A_ctx_array_index_outside_0_to_3_is_an_emit_error_with_the_line()
    {
        int line = 0;
        var e = Assert.Throws<EmitException>(() => SockOpsProgram.Build("index", b =>
        {
            line = Here(); b.Context.Reply.Set((I32)b.Context.Args[4]);
            b.Return(1);
        }));
        Assert.Equal(EmitRule.ContextRead, e.Rule);
        Assert.Equal(line, e.Line);
        Assert.EndsWith("EmitRuleCoverageTests.cs", e.File, StringComparison.Ordinal);
        Assert.Contains("args[4]", e.Message, StringComparison.Ordinal);
        Assert.Equal(EmitRule.ContextRead, Assert.Throws<EmitException>(() => SockOpsProgram.Build("index", b =>
        {
            b.Context.Reply.Set((I32)b.Context.RemoteIp6[-1]);
            b.Return(1);
        })).Rule);
        var socketWord = Assert.Throws<EmitException>(() => SockOpsProgram.Build("index", b =>
        {
            b.IfNotNull(b.Context.Sk, sk => b.Context.Reply.Set((I32)sk.DstIp6(7)));
            b.Return(1);
        }));
        Assert.Equal(EmitRule.ContextRead, socketWord.Rule);
        Assert.Contains("dst_ip6[7]", socketWord.Message, StringComparison.Ordinal);
        Assert.EndsWith("EmitRuleCoverageTests.cs", socketWord.File, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-2_000_000_000, 2_000_000_000)]
    [InlineData(int.MinValue, int.MaxValue)]
    [InlineData(0, 257)]
    public void A_loop_beyond_the_unroll_limit_is_refused_even_when_its_length_overflows_int(int from, int to)
    {
        int iterations = 0;
        var e = Assert.Throws<EmitException>(() => SockOpsProgram.Build("loop", b =>
        {
            b.For(from, to, _ => iterations++);
            b.Return(1);
        }));
        Assert.Equal(EmitRule.Unbounded, e.Rule);
        Assert.Contains(((long)to - from).ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);
        Assert.Equal(0, iterations);
    }

    [Theory]
    [InlineData("my-map")]
    [InlineData("2maps")]
    [InlineData("map name")]
    public void A_map_name_that_is_not_a_c_identifier_is_refused(string name)
    {
        // It becomes a BTF VAR and an ELF symbol (object files) and a kernel object name.
        var e = Assert.Throws<EmitException>(() => SockOpsProgram.Build("maps", b =>
        {
            b.Map<int, int>(name, MapType.Hash, 4);
            b.Return(1);
        }));
        Assert.Equal(EmitRule.Usage, e.Rule);
        Assert.Contains("not a C identifier", e.Message, StringComparison.Ordinal);
    }

    private static int Here([System.Runtime.CompilerServices.CallerLineNumber] int line = 0) => line;
}
