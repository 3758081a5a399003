/* Accepted on import: two programs in one object sharing a map and read-only data. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 2);
    __type(key, int);
    __type(value, __u64);
} op_counts SEC(".maps");
static const volatile int slot_for_rtt = 1;
SEC("sockops")
int count_all(struct bpf_sock_ops *skops)
{
    int key = 0;
    __u64 *value = bpf_map_lookup_elem(&op_counts, &key);
    if (value) __sync_fetch_and_add(value, 1);
    return 1;
}
SEC("sockops")
int count_rtt(struct bpf_sock_ops *skops)
{
    int key = slot_for_rtt;
    __u64 *value;
    if (skops->op != BPF_SOCK_OPS_RTT_CB) return 1;
    value = bpf_map_lookup_elem(&op_counts, &key);
    if (value) __sync_fetch_and_add(value, 1);
    return 1;
}
char _license[] SEC("license") = "GPL";
