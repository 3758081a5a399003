/* The logic of the kernel's samples/bpf/tcp_basertt_kern.c without its DEBUG bpf_printk, written for this
 * measurement: the C twin of `sockops dump base-rtt --set counters=false`. The sample compares sizeof(nv)+1 = 4
 * bytes, one past its 3-byte array; here the array has that 4th (zero) byte. (The DSL compares the 3 bytes of
 * "nv" and its NUL; clang 14 turns a 3-byte __builtin_memcmp into a call to memcmp, which no kernel resolves.) */
#include "seed_helpers.h"

SEC("sockops")
int bpf_basertt(struct bpf_sock_ops *skops)
{
    char cong[20];
    char nv[4] = "nv";
    int rv = -1, n;

    if (skops->family == AF_INET6 && skops->local_ip6[0] == skops->remote_ip6[0] &&
        (bpf_ntohl(skops->local_ip6[1]) & 0xfff00000) == (bpf_ntohl(skops->remote_ip6[1]) & 0xfff00000) &&
        skops->op == BPF_SOCK_OPS_BASE_RTT) {
        n = bpf_getsockopt(skops, SOL_TCP, TCP_CONGESTION, cong, sizeof(cong));
        if (!n && !__builtin_memcmp(cong, nv, sizeof(nv)))
            rv = 80;
        else if (n)
            rv = n;
    }
    skops->reply = rv;
    return 1;
}

char _license[] SEC("license") = "GPL";
