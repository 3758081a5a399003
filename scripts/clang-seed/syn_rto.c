/* The logic of the kernel's samples/bpf/tcp_synrto_kern.c without its DEBUG bpf_printk, written for this
 * measurement: the C twin of `sockops dump syn-rto --set counters=false`. */
#include "seed_helpers.h"

SEC("sockops")
int bpf_synrto(struct bpf_sock_ops *skops)
{
    int rv = -1;

    if (bpf_ntohl(skops->remote_port) != 55601 && skops->local_port != 55601) {
        skops->reply = -1;
        return 1;
    }
    /* Same data centre: the first 5.5 bytes of the IPv6 addresses are equal. */
    if (skops->op == BPF_SOCK_OPS_TIMEOUT_INIT && skops->family == AF_INET6 &&
        skops->local_ip6[0] == skops->remote_ip6[0] &&
        (bpf_ntohl(skops->local_ip6[1]) & 0xfff00000) == (bpf_ntohl(skops->remote_ip6[1]) & 0xfff00000))
        rv = 10;
    skops->reply = rv;
    return 1;
}

char _license[] SEC("license") = "GPL";
