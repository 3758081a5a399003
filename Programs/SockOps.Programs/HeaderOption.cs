using SockOps.Emit.Assembler;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using SockOps.Emit;
using static SockOps.Emit.ByteOrder;

namespace SockOps.Programs;

/// <summary>
/// The seed's third use case, a TCP header option the kernel does not know: the active side reserves
/// (HDR_OPT_LEN_CB, <c>bpf_reserve_hdr_opt</c>) and writes (WRITE_HDR_OPT_CB, <c>bpf_store_hdr_opt</c>) an
/// experimental option — kind 254, length 8, a 16-bit experiment id (<see cref="Options.Magic"/>) and a 32-bit
/// <see cref="Options.Value"/>, all in network order — on its SYN and on every data segment. The passive side
/// asks for PARSE_HDR_OPT_CB on unknown options, finds the option with <c>bpf_load_hdr_opt</c> and records the
/// value in the hash map <see cref="ReceivedMapName"/> under its own socket cookie. With
/// <see cref="Options.ParseSyn"/> listeners also save the SYN (TCP_SAVE_SYN) and the accepted socket finds the
/// option in it (<c>bpf_load_hdr_opt</c> with BPF_LOAD_HDR_OPT_TCP_SYN) and records it in <see cref="ReceivedOnSynMapName"/>.
/// </summary>
public static class HeaderOption
{
    /// <summary>One-line summary.</summary>
    public const string Summary = "Write an experimental TCP option (kind 254, magic, value) on SYN and data segments; the peer records the value per connection";

    /// <summary>The oldest kernel the program can be built for (the model's answer; 6.1, 6.12 and 6.18 are proven in the kernel matrix, 5.10 and 5.15 are declared from the sources).</summary>
    public static KernelVersion MinimumKernel { get; } = new(5, 10);

    /// <summary>Hash map: passive socket cookie → the value received on data segments (PARSE_HDR_OPT_CB).</summary>
    public const string ReceivedMapName = "received";

    /// <summary>Hash map: passive socket cookie → the value found in the connection's SYN (saved with TCP_SAVE_SYN).</summary>
    public const string ReceivedOnSynMapName = "received_syn";

    /// <summary>The experimental option kind (RFC 6994).</summary>
    public const int ExperimentalKind = 254;

    /// <summary>The option's length in bytes: kind, length, magic (2), value (4).</summary>
    public const int OptionLength = 8;

    /// <summary>Parameters.</summary>
    public sealed record Options
    {
        /// <summary>The experiment id (RFC 6994 "ExID") identifying our option among kind-254 options.</summary>
        public ushort Magic { get; init; } = 0xeb9f;
        /// <summary>The value the active side writes.</summary>
        public uint Value { get; init; } = 0x5eed0001;
        /// <summary>How many connections the receiving side remembers.</summary>
        public uint MaxConnections { get; init; } = 4096;
        /// <summary>Listeners save the SYN (TCP_SAVE_SYN) and the accepted socket looks for the option in it too.</summary>
        public bool ParseSyn { get; init; } = true;
    }

    /// <summary>The option as it sits on the stack: head = kind, length, magic; then the value (network order).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct OptionBytes
    {
        public uint Head;
        public uint Value;
    }

    /// <summary>Builds the program for <paramref name="target"/> (default <see cref="KernelTargets.Default"/>; at least <see cref="MinimumKernel"/>).</summary>
    /// <param name="options">Parameters (defaults when null).</param>
    /// <param name="target">The kernel the program will run on.</param>
    public static ProgramImage Build(Options? options = null, KernelVersion? target = null)
    {
        var o = options ?? new Options();
        // Bytes in packet order, read as a little-endian word: [254, len, magic hi, magic lo].
        uint Head(int length) => (uint)ExperimentalKind | (uint)length << 8 | (uint)(o.Magic >> 8) << 16 | (uint)(o.Magic & 0xff) << 24;
        const int TcpFlagSyn = 0x02;
        return SockOpsProgram.Build("header_option", b =>
        {
            var ctx = b.Context;
            var received = b.Map<ulong, uint>(ReceivedMapName, MapType.Hash, o.MaxConnections);
            var receivedOnSyn = o.ParseSyn ? b.Map<ulong, uint>(ReceivedOnSynMapName, MapType.Hash, o.MaxConnections) : null;
            var cases = b.Switch(ctx.Op)
                // bpf_sock_ops_cb_flags_set replaces the flags: each side asks for exactly the callbacks it needs.
                .Case(SockOp.TcpConnectCb, () => b.SockOpsCbFlagsSet(SockOpsCallbackFlags.WriteHdrOpt));
            if (receivedOnSyn is not null)
                cases = cases.Case(SockOp.TcpListenCb, () => b.SetSockOpt(TcpOption.SaveSyn, 1));
            cases
                .Case(SockOp.PassiveEstablishedCb, () =>
                {
                    b.SockOpsCbFlagsSet(SockOpsCallbackFlags.ParseUnknownHdrOpt);
                    if (receivedOnSyn is null) return;
                    var option = b.StackStruct<OptionBytes>();
                    option.U32(nameof(OptionBytes.Head)).Set(Head(4));
                    var found = b.Local("found_syn", b.LoadHdrOpt(option, (ulong)LoadHeaderOptionFlags.TcpSyn));
                    b.If(found == OptionLength, () =>
                        b.MapUpdate(receivedOnSyn, b.GetSocketCookie(), Ntohl(option.U32(nameof(OptionBytes.Value)))));
                })
                // skb_len is the payload length here (the header is not written yet): SYN or data → reserve.
                .Case(SockOp.HdrOptLenCb, () =>
                    b.If((ctx.SkbTcpFlags & TcpFlagSyn) != 0 | ctx.SkbLen != 0, () => b.ReserveHdrOpt(OptionLength, 0)))
                // Only segments with reserved room get here with space; elsewhere the store fails harmlessly (-ENOSPC).
                .Case(SockOp.WriteHdrOptCb, () =>
                {
                    var option = b.StackStruct<OptionBytes>();
                    option.U32(nameof(OptionBytes.Head)).Set(Head(OptionLength));
                    option.U32(nameof(OptionBytes.Value)).Set(BinaryPrimitives.ReverseEndianness(o.Value));
                    b.StoreHdrOpt(option, 0);
                })
                .Case(SockOp.ParseHdrOptCb, () =>
                {
                    // Search by kind 254 and magic: the search length (byte 1) is 4 = kind, length, 2-byte magic.
                    var option = b.StackStruct<OptionBytes>();
                    option.U32(nameof(OptionBytes.Head)).Set(Head(4));
                    var found = b.Local("found", b.LoadHdrOpt(option, 0));
                    b.If(found == OptionLength, () =>
                        b.MapUpdate(received, b.GetSocketCookie(), Ntohl(option.U32(nameof(OptionBytes.Value)))));
                })
                .End();
            b.Return(1);
        }, target: target);
    }
}
