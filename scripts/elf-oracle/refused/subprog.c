/* Refused on import: a bpf-to-bpf call into a subprogram in .text. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
static __attribute__((noinline)) int is_established(struct bpf_sock_ops *skops)
{
    return skops->op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB;
}
SEC("sockops")
int subprogram_call(struct bpf_sock_ops *skops)
{
    return is_established(skops);
}
char _license[] SEC("license") = "GPL";
