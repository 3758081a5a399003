using SockOps.Emit.Btf;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using SockOps.Emit.Runtime.Btf;
using SockOps.Emit.Runtime.Interop;
using SockOps.Emit.TestSupport;

namespace SockOps.Emit.Runtime.Tests;

public partial class KernelBtfTests
{
    private static void RequireVmlinuxBtf()
    {
        KernelGate.Require();
        if (!File.Exists(KernelBtf.VmlinuxPath)) Assert.Skip("the kernel exposes no BTF at " + KernelBtf.VmlinuxPath);
    }

    private static string Bpftool(params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo("bpftool", args) { RedirectStandardOutput = true })
            ?? throw new InvalidOperationException("bpftool did not start");
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return output;
    }

    [GeneratedRegex(@"^\[(\d+)\] (\w+) '([^']*)'", RegexOptions.Multiline)]
    private static partial Regex BpftoolTypeLine();

    [Fact]
    public void Type_and_kfunc_ids_match_bpftool()
    {
        RequireVmlinuxBtf();
        string dump;
        try
        {
            dump = Bpftool("btf", "dump", "file", KernelBtf.VmlinuxPath);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Assert.Skip("bpftool is not installed (it is the oracle for this test)");
            return;
        }
        var btf = KernelBtf.Current;
        var expected = new Dictionary<(string, string), uint>();
        foreach (Match m in BpftoolTypeLine().Matches(dump))
            expected.TryAdd((m.Groups[2].Value, m.Groups[3].Value), uint.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(expected[("FUNC", "bpf_sock_ops_enable_tx_tstamp")], btf.FindFunction("bpf_sock_ops_enable_tx_tstamp"));
        Assert.Equal(expected[("STRUCT", "bpf_sock_ops")], btf.FindType("bpf_sock_ops", BtfKind.Struct));
        Assert.Equal(expected[("UNION", "bpf_attr")], btf.FindType("bpf_attr", BtfKind.Union));
        Assert.Equal(expected[("FUNC", "bpf_cast_to_kern_ctx")], btf.FindFunction("bpf_cast_to_kern_ctx"));
        Assert.Null(btf.FindFunction("no_such_function_in_the_kernel"));
        int last = BpftoolTypeLine().Matches(dump).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).Max();
        Assert.True(btf.TypeCount >= last);
        Assert.True(FeatureProbes.IsKfuncAvailable("bpf_sock_ops_enable_tx_tstamp") == expected.ContainsKey(("FUNC", "bpf_sock_ops_enable_tx_tstamp")));
    }

    [Fact]
    public void Sock_ops_context_layout_matches_the_reference()
    {
        RequireVmlinuxBtf();
        var btf = KernelBtf.Current;
        uint id = btf.FindType("bpf_sock_ops", BtfKind.Struct)!.Value;
        Assert.Equal(224u, btf.GetSize(id));
        // kernel-sockops.md §6.A
        Assert.Equal(0u, btf.FindMember(id, "op")!.Value.BitOffset / 8);
        Assert.Equal(4u, btf.FindMember(id, "reply")!.Value.BitOffset / 8);
        Assert.Equal(164u, btf.FindMember(id, "sk_txhash")!.Value.BitOffset / 8);
        Assert.Equal(184u, btf.FindMember(id, "sk")!.Value.BitOffset / 8);
        Assert.Equal(216u, btf.FindMember(id, "skb_hwtstamp")!.Value.BitOffset / 8);
    }

    /// <summary>Our attribute structs against the kernel's own BTF of union bpf_attr / bpf_prog_info: an oracle
    /// independent of the header we read by hand.</summary>
    [Theory]
    [InlineData(typeof(ProgLoadAttr), "prog_type:ProgType insn_cnt:InsnCount insns:Insns license:License log_level:LogLevel log_size:LogSize log_buf:LogBuf kern_version:KernVersion prog_flags:ProgFlags prog_name:ProgName expected_attach_type:ExpectedAttachType prog_btf_fd:ProgBtfFd fd_array:FdArray log_true_size:LogTrueSize prog_token_fd:ProgTokenFd fd_array_cnt:FdArrayCount")]
    [InlineData(typeof(MapCreateAttr), "map_type:MapType key_size:KeySize value_size:ValueSize max_entries:MaxEntries map_flags:MapFlags inner_map_fd:InnerMapFd map_name:MapName btf_fd:BtfFd btf_key_type_id:BtfKeyTypeId btf_value_type_id:BtfValueTypeId map_extra:MapExtra")]
    [InlineData(typeof(BtfLoadAttr), "btf:Btf btf_log_buf:LogBuf btf_size:BtfSize btf_log_size:LogSize btf_log_level:LogLevel btf_log_true_size:LogTrueSize")]
    [InlineData(typeof(ObjPinAttr), "pathname:PathName bpf_fd:BpfFd file_flags:FileFlags path_fd:PathFd")]
    public void Attribute_offsets_match_the_kernel_btf(Type attrType, string pairs)
    {
        RequireVmlinuxBtf();
        var btf = KernelBtf.Current;
        uint attr = btf.FindType("bpf_attr", BtfKind.Union)!.Value;
        Assert.Equal(168u, btf.GetSize(attr));
        foreach (string pair in pairs.Split(' '))
        {
            string[] parts = pair.Split(':');
            var member = btf.FindMember(attr, parts[0]);
            Assert.True(member is not null, parts[0]);
            Assert.Equal((int)member.Value.BitOffset / 8, (int)Marshal.OffsetOf(attrType, parts[1]));
        }
    }

    [Fact]
    public void Prog_info_offsets_match_the_kernel_btf()
    {
        RequireVmlinuxBtf();
        var btf = KernelBtf.Current;
        uint info = btf.FindType("bpf_prog_info", BtfKind.Struct)!.Value;
        Assert.Equal((uint)System.Runtime.CompilerServices.Unsafe.SizeOf<ProgInfoNative>(), btf.GetSize(info));
        foreach (var (c, ours) in new[] { ("id", "Id"), ("tag", "Tag"), ("jited_prog_len", "JitedProgLen"), ("xlated_prog_insns", "XlatedProgInsns"),
            ("nr_map_ids", "NrMapIds"), ("map_ids", "MapIds"), ("name", "Name"), ("run_time_ns", "RunTimeNs"), ("run_cnt", "RunCnt"), ("verified_insns", "VerifiedInsns") })
            Assert.Equal((int)btf.FindMember(info, c)!.Value.BitOffset / 8, (int)Marshal.OffsetOf<ProgInfoNative>(ours));
    }

    [Fact]
    public void Builder_output_reads_back()
    {
        var builder = new BtfBuilder();
        uint u32 = builder.AddInt("unsigned int", 4);
        uint pair = builder.AddType<RingBufferTests.State>();
        uint array = builder.AddArray(u32, u32, 4);
        uint ptr = builder.AddPointer(pair);
        uint proto = builder.AddFuncProto(u32, [("ctx", ptr)]);
        uint func = builder.AddFunc("handler", proto);
        var btf = KernelBtf.Parse(builder.Build());
        Assert.Equal(7, btf.TypeCount); // u32, unsigned long long (for State's fields), State, array, ptr, proto, func
        Assert.Equal(BtfKind.Struct, btf.GetKind(pair));
        Assert.Equal("State", btf.GetName(pair));
        Assert.Equal(16u, btf.GetSize(pair));
        Assert.Equal([new BtfStructMember("Sequence", btf.FindType("unsigned long long", BtfKind.Int)!.Value, 0), new BtfStructMember("Drops", btf.FindType("unsigned long long", BtfKind.Int)!.Value, 64)],
            btf.GetMembers(pair));
        Assert.Equal(BtfKind.Array, btf.GetKind(array));
        Assert.Equal(pair, btf.GetReferencedType(ptr));
        Assert.Equal(func, btf.FindFunction("handler"));
        Assert.Equal(proto, btf.GetReferencedType(func));
    }

    [Fact]
    public void Kernel_accepts_builder_output_with_func_and_arrays()
    {
        KernelGate.Require();
        var builder = new BtfBuilder();
        uint u32 = builder.AddInt("unsigned int", 4);
        uint pair = builder.AddType<RingBufferTests.State>();
        builder.AddArray(u32, u32, 4);
        uint ptr = builder.AddPointer(pair);
        uint proto = builder.AddFuncProto(u32, [("ctx", ptr)]);
        builder.AddFunc("handler", proto);
        using var loaded = builder.Load();
        Assert.False(loaded.Fd.IsInvalid);
    }

    [Fact]
    public void Kernel_refusal_of_bad_btf_carries_the_btf_log()
    {
        KernelGate.Require();
        var builder = new BtfBuilder();
        builder.AddPointer(42); // dangling type reference
        var e = Assert.Throws<BpfException>(() => builder.Load());
        Assert.Equal(BpfCommand.BtfLoad, e.Command);
        Assert.Contains("BTF log:", e.Message, StringComparison.Ordinal);
    }
}
