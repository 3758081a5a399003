using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using SockOps.Emit.Assembler;

namespace SockOps.Emit.Tests.Kernel;

/// <summary>
/// Test scaffolding until the Runtime loader (branch runtime) lands: a minimal bpf(BPF_PROG_LOAD)
/// for raw instruction streams, returning the verifier's verdict and log. The program fd is a
/// SafeHandle and is closed at once: nothing stays loaded.
/// </summary>
internal static partial class RawBpf
{
    private const long SysBpf = 321; // x86_64
    private const long SysCapget = 125, SysCapset = 126;
    private const int BpfMapCreate = 0, BpfProgLoad = 5, BpfBtfLoad = 18;
    private const int AttrSize = 128;

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

    public static unsafe LoadResult Load(IReadOnlyList<Instruction> instructions, int programType, int expectedAttachType, string license, int logSize)
    {
        int slots = instructions.Sum(i => i.Slots);
        byte[] code = new byte[slots * Instruction.SlotSize];
        int at = 0;
        foreach (var insn in instructions) at += insn.WriteTo(code.AsSpan(at));
        byte[] licenseBytes = Encoding.ASCII.GetBytes(license + "\0");
        byte[] log = new byte[logSize];
        byte* attr = stackalloc byte[AttrSize];
        new Span<byte>(attr, AttrSize).Clear();
        fixed (byte* codePtr = code)
        fixed (byte* licensePtr = licenseBytes)
        fixed (byte* logPtr = log)
        {
            *(uint*)(attr + 0) = (uint)programType;
            *(uint*)(attr + 4) = (uint)slots;
            *(ulong*)(attr + 8) = (ulong)codePtr;
            *(ulong*)(attr + 16) = (ulong)licensePtr;
            *(uint*)(attr + 24) = 1; // log_level
            *(uint*)(attr + 28) = (uint)log.Length;
            *(ulong*)(attr + 32) = (ulong)logPtr;
            *(uint*)(attr + 68) = (uint)expectedAttachType;
            long fd = Syscall(SysBpf, BpfProgLoad, attr, AttrSize);
            int errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
            using var handle = new BpfFileDescriptor((nint)Math.Max(fd, -1));
            int end = Array.IndexOf(log, (byte)0);
            string text = Encoding.UTF8.GetString(log, 0, end < 0 ? log.Length : end);
            return new LoadResult(fd >= 0, errno, text);
        }
    }

    /// <summary>Creates a map (BPF_MAP_CREATE); the caller disposes the handle.</summary>
    /// <summary>Loads a minimal BTF blob with one type, [1] INT 'int' (4 bytes, signed): enough for maps that need BTF key/value ids.</summary>
    public static unsafe SafeHandle LoadIntBtf()
    {
        byte[] blob = new byte[24 + 16 + 5];
        fixed (byte* b = blob)
        {
            *(ushort*)(b + 0) = 0xeB9F;   // magic
            b[2] = 1;                     // version
            *(uint*)(b + 4) = 24;         // hdr_len
            *(uint*)(b + 8) = 0;          // type_off
            *(uint*)(b + 12) = 16;        // type_len
            *(uint*)(b + 16) = 16;        // str_off
            *(uint*)(b + 20) = 5;         // str_len
            *(uint*)(b + 24) = 1;         // name_off -> "int"
            *(uint*)(b + 28) = 1u << 24;  // kind INT, vlen 0
            *(uint*)(b + 32) = 4;         // size
            *(uint*)(b + 36) = 0x01000020; // BTF_INT_SIGNED, offset 0, 32 bits
            "\0int\0"u8.CopyTo(blob.AsSpan(40));
            byte* attr = stackalloc byte[AttrSize];
            new Span<byte>(attr, AttrSize).Clear();
            *(ulong*)(attr + 0) = (ulong)b;
            *(uint*)(attr + 16) = (uint)blob.Length;
            long fd = Syscall(SysBpf, BpfBtfLoad, attr, AttrSize);
            if (fd < 0) throw new InvalidOperationException($"BPF_BTF_LOAD failed: errno {Marshal.GetLastPInvokeError()}");
            return new BpfFileDescriptor((nint)fd);
        }
    }

    public static unsafe SafeHandle CreateMap(MapType type, int keySize, int valueSize, int maxEntries, uint flags = 0, SafeHandle? intBtf = null)
    {
        byte* attr = stackalloc byte[AttrSize];
        new Span<byte>(attr, AttrSize).Clear();
        *(uint*)(attr + 0) = (uint)type;
        *(uint*)(attr + 4) = (uint)keySize;
        *(uint*)(attr + 8) = (uint)valueSize;
        *(uint*)(attr + 12) = (uint)maxEntries;
        *(uint*)(attr + 16) = flags;
        if (intBtf is not null)
        {
            *(uint*)(attr + 48) = (uint)intBtf.DangerousGetHandle(); // btf_fd
            *(uint*)(attr + 52) = 1;                                 // btf_key_type_id: int
            *(uint*)(attr + 56) = 1;                                 // btf_value_type_id: int
        }
        long fd = Syscall(SysBpf, BpfMapCreate, attr, AttrSize);
        if (fd < 0) throw new InvalidOperationException($"BPF_MAP_CREATE failed: errno {Marshal.GetLastPInvokeError()}");
        return new BpfFileDescriptor((nint)fd);
    }

    /// <summary>Runs <paramref name="action"/> on a fresh thread whose effective capabilities lack CAP_PERFMON and CAP_SYS_ADMIN (capabilities are per thread).</summary>
    public static T WithoutPerfmon<T>(Func<T> action)
    {
        T result = default!;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                DropEffective((1UL << 38) | (1UL << 21)); // CAP_PERFMON, CAP_SYS_ADMIN
                result = action();
            }
            catch (Exception e)
            {
                error = e;
            }
        });
        thread.Start();
        thread.Join();
        if (error is not null) throw new InvalidOperationException("the capability-reduced thread failed", error);
        return result;
    }

    private static unsafe void DropEffective(ulong mask)
    {
        const uint LinuxCapabilityVersion3 = 0x20080522;
        uint* header = stackalloc uint[2];
        uint* data = stackalloc uint[6]; // two __user_cap_data_struct {effective, permitted, inheritable}
        header[0] = LinuxCapabilityVersion3;
        header[1] = 0; // this thread
        if (Syscall(SysCapget, header, data) != 0) throw new InvalidOperationException($"capget failed: errno {Marshal.GetLastPInvokeError()}");
        data[0] &= ~(uint)mask;
        data[3] &= ~(uint)(mask >> 32);
        if (Syscall(SysCapset, header, data) != 0) throw new InvalidOperationException($"capset failed: errno {Marshal.GetLastPInvokeError()}");
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static unsafe partial long Syscall(long number, int command, byte* attr, uint size);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static unsafe partial long Syscall(long number, uint* header, uint* data);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);

    private sealed class BpfFileDescriptor : SafeHandleMinusOneIsInvalid
    {
        public BpfFileDescriptor(nint fd) : base(ownsHandle: true) => SetHandle(fd);

        protected override bool ReleaseHandle() => RawBpf.Close((int)handle) == 0;
    }
}
