using SockOps.Emit.Assembler;

namespace SockOps.Emit;

/// <summary>
/// The first kernel in which a sock_ops program may call each helper: not when the helper id was created, but when
/// <c>sock_ops_func_proto</c> or one of its fall-backs (<c>cgroup_common_func_proto</c>, <c>bpf_sk_base_func_proto</c>,
/// <c>bpf_base_func_proto</c>) started returning it. Read from the 6.1 and 6.12 source trees and the upstream history
/// (docs/kernel-features.tsv; the table is generated from it); proven per kernel by the kernel matrix, which probes every helper id for sock_ops in 6.1, 6.12
/// and 6.18 and compares with this table.
/// </summary>
public static partial class HelperKernelVersions
{
    private static readonly KernelVersion Oldest = KernelTargets.Oldest;

    /// <summary>The first kernel in which sock_ops may call helper <paramref name="id"/>.</summary>
    public static KernelVersion MinimumKernel(int id) => Versions.TryGetValue(id, out var v) ? v.Since : Oldest;

    /// <summary>Where <see cref="MinimumKernel"/> comes from.</summary>
    public static string Source(int id) => Versions.TryGetValue(id, out var v) ? v.Source : "not in docs/kernel-features.tsv";
}
