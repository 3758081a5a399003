using System.Buffers.Binary;
using System.Text;
using SockOps.Emit.Assembler;
using SockOps.Emit.Runtime.Interop;

namespace SockOps.Emit.Runtime;

/// <summary>A program loaded into the kernel. Disposing closes its descriptor (the kernel frees it once
/// nothing else — an attachment, link or pin — holds it).</summary>
public sealed class BpfProgram : IDisposable
{
    private const int MaxLogSize = 1 << 28;

    private BpfProgram(BpfFileDescriptor fd, ProgramType type, string name, string? verifierLog)
    {
        Fd = fd;
        Type = type;
        Name = name;
        VerifierLog = verifierLog;
    }

    /// <summary>The program's descriptor.</summary>
    public BpfFileDescriptor Fd { get; }

    /// <summary>The program type it was loaded as.</summary>
    public ProgramType Type { get; }

    /// <summary>The sanitized name given to the kernel.</summary>
    public string Name { get; }

    /// <summary>The verifier log of a successful load when a log level was requested; otherwise null.</summary>
    public string? VerifierLog { get; }

    /// <summary>Fresh kernel information about the program (BPF_OBJ_GET_INFO_BY_FD).</summary>
    public ProgramInfo Info => ProgramInfo.Query(Fd);

    /// <summary>Loads a program.</summary>
    /// <exception cref="VerifierException">The verifier refused it.</exception>
    /// <exception cref="BpfException">The kernel refused the load for another reason.</exception>
    /// <exception cref="MapReferenceException">A map reference cannot be resolved.</exception>
    public static BpfProgram Load(ProgramLoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var list = options.Instructions;
        var array = list as Instruction[] ?? [.. list];
        return Load(options, array);
    }

    /// <summary>Loads a program whose instructions are given as a span (<see cref="ProgramLoadOptions.Instructions"/> is ignored).</summary>
    public static unsafe BpfProgram Load(ProgramLoadOptions options, ReadOnlySpan<Instruction> instructions)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (instructions.IsEmpty) throw new ArgumentException("A program needs at least one instruction.", nameof(options));
        string name = SanitizeName(options.Name);

        var keepAlive = new List<SafeHandleLease>();
        try
        {
            byte[] code = Encode(options, instructions, keepAlive, out int[] slotToInstruction);
            int slots = slotToInstruction.Length;

            uint[]? fdArray = null;
            if (options.FdArray is { Count: > 0 } maps)
            {
                fdArray = new uint[maps.Count];
                for (int i = 0; i < maps.Count; i++) fdArray[i] = (uint)keepAlive.Lease(maps[i].Fd);
            }

            uint[] funcInfo = EncodeFuncInfo(options, slotToInstruction, instructions.Length);
            uint[] lineInfo = EncodeLineInfo(options, slotToInstruction, instructions.Length);
            uint btfFd = options.Btf is LoadedBtf btf ? (uint)keepAlive.Lease(btf.Fd) : 0;

            byte[] license = Encoding.ASCII.GetBytes((options.License ?? "") + "\0");
            VerifierLogLevel level = options.LogLevel;
            byte[]? log = level == VerifierLogLevel.None ? null : new byte[Math.Max(options.InitialLogSize, 256)];
            bool retriedForLog = false;

            fixed (byte* codePtr = code)
            fixed (byte* licensePtr = license)
            fixed (uint* fdArrayPtr = fdArray)
            fixed (uint* funcInfoPtr = funcInfo)
            fixed (uint* lineInfoPtr = lineInfo)
            {
                while (true)
                {
                    int result;
                    uint logTrueSize;
                    fixed (byte* logPtr = log)
                    {
                        var attr = new ProgLoadAttr
                        {
                            ProgType = (uint)options.Type,
                            InsnCount = (uint)slots,
                            Insns = (ulong)codePtr,
                            License = (ulong)licensePtr,
                            LogLevel = log is null ? 0 : (uint)level,
                            LogSize = log is null ? 0 : (uint)log.Length,
                            LogBuf = (ulong)logPtr,
                            ProgFlags = (uint)options.Flags,
                            ProgName = ObjectName.From(name),
                            ExpectedAttachType = options.ExpectedAttachType is AttachType t ? (uint)t : 0,
                            FdArray = (ulong)fdArrayPtr,
                            ProgBtfFd = btfFd,
                            FuncInfoRecSize = funcInfo.Length > 0 ? 8u : 0,
                            FuncInfo = (ulong)funcInfoPtr,
                            FuncInfoCount = (uint)(funcInfo.Length / 2),
                            LineInfoRecSize = lineInfo.Length > 0 ? 16u : 0,
                            LineInfo = (ulong)lineInfoPtr,
                            LineInfoCount = (uint)(lineInfo.Length / 4),
                        };
                        result = BpfSyscall.TryInvoke(BpfCommand.ProgramLoad, ref attr);
                        logTrueSize = attr.LogTrueSize;
                    }
                    if (result >= 0)
                    {
                        // A log the caller asked for is kept; one we only added to explain a failure is not.
                        string? text = log is not null && options.LogLevel != VerifierLogLevel.None ? ReadLog(log) : null;
                        return new BpfProgram(new BpfFileDescriptor(result), options.Type, name, text);
                    }

                    int errno = -result;
                    if (errno == Errno.ENOSPC && log is not null && log.Length < MaxLogSize)
                    {
                        // The log did not fit; 6.4+ tells the exact size needed, older kernels need doubling.
                        int next = logTrueSize > (uint)log.Length ? (int)Math.Min(logTrueSize, (uint)MaxLogSize) : log.Length * 2;
                        log = new byte[Math.Min(next, MaxLogSize)];
                        continue;
                    }
                    if (log is null && !retriedForLog && errno is Errno.EACCES or Errno.EINVAL or Errno.E2BIG or Errno.ENOSPC or Errno.EFAULT)
                    {
                        retriedForLog = true;
                        level = VerifierLogLevel.Basic;
                        log = new byte[Math.Max(options.InitialLogSize, 256)];
                        continue;
                    }
                    if (log is not null && logTrueSize > (uint)log.Length && log.Length < MaxLogSize)
                    {
                        // 6.4+ keeps the *end* of an overflowing log and still reports the verifier's error (not
                        // ENOSPC); log_true_size says how much there was. Retry once more to keep the whole log.
                        log = new byte[(int)Math.Min(logTrueSize, (uint)MaxLogSize)];
                        continue;
                    }
                    string logText = log is null ? "" : ReadLog(log);
                    if (logText.Length > 0)
                    {
                        var snapshot = instructions.ToArray();
                        throw new VerifierException(errno, logText, name, slotToInstruction,
                            i => i >= 0 && i < snapshot.Length ? snapshot[i].ToString() : null);
                    }
                    throw new BpfException(BpfCommand.ProgramLoad, errno, $"program '{name}' ({options.Type}, {instructions.Length} instructions)");
                }
            }
        }
        finally
        {
            keepAlive.ReleaseAll();
        }
    }

    /// <summary>Opens a program pinned on bpffs.</summary>
    public static BpfProgram OpenPinned(string path)
    {
        var fd = BpfFs.Open(path);
        try
        {
            BpfFs.RequireKind(fd, "bpf-prog", $"BpfProgram.OpenPinned({path})");
            var info = ProgramInfo.Query(fd);
            return new BpfProgram(fd, info.Type, info.Name, null);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>Opens a loaded program by its kernel id (BPF_PROG_GET_FD_BY_ID; needs CAP_SYS_ADMIN), e.g. one that
    /// <see cref="Cgroup.QueryPrograms"/> listed.</summary>
    /// <exception cref="BpfException">No such program (ENOENT) or no permission.</exception>
    public static BpfProgram OpenById(uint id)
    {
        var fd = CgroupAttachment.ProgramFdFromId(id);
        try
        {
            var info = ProgramInfo.Query(fd);
            return new BpfProgram(fd, info.Type, info.Name, null);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>Pins the program at a bpffs path so it outlives this process.</summary>
    public void Pin(string path) => BpfFs.Pin(Fd, path);

    /// <summary>Runs the program once with BPF_PROG_TEST_RUN (for program types that support it).</summary>
    /// <returns>The program's return value (r0, truncated to 32 bits by the kernel).</returns>
    public unsafe uint TestRun(ReadOnlySpan<byte> data, int repeat = 1)
    {
        bool added = false;
        try
        {
            Fd.DangerousAddRef(ref added);
            fixed (byte* dataPtr = data)
            {
                var attr = new TestRunAttr
                {
                    ProgFd = (uint)Fd.Value,
                    DataIn = (ulong)dataPtr,
                    DataSizeIn = (uint)data.Length,
                    Repeat = (uint)repeat,
                };
                BpfSyscall.Invoke(BpfCommand.ProgramTestRun, ref attr, $"program '{Name}'");
                return attr.Retval;
            }
        }
        finally
        {
            if (added) Fd.DangerousRelease();
        }
    }

    /// <inheritdoc />
    public void Dispose() => Fd.Dispose();

    /// <summary>Encodes the instructions into 8-byte slots and patches map fds (leased into <paramref name="keepAlive"/>)
    /// into the ld_imm64s the references name.</summary>
    internal static byte[] Encode(ProgramLoadOptions options, ReadOnlySpan<Instruction> instructions, List<SafeHandleLease> keepAlive, out int[] slotToInstruction)
    {
        int slots = 0;
        foreach (var insn in instructions) slots += insn.Slots;
        byte[] code = new byte[slots * Instruction.SlotSize];
        slotToInstruction = new int[slots];
        int[] instructionToSlot = new int[instructions.Length];
        for (int i = 0, slot = 0; i < instructions.Length; i++)
        {
            instructionToSlot[i] = slot;
            slotToInstruction[slot] = i;
            if (instructions[i].IsWide) slotToInstruction[slot + 1] = i;
            slot += instructions[i].WriteTo(code.AsSpan(slot * Instruction.SlotSize)) / Instruction.SlotSize;
        }
        foreach (var reference in options.MapReferences)
            PatchMapReference(code, instructions, instructionToSlot, reference, options.Maps, keepAlive);
        return code;
    }

    private static int SlotOf(int[] slotToInstruction, int instructionIndex, int count, string what)
    {
        if (instructionIndex < 0 || instructionIndex >= count)
            throw new ArgumentException($"{what} names instruction {instructionIndex}, but the program has {count} instructions.");
        return Array.IndexOf(slotToInstruction, instructionIndex);
    }

    /// <summary>struct bpf_func_info { u32 insn_off; u32 type_id; } with insn_off in slots.</summary>
    private static uint[] EncodeFuncInfo(ProgramLoadOptions options, int[] slotToInstruction, int count)
    {
        if (options.FuncInfo.Count == 0) return [];
        if (options.Btf is null) throw new ArgumentException("FuncInfo needs Btf (the BTF object holding the FUNC types).", nameof(options));
        var result = new uint[options.FuncInfo.Count * 2];
        for (int i = 0; i < options.FuncInfo.Count; i++)
        {
            result[2 * i] = (uint)SlotOf(slotToInstruction, options.FuncInfo[i].InstructionIndex, count, "FuncInfo");
            result[2 * i + 1] = options.FuncInfo[i].FuncTypeId;
        }
        return result;
    }

    /// <summary>struct bpf_line_info { u32 insn_off; u32 file_name_off; u32 line_off; u32 line_col; } (line &lt;&lt; 10 | col).</summary>
    private static uint[] EncodeLineInfo(ProgramLoadOptions options, int[] slotToInstruction, int count)
    {
        if (options.LineInfo.Count == 0) return [];
        if (options.Btf is null || options.FuncInfo.Count == 0)
            throw new ArgumentException("LineInfo needs Btf and FuncInfo (the kernel refuses line info without func info).", nameof(options));
        var result = new uint[options.LineInfo.Count * 4];
        for (int i = 0; i < options.LineInfo.Count; i++)
        {
            var line = options.LineInfo[i];
            if (line.Line is < 0 or > (1 << 22) - 1 || line.Column is < 0 or > 1023)
                throw new ArgumentException($"LineInfo {i}: line {line.Line} / column {line.Column} do not fit line_col (22 + 10 bits).", nameof(options));
            result[4 * i] = (uint)SlotOf(slotToInstruction, line.InstructionIndex, count, "LineInfo");
            result[4 * i + 1] = line.FileNameOffset;
            result[4 * i + 2] = line.LineTextOffset;
            result[4 * i + 3] = (uint)(line.Line << 10 | line.Column);
        }
        return result;
    }

    /// <summary>Keeps [A-Za-z0-9_.] (what the kernel accepts in object names) and at most 15 characters.</summary>
    internal static string SanitizeName(string? name)
    {
        if (string.IsNullOrEmpty(name)) return "";
        var builder = new StringBuilder(Math.Min(name.Length, 15));
        foreach (char c in name)
        {
            if (builder.Length == 15) break;
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' ? c : '_');
        }
        return builder.ToString();
    }

    private static string ReadLog(byte[] log)
    {
        int end = Array.IndexOf(log, (byte)0);
        return Encoding.UTF8.GetString(log, 0, end < 0 ? log.Length : end);
    }

    private static void PatchMapReference(byte[] code, ReadOnlySpan<Instruction> instructions, int[] instructionToSlot,
        MapReference reference, IReadOnlyDictionary<string, BpfMap>? maps, List<SafeHandleLease> keepAlive)
    {
        int index = reference.InstructionIndex;
        if (index < 0 || index >= instructions.Length)
            throw new MapReferenceException(index, reference.MapName, $"the program has only {instructions.Length} instructions");
        if (!instructions[index].IsWide)
            throw new MapReferenceException(index, reference.MapName, $"the instruction is {instructions[index]}, not an ld_imm64");
        if (reference.Kind is not (PseudoSource.MapFd or PseudoSource.MapValue))
            throw new MapReferenceException(index, reference.MapName, $"kind {reference.Kind} is not a map fd reference (MapFd or MapValue)");
        if (maps is null || !maps.TryGetValue(reference.MapName, out BpfMap? map))
            throw new MapReferenceException(index, reference.MapName,
                "no loaded map has that name (known: " + (maps is null ? "none" : string.Join(", ", maps.Keys)) + ")");
        if (reference.Kind == PseudoSource.MapValue && (reference.ValueOffset < 0 || reference.ValueOffset >= Math.Max(map.ValueSize, 1)))
            throw new MapReferenceException(index, reference.MapName, $"value offset {reference.ValueOffset} is outside the {map.ValueSize}-byte value");

        int fd = keepAlive.Lease(map.Fd);
        Span<byte> slot = code.AsSpan(instructionToSlot[index] * Instruction.SlotSize, 2 * Instruction.SlotSize);
        slot[1] = (byte)((slot[1] & 0x0f) | ((byte)reference.Kind << 4));
        BinaryPrimitives.WriteInt32LittleEndian(slot[4..], fd);
        BinaryPrimitives.WriteInt32LittleEndian(slot[12..], reference.Kind == PseudoSource.MapValue ? reference.ValueOffset : 0);
    }
}
