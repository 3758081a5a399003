using System.CommandLine;
using SockOps.Emit.Runtime.Conformance;

namespace SockOps.Cli;

internal static partial class Commands
{
    private static Command Conformance(CliConsole console)
    {
        var directory = new Argument<string>("DIR") { Description = "A directory of BPF conformance suite .data files." };
        var cpu = new Option<string>("--cpu") { Description = "Instruction set version: v3 skips the v4-only tests.", DefaultValueFactory = _ => "v4" };
        cpu.AcceptOnlyFromAmong("v3", "v4");
        var target = TargetOption("Refuse, before loading, the tests whose instructions are newer than this kernel (e.g. 6.1: no cpu v4 forms).", null);
        var command = new Command("conformance", "Run the BPF ISA conformance suite through our assembler and loader on this kernel (needs CAP_BPF).") { directory, cpu, target };
        command.SetAction(parse =>
        {
            string dir = parse.GetValue(directory)!;
            if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"{dir}: no such directory");
            // An empty run proves nothing: "0 passed" with exit 0 would read as a green suite.
            if (!Directory.EnumerateFiles(dir, "*.data").Any())
                throw new CliInputException($"{dir}: no conformance-suite .data files (the suite's tests/ directory has them)");
            int version = parse.GetValue(cpu) == "v3" ? 3 : 4;
            int passed = 0, failed = 0, skipped = 0, unsupported = 0, unexpected = 0;
            foreach (ConformanceResult r in ConformanceRunner.RunDirectory(dir, version, ParseTarget(parse.GetValue(target))))
            {
                string verdict = r.Outcome switch
                {
                    ConformanceOutcome.Passed => "PASS",
                    ConformanceOutcome.Skipped => "SKIP",
                    ConformanceOutcome.Unsupported => "UNSUPPORTED",
                    _ => ConformanceRunner.IsKnownKernelRefusal(r) ? "FAIL (kernel refuses, as for the suite's own runner)" : "FAIL",
                };
                console.Out.WriteLine($"{verdict} {r.Name}: {r.Detail}");
                switch (r.Outcome)
                {
                    case ConformanceOutcome.Passed: passed++; break;
                    case ConformanceOutcome.Skipped: skipped++; break;
                    case ConformanceOutcome.Unsupported: unsupported++; break;
                    default:
                        failed++;
                        if (!ConformanceRunner.IsKnownKernelRefusal(r)) unexpected++;
                        break;
                }
            }
            console.Out.WriteLine(passed + " passed, " + failed + " failed, " + skipped + " skipped" + (unsupported > 0 ? ", " + unsupported + " unsupported by the target" : ""));
            return unexpected == 0 ? 0 : 1;
        });
        return command;
    }
}
