using System.Diagnostics;
using System.Globalization;
using CsCheck;
using SockOps.Emit;
using SockOps.Emit.Assembler;
using SockOps.Emit.Hosting;
using SockOps.Emit.Runtime;
using SockOps.Emit.Tests.Fuzz;

namespace SockOps.KernelMatrix;

/// <summary>
/// Differential fuzz of the DSL's kernel target against the running kernel: random DSL programs (the generator of
/// the test suite's differential fuzz tests) are built for <c>--target</c>; every one the DSL accepts must load here.
/// A program the DSL refuses is only counted (its refusal is proven against the kernel by the test suite).
/// </summary>
internal static class FuzzCommand
{
    public static int Run(KernelVersion target, int count, long seed, TextWriter output)
    {
        var running = Program.RunningKernel();
        if (!running.IsAtLeast(target))
            output.WriteLine($"fuzz: note: the running kernel {running} is older than the target {target}");
        var clock = Stopwatch.StartNew();
        // A fixed PCG stream: the same programs on every kernel and every run.
        var master = new PCG(0, unchecked((ulong)seed));
        int accepted = 0, loaded = 0, refused = 0, beforeLoading = 0, slots = 0;
        string? firstRefusal = null;
        var dslRefusals = new SortedDictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < count; i++)
        {
            var pcg = new PCG(master.Next(), master.Next64());
            string caseSeed = pcg.ToString();
            var program = FuzzGen.Program.Generate(pcg, null, out _);
            ProgramImage image;
            try
            {
                image = FuzzRenderer.Render(program, out _, target);
            }
            catch (EmitException e)
            {
                string rule = e.Rule.ToString();
                dslRefusals[rule] = dslRefusals.GetValueOrDefault(rule) + 1;
                continue;
            }
            accepted++;
            slots += image.Slots;
            try
            {
                using var program_ = SockOpsHost.Load(image, debugInfo: false);
                loaded++;
            }
            catch (Exception e) when (e is ProgramRefusedException or BpfException or NotSupportedException)
            {
                // The verifier's refusal, or the host's feature check before loading (KernelNotSupportedException):
                // either way the program the DSL accepted for this kernel does not load on it.
                refused++;
                if (e is KernelNotSupportedException) beforeLoading++;
                firstRefusal ??= $"first refused program (case {i}, seed {caseSeed}): {e.Message.Split('\n')[0]}\n{FuzzPrinter.Print(program)}";
            }
        }
        clock.Stop();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"fuzz: {count} generated, {accepted} accepted for target {target}, {loaded} loaded, {refused} refused by the kernel"));
        string byRule = dslRefusals.Count == 0 ? "none" : string.Join(", ", dslRefusals.Select(k => $"{k.Key} {k.Value}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"fuzz: kernel {running}, seed {seed}, {clock.Elapsed.TotalSeconds:F1} s, {slots} slots loaded; refused by the DSL: {byRule}"));
        if (beforeLoading > 0)
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fuzz: {beforeLoading} of the {refused} were refused before loading by the host's feature check"));
        if (firstRefusal is not null) output.WriteLine(firstRefusal);
        return refused == 0 ? 0 : 1;
    }
}
