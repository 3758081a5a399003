/* Compiles, but the verifier refuses it (a sock_ops program returns 0 or 1): the refusal must name this C line. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("sockops")
int bad_return(struct bpf_sock_ops *skops)
{
    return skops->op + 2; /* not 0 or 1 */
}
char _license[] SEC("license") = "GPL";
