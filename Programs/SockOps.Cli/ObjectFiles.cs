using System.Globalization;
using SockOps.Emit;
using SockOps.Emit.Assembler;
using SockOps.Emit.Objects;
using SockOps.Emit.Runtime;

namespace SockOps.Cli;

/// <summary>
/// BPF object files (<c>.o</c>, clang's or <c>sockops dump --format elf</c>'s) wherever a verb takes a program name:
/// read with <see cref="ElfObjectReader"/>, loaded with the Runtime's <see cref="ObjectLoader"/>.
/// </summary>
internal static class ObjectFiles
{
    /// <summary>Whether <paramref name="nameOrPath"/> names an object file rather than a shipped program.</summary>
    public static bool IsObjectFile(string nameOrPath)
    {
        if (nameOrPath.EndsWith(".o", StringComparison.Ordinal)) return true;
        if (!File.Exists(nameOrPath)) return false;
        Span<byte> magic = stackalloc byte[4];
        using var file = File.OpenRead(nameOrPath);
        return file.Read(magic) == 4 && magic.SequenceEqual((ReadOnlySpan<byte>)[0x7f, (byte)'E', (byte)'L', (byte)'F']);
    }

    /// <summary>Reads the object; a missing file or one that is not a supported BPF object is an input error.</summary>
    public static BpfObject Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such object file", path);
        return ElfObjectReader.Read(path);
    }

    /// <summary>The options that only apply to shipped programs are usage errors with an object file.</summary>
    public static void RefuseProgramOptions(string path, string[]? settings, string? target)
    {
        if (settings is { Length: > 0 }) throw new CliUsageException($"{path} is an object file: --set applies to shipped programs only.");
        if (target is not null) throw new CliUsageException($"{path} is an object file, already built: --target applies to shipped programs only.");
    }

    /// <summary>
    /// <c>verify FILE.o</c>: loads every program of the object into this kernel (not attached) and prints one line per
    /// program, <c>NAME: accepted: …</c> or <c>NAME: refused: … [line: C source]</c>; exit 1 when one is refused.
    /// </summary>
    public static int Verify(CliConsole console, string path)
    {
        var obj = Read(path);
        int refused = 0;
        // Each program on its own (with every map), so one refusal does not hide the others' verdicts.
        foreach (var program in obj.Programs)
        {
            var single = new BpfObject([program], obj.Maps, obj.Btf);
            try
            {
                using var loaded = ObjectLoader.Load(single, new ObjectLoadOptions { LogLevel = VerifierLogLevel.Statistics });
                var bpf = loaded.Program(program.Name);
                var info = bpf.Info;
                string stats = bpf.VerifierLog?.Split('\n').FirstOrDefault(l => l.StartsWith("processed ", StringComparison.Ordinal))?.Trim() ?? "";
                console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{program.Name}: accepted: section {program.Section}, {program.Slots} slots, {obj.Maps.Count} maps, verified_insns {info.VerifiedInstructions}, jited {info.JitedSize} bytes; {stats}"));
            }
            catch (VerifierException first)
            {
                refused++;
                // A statistics-level log has no source lines: the refusal is diagnosed again with the basic log.
                var e = first.SourceLine is null ? Rediagnose(single) ?? first : first;
                string line = e.SourceLine is { } source ? $" [line: {source}]" : "";
                console.Out.WriteLine($"{program.Name}: refused: {e.ErrorLine}{line}");
            }
        }
        return refused == 0 ? 0 : CliApp.ExitBadInput;
    }

    private static VerifierException? Rediagnose(BpfObject single)
    {
        try
        {
            ObjectLoader.Load(single, new ObjectLoadOptions { LogLevel = VerifierLogLevel.Basic }).Dispose();
            return null;
        }
        catch (VerifierException e)
        {
            return e;
        }
    }

    /// <summary>Loads the object and attaches each of its sock_ops programs to <paramref name="cgroup"/> (bpf_link, multi).</summary>
    public static (LoadedObject Loaded, List<CgroupAttachment> Attachments) LoadAndAttach(string path, Cgroup cgroup)
    {
        var obj = Read(path);
        var sockOps = obj.Programs.Where(p => p.Type == ProgramType.SockOps).ToList();
        if (sockOps.Count == 0)
            throw new CliInputException($"{path} has no sock_ops program (section sockops); it has {string.Join(", ", obj.Programs.Select(p => $"{p.Name} ({p.Section})"))}.");
        var loaded = ObjectLoader.Load(obj);
        var attachments = new List<CgroupAttachment>();
        try
        {
            foreach (var program in sockOps) attachments.Add(cgroup.Attach(loaded.Program(program.Name), AttachType.CgroupSockOps, CgroupAttachMode.Multi));
            return (loaded, attachments);
        }
        catch
        {
            foreach (var a in attachments) a.Dispose();
            loaded.Dispose();
            throw;
        }
    }

    /// <summary><c>disasm FILE.o</c>: each program with a header line, in the chosen syntax.</summary>
    public static void Disassemble(CliConsole console, string path, DisassemblySyntax syntax, bool addresses)
    {
        var obj = Read(path);
        foreach (var program in obj.Programs)
        {
            console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"; {program.Name}: section {program.Section}, license {program.License}, {program.Slots} slots, maps {string.Join(", ", program.MapReferences.Select(r => r.MapName).Distinct())}"));
            Disassembler.WriteProgram([.. program.Instructions], console.Out, syntax, addresses);
        }
    }
}
