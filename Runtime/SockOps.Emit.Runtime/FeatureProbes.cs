using SockOps.Emit.Btf;
using System.Collections.Concurrent;
using SockOps.Emit.Assembler;
using SockOps.Emit.Runtime.Btf;
using SockOps.Emit.Runtime.Interop;

namespace SockOps.Emit.Runtime;

/// <summary>What the running kernel supports, found by trying (never by parsing uname). Results are cached.</summary>
public static class FeatureProbes
{
    private static readonly ConcurrentDictionary<MapType, bool> MapTypes = new();
    private static readonly ConcurrentDictionary<ProgramType, bool> ProgramTypes = new();
    private static readonly ConcurrentDictionary<(ProgramType, int), bool> Helpers = new();
    private static readonly Lazy<bool> CgroupLinks = new(ProbeCgroupLinks);

    /// <summary>The probe's name as reported in errors, e.g. <c>map_type:sk_storage</c>.</summary>
    public static string MapTypeProbeName(MapType type) => "map_type:" + type;

    /// <summary>The kernel version a map type is expected from.</summary>
    public static string MinimumKernel(MapType type) => type switch
    {
        MapType.Hash or MapType.Array => "3.19",
        MapType.ProgramArray or MapType.PerfEventArray => "4.2",
        MapType.PerCpuHash or MapType.PerCpuArray => "4.6",
        MapType.LruHash or MapType.LruPerCpuHash => "4.10",
        MapType.SockMap => "4.14",
        MapType.SockHash => "4.18",
        MapType.SkStorage => "5.2",
        MapType.RingBuf => "5.8",
        _ => "unknown",
    };

    /// <summary>The kernel version a program type is expected from.</summary>
    public static string MinimumKernel(ProgramType type) => type switch
    {
        ProgramType.SocketFilter => "3.19",
        ProgramType.Kprobe or ProgramType.SchedClassifier or ProgramType.SchedAction => "4.1",
        ProgramType.Tracepoint => "4.7",
        ProgramType.Xdp => "4.8",
        ProgramType.PerfEvent or ProgramType.CgroupSkb or ProgramType.CgroupSock => "4.9",
        ProgramType.SockOps => "4.13",
        ProgramType.SkSkb => "4.14",
        ProgramType.CgroupDevice => "4.15",
        ProgramType.SkMsg => "4.17",
        ProgramType.CgroupSockAddr => "4.17",
        ProgramType.CgroupSysctl => "5.2",
        ProgramType.CgroupSockopt => "5.3",
        ProgramType.SkLookup => "5.9",
        ProgramType.Syscall => "5.14",
        _ => "unknown",
    };

    /// <summary>Whether BPF_MAP_CREATE accepts a minimal map of this type.</summary>
    public static bool IsMapTypeSupported(MapType type) => MapTypes.GetOrAdd(type, ProbeMapType);

    /// <summary>Whether BPF_PROG_LOAD accepts <c>r0 = 0; exit</c> as this program type.</summary>
    public static bool IsProgramTypeSupported(ProgramType type) => ProgramTypes.GetOrAdd(type, ProbeProgramType);

    /// <summary>Whether a program of this type may call helper <paramref name="helperId"/> (a probe load that calls it).</summary>
    public static bool IsHelperSupported(ProgramType type, int helperId) => Helpers.GetOrAdd((type, helperId), ProbeHelper);

    /// <summary>Whether cgroup programs can be attached through bpf_link (BPF_LINK_CREATE; Linux 5.7).</summary>
    public static bool AreCgroupLinksSupported => CgroupLinks.Value;

    /// <summary>Whether the running kernel's BTF has a function of this name that a program may call as a kfunc
    /// (its id is <c>KernelBtf.Current.FindFunction(name)</c>). E.g. <c>bpf_sock_ops_enable_tx_tstamp</c> (Linux 6.15).</summary>
    public static bool IsKfuncAvailable(string name) =>
        File.Exists(KernelBtf.VmlinuxPath) && KernelBtf.Current.FindFunction(name) is not null;

    /// <summary>Throws <see cref="FeatureNotSupportedException"/> unless the map type is supported.</summary>
    public static void RequireMapType(MapType type)
    {
        if (!IsMapTypeSupported(type)) throw new FeatureNotSupportedException(MapTypeProbeName(type), MinimumKernel(type));
    }

    /// <summary>Throws <see cref="FeatureNotSupportedException"/> unless the program type is supported.</summary>
    public static void RequireProgramType(ProgramType type)
    {
        if (!IsProgramTypeSupported(type)) throw new FeatureNotSupportedException("prog_type:" + type, MinimumKernel(type));
    }

    private static bool ProbeMapType(MapType type)
    {
        LoadedBtf? btf = null;
        try
        {
            MapSpec spec = type switch
            {
                MapType.RingBuf => new MapSpec { Type = type, KeySize = 0, ValueSize = 0, MaxEntries = Environment.SystemPageSize },
                MapType.SkStorage => SkStorageProbeSpec(out btf),
                MapType.PerfEventArray => new MapSpec { Type = type, KeySize = 4, ValueSize = 4, MaxEntries = 1 },
                MapType.SockMap or MapType.SockHash => new MapSpec { Type = type, KeySize = 4, ValueSize = 8, MaxEntries = 1 },
                _ => new MapSpec { Type = type, KeySize = 4, ValueSize = 8, MaxEntries = 1 },
            };
            using var fd = BpfMap.CreateRaw(spec, "probe", out int errno);
            if (errno == Errno.EPERM) throw new BpfException(BpfCommand.MapCreate, errno, "feature probe " + MapTypeProbeName(type));
            return fd is not null;
        }
        finally
        {
            btf?.Dispose();
        }
    }

    private static MapSpec SkStorageProbeSpec(out LoadedBtf btf)
    {
        var builder = new BtfBuilder();
        uint intId = builder.AddInt("int", 4, signed: true);
        uint valueId = builder.AddStruct("probe_value", 8, [new BtfMember("v", builder.AddInt("long long", 8, signed: true), 0)]);
        btf = builder.Load();
        return new MapSpec
        {
            Type = MapType.SkStorage, KeySize = 4, ValueSize = 8, MaxEntries = 0, Flags = MapFlags.NoPrealloc,
            Btf = new MapBtf(btf, intId, valueId),
        };
    }

    private static readonly Instruction MovR0Zero = new(0xb7, 0, 0, 0, 0);
    private static readonly Instruction Exit = new(0x95, 0, 0, 0, 0);

    private static bool ProbeProgramType(ProgramType type)
    {
        try
        {
            using var program = BpfProgram.Load(new ProgramLoadOptions { Type = type, Name = "probe", Instructions = [MovR0Zero, Exit] });
            return true;
        }
        catch (VerifierException)
        {
            return true; // the type exists; the trivial body was refused (e.g. needs an attach target)
        }
        catch (BpfException e) when (e.Errno is Errno.EINVAL or Errno.ENOTSUPP or Errno.EOPNOTSUPP)
        {
            return false;
        }
    }

    private static bool ProbeHelper((ProgramType Type, int HelperId) key)
    {
        try
        {
            // Set r1..r5 to 0 so an argument check (not the helper lookup) is what fails if anything.
            Instruction[] code =
            [
                new(0xb7, 1, 0, 0, 0), new(0xb7, 2, 0, 0, 0), new(0xb7, 3, 0, 0, 0), new(0xb7, 4, 0, 0, 0), new(0xb7, 5, 0, 0, 0),
                new(0x85, 0, 0, 0, key.HelperId), MovR0Zero, Exit,
            ];
            using var program = BpfProgram.Load(new ProgramLoadOptions
            {
                Type = key.Type,
                ExpectedAttachType = key.Type == ProgramType.SockOps ? AttachType.CgroupSockOps : null,
                Name = "probe",
                Instructions = code,
            });
            return true;
        }
        catch (BpfException e) when (e is not VerifierException && e.Errno == Errno.EINVAL)
        {
            return false; // the program type itself is unknown
        }
        catch (VerifierException e)
        {
            return !(e.Log.Contains("invalid func ", StringComparison.Ordinal) ||
                     e.Log.Contains("unknown func ", StringComparison.Ordinal) ||
                     e.Log.Contains("program of this type cannot use helper", StringComparison.Ordinal));
        }
    }

    private static bool ProbeCgroupLinks()
    {
        // LINK_CREATE with invalid fds: EBADF means the command and attach type were understood, EINVAL that they were not.
        var attr = new LinkCreateAttr { ProgFd = uint.MaxValue, TargetFd = uint.MaxValue, AttachType = (uint)AttachType.CgroupSockOps };
        int result = BpfSyscall.TryInvoke(BpfCommand.LinkCreate, ref attr);
        return result == -Errno.EBADF;
    }
}
