/* Refused on import: a call to a kfunc declared as an extern (__ksym). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;
SEC("sockops")
int kfunc_call(struct bpf_sock_ops *skops)
{
    return bpf_cast_to_kern_ctx(skops) != 0;
}
char _license[] SEC("license") = "GPL";
