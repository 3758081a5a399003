/* The logic of the kernel's samples/bpf/tcp_tos_reflect_kern.c, written for this measurement: the C twin of
 * `sockops dump tos-reflect` (the saved SYN's IPv4 TOS or IPv6 traffic class set on the accepted socket). */
#include "seed_helpers.h"
#include <linux/ip.h>
#include <linux/ipv6.h>

SEC("sockops")
int bpf_tos_reflect(struct bpf_sock_ops *skops)
{
    char header[sizeof(struct ipv6hdr)];
    int save_syn = 1, tos = 0, rv, hdr_size;

    switch (skops->op) {
    case BPF_SOCK_OPS_TCP_LISTEN_CB:
        rv = bpf_setsockopt(skops, SOL_TCP, TCP_SAVE_SYN, &save_syn, sizeof(save_syn));
        break;
    case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
        hdr_size = skops->family == AF_INET ? sizeof(struct iphdr) : sizeof(struct ipv6hdr);
        rv = bpf_getsockopt(skops, SOL_TCP, TCP_SAVED_SYN, header, hdr_size);
        if (!rv) {
            if (skops->family == AF_INET) {
                tos = ((struct iphdr *)header)->tos;
                if (tos)
                    bpf_setsockopt(skops, SOL_IP, IP_TOS, &tos, sizeof(tos));
            } else {
                struct ipv6hdr *hdr6 = (struct ipv6hdr *)header;
                tos = hdr6->priority << 4 | hdr6->flow_lbl[0] >> 4;
                if (tos)
                    bpf_setsockopt(skops, SOL_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
            }
        }
        break;
    default:
        rv = -1;
        break;
    }
    skops->reply = rv;
    return 1;
}

char _license[] SEC("license") = "GPL";
