/* Refused on import: a legacy map definition in section "maps". */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct legacy_def { unsigned int type, key_size, value_size, max_entries, map_flags; };
struct legacy_def counters SEC("maps") = { BPF_MAP_TYPE_ARRAY, 4, 8, 1, 0 };
SEC("sockops")
int legacy(struct bpf_sock_ops *skops)
{
    int key = 0;
    return bpf_map_lookup_elem(&counters, &key) != 0;
}
char _license[] SEC("license") = "GPL";
