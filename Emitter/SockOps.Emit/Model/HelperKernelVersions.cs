using SockOps.Emit.Assembler;

namespace SockOps.Emit;

/// <summary>
/// The first kernel in which a sock_ops program may call each helper: not when the helper id was created, but when
/// <c>sock_ops_func_proto</c> or one of its fall-backs (<c>cgroup_common_func_proto</c>, <c>bpf_sk_base_func_proto</c>,
/// <c>bpf_base_func_proto</c>) started returning it. Read from the 6.1 and 6.12 source trees and the upstream history
/// (docs/kernels.md); proven per kernel by the kernel matrix, which probes every helper id for sock_ops in 6.1, 6.12
/// and 6.18 and compares with this table.
/// </summary>
public static class HelperKernelVersions
{
    private static readonly KernelVersion Oldest = KernelTargets.Oldest;

    // id → (first kernel, where it comes from). Helpers not listed are callable from sock_ops in 5.10 already.
    private static readonly Dictionary<int, (KernelVersion Since, string Source)> Versions = new()
    {
        [160] = (new(5, 11), "bpf_ktime_get_coarse_ns: bpf_sk_base_func_proto (v5.11)"),
        [158] = (new(5, 11), "bpf_get_current_task_btf (v5.11)"),
        [156] = (new(5, 11), "bpf_task_storage_get (v5.11)"),
        [157] = (new(5, 11), "bpf_task_storage_delete (v5.11)"),
        [164] = (new(5, 13), "bpf_for_each_map_elem (v5.13)"),
        [165] = (new(5, 13), "bpf_snprintf (v5.13)"),
        [169] = (new(5, 15), "bpf_timer_init (v5.15)"),
        [170] = (new(5, 15), "bpf_timer_set_callback (v5.15)"),
        [171] = (new(5, 15), "bpf_timer_start (v5.15)"),
        [172] = (new(5, 15), "bpf_timer_cancel (v5.15)"),
        [175] = (new(5, 15), "bpf_task_pt_regs (v5.15)"),
        [176] = (new(5, 16), "bpf_get_branch_snapshot (v5.16)"),
        [177] = (new(5, 16), "bpf_trace_vprintk (v5.16)"),
        [178] = (new(5, 16), "bpf_skc_to_unix_sock (v5.16)"),
        [180] = (new(5, 17), "bpf_find_vma (v5.17)"),
        [181] = (new(5, 17), "bpf_loop (v5.17)"),
        [182] = (new(5, 17), "bpf_strncmp (v5.17)"),
        [191] = (new(5, 18), "bpf_copy_from_user_task (v5.18)"),
        [194] = (new(5, 19), "bpf_kptr_xchg (v5.19)"),
        [195] = (new(5, 19), "bpf_map_lookup_percpu_elem (v5.19)"),
        [196] = (new(5, 19), "bpf_skc_to_mptcp_sock (v5.19)"),
        [197] = (new(5, 19), "bpf_dynptr_from_mem (v5.19)"),
        [198] = (new(5, 19), "bpf_ringbuf_reserve_dynptr (v5.19)"),
        [199] = (new(5, 19), "bpf_ringbuf_submit_dynptr (v5.19)"),
        [200] = (new(5, 19), "bpf_ringbuf_discard_dynptr (v5.19)"),
        [201] = (new(5, 19), "bpf_dynptr_read (v5.19)"),
        [202] = (new(5, 19), "bpf_dynptr_write (v5.19)"),
        [203] = (new(5, 19), "bpf_dynptr_data (v5.19)"),
        [208] = (new(6, 1), "bpf_ktime_get_tai_ns (v6.1)"),
        [209] = (new(6, 1), "bpf_user_ringbuf_drain (v6.1)"),
        [210] = (new(6, 2), "bpf_cgrp_storage_get (v6.2)"),
        [211] = (new(6, 2), "bpf_cgrp_storage_delete (v6.2)"),
    };

    /// <summary>The first kernel in which sock_ops may call helper <paramref name="id"/>.</summary>
    public static KernelVersion MinimumKernel(int id) => Versions.TryGetValue(id, out var v) ? v.Since : Oldest;

    /// <summary>Where <see cref="MinimumKernel"/> comes from.</summary>
    public static string Source(int id) => Versions.TryGetValue(id, out var v) ? v.Source : $"callable from sock_ops in Linux {Oldest} already";
}
