using System.Text;
using SockOps.Emit.Assembler;
using SockOps.Emit.Lint;
using SockOps.Emit.TestSupport;
using SockOps.Emit.Tests.Kernel;
using static SockOps.Emit.Tests.Kernel.Insn;

namespace SockOps.Emit.Tests.Lint;

/// <summary>
/// Differential test of the linter against the verifier on random raw sock_ops programs (fixed seeds):
/// (1) whatever the linter flags, the kernel refuses (no false positives); (2) when the kernel's
/// refusal is one a rule covers, the linter reports that rule (no misses). Branch conditions always
/// test a freshly loaded, unknown ctx value, so the kernel explores both sides of every branch —
/// the setting in which the linter claims exactness (see the remarks on <see cref="InstructionLinter"/>).
/// </summary>
public class LinterDifferentialTests
{
    private static readonly (string KernelText, string Rule)[] RuleOfKernelMessage =
    [
        ("!read_ok", LintRules.UninitializedRegister),
        ("frame pointer is read only", LintRules.FramePointerWrite),
        ("jump out of range", LintRules.JumpOutOfRange),
        ("jump into the middle of ldimm64", LintRules.JumpIntoLoadImmediate64),
        ("last insn is not an exit or jmp", LintRules.FallsOffEnd),
        ("unreachable insn", LintRules.Unreachable),
        ("invalid shift", LintRules.InvalidShift),
        ("div by zero", LintRules.DivisionByZero),
        ("cannot use helper", LintRules.HelperNotAllowed),
        ("invalid bpf_context access", LintRules.ContextAccess),
        ("BPF_ATOMIC stores into R1 ctx", LintRules.ContextAccess),
    ];

    private static readonly int[] Destinations = [0, 0, 2, 3, 4, 5, 7, 8];
    private static readonly int[] Immediates = [0, 1, 5, 31, 32, 63, 64, -1, 100];
    private static readonly AluOperation[] ImmediateOps =
        [AluOperation.Add, AluOperation.Sub, AluOperation.Lsh, AluOperation.Rsh, AluOperation.Arsh, AluOperation.Div, AluOperation.Mod, AluOperation.And, AluOperation.Or];
    private static readonly int[] Helpers = [5, 7, 49, 86];

    private static List<Instruction> RandomProgram(Random rng)
    {
        var p = new List<Instruction> { Mov64Reg(6, 1) }; // r6 = ctx, never written again
        foreach (int r in (int[])[0, 2, 3, 4, 5, 7, 8])
            if (rng.Next(10) < 8) p.Add(Mov64(r, rng.Next(2)));
        int blocks = rng.Next(2, 12);
        for (int b = 0; b < blocks; b++)
        {
            int dst = Destinations[rng.Next(Destinations.Length)];
            int pick = rng.Next(40);
            switch (pick < 12 ? pick : pick < 26 ? 5 : pick < 30 ? 8 : pick < 36 ? 0 : pick - 27)
            {
                case 0: p.Add(Mov64(dst, Immediates[rng.Next(Immediates.Length)])); break;
                case 1: p.Add(Mov64Reg(dst, rng.Next(3) == 0 ? rng.Next(11) : Destinations[rng.Next(Destinations.Length)])); break;
                case 2:
                case 3:
                    var op = ImmediateOps[rng.Next(ImmediateOps.Length)];
                    int imm = rng.Next(3) == 0 ? Immediates[rng.Next(Immediates.Length)] : rng.Next(1, 31);
                    p.Add(rng.Next(2) == 0 ? Alu64(op, dst, imm) : Alu32(op, dst, imm));
                    break;
                case 4: p.Add(Alu64Reg(AluOperation.Add, dst, rng.Next(11))); break;
                case 5:
                {
                    var unit = SockOpsContext.AccessUnits[rng.Next(SockOpsContext.AccessUnits.Count)];
                    bool exact = rng.Next(6) != 0;
                    int offset = exact ? unit.Offset : rng.Next(0, 232);
                    int size = exact ? (unit.ReadSizes.Allows(8) ? 8 : 4) : 1 << rng.Next(4);
                    p.Add(Ldx(size, dst, 6, (short)offset));
                    break;
                }
                case 6:
                    if (rng.Next(2) == 0) break;
                    p.Add(rng.Next(2) == 0 ? St(4, 6, (short)(rng.Next(3) == 0 ? 4 : rng.Next(0, 232)), 1) : Stx(1 << rng.Next(4), 6, 0, (short)rng.Next(0, 232)));
                    break;
                case 7: p.Add(Stx(8, 10, rng.Next(11), -8)); break;
                case 8:
                    p.Add(Ldx(4, 9, 6, 0)); // fresh unknown value: both branch sides are feasible
                    p.Add(JeqImm(9, rng.Next(20), (short)rng.Next(-4, 7)));
                    break;
                case 9: if (rng.Next(3) == 0) p.Add(Ja((short)rng.Next(-2, 5))); break;
                case 10: p.Add(Call(Helpers[rng.Next(Helpers.Length)])); break;
                case 13 when rng.Next(3) != 0: break;
                case 11: p.Add(LdImm64(dst, rng.NextInt64())); break;
                case 12: p.Add(rng.Next(8) == 0 ? Mov64(10, 0) : Mov64(0, rng.Next(2))); break;
                default:
                    p.Add(Mov64(0, 1));
                    p.Add(Exit());
                    break;
            }
        }
        if (rng.Next(10) != 0)
        {
            p.Add(Mov64(0, 1));
            p.Add(Exit());
        }
        return p;
    }

    [Fact]
    public void Linter_and_verifier_agree_on_4000_random_programs()
    {
        KernelGate.Require();
        var problems = new StringBuilder();
        int flagged = 0, refused = 0, covered = 0;
        var perRule = new Dictionary<string, int>();
        for (int seed = 0; seed < 4000; seed++)
        {
            var program = RandomProgram(new Random(seed));
            var findings = InstructionLinter.Lint(program);
            var result = RawBpf.LoadSockOps(program);
            if (findings.Count > 0) flagged++;
            if (!result.Accepted) refused++;
            if (findings.Count > 0 && result.Accepted)
                problems.Append($"seed {seed}: linter flags [{string.Join("; ", findings)}] but the kernel accepts\n");
            if (!result.Accepted)
            {
                string? rule = RuleOfKernelMessage.FirstOrDefault(r => result.Log.Contains(r.KernelText, StringComparison.Ordinal)).Rule;
                if (rule is not null)
                {
                    covered++;
                    perRule[rule] = perRule.GetValueOrDefault(rule) + 1;
                    if (findings.All(f => f.Rule != rule))
                        problems.Append($"seed {seed}: kernel refuses ({result}) but the linter has no {rule} finding [{string.Join("; ", findings)}]\n");
                }
            }
        }
        Assert.True(problems.Length == 0, problems.ToString());
        // The generator must exercise both outcomes and every generated rule, or the properties above say nothing.
        // (Measured: 2711 flagged, 930 accepted, 2665 kernel refusals that a rule covers.)
        Assert.InRange(flagged, 1000, 3500);
        Assert.True(4000 - refused >= 500, $"only {4000 - refused} programs were accepted");
        string[] generated = [LintRules.UninitializedRegister, LintRules.InvalidShift, LintRules.JumpOutOfRange, LintRules.ContextAccess,
            LintRules.FallsOffEnd, LintRules.Unreachable, LintRules.JumpIntoLoadImmediate64, LintRules.HelperNotAllowed,
            LintRules.FramePointerWrite, LintRules.DivisionByZero];
        Assert.All(generated, rule => Assert.True(perRule.GetValueOrDefault(rule) > 0, $"no kernel refusal exercised {rule}"));
    }
}
