using SockOps.Emit.Assembler;
namespace SockOps.Emit.Tests.Model;

/// <summary>The hand-written model against the kernel's BTF (golden data, see scripts/golden/gen-sockops-btf.sh).</summary>
public class BtfGoldenTests
{
    public static TheoryData<string> StructNames => ["bpf_sock_ops", "bpf_sock", "bpf_tcp_sock"];

    private static IReadOnlyList<StructField> ModelFields(string name) => name switch
    {
        "bpf_sock_ops" => SockOpsContext.Fields,
        "bpf_sock" => BpfSock.Fields,
        "bpf_tcp_sock" => BpfTcpSock.Fields,
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static int ModelSize(string name) => name switch
    {
        "bpf_sock_ops" => SockOpsContext.Size,
        "bpf_sock" => BpfSock.Size,
        _ => BpfTcpSock.Size,
    };

    [Theory]
    [MemberData(nameof(StructNames))]
    public void Layout_matches_kernel_btf_member_for_member(string structName)
    {
        var btf = BtfGolden.Fields(structName);
        var model = ModelFields(structName);
        Assert.Equal(BtfGolden.StructSize(structName), ModelSize(structName));
        Assert.Equal(btf.Select(f => f.Name), model.Select(f => f.Name));
        foreach (var (b, m) in btf.Zip(model))
        {
            Assert.True(b.Offset == m.Offset, $"{structName}.{b.Name}: BTF offset {b.Offset}, model {m.Offset}");
            Assert.True(b.Size == m.Size, $"{structName}.{b.Name}: BTF size {b.Size}, model {m.Size}");
            Assert.True(b.Elements == m.Elements.Count, $"{structName}.{b.Name}: BTF {b.Elements} elements, model {m.Elements.Count}");
            for (int i = 0; i < m.Elements.Count; i++)
            {
                Assert.Equal(b.Offset + (i * (b.Size / b.Elements)), m.Elements[i].Offset);
                Assert.Equal(b.Size / b.Elements, m.Elements[i].Size);
                Assert.Equal($"{b.Name}[{i}]", m.Elements[i].Name);
            }
            bool isPointer = b.Kind == "ptr";
            if (structName == "bpf_sock_ops")
                Assert.True(isPointer == (((SockOpsContextField)m).LoadedKind != LoadedValueKind.Scalar), $"{b.Name}: pointer kind");
        }
    }

    [Fact]
    public void Ctx_is_216_bytes_before_6_2_because_skb_hwtstamp_is_the_last_member()
    {
        var last = BtfGolden.Fields("bpf_sock_ops")[^1];
        Assert.Equal("skb_hwtstamp", last.Name);
        Assert.Equal(SockOpsContext.SizeBefore62, last.Offset);
        Assert.Equal(new KernelVersion(6, 2), SockOpsContext.SkbHwTimestamp.MinimumKernel);
    }

    private static void AssertEnumMatches<TEnum>(string prefix, Func<string, bool> include, Func<string, string> memberName)
        where TEnum : struct, Enum
    {
        var btf = BtfGolden.Enums.Where(e => e.Key.StartsWith(prefix, StringComparison.Ordinal) && include(e.Key)).ToList();
        Assert.NotEmpty(btf);
        var expected = btf.Select(e => (Name: memberName(e.Key[prefix.Length..]), e.Value)).OrderBy(e => e.Value).ThenBy(e => e.Name, StringComparer.Ordinal).ToList();
        var actual = Enum.GetValues<TEnum>().Select(v => (Name: v.ToString(), Value: Convert.ToInt64(v, System.Globalization.CultureInfo.InvariantCulture)))
            .OrderBy(e => e.Value).ThenBy(e => e.Name, StringComparer.Ordinal).ToList();
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void SockOp_is_the_kernels_enum() =>
        AssertEnumMatches<SockOp>("BPF_SOCK_OPS_", n => !n.EndsWith("_FLAG", StringComparison.Ordinal) && !n.EndsWith("_FLAGS", StringComparison.Ordinal), BtfGolden.Pascal);

    [Fact]
    public void Callback_flags_are_the_kernels_enum()
    {
        var expected = BtfGolden.Enums.Where(e => e.Key.StartsWith("BPF_SOCK_OPS_", StringComparison.Ordinal) && e.Key.EndsWith("_CB_FLAG", StringComparison.Ordinal))
            .Select(e => (BtfGolden.Pascal(e.Key["BPF_SOCK_OPS_".Length..^"_CB_FLAG".Length]), e.Value)).OrderBy(e => e.Value).ToList();
        expected.Add(("All", BtfGolden.Enums["BPF_SOCK_OPS_ALL_CB_FLAGS"]));
        var actual = Enum.GetValues<SockOpsCallbackFlags>().Where(f => f != SockOpsCallbackFlags.None).Select(f => (f.ToString(), (long)f)).ToList();
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void TcpState_is_the_kernels_enum() => AssertEnumMatches<TcpState>("BPF_TCP_", _ => true, BtfGolden.Pascal);

    /// <summary>Member names shared with SockOps.Emit.MapType, which spells these differently from plain Pascal case.</summary>
    private static readonly Dictionary<string, string> RuntimeSpellings = new()
    {
        ["PROG_ARRAY"] = "ProgramArray", ["SOCKMAP"] = "SockMap", ["SOCKHASH"] = "SockHash", ["RINGBUF"] = "RingBuf", ["USER_RINGBUF"] = "UserRingBuf",
        ["PERCPU_HASH"] = "PerCpuHash", ["PERCPU_ARRAY"] = "PerCpuArray", ["LRU_PERCPU_HASH"] = "LruPerCpuHash", ["PERCPU_CGROUP_STORAGE"] = "PerCpuCgroupStorage",
    };

    [Fact]
    public void MapType_is_the_kernels_enum() =>
        AssertEnumMatches<MapType>("BPF_MAP_TYPE_", n => !n.EndsWith("_DEPRECATED", StringComparison.Ordinal),
            n => RuntimeSpellings.GetValueOrDefault(n) ?? BtfGolden.Pascal(n));

    private static void Same(string kernelName, long modelValue) =>
        Assert.True(BtfGolden.Enums[kernelName] == modelValue, $"{kernelName}: kernel {BtfGolden.Enums[kernelName]}, model {modelValue}");

    [Fact]
    public void Small_enums_and_constants_match_the_kernel()
    {
        Same("BPF_ANY", (long)MapUpdateFlags.Any);
        Same("BPF_NOEXIST", (long)MapUpdateFlags.NoExist);
        Same("BPF_EXIST", (long)MapUpdateFlags.Exist);
        Same("BPF_SK_STORAGE_GET_F_CREATE", (long)SkStorageGetFlags.Create);
        Same("BPF_LOAD_HDR_OPT_TCP_SYN", (long)LoadHeaderOptionFlags.TcpSyn);
        Same("BPF_WRITE_HDR_TCP_CURRENT_MSS", (long)WriteHeaderReason.CurrentMss);
        Same("BPF_WRITE_HDR_TCP_SYNACK_COOKIE", (long)WriteHeaderReason.SynAckCookie);
        Same("SK_BPF_CB_TX_TIMESTAMPING", (long)SocketBpfCallbackFlags.TxTimestamping);
        Same("SK_BPF_CB_MASK", (long)SocketBpfCallbackFlags.Mask);
        Same("BPF_PROG_TYPE_SOCK_OPS", SockOpsConstants.ProgramType);
        Same("BPF_CGROUP_SOCK_OPS", SockOpsConstants.AttachType);
        Same("BPF_F_CURRENT_CPU", (long)SockOpsConstants.PerfEventCurrentCpu);
        Same("__BPF_FUNC_MAX_ID", SockOpsConstants.HelperIdLimit);
    }

    [Fact]
    public void Socket_option_levels_and_names_match_the_kernel_and_headers()
    {
        foreach (var level in Enum.GetValues<SocketOptionLevel>())
        {
            string macro = "SOL_" + (level == SocketOptionLevel.Socket ? "SOCKET" : level.ToString().ToUpperInvariant());
            Assert.Equal(BtfGolden.Macros[macro], (long)level);
        }
        // TCP_RTO_MAX_MS (6.15) is newer than the 6.1 system headers and is a macro, so absent from BTF.
        string[] notInGolden = ["TCP_RTO_MAX_MS"];
        foreach (var option in SocketOptions.All)
        {
            long? golden = BtfGolden.Constant(option.CName);
            if (notInGolden.Contains(option.CName)) { Assert.Null(golden); continue; }
            Assert.True(golden.HasValue, $"{option.CName} is in neither BTF nor the headers");
            Assert.True(golden == option.OptionName, $"{option.CName}: kernel {golden}, model {option.OptionName}");
        }
    }

    [Fact]
    public void Option_enums_agree_with_the_option_table()
    {
        static void Check<T>(SocketOptionLevel level) where T : struct, Enum
        {
            var table = SocketOptions.All.Where(o => o.Level == level).Select(o => o.OptionName).Order().ToList();
            var members = Enum.GetValues<T>().Select(v => Convert.ToInt32(v, System.Globalization.CultureInfo.InvariantCulture)).Order().ToList();
            Assert.Equal(table, members);
        }
        Check<SocketLevelOption>(SocketOptionLevel.Socket);
        Check<TcpOption>(SocketOptionLevel.Tcp);
        Check<IpOption>(SocketOptionLevel.Ip);
        Check<Ipv6Option>(SocketOptionLevel.Ipv6);
    }

    [Fact]
    public void Helper_ids_and_names_match_bpf_func_id()
    {
        foreach (var helper in Helpers.All)
        {
            string enumName = "BPF_FUNC_" + helper.Name["bpf_".Length..];
            Assert.True(BtfGolden.Enums.TryGetValue(enumName, out long id), $"{enumName} is not in enum bpf_func_id");
            Assert.True(id == helper.Id, $"{helper.Name}: kernel id {id}, model {helper.Id}");
        }
    }

    private static bool IsPointerKind(HelperArgumentKind kind) => kind is not (HelperArgumentKind.Anything or HelperArgumentKind.ConstSize
        or HelperArgumentKind.ConstSizeOrZero or HelperArgumentKind.ConstAllocSizeOrZero or HelperArgumentKind.Unchecked);

    [Fact]
    public void Helper_arguments_match_the_uapi_prototypes_in_count_and_pointerness()
    {
        // bpf_cgrp_storage_get/delete (6.2) are newer than the 6.1 header the golden prototypes come from.
        string[] newerThanHeader = ["bpf_cgrp_storage_get", "bpf_cgrp_storage_delete"];
        // The header documents the skb variant (one skb argument); sock_ops gets bpf_get_cgroup_classid_curr_proto, without arguments.
        string[] otherVariantDocumented = ["bpf_get_cgroup_classid"];
        var mismatches = new List<string>();
        foreach (var helper in Helpers.All)
        {
            if (!BtfGolden.Prototypes.TryGetValue(helper.Name, out var proto))
            {
                Assert.Contains(helper.Name, newerThanHeader);
                continue;
            }
            if (otherVariantDocumented.Contains(helper.Name))
            {
                Assert.Empty(helper.Arguments);
                continue;
            }
            bool[] model = [.. helper.Arguments.Select(a => IsPointerKind(a.Kind))];
            // Addresses the helper reads with probe/copy semantics (unsafe_ptr, user_ptr) are ARG_ANYTHING to the verifier.
            bool[] header = [.. proto.Pointers.Select((p, i) => p && proto.ArgumentNames[i] is not ("unsafe_ptr" or "user_ptr"))];
            if (!model.SequenceEqual(header))
                mismatches.Add($"{helper.Name}: header pointers [{string.Join(',', header)}], model [{string.Join(',', model)}]");
        }
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }
}
