using SockOps.Emit.Btf;
using System.Runtime.InteropServices;
using SockOps.Emit.Assembler;
using SockOps.Emit.Runtime;
using SockOps.Emit.Runtime.Btf;
using SockOps.Emit.TestSupport;

namespace SockOps.Emit.Tests.Kernel;

/// <summary>
/// Raw instruction streams through the Runtime loader, as a verdict (accepted, errno, log) instead of
/// an exception, for sweeps that expect many refusals. Nothing stays loaded: the program is closed at once.
/// </summary>
internal static class RawBpf
{
    /// <summary>The verdict of one BPF_PROG_LOAD.</summary>
    public sealed record LoadResult(bool Accepted, int Errno, string Log)
    {
        public override string ToString() => Accepted ? "accepted" : $"refused (errno {Errno}): {LastLines(Log)}";

        private static string LastLines(string log)
        {
            var lines = log.TrimEnd().Split('\n');
            return string.Join(" | ", lines.Skip(Math.Max(0, lines.Length - 4)));
        }
    }

    /// <summary>Loads a sock_ops program (type 13, expected attach type 3) and closes it again.</summary>
    public static LoadResult LoadSockOps(IReadOnlyList<Instruction> instructions, string license = "GPL", int logSize = 1 << 16) =>
        Load(instructions, SockOpsConstants.ProgramType, SockOpsConstants.AttachType, license, logSize);

    public static LoadResult Load(IReadOnlyList<Instruction> instructions, int programType, int expectedAttachType, string license, int logSize)
    {
        try
        {
            using var program = BpfProgram.Load(new ProgramLoadOptions
            {
                Type = (ProgramType)programType,
                ExpectedAttachType = programType == SockOpsConstants.ProgramType ? (AttachType)expectedAttachType : null,
                License = license,
                Name = "raw",
                Instructions = instructions,
                InitialLogSize = logSize,
            });
            return new LoadResult(true, 0, "");
        }
        catch (VerifierException e)
        {
            return new LoadResult(false, e.Errno, e.Log);
        }
        catch (BpfException e) when (e.Command == BpfCommand.ProgramLoad)
        {
            return new LoadResult(false, e.Errno, e.Message);
        }
    }

    /// <summary>BTF with one type, [1] INT 'int' (4 bytes, signed): enough for maps that need BTF key/value ids.</summary>
    public static LoadedBtf LoadIntBtf()
    {
        var builder = new BtfBuilder();
        uint id = builder.AddInt("int", 4, signed: true);
        if (id != 1) throw new InvalidOperationException($"expected type id 1 for 'int', got {id}");
        return builder.Load();
    }

    /// <summary>Creates a map; the caller disposes the handle (the map's fd).</summary>
    public static SafeHandle CreateMap(MapType type, int keySize, int valueSize, int maxEntries, uint flags = 0, LoadedBtf? intBtf = null) =>
        BpfMap.Create(new MapSpec
        {
            Type = type,
            KeySize = keySize,
            ValueSize = valueSize,
            MaxEntries = maxEntries,
            Flags = (MapFlags)flags,
            Btf = intBtf is null ? null : new MapBtf(intBtf, 1, 1),
        }).Fd;

    /// <summary>Runs <paramref name="action"/> on a thread whose effective capabilities lack CAP_PERFMON and CAP_SYS_ADMIN.</summary>
    public static T WithoutPerfmon<T>(Func<T> action) =>
        ThreadCapabilities.RunWithout([ThreadCapabilities.Perfmon, ThreadCapabilities.SysAdmin], action);
}
