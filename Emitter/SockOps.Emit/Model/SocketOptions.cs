using SockOps.Emit.Assembler;
using System.Globalization;

namespace SockOps.Emit;

/// <summary>The <c>level</c> argument of <c>bpf_setsockopt</c>/<c>bpf_getsockopt</c> (reference §3).</summary>
public enum SocketOptionLevel
{
    /// <summary><c>SOL_IP</c> (0).</summary>
    Ip = 0,
    /// <summary><c>SOL_SOCKET</c> (1).</summary>
    Socket = 1,
    /// <summary><c>SOL_TCP</c> (6 = IPPROTO_TCP).</summary>
    Tcp = 6,
    /// <summary><c>SOL_IPV6</c> (41).</summary>
    Ipv6 = 41,
}

/// <summary><c>SOL_SOCKET</c> option names that sock_ops may use.</summary>
public enum SocketLevelOption
{
    /// <summary><c>SO_REUSEADDR</c>.</summary>
    ReuseAddr = 2,
    /// <summary><c>SO_SNDBUF</c> (the kernel doubles the value).</summary>
    SndBuf = 7,
    /// <summary><c>SO_RCVBUF</c>.</summary>
    RcvBuf = 8,
    /// <summary><c>SO_KEEPALIVE</c>.</summary>
    KeepAlive = 9,
    /// <summary><c>SO_PRIORITY</c>.</summary>
    Priority = 12,
    /// <summary><c>SO_REUSEPORT</c>.</summary>
    ReusePort = 15,
    /// <summary><c>SO_RCVLOWAT</c>.</summary>
    RcvLowat = 18,
    /// <summary><c>SO_BINDTODEVICE</c> (a device name; set only).</summary>
    BindToDevice = 25,
    /// <summary><c>SO_MARK</c>.</summary>
    Mark = 36,
    /// <summary><c>SO_MAX_PACING_RATE</c>.</summary>
    MaxPacingRate = 47,
    /// <summary><c>SO_BINDTOIFINDEX</c>.</summary>
    BindToIfIndex = 62,
    /// <summary><c>SO_TXREHASH</c>.</summary>
    TxRehash = 74,
    /// <summary><c>SK_BPF_CB_FLAGS</c> (6.15+): <see cref="SocketBpfCallbackFlags"/>.</summary>
    BpfCallbackFlags = 1009,
}

/// <summary><c>SOL_TCP</c> option names that sock_ops may use (kernel <c>TCP_*</c> and BPF-only <c>TCP_BPF_*</c>).</summary>
public enum TcpOption
{
    /// <summary><c>TCP_NODELAY</c>.</summary>
    NoDelay = 1,
    /// <summary><c>TCP_MAXSEG</c>.</summary>
    MaxSeg = 2,
    /// <summary><c>TCP_KEEPIDLE</c>.</summary>
    KeepIdle = 4,
    /// <summary><c>TCP_KEEPINTVL</c>.</summary>
    KeepIntvl = 5,
    /// <summary><c>TCP_KEEPCNT</c>.</summary>
    KeepCnt = 6,
    /// <summary><c>TCP_SYNCNT</c>.</summary>
    SynCnt = 7,
    /// <summary><c>TCP_WINDOW_CLAMP</c>.</summary>
    WindowClamp = 10,
    /// <summary><c>TCP_CONGESTION</c>: a NUL-terminated algorithm name.</summary>
    Congestion = 13,
    /// <summary><c>TCP_THIN_LINEAR_TIMEOUTS</c>.</summary>
    ThinLinearTimeouts = 16,
    /// <summary><c>TCP_USER_TIMEOUT</c>.</summary>
    UserTimeout = 18,
    /// <summary><c>TCP_NOTSENT_LOWAT</c>.</summary>
    NotSentLowat = 25,
    /// <summary><c>TCP_SAVE_SYN</c>.</summary>
    SaveSyn = 27,
    /// <summary><c>TCP_SAVED_SYN</c> (get only).</summary>
    SavedSyn = 28,
    /// <summary><c>TCP_RTO_MAX_MS</c> (6.15+).</summary>
    RtoMaxMs = 44,
    /// <summary><c>TCP_BPF_IW</c>: initial congestion window (set only, before data is sent, value &gt; 0).</summary>
    BpfIw = 1001,
    /// <summary><c>TCP_BPF_SNDCWND_CLAMP</c>: send cwnd clamp (set only, value &gt; 0).</summary>
    BpfSndCwndClamp = 1002,
    /// <summary><c>TCP_BPF_DELACK_MAX</c>: max delayed-ACK timeout in µs.</summary>
    BpfDelackMax = 1003,
    /// <summary><c>TCP_BPF_RTO_MIN</c>: minimum RTO in µs.</summary>
    BpfRtoMin = 1004,
    /// <summary><c>TCP_BPF_SYN</c>: the SYN's TCP header (get only).</summary>
    BpfSyn = 1005,
    /// <summary><c>TCP_BPF_SYN_IP</c>: the SYN's IP + TCP headers (get only).</summary>
    BpfSynIp = 1006,
    /// <summary><c>TCP_BPF_SYN_MAC</c>: the SYN's MAC + IP + TCP headers (get only).</summary>
    BpfSynMac = 1007,
    /// <summary><c>TCP_BPF_SOCK_OPS_CB_FLAGS</c> (≈6.12+): <see cref="SockOpsCallbackFlags"/>.</summary>
    BpfSockOpsCbFlags = 1008,
}

/// <summary><c>SOL_IP</c> option names that sock_ops may use.</summary>
public enum IpOption
{
    /// <summary><c>IP_TOS</c> (AF_INET sockets only).</summary>
    Tos = 1,
}

/// <summary><c>SOL_IPV6</c> option names that sock_ops may use.</summary>
public enum Ipv6Option
{
    /// <summary><c>IPV6_TCLASS</c> (AF_INET6 sockets only).</summary>
    TClass = 67,
    /// <summary><c>IPV6_AUTOFLOWLABEL</c> (AF_INET6 sockets only).</summary>
    AutoFlowLabel = 70,
}

/// <summary>What <c>optval</c> holds.</summary>
public enum SocketOptionValueType
{
    /// <summary>A 32-bit integer (<c>int</c>).</summary>
    Int32,
    /// <summary>A NUL-terminated string (e.g. a congestion control name).</summary>
    String,
    /// <summary>Raw bytes copied out by the kernel (saved SYN headers).</summary>
    Bytes,
}

/// <summary>The kernel's rule for <c>optlen</c>.</summary>
public enum OptionLengthRule
{
    /// <summary>Exactly 4 (<c>sizeof(int)</c>).</summary>
    Exactly4,
    /// <summary>At least 2 (a string: one character and the NUL).</summary>
    AtLeast2,
    /// <summary>At least 1.</summary>
    AtLeast1,
    /// <summary>Any positive length (the helper's size argument must be &gt; 0 anyway).</summary>
    AnyPositive,
}

/// <summary>One (level, optname) pair that sock_ops' <c>bpf_setsockopt</c>/<c>bpf_getsockopt</c> accept (reference §3.1).</summary>
/// <param name="Level">The level.</param>
/// <param name="OptionName">The optname value.</param>
/// <param name="CName">The C macro name, e.g. <c>TCP_BPF_IW</c>.</param>
/// <param name="ValueType">What optval holds.</param>
/// <param name="LengthRule">The optlen rule.</param>
/// <param name="CanSet">Whether <c>bpf_setsockopt</c> accepts it.</param>
/// <param name="CanGet">Whether <c>bpf_getsockopt</c> accepts it.</param>
/// <param name="MinimumKernel">The first kernel whose <c>bpf_setsockopt</c> accepts it (for a get-only option: whose <c>bpf_getsockopt</c> does).</param>
/// <param name="Notes">Runtime conditions (value ranges, socket family).</param>
public sealed record SocketOption(SocketOptionLevel Level, int OptionName, string CName, SocketOptionValueType ValueType,
    OptionLengthRule LengthRule, bool CanSet, bool CanGet, KernelVersion MinimumKernel, string Notes)
{
    /// <summary>The first kernel whose <c>bpf_getsockopt</c> accepts it (often later than set: 6.0 reworked get).</summary>
    public KernelVersion GetMinimumKernel { get; init; } = MinimumKernel;

    private KernelFeature? _setFeature, _getFeature;

    /// <summary>Setting the option, as a kernel feature (for an older target it is refused at emit time).</summary>
    public KernelFeature SetFeature => _setFeature ??= new KernelFeature(KernelFeatureKind.SocketOption, "bpf_setsockopt " + CName, MinimumKernel,
        "net/core/filter.c bpf_setsockopt option lists (docs/kernel-features.tsv)");

    /// <summary>Getting the option, as a kernel feature.</summary>
    public KernelFeature GetFeature => _getFeature ??= new KernelFeature(KernelFeatureKind.SocketOption, "bpf_getsockopt " + CName, GetMinimumKernel,
        "net/core/filter.c bpf_getsockopt option lists (docs/kernel-features.tsv)");

    /// <summary>Whether <paramref name="optlen"/> satisfies <see cref="LengthRule"/>.</summary>
    public bool AcceptsLength(int optlen) => LengthRule switch
    {
        OptionLengthRule.Exactly4 => optlen == 4,
        OptionLengthRule.AtLeast2 => optlen >= 2,
        OptionLengthRule.AtLeast1 => optlen >= 1,
        _ => optlen > 0,
    };

    /// <summary>The rule in words.</summary>
    public string DescribeLength() => LengthRule switch
    {
        OptionLengthRule.Exactly4 => "exactly 4",
        OptionLengthRule.AtLeast2 => "at least 2 (a NUL-terminated string)",
        OptionLengthRule.AtLeast1 => "at least 1",
        _ => "positive",
    };
}

/// <summary>
/// The table of socket options sock_ops may set and get on 6.18, and emit-time checks of constant
/// (level, optname, optlen) triples. The verifier checks none of this (level and optname are
/// <c>ARG_ANYTHING</c>); the helpers return -EINVAL/-ENOPROTOOPT at run time instead.
/// </summary>
public static class SocketOptions
{
    private static KernelVersion V(int major, int minor) => new(major, minor);

    // Versions from docs/kernel-features.tsv (set, then get): read in the 5.10, 5.15, 6.1 and 6.12 source trees.
    private static SocketOption Int(SocketOptionLevel level, int name, string cName, KernelVersion since, KernelVersion? getSince = null,
        bool set = true, bool get = true, string notes = "") =>
        new(level, name, cName, SocketOptionValueType.Int32, OptionLengthRule.Exactly4, set, get, since, notes) { GetMinimumKernel = getSince ?? since };

    /// <summary>Every accepted (level, optname), in the order of reference §3.1.</summary>
    public static IReadOnlyList<SocketOption> All { get; } =
    [
        Int(SocketOptionLevel.Socket, (int)SocketLevelOption.ReuseAddr, "SO_REUSEADDR", V(6,0), V(6,0)),
        Int(SocketOptionLevel.Socket, (int)SocketLevelOption.SndBuf, "SO_SNDBUF", V(4,13), V(6,0), notes: "the kernel stores twice the value"),
        Int(SocketOptionLevel.Socket, (int)SocketLevelOption.RcvBuf, "SO_RCVBUF", V(4,13), V(6,0)),
        Int(SocketOptionLevel.Socket, (int)SocketLevelOption.KeepAlive, "SO_KEEPALIVE", V(5,9), V(6,0)),
        Int(SocketOptionLevel.Socket, (int)SocketLevelOption.Priority, "SO_PRIORITY", V(4,14), V(5,12)),
        Int(SocketOptionLevel.Socket, (int)SocketLevelOption.ReusePort, "SO_REUSEPORT", V(5,12), V(5,12)),
        Int(SocketOptionLevel.Socket, (int)SocketLevelOption.RcvLowat, "SO_RCVLOWAT", V(4,20), V(6,0)),
        new(SocketOptionLevel.Socket, (int)SocketLevelOption.BindToDevice, "SO_BINDTODEVICE", SocketOptionValueType.String,
            OptionLengthRule.AnyPositive, true, false, V(5, 8), "device name; get returns -EINVAL"),
        Int(SocketOptionLevel.Socket, (int)SocketLevelOption.Mark, "SO_MARK", V(4,14), V(5,12)),
        Int(SocketOptionLevel.Socket, (int)SocketLevelOption.MaxPacingRate, "SO_MAX_PACING_RATE", V(4,14), V(6,0)),
        Int(SocketOptionLevel.Socket, (int)SocketLevelOption.BindToIfIndex, "SO_BINDTOIFINDEX", V(5,12), V(5,12)),
        Int(SocketOptionLevel.Socket, (int)SocketLevelOption.TxRehash, "SO_TXREHASH", V(5,18), V(6,0)),
        Int(SocketOptionLevel.Socket, (int)SocketLevelOption.BpfCallbackFlags, "SK_BPF_CB_FLAGS", V(6,15), V(6,15),
            notes: "value must be a subset of SK_BPF_CB_MASK (1) else -EINVAL"),
        Int(SocketOptionLevel.Tcp, (int)TcpOption.NoDelay, "TCP_NODELAY", V(6,0), V(6,0)),
        Int(SocketOptionLevel.Tcp, (int)TcpOption.MaxSeg, "TCP_MAXSEG", V(6,0), V(6,0)),
        Int(SocketOptionLevel.Tcp, (int)TcpOption.KeepIdle, "TCP_KEEPIDLE", V(5,9), V(6,0)),
        Int(SocketOptionLevel.Tcp, (int)TcpOption.KeepIntvl, "TCP_KEEPINTVL", V(5,9), V(6,0)),
        Int(SocketOptionLevel.Tcp, (int)TcpOption.KeepCnt, "TCP_KEEPCNT", V(5,9), V(6,0)),
        Int(SocketOptionLevel.Tcp, (int)TcpOption.SynCnt, "TCP_SYNCNT", V(5,9), V(6,0)),
        Int(SocketOptionLevel.Tcp, (int)TcpOption.WindowClamp, "TCP_WINDOW_CLAMP", V(5,13), V(6,0)),
        new(SocketOptionLevel.Tcp, (int)TcpOption.Congestion, "TCP_CONGESTION", SocketOptionValueType.String,
            OptionLengthRule.AtLeast2, true, true, V(4, 13), "algorithm name; an unavailable one gives -ENOTSUPP (-524); get forces a trailing NUL") { GetMinimumKernel = V(4, 15) },
        Int(SocketOptionLevel.Tcp, (int)TcpOption.ThinLinearTimeouts, "TCP_THIN_LINEAR_TIMEOUTS", V(6,0), V(6,0)),
        Int(SocketOptionLevel.Tcp, (int)TcpOption.UserTimeout, "TCP_USER_TIMEOUT", V(5,9), V(6,0)),
        Int(SocketOptionLevel.Tcp, (int)TcpOption.NotSentLowat, "TCP_NOTSENT_LOWAT", V(5,10), V(6,0)),
        Int(SocketOptionLevel.Tcp, (int)TcpOption.SaveSyn, "TCP_SAVE_SYN", V(5,10), V(6,0)),
        new(SocketOptionLevel.Tcp, (int)TcpOption.SavedSyn, "TCP_SAVED_SYN", SocketOptionValueType.Bytes,
            OptionLengthRule.AtLeast1, false, true, V(5, 10), "get copies the saved SYN; set gives -ENOPROTOOPT"),
        Int(SocketOptionLevel.Tcp, (int)TcpOption.RtoMaxMs, "TCP_RTO_MAX_MS", V(6,15), V(6,15)),
        Int(SocketOptionLevel.Tcp, (int)TcpOption.BpfIw, "TCP_BPF_IW", V(4,13), get: false,
            notes: "value > 0 and only before data is sent; get returns -EINVAL"),
        Int(SocketOptionLevel.Tcp, (int)TcpOption.BpfSndCwndClamp, "TCP_BPF_SNDCWND_CLAMP", V(4,13), get: false,
            notes: "value > 0; also sets snd_ssthresh; get returns -EINVAL"),
        Int(SocketOptionLevel.Tcp, (int)TcpOption.BpfDelackMax, "TCP_BPF_DELACK_MAX", V(5,10), V(6,18), notes: "µs; TCP_TIMEOUT_MIN ≤ jiffies ≤ TCP_DELACK_MAX (200 ms); get -EINVAL before 6.18"),
        Int(SocketOptionLevel.Tcp, (int)TcpOption.BpfRtoMin, "TCP_BPF_RTO_MIN", V(5,10), V(6,18), notes: "µs; TCP_TIMEOUT_MIN ≤ jiffies ≤ TCP_RTO_MIN (200 ms); get -EINVAL before 6.18"),
        new(SocketOptionLevel.Tcp, (int)TcpOption.BpfSyn, "TCP_BPF_SYN", SocketOptionValueType.Bytes, OptionLengthRule.AnyPositive, false, true, V(5, 10),
            "returns bytes copied, -ENOSPC if truncated, -ENOENT without a SYN"),
        new(SocketOptionLevel.Tcp, (int)TcpOption.BpfSynIp, "TCP_BPF_SYN_IP", SocketOptionValueType.Bytes, OptionLengthRule.AnyPositive, false, true, V(5, 10),
            "IP + TCP header of the SYN"),
        new(SocketOptionLevel.Tcp, (int)TcpOption.BpfSynMac, "TCP_BPF_SYN_MAC", SocketOptionValueType.Bytes, OptionLengthRule.AnyPositive, false, true, V(5, 10),
            "MAC + IP + TCP header of the SYN"),
        Int(SocketOptionLevel.Tcp, (int)TcpOption.BpfSockOpsCbFlags, "TCP_BPF_SOCK_OPS_CB_FLAGS", V(6,12), V(6,12),
            notes: "value must be a subset of BPF_SOCK_OPS_ALL_CB_FLAGS (0x7F) else -EINVAL; set and get 6.12"),
        Int(SocketOptionLevel.Ip, (int)IpOption.Tos, "IP_TOS", V(4,20), V(5,2), notes: "AF_INET sockets only"),
        Int(SocketOptionLevel.Ipv6, (int)Ipv6Option.TClass, "IPV6_TCLASS", V(4,20), V(5,2), notes: "AF_INET6 sockets only"),
        Int(SocketOptionLevel.Ipv6, (int)Ipv6Option.AutoFlowLabel, "IPV6_AUTOFLOWLABEL", V(6,0), V(6,0), notes: "AF_INET6 sockets only"),
    ];

    private static readonly Dictionary<(int Level, int Name), SocketOption> Index =
        All.ToDictionary(o => ((int)o.Level, o.OptionName));

    /// <summary>The option for a (level, optname) pair, or null if sock_ops cannot use it at all.</summary>
    public static SocketOption? Find(int level, int optionName) => Index.GetValueOrDefault((level, optionName));

    /// <summary>Checks a constant <c>bpf_setsockopt(skops, level, optname, optval, optlen)</c> call.</summary>
    /// <param name="level">The level (<see cref="SocketOptionLevel"/> values, or any other number).</param>
    /// <param name="optionName">The optname.</param>
    /// <param name="optlen">The size argument.</param>
    /// <param name="targetKernel">The target kernel; null for the current one (6.18).</param>
    /// <returns>Null if the call can succeed, else why it fails.</returns>
    public static string? CheckSetsockopt(int level, int optionName, int optlen, KernelVersion? targetKernel = null) =>
        Check(level, optionName, optlen, targetKernel, isSet: true);

    /// <summary>Checks a constant <c>bpf_getsockopt(skops, level, optname, optval, optlen)</c> call.</summary>
    /// <inheritdoc cref="CheckSetsockopt"/>
    public static string? CheckGetsockopt(int level, int optionName, int optlen, KernelVersion? targetKernel = null) =>
        Check(level, optionName, optlen, targetKernel, isSet: false);

    private static string? Check(int level, int optionName, int optlen, KernelVersion? targetKernel, bool isSet)
    {
        string helper = isSet ? "bpf_setsockopt" : "bpf_getsockopt";
        if (optlen <= 0)
            return string.Create(CultureInfo.InvariantCulture, $"{helper}: optlen {optlen} is refused by the verifier (the size argument must be > 0)");
        if (!Enum.IsDefined((SocketOptionLevel)level))
            return string.Create(CultureInfo.InvariantCulture, $"{helper}: level {level} is not SOL_SOCKET, SOL_TCP, SOL_IP or SOL_IPV6 (-EINVAL)");
        var option = Find(level, optionName);
        if (option is null)
            return string.Create(CultureInfo.InvariantCulture, $"{helper}: optname {optionName} is not allowed at level {(SocketOptionLevel)level} from sock_ops (-EINVAL)");
        if (isSet && !option.CanSet) return $"{helper}: {option.CName} can only be read ({option.Notes})";
        if (!isSet && !option.CanGet) return $"{helper}: {option.CName} can only be set ({option.Notes})";
        if (!option.AcceptsLength(optlen))
            return string.Create(CultureInfo.InvariantCulture, $"{helper}: {option.CName} needs optlen {option.DescribeLength()}, not {optlen} (-EINVAL)");
        var since = isSet ? option.MinimumKernel : option.GetMinimumKernel;
        if (targetKernel is { } target && !target.IsAtLeast(since))
            return $"{helper}: {option.CName} needs Linux {since}+, the target is {target}";
        return null;
    }
}
