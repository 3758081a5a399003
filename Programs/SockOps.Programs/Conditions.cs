using SockOps.Emit;
using static SockOps.Emit.ByteOrder;

namespace SockOps.Programs;

/// <summary>Conditions the kernel's samples share.</summary>
internal static class Conditions
{
    /// <summary>
    /// Both hosts are IPv6 and "in the same data centre": the first 5.5 bytes of their addresses match
    /// (<c>local_ip6[0] == remote_ip6[0] &amp;&amp; (ntohl(local_ip6[1]) &amp; 0xfff00000) == (ntohl(remote_ip6[1]) &amp; 0xfff00000)</c>).
    /// ::1 to ::1 qualifies; IPv4 never does.
    /// </summary>
    public static Condition SameDataCentre(SockOpsCtx ctx) =>
        ctx.Family == SockOpsCtx.AfInet6
        & ctx.LocalIp6[0] == ctx.RemoteIp6[0]
        & (Ntohl(ctx.LocalIp6[1]) & 0xfff00000) == (Ntohl(ctx.RemoteIp6[1]) & 0xfff00000);

    /// <summary>Neither the local nor the remote port is <paramref name="port"/> (the samples' test filter).</summary>
    public static Condition NeitherPortIs(SockOpsCtx ctx, int port) =>
        ctx.RemotePort != (uint)port & ctx.LocalPort != (uint)port;
}

/// <summary>
/// A two-slot array map that counts what a query program answered: slot 0 counts replies with the program's
/// value, slot 1 counts invocations of the op where it left the kernel's default. It is how the tests (and
/// <c>sockops attach</c>) see that programs without an observable socket effect ran and replied.
/// </summary>
public static class ReplyCounter
{
    /// <summary>The map's name.</summary>
    public const string MapName = "replies";

    /// <summary>Slot of the count of replies with the program's value.</summary>
    public const int Replied = 0;

    /// <summary>Slot of the count of invocations left at the kernel default.</summary>
    public const int Declined = 1;

    internal static Map<int, ulong> Declare(SockOpsBuilder b) => b.Map<int, ulong>(MapName, MapType.Array, 2);

    internal static void Increment(SockOpsBuilder b, Map<int, ulong> map, int slot) =>
        b.IfNotNull(b.MapLookup(map, slot), count => count.U64().Set(count.U64() + 1));
}
