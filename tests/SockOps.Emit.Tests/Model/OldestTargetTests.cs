using SockOps.Emit.Assembler;
using System.Globalization;

namespace SockOps.Emit.Tests.Model;

/// <summary>
/// The model's minimum-kernel annotations against the system's uapi header (linux-libc-dev 6.1 on this
/// machine, the oldest target the model describes): whatever is older than 6.2 must be in that header
/// at the same place, whatever is newer must be missing from it.
/// </summary>
public class OldestTargetTests
{
    private static readonly KernelVersion HeaderKernel = new(6, 1);

    private static IReadOnlyDictionary<string, string>? Header(string key) =>
        BtfGolden.Header.TryGetValue(key, out var value) ? value : throw new KeyNotFoundException("golden file lacks 'header " + key + "'");

    private static int Int(IReadOnlyDictionary<string, string> attrs, string name) => int.Parse(attrs[name], CultureInfo.InvariantCulture);

    [Fact]
    public void Ctx_fields_of_6_1_are_in_the_header_at_the_same_offsets_and_newer_ones_are_missing()
    {
        Assert.Equal(SockOpsContext.SizeFor(HeaderKernel), Int(Header("struct bpf_sock_ops")!, "size"));
        foreach (var field in SockOpsContext.Fields)
        {
            var header = Header("field bpf_sock_ops " + field.Name);
            if (field.MinimumKernel > HeaderKernel)
            {
                Assert.True(header is null, $"{field.Name} is annotated {field.MinimumKernel}+ but the 6.1 header has it");
                continue;
            }
            Assert.True(header is not null, $"{field.Name} is annotated {field.MinimumKernel} but the 6.1 header lacks it");
            Assert.Equal((field.Offset, field.Size), (Int(header, "offset"), Int(header, "size")));
        }
    }

    [Fact]
    public void Socket_structs_are_the_same_in_the_6_1_header()
    {
        foreach (var (name, fields, size) in (ValueTuple<string, IReadOnlyList<StructField>, int>[])[("bpf_sock", BpfSock.Fields, BpfSock.Size), ("bpf_tcp_sock", BpfTcpSock.Fields, BpfTcpSock.Size)])
        {
            Assert.Equal(size, Int(Header("struct " + name)!, "size"));
            foreach (var field in fields)
            {
                var header = Header($"field {name} {field.Name}");
                Assert.NotNull(header);
                Assert.Equal((field.Offset, field.Size), (Int(header, "offset"), Int(header, "size")));
            }
        }
    }

    [Fact]
    public void Ops_options_and_states_newer_than_6_1_are_missing_from_the_header()
    {
        foreach (var op in SockOpInfo.All)
            Assert.True((op.MinimumKernel > HeaderKernel) == (Header("const " + op.CName) is null), $"{op.CName}: annotated {op.MinimumKernel}");
        foreach (var option in SocketOptions.All.Where(o => BtfGolden.Enums.ContainsKey(o.CName)))
            Assert.True((option.MinimumKernel > HeaderKernel) == (Header("const " + option.CName) is null), $"{option.CName}: annotated {option.MinimumKernel}");
        Assert.Null(Header("const BPF_TCP_BOUND_INACTIVE"));
        Assert.Equal(13, Int(Header("const BPF_TCP_MAX_STATES")!, "value"));
        Assert.Null(Header("const SK_BPF_CB_TX_TIMESTAMPING"));
    }
}
