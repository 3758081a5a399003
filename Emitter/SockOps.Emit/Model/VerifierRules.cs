namespace SockOps.Emit;

/// <summary>
/// One verifier rule a sock_ops emitter must respect (reference §9), with the message the 6.18
/// verifier prints when a program breaks it. Each rule is proven by a test that loads a raw program
/// breaking it and finds <see cref="KernelMessage"/> in the verifier log.
/// </summary>
/// <param name="Id">Stable kebab-case id, for diagnostics.</param>
/// <param name="ChecklistItem">The item of the reference's §9 checklist it belongs to (1-7).</param>
/// <param name="Summary">The rule, in one sentence an emit-time diagnostic can show.</param>
/// <param name="KernelMessage">A substring of the verifier's log line for a violation.</param>
/// <param name="OnlyWithoutPerfmon">True when only a loader without CAP_PERFMON (the strict case the emitter should model) refuses it.</param>
public sealed record VerifierRule(string Id, int ChecklistItem, string Summary, string KernelMessage, bool OnlyWithoutPerfmon = false);

/// <summary>The catalogue of kernel-proven sock_ops verifier rules.</summary>
public static class VerifierRules
{
    /// <summary>Every rule, grouped by checklist item.</summary>
    public static IReadOnlyList<VerifierRule> All { get; } =
    [
        new("ctx-field-access", 1, "ctx loads only at a field's start with its width (narrow loads only of skb_tcp_flags; u64 and pointer fields with 8 bytes)", "invalid bpf_context access"),
        new("ctx-write", 2, "ctx stores only to reply and sk_txhash, 4 bytes", "invalid bpf_context access off=8 size=4"),
        new("ctx-atomic", 2, "no atomic operations on ctx", "BPF_ATOMIC stores into R1 ctx is not allowed"),
        new("ctx-pointer-store", 2, "never store a pointer into ctx", "R2 leaks addr into ctx", OnlyWithoutPerfmon: true),
        new("ctx-modified-pointer", 3, "access ctx through the unmodified ctx pointer and a constant instruction offset", "dereference of modified ctx ptr R2 off=4 disallowed"),
        new("ctx-variable-offset", 3, "no variable offsets on the ctx pointer", "variable ctx access var_off=(0x0; 0x4) disallowed"),
        new("sock-null-check", 4, "NULL-check skops->sk before dereferencing it", "R2 invalid mem access 'sock_or_null'"),
        new("sock-read-only", 4, "struct bpf_sock is read-only", "R2 cannot write into sock"),
        new("sock-field-access", 4, "bpf_sock loads use the field's allowed widths", "R2 invalid sock access off=16 size=2"),
        new("tcp-sock-argument", 4, "bpf_tcp_sock takes the socket, not ctx", "R1 type=ctx expected=sock_common"),
        new("tcp-sock-argument-null-check", 4, "bpf_tcp_sock takes a NULL-checked socket", "R1 type=sock_or_null expected=sock_common"),
        new("tcp-sock-null-check", 4, "NULL-check the result of bpf_tcp_sock", "R0 invalid mem access 'tcp_sock_or_null'"),
        new("packet-bounds-check", 5, "read packet data only after comparing skb_data + N with skb_data_end", "invalid access to packet, off=0 size=4"),
        new("packet-read-only", 5, "packet data is read-only in sock_ops", "cannot write into packet"),
        new("packet-end-deref", 5, "skb_data_end is for comparisons only", "R2 invalid mem access 'pkt_end'"),
        new("packet-to-helper", 5, "never pass a packet pointer to a helper", "helper access to the packet is not allowed"),
        new("helper-not-allowed", 6, "call only helpers sock_ops may use", "program of this type cannot use helper"),
        new("helper-gpl-only", 6, "GPL-only helpers need a GPL-compatible licence", "cannot call GPL-restricted function from non-GPL compatible program"),
        new("helper-ctx-argument", 6, "pass the ctx pointer where a helper wants ctx", "R1 type=scalar expected=ctx"),
        new("helper-zero-size", 6, "a helper's memory size must be a known constant > 0", "R5 invalid zero-sized read"),
        new("helper-uninitialized-buffer", 6, "initialize stack buffers before passing them to a helper", "invalid read from stack R4 off=-8 size=4", OnlyWithoutPerfmon: true),
        new("map-value-null-check", 6, "NULL-check a map lookup result before using it", "R0 invalid mem access 'map_value_or_null'"),
        new("helper-map-type", 6, "pass a map of a type the helper accepts", "cannot pass map_type 1 into func bpf_sock_map_update#53"),
        new("sockmap-update", 6, "update sockmap/sockhash with bpf_sock_map_update/bpf_sock_hash_update, not bpf_map_update_elem", "cannot update sockmap in this context"),
        new("ringbuf-release", 6, "submit or discard every ring buffer reservation on every path", "Unreleased reference"),
        new("stack-bounds", 6, "stay within the 512-byte stack", "invalid write to stack R10 off=-520 size=8"),
        new("stack-uninitialized-read", 6, "read only initialized stack slots", "invalid read from stack R10 off=-8 size=8", OnlyWithoutPerfmon: true),
        new("return-range", 7, "return 0 or 1 (a bounded value); pass answers through reply", "should have been in [0, 1]"),
        new("return-uninitialized", 7, "set r0 before exit", "R0 !read_ok"),
        new("infinite-loop", 7, "every loop must be bounded", "infinite loop detected"),
    ];

    /// <summary>The rule with id <paramref name="id"/>, or null.</summary>
    public static VerifierRule? Find(string id) => All.FirstOrDefault(r => r.Id == id);
}
