using System.Runtime.InteropServices;
using System.Text;
using SockOps.Emit.Assembler;
using SockOps.Emit.TestSupport;
using static SockOps.Emit.Tests.Kernel.Insn;

namespace SockOps.Emit.Tests.Kernel;

/// <summary>
/// Proves the map types listed on helper map arguments (reference §2.2): for every helper with a map
/// argument and every map type this test can create (19; sk_storage with a one-type BTF), a well-formed call loads if and only
/// if the model lists the type.
/// </summary>
public class HelperMapTypeKernelTests
{
    internal sealed record MapShape(MapType Type, int KeySize, int ValueSize, int MaxEntries, uint Flags = 0, bool NeedsBtf = false)
    {
        /// <summary>Creates the map (with a one-type BTF when it needs one); the caller disposes it.</summary>
        public SafeHandle Create()
        {
            using var btf = NeedsBtf ? RawBpf.LoadIntBtf() : null;
            return RawBpf.CreateMap(Type, KeySize, ValueSize, MaxEntries, Flags, btf);
        }
    }

    internal static readonly MapShape[] Creatable =
    [
        new(MapType.Hash, 4, 8, 16), new(MapType.Array, 4, 8, 1), new(MapType.ProgramArray, 4, 4, 1), new(MapType.PerfEventArray, 4, 4, 2),
        new(MapType.PerCpuHash, 4, 8, 16), new(MapType.PerCpuArray, 4, 8, 1), new(MapType.LruHash, 4, 8, 16), new(MapType.LruPerCpuHash, 4, 8, 16),
        new(MapType.LpmTrie, 8, 8, 16, Flags: 1 /* BPF_F_NO_PREALLOC */), new(MapType.CgroupArray, 4, 4, 1), new(MapType.SockMap, 4, 4, 1),
        new(MapType.SockHash, 4, 4, 1), new(MapType.Queue, 0, 8, 16), new(MapType.Stack, 0, 8, 16), new(MapType.RingBuf, 0, 0, 4096),
        new(MapType.BloomFilter, 0, 8, 16), new(MapType.CgroupStorage, 8, 8, 0), new(MapType.PerCpuCgroupStorage, 8, 8, 0),
        new(MapType.SkStorage, 4, 4, 0, Flags: 1 /* BPF_F_NO_PREALLOC */, NeedsBtf: true),
    ];

    internal static readonly HashSet<HelperArgumentKind> Buildable =
    [
        HelperArgumentKind.Context, HelperArgumentKind.MapPointer, HelperArgumentKind.MapKey, HelperArgumentKind.MapValue,
        HelperArgumentKind.MapValueOrNull, HelperArgumentKind.UninitializedMapValue, HelperArgumentKind.ReadOnlyMemory,
        HelperArgumentKind.UninitializedMemory, HelperArgumentKind.ConstSize, HelperArgumentKind.ConstSizeOrZero,
        HelperArgumentKind.ConstAllocSizeOrZero, HelperArgumentKind.Anything, HelperArgumentKind.BtfIdSockCommon,
        HelperArgumentKind.SockCommon, HelperArgumentKind.BtfIdOrNull, HelperArgumentKind.ContextOrNull, HelperArgumentKind.WritableMemory, HelperArgumentKind.Unchecked,
    ];

    private const short BufferOffset = -64;

    /// <summary>r6 = ctx; 64 zeroed stack bytes; r7 = sk (NULL-checked); args; call; release a ringbuf reservation; return 1.</summary>
    internal static List<Instruction> CallWithMap(HelperDescriptor helper, int mapFd)
    {
        var body = new List<Instruction> { Mov64Reg(6, 1) };
        for (short off = -8; off >= BufferOffset; off -= 8) body.Add(St(8, 10, off, 0));
        body.Add(Ldx(8, 7, 6, (short)SockOpsContext.Sk.Offset));
        var toOut = new List<int> { body.Count };
        body.Add(JeqImm(7, 0, 0));
        for (int a = 0; a < helper.Arguments.Count; a++)
        {
            int reg = a + 1;
            switch (helper.Arguments[a].Kind)
            {
                case HelperArgumentKind.Context or HelperArgumentKind.ContextOrNull: body.Add(Mov64Reg(reg, 6)); break;
                case HelperArgumentKind.MapPointer: body.Add(Instruction.LoadImmediate64(Register.FromIndex(reg), mapFd, PseudoSource.MapFd)); break;
                case HelperArgumentKind.SockCommon or HelperArgumentKind.BtfIdSockCommon: body.Add(Mov64Reg(reg, 7)); break;
                case HelperArgumentKind.MapValueOrNull or HelperArgumentKind.BtfIdOrNull or HelperArgumentKind.Anything or HelperArgumentKind.Unchecked: body.Add(Mov64(reg, 0)); break;
                case HelperArgumentKind.ConstSize or HelperArgumentKind.ConstSizeOrZero or HelperArgumentKind.ConstAllocSizeOrZero: body.Add(Mov64(reg, 8)); break;
                default: // pointers to the zeroed stack buffer
                    body.Add(Mov64Reg(reg, 10));
                    body.Add(Alu64(AluOperation.Add, reg, BufferOffset));
                    break;
            }
        }
        body.Add(Call(helper.Id));
        if (helper.ReturnKind == HelperReturnKind.RingbufMemOrNull)
        {
            toOut.Add(body.Count);
            body.Add(JeqImm(0, 0, 0));
            body.Add(Mov64Reg(1, 0));
            body.Add(Mov64(2, 0));
            body.Add(Call(133)); // bpf_ringbuf_discard
        }
        int outIndex = body.Count;
        body.Add(Mov64(0, 1));
        body.Add(Exit());
        int SlotOf(int index) => body.Take(index).Sum(i => i.Slots);
        foreach (int j in toOut)
            body[j] = new Instruction(body[j].Opcode, body[j].DestinationIndex, 0, (short)(SlotOf(outIndex) - SlotOf(j) - 1), 0);
        return body;
    }

    public static TheoryData<int> MapHelpers =>
        [.. Helpers.All.Where(h => h.Arguments.Any(a => a.Kind == HelperArgumentKind.MapPointer) && h.Arguments.All(a => Buildable.Contains(a.Kind))).Select(h => h.Id)];

    [Fact]
    public void Only_helpers_with_callback_timer_or_dynptr_arguments_are_left_out()
    {
        var left = Helpers.All.Where(h => h.Arguments.Any(a => a.Kind == HelperArgumentKind.MapPointer) && !h.Arguments.All(a => Buildable.Contains(a.Kind)))
            .Select(h => h.Name).Order(StringComparer.Ordinal);
        Assert.Equal(["bpf_for_each_map_elem", "bpf_ringbuf_reserve_dynptr", "bpf_timer_init", "bpf_user_ringbuf_drain"], left);
    }

    [Theory]
    [MemberData(nameof(MapHelpers))]
    public void Listed_map_types_load_and_the_others_are_refused(int helperId)
    {
        KernelGate.Require();
        var helper = Helpers.Find(helperId)!;
        var accepted = helper.Arguments.Single(a => a.Kind == HelperArgumentKind.MapPointer).AcceptedMapTypes;
        var wrong = new StringBuilder();
        foreach (var shape in Creatable)
        {
            using var map = shape.Create();
            var result = RawBpf.LoadSockOps(CallWithMap(helper, (int)map.DangerousGetHandle()));
            if (result.Accepted != accepted.Contains(shape.Type))
                wrong.Append($"{helper.Name} with {shape.Type}: kernel {result}, model {(accepted.Contains(shape.Type) ? "lists it" : "does not list it")}\n");
        }
        Assert.True(wrong.Length == 0, wrong.ToString());
    }
}
