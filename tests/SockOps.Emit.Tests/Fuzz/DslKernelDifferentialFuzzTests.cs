using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using CsCheck;
using SockOps.Emit.Assembler;
using SockOps.Emit.Runtime;
using SockOps.Emit.TestSupport;
using SockOps.Emit.Tests.Dsl;
using static SockOps.Emit.Tests.Kernel.Insn;

namespace SockOps.Emit.Tests.Fuzz;

/// <summary>
/// Differential fuzzing of the DSL against the kernel verifier. Random programs (a small AST, so failures shrink
/// and print as DSL code) include constructs that break verifier rules. Every program the DSL accepts must load;
/// every program it refuses is forced through as raw instructions (the refused statement replaced by the raw
/// code it stands for) and the kernel must refuse it for the same reason — or the rule is one of the deliberate
/// stricter rules documented in docs/dsl-fuzzing.md. CI runs 2,000 programs (a few seconds) from a fixed seed; SOCKOPS_FUZZ_COUNT
/// raises the count.
/// </summary>
public partial class DslKernelDifferentialFuzzTests(ITestOutputHelper output)
{
    /// <summary>What the kernel must say when it refuses the forced twin of each DSL refusal.</summary>
    private static readonly Dictionary<EmitRule, string[]> KernelMessages = new()
    {
        [EmitRule.ReturnValue] = ["should have been in [0, 1]"],
        [EmitRule.ContextRead] = ["invalid bpf_context access"],
        [EmitRule.ContextWrite] = ["invalid bpf_context access"],
        [EmitRule.StackBounds] = ["invalid write to stack"],
        [EmitRule.Operand] = ["invalid shift", "div by zero"],
        [EmitRule.ReferenceLeak] = ["Unreleased reference", "reference leak"],
        [EmitRule.Unreachable] = ["unreachable insn"],
        [EmitRule.FallThrough] = ["jump out of range", "last insn is not an exit or jmp"],
        [EmitRule.HelperNotAllowed] = ["cannot call GPL-restricted function from non-GPL compatible program"],
    };

    private sealed class Tally
    {
        public int Programs, Accepted, Slots, KernelAgrees;
        public readonly Dictionary<string, int> Refusals = [];
        public readonly Dictionary<string, int> Stricter = [];
        public readonly Dictionary<string, int> NoTwin = [];

        public void Add(Dictionary<string, int> d, string key)
        {
            lock (this) d[key] = d.GetValueOrDefault(key) + 1;
        }
    }

    [Fact]
    public void Dsl_verdicts_agree_with_the_kernel_verifier()
    {
        KernelGate.Require();
        int count = int.TryParse(Environment.GetEnvironmentVariable("SOCKOPS_FUZZ_COUNT"), out int n) ? n : 2000;
        var tally = new Tally();
        var clock = Stopwatch.StartNew();
        // A fixed PCG stream: the same programs every run. A failing case is then handed to CsCheck by its seed,
        // which reproduces it and shrinks it to a small printed program.
        // SOCKOPS_FUZZ_KEEP_GOING=1 (long runs): count every disagreement instead of stopping at the first.
        bool keepGoing = Environment.GetEnvironmentVariable("SOCKOPS_FUZZ_KEEP_GOING") == "1";
        var failures = new List<string>();
        var master = PCG.Parse("0N0XIzNsQ0O2");
        for (int i = 0; i < count; i++)
        {
            var pcg = new PCG(master.Next(), master.Next64());
            string caseSeed = pcg.ToString();
            var program = FuzzGen.Program.Generate(pcg, null, out _);
            try
            {
                Check(program, tally);
            }
            catch (Exception first) when (keepGoing)
            {
                failures.Add($"case {i} (seed {caseSeed}): {first.Message.Split('\n')[0]}");
            }
            catch (Exception first)
            {
                output.WriteLine($"case {i} (seed {caseSeed}) failed: {first.Message}\n{FuzzPrinter.Print(program)}");
                FuzzGen.Program.Sample(p => Check(p, new Tally()), seed: caseSeed, iter: 1000, threads: 1, print: p => "\n" + FuzzPrinter.Print(p));
                throw;
            }
        }
        clock.Stop();
        string summary = string.Create(CultureInfo.InvariantCulture,
            $"{tally.Programs} programs in {clock.Elapsed.TotalSeconds:F1} s: {tally.Accepted} accepted by the DSL and loaded ({tally.Slots} slots); " +
            $"{tally.Programs - tally.Accepted} refused by the DSL, of which the kernel refused the forced twin for the same reason {tally.KernelAgrees} " +
            $"[{string.Join(", ", tally.Refusals.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => $"{k.Key} {k.Value}"))}]; " +
            $"deliberately stricter: [{string.Join(", ", tally.Stricter.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => $"{k.Key} {k.Value}"))}]; " +
            $"no twin: [{string.Join(", ", tally.NoTwin.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => $"{k.Key} {k.Value}"))}]");
        output.WriteLine(summary);
        foreach (var f in failures) output.WriteLine(f);
        Assert.True(failures.Count == 0, $"{failures.Count} disagreements:\n{string.Join('\n', failures)}");
        Assert.True(tally.Accepted >= count * 2 / 5, $"too few programs accepted: {summary}");
        Assert.True(tally.NoTwin.Values.Sum() * 50 <= count, $"too many refusals without a kernel twin: {summary}");
        Assert.True(tally.Refusals.Count >= 6, $"too few refusal classes exercised: {summary}");
    }

    private static void Check(FProgram p, Tally tally)
    {
        Interlocked.Increment(ref tally.Programs);
        ProgramImage image;
        FuzzRenderer? renderer = null;
        try
        {
            image = FuzzRenderer.Render(p, out renderer);
        }
        catch (EmitException e)
        {
            CheckRefusal(p, e, renderer!.Failed, tally);
            return;
        }
        try
        {
            using var loaded = DslKernel.Load(image);
        }
        catch (VerifierException e)
        {
            Assert.Fail($"The DSL accepted a program the kernel refuses: {e.ErrorLine}\n{DslKernel.Listing(image)}\n{Tail(e.Log)}");
        }
        Interlocked.Increment(ref tally.Accepted);
        Interlocked.Add(ref tally.Slots, image.Slots);
    }

    private static void CheckRefusal(FProgram p, EmitException e, FStmt? target, Tally tally)
    {
        string what = $"DSL refusal [{e.Rule}] {e.Detail} at {target?.GetType().Name ?? "the end"}";
        if (e.Rule == EmitRule.Uninitialized)
        {
            // Definite assignment of locals: a C-level rule the kernel cannot see (the register holds some value). Stricter.
            Assert.IsType<SUninit>(target);
            tally.Add(tally.Stricter, "Uninitialized");
            return;
        }
        ProgramImage forced;
        try
        {
            forced = FuzzRenderer.RenderForced(p, new ForcedPlan(e.Rule, target));
        }
        catch (EmitException again) when (again.Rule == EmitRule.Unreachable && e.Rule != EmitRule.Unreachable)
        {
            // The refused statement (e.g. a bad ctx read, checked while its operands are built) is also unreachable:
            // its raw twin is unreachable code, which the kernel refuses as such.
            e = again;
            forced = FuzzRenderer.RenderForced(p, new ForcedPlan(EmitRule.Unreachable, target));
        }
        catch (EmitException again) when (again.Rule == EmitRule.StackBounds)
        {
            // The twin itself needs more than 512 bytes once registers are spilled (stack objects are not shared
            // between branches). Counted, and bounded below.
            tally.Add(tally.NoTwin, $"{e.Rule} (twin out of stack)");
            return;
        }
        var patched = Patch(e, target, forced, p) ?? throw new InvalidOperationException($"{what}: no raw equivalent (marker not found)\n{DslKernel.Listing(forced)}");
        VerifierException? refusal = null;
        try
        {
            using var loaded = DslKernel.Load(patched);
        }
        catch (VerifierException ve)
        {
            refusal = ve;
        }
        if (e.Rule == EmitRule.HelperArgument)
        {
            // setsockopt level/optname the DSL's option table refuses: the verifier never reads them (they fail with
            // -EINVAL at run time). Deliberately stricter; the kernel must accept the raw program.
            Assert.True(refusal is null, $"{what}: the kernel refused the raw setsockopt program: {refusal?.ErrorLine}");
            tally.Add(tally.Stricter, "HelperArgument (setsockopt option)");
            return;
        }
        if (e.Rule == EmitRule.ContextRead && target is SCtxRead { Size: 8, Offset: 184 or 192 or 200 })
        {
            // sk, skb_data, skb_data_end: the kernel gives the load a pointer type (it refuses arithmetic on it later,
            // not the load). A DSL that refuses them as raw scalar reads (typed access only: ctx.Sk, IfPacketHas) is stricter.
            Assert.True(refusal is null, $"{what}: the kernel refused the raw pointer-field load: {refusal?.ErrorLine}");
            tally.Add(tally.Stricter, "ContextRead of a pointer field as a scalar");
            return;
        }
        Assert.True(KernelMessages.TryGetValue(e.Rule, out var expected), $"{what}: no kernel oracle for this rule");
        if (refusal is null && !MarkerExplored(forced))
        {
            // The refused statement sits where the verifier proves no path goes (it prunes branches on known values);
            // the DSL checks every statement it is given. Deliberately stricter.
            tally.Add(tally.Stricter, $"{e.Rule} in code the verifier proves dead");
            return;
        }
        if (refusal is null)
            Assert.Fail($"{what}, but the kernel accepts the equivalent raw program:\n{DslKernel.Listing(patched)}");
        Assert.True(expected.Any(m => refusal.Log.Contains(m, StringComparison.Ordinal)),
            $"{what}; the kernel refused the raw program for another reason: {refusal.ErrorLine}\n{DslKernel.Listing(patched)}\n{Tail(refusal.Log)}");
        Interlocked.Increment(ref tally.KernelAgrees);
        tally.Add(tally.Refusals, e.Rule.ToString());
    }

    /// <summary>Whether the kernel kept the marker (the verifier removes the code it never reaches from the xlated program).</summary>
    private static bool MarkerExplored(ProgramImage forced)
    {
        if (RawPatch.FindMarker(forced.Instructions) < 0) return true;
        using var loaded = DslKernel.Load(forced);
        return loaded.Program.Info.XlatedInstructions.Any(i => i.Class == InstructionClass.St && i.Immediate == FuzzRenderer.Marker);
    }

    [GeneratedRegex(@"needs (\d+) bytes")]
    private static partial Regex StackDepth();

    /// <summary>The forced twin with the marker replaced by the raw code the refused statement stands for.</summary>
    private static ProgramImage? Patch(EmitException e, FStmt? target, ProgramImage forced, FProgram p)
    {
        switch (e.Rule)
        {
            case EmitRule.HelperNotAllowed:
                return RawPatch.WithLicense(forced, p.License);
            case EmitRule.Unreachable:
                return RawPatch.Append(forced, [Mov64(0, 1), Exit()]);
        }
        int m = RawPatch.FindMarker(forced.Instructions);
        if (m < 0)
        {
            if (e.Rule != EmitRule.StackBounds) return null;
            int depth0 = int.Parse(StackDepth().Match(e.Detail).Groups[1].Value, CultureInfo.InvariantCulture);
            return RawPatch.Replace(forced, 0, [StackTouch(depth0), forced.Instructions[0]]);
        }
        int ctx = forced.Instructions[m].DestinationIndex;
        switch (e.Rule, target)
        {
            case (EmitRule.ReturnValue, SReturn r):
                return RawPatch.Replace(forced, m, [Mov64(0, r.Value), JneImm(0, r.Value, 1), Exit()]);
            case (EmitRule.ReturnValue, SReturnExpr r):
                return RawPatch.Replace(forced, m,
                [
                    Ldx(4, 0, ctx, (short)FuzzTables.Fields32[r.Field].Offset),
                    Alu32(r.Mask ? AluOperation.And : AluOperation.Rsh, 0, r.Operand),
                    JeqImm(0, 0x7eadbeef, 1), Exit(),
                ]);
            case (EmitRule.ContextRead, SCtxRead r):
                return RawPatch.Replace(forced, m, [Ldx(r.Size, 0, ctx, (short)r.Offset)]);
            case (EmitRule.ContextWrite, SCtxWrite w):
                return RawPatch.Replace(forced, m, [Mov64(0, 1), Stx(w.Size, ctx, 0, (short)w.Offset)]);
            case (EmitRule.StackBounds, _):
                int depth = int.Parse(StackDepth().Match(e.Detail).Groups[1].Value, CultureInfo.InvariantCulture);
                return RawPatch.Replace(forced, m, [StackTouch(depth)]);
            case (EmitRule.Operand, SShift { Is64: true } h):
                return RawPatch.Replace(forced, m, [Ldx(8, 0, ctx, 176), Alu64(AluOperation.Lsh, 0, h.Amount)]);
            case (EmitRule.Operand, SShift h):
                return RawPatch.Replace(forced, m, [Ldx(4, 0, ctx, (short)FuzzTables.Fields32[h.Field].Offset), Alu32(AluOperation.Lsh, 0, h.Amount)]);
            case (EmitRule.Operand, SDivZero d):
                return RawPatch.Replace(forced, m, [Ldx(4, 0, ctx, (short)FuzzTables.Fields32[d.Field].Offset), Alu32(AluOperation.Div, 0, 0)]);
            case (EmitRule.ReferenceLeak, SRingBuf):
            {
                int call = FindCall(forced.Instructions, m, 132, 133);
                if (call < 0) return null;
                return RawPatch.Set(RawPatch.Set(forced, call, Mov64(0, 0)), m, Ja(0));
            }
            case (EmitRule.FallThrough, _):
            {
                int slot = forced.Instructions.Take(m).Sum(i => i.Slots);
                return RawPatch.Set(forced, m, Ja((short)(forced.Slots - (slot + 1))));
            }
            case (EmitRule.HelperArgument, SSetSockOpt o):
            {
                int call = FindCall(forced.Instructions, m, 49);
                if (call < 0) return null;
                var option = FuzzTables.Options[o.Option];
                var image = RawPatch.Set(forced, m, Ja(0));
                byte movImm = Opcode.Alu(true, AluOperation.Mov, OperandSource.Immediate);
                int r2 = LastBefore(image.Instructions, m, call, i => i.Opcode == movImm && i.DestinationIndex == 2);
                int r3 = LastBefore(image.Instructions, m, call, i => i.Opcode == movImm && i.DestinationIndex == 3);
                if (r2 < 0 || r3 < 0) return null;
                image = RawPatch.Set(image, r2, Mov64(2, option.Level));
                return RawPatch.Set(image, r3, Mov64(3, option.Name));
            }
            default:
                return null;
        }
    }

    /// <summary>A store at the depth the DSL computed (4 bytes when it is not 8-byte aligned: the kernel wants aligned stack access).</summary>
    private static Instruction StackTouch(int depth) => St(depth % 8 == 0 ? 8 : 4, 10, (short)-depth, 0);

    /// <summary>
    /// The instructions the straight path from <paramref name="from"/> runs, in order: falling through conditional
    /// jumps and following unconditional ones, up to an exit. The emitter shares identical tails between paths and
    /// moves switch cases behind the program, so the code after the marker need not follow it in the listing.
    /// </summary>
    private static List<int> StraightPath(IReadOnlyList<Instruction> code, int from)
    {
        var slotOf = new int[code.Count + 1];
        for (int i = 0; i < code.Count; i++) slotOf[i + 1] = slotOf[i] + code[i].Slots;
        var path = new List<int>();
        for (int i = from + 1; i < code.Count && path.Count < 4096; )
        {
            var insn = code[i];
            if (insn.Class == InstructionClass.Jmp && insn.Opcode == 0x05)
            {
                i = Array.IndexOf(slotOf, slotOf[i] + 1 + insn.Offset);
                if (i < 0) break;
                continue;
            }
            path.Add(i);
            if (insn.Class == InstructionClass.Jmp && insn.Opcode == 0x95) break;
            i++;
        }
        return path;
    }

    /// <summary>The first call of one of <paramref name="helpers"/> on the straight path from <paramref name="from"/>, or -1.</summary>
    private static int FindCall(IReadOnlyList<Instruction> code, int from, params int[] helpers)
    {
        foreach (int i in StraightPath(code, from))
            if (Opcode.IsJump(code[i].Class) && (code[i].Opcode & 0xf0) == (int)JumpOperation.Call && helpers.Contains(code[i].Immediate)) return i;
        return -1;
    }

    /// <summary>The last instruction matching <paramref name="match"/> on the straight path from <paramref name="from"/> before <paramref name="to"/>, or -1.</summary>
    private static int LastBefore(IReadOnlyList<Instruction> code, int from, int to, Func<Instruction, bool> match)
    {
        var path = StraightPath(code, from);
        int end = path.IndexOf(to);
        for (int k = end - 1; k >= 0; k--) if (match(code[path[k]])) return path[k];
        return -1;
    }

    private static string Tail(string log) => log[^Math.Min(log.Length, 3000)..];
}
