namespace SockOps.Emit.Hosting;

/// <summary>The effective capabilities of this process (the CapEff line of /proc/self/status).</summary>
internal static class ProcessCapabilities
{
    public const int NetAdmin = 12, SysAdmin = 21, Bpf = 39;

    // The calling thread's set: bpf(2) checks the caller's credentials, and capabilities are per thread
    // (/proc/self/status shows the main thread's).
    public static ulong Effective()
    {
        string status = File.Exists("/proc/thread-self/status") ? "/proc/thread-self/status" : "/proc/self/status";
        foreach (string line in File.ReadLines(status))
            if (line.StartsWith("CapEff:", StringComparison.Ordinal))
                return Convert.ToUInt64(line["CapEff:".Length..].Trim(), 16);
        return 0;
    }

    /// <summary>Why this process cannot load and attach sock_ops programs, or null when it can.</summary>
    public static string? MissingForSockOps()
    {
        ulong effective = Effective();
        bool has(int capability) => (effective & (1UL << capability)) != 0;
        // CAP_SYS_ADMIN implies what CAP_BPF grants (kernels before 5.8 know only CAP_SYS_ADMIN).
        if (!has(Bpf) && !has(SysAdmin)) return "the process (its starting thread) lacks CAP_BPF (run as root or grant cap_bpf,cap_net_admin)";
        if (!has(NetAdmin)) return "the process (its starting thread) lacks CAP_NET_ADMIN, which loading a sock_ops program needs";
        return null;
    }
}
