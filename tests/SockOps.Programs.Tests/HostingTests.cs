using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SockOps.Emit;
using SockOps.Emit.Hosting;
using SockOps.Emit.Runtime;
using SockOps.Emit.TestSupport;

namespace SockOps.Programs.Tests;

/// <summary>SockOpsHost: refusals mapped to the C# line, nothing left behind on failure, attach/detach and typed maps.</summary>
[Collection(nameof(KernelCollection))]
public class HostingTests
{
    private static int Here([CallerLineNumber] int line = 0) => line;

    /// <summary>Open BPF map and program descriptors of this process (tests in this assembly run one at a time).</summary>
    private static string BpfObjects() =>
        string.Join(", ", Directory.GetFiles("/proc/self/fd").Select(fd =>
        {
            try
            {
                return new FileInfo(fd).LinkTarget is string target && target.StartsWith("anon_inode:bpf", StringComparison.Ordinal)
                    ? $"{Path.GetFileName(fd)}:{target}:{File.ReadAllText($"/proc/self/fdinfo/{Path.GetFileName(fd)}").Replace('\n', ' ')}" : null;
            }
            catch (IOException)
            {
                return null;
            }
        }).Where(t => t is not null).Order(StringComparer.Ordinal));

    private static void AssertSameObjects(string before)
    {
        string after = BpfObjects();
        if (after != before) File.WriteAllText("/tmp/bpf-objects-diff.txt", $"before: {before}\nafter: {after}\n");
        Assert.Equal(before, after);
    }

    [Fact]
    public void A_kernel_refusal_names_the_csharp_line_and_leaves_nothing_loaded()
    {
        // Emitted for root (trace_printk allowed with CAP_PERFMON), loaded by a thread without CAP_PERFMON: only the
        // kernel can refuse it, and the refusal must lead back to the Printk line.
        int printkLine = 0;
        var image = SockOpsProgram.Build("refused", b =>
        {
            var counts = b.Map<int, ulong>("counts", MapType.Array, 1);
            b.IfNotNull(b.MapLookup(counts, 0), v => v.U64().Set(v.U64() + 1));
            printkLine = Here() + 1;
            b.Printk("op %u\n", b.Context.Op);
            b.Return(1);
        });
        KernelGate.Require();
        string before = BpfObjects();
        var error = ThreadCapabilities.RunWithout([ThreadCapabilities.Perfmon, ThreadCapabilities.SysAdmin], () => Record.Exception(() => SockOpsHost.Load(image).Dispose()));
        var refused = Assert.IsType<ProgramRefusedException>(error);
        Assert.Equal(printkLine, refused.Location?.Line);
        Assert.Contains($"HostingTests.cs:{printkLine}", refused.Message, StringComparison.Ordinal);
        Assert.Contains(refused.KernelError, refused.Message, StringComparison.Ordinal);
        Assert.Contains("cannot use helper", refused.Log, StringComparison.Ordinal);
        Assert.Contains("[kernel line info: ", refused.Message, StringComparison.Ordinal); // the kernel's own view, from the BTF line info
        Assert.IsType<VerifierException>(refused.InnerException);
        AssertSameObjects(before);
    }

    /// <summary>One catch handles every "the kernel said no": a refused DSL program is a BpfException (and a
    /// VerifierException) carrying the kernel's command, errno and log. Before, ProgramRefusedException derived from
    /// Exception and escaped a catch (BpfException).</summary>
    [Fact]
    public void A_refused_program_is_caught_as_a_BpfException()
    {
        var image = SockOpsProgram.Build("refused2", b =>
        {
            b.Printk("op %u\n", b.Context.Op);
            b.Return(1);
        });
        KernelGate.Require();
        BpfException? caught = ThreadCapabilities.RunWithout([ThreadCapabilities.Perfmon, ThreadCapabilities.SysAdmin], () =>
        {
            try
            {
                SockOpsHost.Load(image).Dispose();
                return null;
            }
            catch (BpfException e)
            {
                return e;
            }
        });
        Assert.NotNull(caught);
        Assert.Equal(BpfCommand.ProgramLoad, caught.Command);
        Assert.Equal("EINVAL", caught.ErrnoName); // the verifier's answer to "program of this type cannot use helper"
        var verifier = Assert.IsAssignableFrom<VerifierException>(caught);
        Assert.Contains("cannot use helper", verifier.Log, StringComparison.Ordinal);
        var refused = Assert.IsType<ProgramRefusedException>(caught);
        Assert.Equal(refused.KernelError, refused.ErrorLine);
        var kernel = Assert.IsType<VerifierException>(refused.InnerException);
        Assert.Equal(kernel.Errno, refused.Errno);
        Assert.Equal(kernel.InstructionIndex, refused.InstructionIndex);
        Assert.StartsWith("the kernel refused program 'refused2'", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_map_the_kernel_cannot_create_closes_the_maps_created_before_it()
    {
        var image = SockOpsProgram.Build("bad_map", b =>
        {
            b.Map<int, ulong>("fine", MapType.Hash, 16);
            b.Map<BigKey, ulong>("huge_key", MapType.SockHash, 4); // sockhash keys live on the BPF stack: a 1024-byte key is E2BIG
            b.Return(1);
        });
        KernelGate.Require();
        string before = BpfObjects();
        var e = Assert.ThrowsAny<BpfException>(() => SockOpsHost.Load(image));
        Assert.Contains("huge_key", e.Message, StringComparison.Ordinal);
        AssertSameObjects(before);
    }

    [Fact]
    public void Attach_and_dispose_detach_and_close_everything()
    {
        KernelGate.Require();
        string before = BpfObjects();
        using var cgroup = Cgroup.CreateTemporary(prefix: "sockops-programs");
        uint id;
        using (var loaded = SockOpsHost.Load(RttMetrics.Build()))
        {
            var attachment = loaded.AttachTo(cgroup);
            Assert.Equal(AttachMechanism.Link, attachment.Mechanism);
            id = loaded.Info.Id;
            Assert.NotEqual(0u, loaded.Info.BtfId); // loaded with the source map as BTF line info
            Assert.Equal([id], cgroup.QueryPrograms(AttachType.CgroupSockOps));
            Assert.Same(loaded.RingBuffer(RttMetrics.RingBufferName), loaded.RingBuffer(RttMetrics.RingBufferName));
            loaded.Detach();
            Assert.Empty(cgroup.QueryPrograms(AttachType.CgroupSockOps));
            loaded.AttachTo(cgroup);
            Assert.Equal([id], cgroup.QueryPrograms(AttachType.CgroupSockOps));
        }
        Assert.Empty(cgroup.QueryPrograms(AttachType.CgroupSockOps));
        AssertSameObjects(before);
    }

    [Fact]
    public void Typed_maps_check_sizes_and_names()
    {
        KernelGate.Require();
        using var loaded = SockOpsHost.Load(HeaderOption.Build());
        var received = loaded.Map<ulong, uint>(HeaderOption.ReceivedMapName);
        Assert.Same(received, loaded.Map<ulong, uint>(HeaderOption.ReceivedMapName));
        // The typed view has its own descriptor on the same kernel map; Maps keeps the declared (untyped) instance.
        var declared = loaded.Maps[HeaderOption.ReceivedMapName];
        Assert.NotSame(received, declared);
        Assert.Equal(declared.Id, received.Id);
        Assert.NotEqual(declared.Fd.Value, received.Fd.Value);
        Assert.Throws<KeyNotFoundException>(() => loaded.Map<int, int>("nope"));
        Assert.Throws<KeyNotFoundException>(() => loaded.RingBuffer("nope"));
    }

    [StructLayout(LayoutKind.Sequential, Size = 1024)]
    private struct BigKey
    {
        public byte First;
    }
}
