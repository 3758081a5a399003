/* The logic of the kernel's samples/bpf/tcp_rwnd_kern.c without its DEBUG bpf_printk, written for this
 * measurement: the C twin of `sockops dump rwnd --set counters=false`. */
#include "seed_helpers.h"

SEC("sockops")
int bpf_rwnd(struct bpf_sock_ops *skops)
{
    int rv = -1;

    if (bpf_ntohl(skops->remote_port) != 55601 && skops->local_port != 55601) {
        skops->reply = -1;
        return 1;
    }
    /* Another data centre: the first 5.5 bytes of the IPv6 addresses differ. */
    if (skops->op == BPF_SOCK_OPS_RWND_INIT && skops->family == AF_INET6 &&
        (skops->local_ip6[0] != skops->remote_ip6[0] ||
         (bpf_ntohl(skops->local_ip6[1]) & 0xfffff000) != (bpf_ntohl(skops->remote_ip6[1]) & 0xfffff000)))
        rv = 40;
    skops->reply = rv;
    return 1;
}

char _license[] SEC("license") = "GPL";
