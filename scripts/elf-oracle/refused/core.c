/* Refused on import: a CO-RE field access (.BTF.ext CO-RE relocation). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct bpf_sock_ops___local { __u32 op; } __attribute__((preserve_access_index));
SEC("sockops")
int core_access(struct bpf_sock_ops___local *skops)
{
    return skops->op == 4;
}
char _license[] SEC("license") = "GPL";
