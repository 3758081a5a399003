using BenchmarkDotNet.Attributes;
using SockOps.Emit.Assembler;
using SockOps.Emit.Runtime;
using SockOps.Emit.Runtime.Interop;

namespace SockOps.Emit.Benchmarks;

// SockOps.Emit (the enclosing namespace) has its own MapType; these benchmarks mean the Runtime's.

/// <summary>
/// The BPF_PROG_LOAD path for a 100-instruction sock_ops program: our whole <see cref="BpfProgram.Load(ProgramLoadOptions)"/>
/// (encoding, map fd patching, name/licence marshalling, SafeHandle) against the bare syscall with a pre-encoded
/// attribute. The difference is the managed overhead (target: ≤ 10% of the syscall). Needs CAP_BPF + CAP_NET_ADMIN.
/// </summary>
[MemoryDiagnoser]
public class RuntimeLoadBenchmarks
{
    private BpfMap _counts = null!;
    private ProgramLoadOptions _options = null!;
    private byte[] _encoded = null!;
    private byte[] _license = null!;

    [GlobalSetup]
    public void Setup()
    {
        _counts = BpfMap.Create(new MapSpec { Type = MapType.Array, KeySize = 4, ValueSize = 8, MaxEntries = 32, Name = "op_counts" });
        var code = HundredInstructionProgram();
        _options = new ProgramLoadOptions
        {
            Type = ProgramType.SockOps,
            ExpectedAttachType = AttachType.CgroupSockOps,
            Name = "bench_load",
            Instructions = code,
            MapReferences = [new MapReference(3, "op_counts")],
            Maps = new Dictionary<string, BpfMap> { ["op_counts"] = _counts },
        };
        int slots = code.Sum(i => i.Slots);
        _encoded = new byte[slots * Instruction.SlotSize];
        for (int i = 0, at = 0; i < code.Length; i++) at += code[i].WriteTo(_encoded.AsSpan(at));
        // Patch the map fd by hand for the raw variant (ld_imm64 at instruction 3 = slot 3).
        _encoded[3 * 8 + 1] = (byte)((_encoded[3 * 8 + 1] & 0x0f) | (1 << 4));
        BitConverter.TryWriteBytes(_encoded.AsSpan(3 * 8 + 4), _counts.Fd.Value);
        _license = "GPL\0"u8.ToArray();
        if (code.Length != 100) throw new InvalidOperationException($"expected 100 instructions, have {code.Length}");
    }

    [GlobalCleanup]
    public void Cleanup() => _counts.Dispose();

    /// <summary>The counting program of the proof test, padded with ALU instructions to 100 instructions.</summary>
    internal static Instruction[] HundredInstructionProgram()
    {
        var code = new List<Instruction>
        {
            new(0xbf, 6, 1, 0, 0), new(0x61, 2, 1, 0, 0), new(0x63, 10, 2, -4, 0),
            Instruction.LoadImmediate64(Register.R1, 0, PseudoSource.MapFd),
            new(0xbf, 2, 10, 0, 0), new(0x07, 2, 0, 0, -4), new(0x85, 0, 0, 0, 1),
            new(0x15, 0, 0, 2, 0), new(0xb7, 1, 0, 0, 1), new(0xdb, 0, 1, 0, 0),
            new(0xb7, 3, 0, 0, 0),
        };
        while (code.Count < 98) code.Add(new Instruction(0x07, 3, 0, 0, code.Count)); // r3 += n
        code.Add(new Instruction(0xb7, 0, 0, 0, 1));
        code.Add(new Instruction(0x95, 0, 0, 0, 0));
        return [.. code];
    }

    [Benchmark(Description = "BpfProgram.Load (managed path)")]
    public void ManagedLoad()
    {
        using var program = BpfProgram.Load(_options);
    }

    [Benchmark(Description = "managed work only: encode + fd patch + marshalling")]
    public int ManagedWorkOnly()
    {
        var leases = new List<SafeHandleLease>();
        try
        {
            byte[] code = BpfProgram.Encode(_options, _options.Instructions is Instruction[] a ? a : [.. _options.Instructions], leases, out int[] slots);
            byte[] license = System.Text.Encoding.ASCII.GetBytes(_options.License + "\0");
            var name = ObjectName.From(BpfProgram.SanitizeName(_options.Name));
            return code.Length + slots.Length + license.Length + name[0];
        }
        finally
        {
            leases.ReleaseAll();
        }
    }

    [Benchmark(Baseline = true, Description = "raw bpf(BPF_PROG_LOAD) + close")]
    public unsafe void RawSyscall()
    {
        fixed (byte* insns = _encoded)
        fixed (byte* license = _license)
        {
            var attr = new ProgLoadAttr
            {
                ProgType = (uint)ProgramType.SockOps,
                InsnCount = (uint)(_encoded.Length / 8),
                Insns = (ulong)insns,
                License = (ulong)license,
                ExpectedAttachType = (uint)AttachType.CgroupSockOps,
                ProgName = ObjectName.From("bench_load"),
            };
            int fd = BpfSyscall.TryInvoke(BpfCommand.ProgramLoad, ref attr);
            if (fd < 0) throw new BpfException(BpfCommand.ProgramLoad, -fd);
            Libc.Close(fd);
        }
    }
}

/// <summary>Ring buffer consumption: 64-byte records produced by a BPF program (BPF_PROG_TEST_RUN) before each
/// iteration, then consumed with the zero-copy <see cref="RingBuffer.Consume"/> and with the copying async stream.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "BenchmarkDotNet disposes through [GlobalCleanup].")]
public class RuntimeRingBufferBenchmarks
{
    private const int Records = 16_384;
    private BpfMap _state = null!;
    private BpfMap _ringMap = null!;
    private BpfProgram _emitter = null!;
    private RingBuffer _ring = null!;
    private long _sink;

    [GlobalSetup]
    public void Setup()
    {
        _state = BpfMap.Create(new MapSpec { Type = MapType.Array, KeySize = 4, ValueSize = 16, MaxEntries = 1, Name = "state" });
        _ringMap = BpfMap.Create(new MapSpec { Type = MapType.RingBuf, KeySize = 0, ValueSize = 0, MaxEntries = 2 << 20, Name = "ring" });
        _emitter = BpfProgram.Load(new ProgramLoadOptions
        {
            Type = ProgramType.SocketFilter,
            Name = "rb_emit",
            Instructions = EmitterProgram(),
            MapReferences = [new MapReference(1, "state"), new MapReference(17, "ring")],
            Maps = new Dictionary<string, BpfMap> { ["state"] = _state, ["ring"] = _ringMap },
        });
        _ring = new RingBuffer(_ringMap);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _ring.Dispose();
        _emitter.Dispose();
        _ringMap.Dispose();
        _state.Dispose();
    }

    [IterationSetup]
    public void Fill() => _emitter.TestRun(new byte[64], Records);

    [Benchmark(OperationsPerInvoke = Records, Description = "Consume (zero-copy), per record")]
    public long ConsumeZeroCopy()
    {
        int n = _ring.Consume(record => _sink += record[0]);
        if (n != Records) throw new InvalidOperationException($"consumed {n} of {Records}");
        return _sink;
    }

    [Benchmark(OperationsPerInvoke = Records, Description = "ReadAllAsync (copy per record), per record")]
    public async Task<long> ReadAllAsyncCopying()
    {
        int n = 0;
        await foreach (var record in _ring.ReadAllAsync())
        {
            _sink += record.Span[0];
            if (++n == Records) break;
        }
        return _sink;
    }

    // Same program as the ring buffer tests: seq = fetch_add(state[0], 1); bpf_ringbuf_output(&ring, &rec, 64, 0).
    private static Instruction[] EmitterProgram() =>
    [
        new(0x62, 10, 0, -68, 0), Instruction.LoadImmediate64(Register.R1, 0, PseudoSource.MapFd),
        new(0xbf, 2, 10, 0, 0), new(0x07, 2, 0, 0, -68), new(0x85, 0, 0, 0, 1),
        new(0x15, 0, 0, 20, 0), new(0xbf, 7, 0, 0, 0), new(0xb7, 1, 0, 0, 1), new(0xdb, 0, 1, 0, 0x01),
        new(0x7b, 10, 1, -64, 0), new(0x7a, 10, 0, -56, 0x5eed),
        new(0x7a, 10, 0, -48, 0), new(0x7a, 10, 0, -40, 0), new(0x7a, 10, 0, -32, 0), new(0x7a, 10, 0, -24, 0), new(0x7a, 10, 0, -16, 0), new(0x7a, 10, 0, -8, 0),
        Instruction.LoadImmediate64(Register.R1, 0, PseudoSource.MapFd),
        new(0xbf, 2, 10, 0, 0), new(0x07, 2, 0, 0, -64), new(0xb7, 3, 0, 0, 64), new(0xb7, 4, 0, 0, 0), new(0x85, 0, 0, 0, 130),
        new(0x15, 0, 0, 2, 0), new(0xb7, 1, 0, 0, 1), new(0xdb, 7, 1, 8, 0),
        new(0xb7, 0, 0, 0, 0), new(0x95, 0, 0, 0, 0),
    ];
}
