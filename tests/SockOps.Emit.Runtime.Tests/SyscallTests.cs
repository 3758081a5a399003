using System.Runtime.CompilerServices;
using SockOps.Emit.Runtime.Interop;
using SockOps.Emit.TestSupport;

namespace SockOps.Emit.Runtime.Tests;

public class SyscallTests
{
    [Fact]
    public void Attribute_structs_have_the_6_18_uapi_sizes()
    {
        // Sizes from `union bpf_attr` in the 6.18 BTF (clang offsetof over bpftool's vmlinux.h), rounded to 8.
        Assert.Equal(168, Unsafe.SizeOf<ProgLoadAttr>());
        Assert.Equal(96, Unsafe.SizeOf<MapCreateAttr>());
        Assert.Equal(32, Unsafe.SizeOf<MapElemAttr>());
        Assert.Equal(64, Unsafe.SizeOf<QueryAttr>());
        Assert.Equal(80, Unsafe.SizeOf<TestRunAttr>());
        Assert.Equal(232, Unsafe.SizeOf<ProgInfoNative>());
        Assert.Equal(16, Unsafe.SizeOf<ObjectName>());
    }

    [Fact]
    public void Descriptor_zero_is_valid_and_minus_one_is_not()
    {
        using var zero = new BpfFileDescriptor(0, ownsHandle: false);
        using var invalid = new BpfFileDescriptor();
        Assert.False(zero.IsInvalid);
        Assert.True(invalid.IsInvalid);
    }

    [Fact]
    public void Failed_command_names_the_command_and_errno()
    {
        KernelGate.Require();
        // A map lookup on a descriptor that is not a map: the kernel answers EBADF.
        var attr = new MapElemAttr { MapFd = 999_999 };
        var error = Assert.Throws<BpfException>(() => BpfSyscall.Invoke(BpfCommand.MapLookupElement, ref attr));
        Assert.Equal(BpfCommand.MapLookupElement, error.Command);
        Assert.Equal("EBADF", error.ErrnoName);
        Assert.Contains("BPF_MAP_LOOKUP_ELEM failed with EBADF", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_attribute_bytes_are_refused_with_E2BIG()
    {
        KernelGate.Require();
        // The kernel rejects non-zero bytes beyond the fields it knows for a command; a map create attr with
        // garbage past map_extra is such a case only if the kernel does not know the field. Use a 4 KiB
        // attribute with a non-zero tail: larger than any kernel's union bpf_attr.
        var attr = new BigAttr();
        attr.Tail = 1;
        int result = BpfSyscall.TryInvoke(BpfCommand.MapCreate, ref attr);
        Assert.Equal(-Errno.E2BIG, result);
        Assert.Contains("attribute", BpfException.HintFor(BpfCommand.MapCreate, Errno.E2BIG), StringComparison.Ordinal);
    }

    [Fact]
    public void Hints_are_actionable()
    {
        Assert.Contains("CAP_BPF", BpfException.HintFor(BpfCommand.ProgramLoad, Errno.EPERM), StringComparison.Ordinal);
        Assert.Contains("CAP_NET_ADMIN", BpfException.HintFor(BpfCommand.ProgramLoad, Errno.EPERM), StringComparison.Ordinal);
        Assert.Contains("log", BpfException.HintFor(BpfCommand.ProgramLoad, Errno.ENOSPC), StringComparison.Ordinal);
        var e = new BpfException(BpfCommand.ProgramAttach, Errno.EEXIST);
        Assert.Equal("EEXIST", e.ErrnoName);
        Assert.Contains("BPF_PROG_ATTACH", e.Message, StringComparison.Ordinal);
    }

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Explicit, Size = 4096)]
    private struct BigAttr
    {
        [System.Runtime.InteropServices.FieldOffset(4088)] public ulong Tail;
    }
}
