/* Accepted on import: kfunc calls (extern functions declared __ksym), the way tx-timestamps calls them. The struct
 * must be a complete type: libbpf checks the declaration against the kernel's prototype and refuses a forward
 * declaration where the kernel has a struct. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct bpf_sock_ops_kern { int unused; };
extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;
extern int bpf_sock_ops_enable_tx_tstamp(struct bpf_sock_ops_kern *skops, __u64 flags) __ksym;
SEC("sockops")
int kfunc_calls(struct bpf_sock_ops *skops)
{
    if (skops->op == BPF_SOCK_OPS_TCP_CONNECT_CB)
        return bpf_sock_ops_enable_tx_tstamp(bpf_cast_to_kern_ctx(skops), 0) == 0;
    return 1;
}
char _license[] SEC("license") = "GPL";
