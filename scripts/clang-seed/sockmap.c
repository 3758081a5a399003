/* The seed's "sockmap" example (shared/seed/BPF_PROG_TYPE_SOCK_OPS.md), unchanged but for the
 * include of seed_helpers.h; used only to measure the slots clang -O2 emits. */
#include "seed_helpers.h"
/* The seed omits the map definition; this is the one the kernel's sample used. */
struct {
    __uint(type, BPF_MAP_TYPE_SOCKHASH);
    __uint(max_entries, 20);
    __type(key, int);
    __type(value, int);
} sock_map SEC(".maps");
// Copyright (c) 2017-2018 Covalent IO
SEC("sockops")
int bpf_sockmap(struct bpf_sock_ops *skops)
{
    __u32 lport, rport;
    int op, err = 0, index, key, ret;


    op = (int) skops->op;

    switch (op) {
    case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
        lport = skops->local_port;
        rport = skops->remote_port;

        if (lport == 10000) {
            ret = 1;
#ifdef SOCKMAP
            err = bpf_sock_map_update(skops, &sock_map, &ret,
                        BPF_NOEXIST);
#else
            err = bpf_sock_hash_update(skops, &sock_map, &ret,
                        BPF_NOEXIST);
#endif
        }
        break;
    case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
        lport = skops->local_port;
        rport = skops->remote_port;

        if (bpf_ntohl(rport) == 10001) {
            ret = 10;
#ifdef SOCKMAP
            err = bpf_sock_map_update(skops, &sock_map, &ret,
                        BPF_NOEXIST);
#else
            err = bpf_sock_hash_update(skops, &sock_map, &ret,
                        BPF_NOEXIST);
#endif
        }
        break;
    default:
        break;
    }

    return 0;
}

/* Not in the seed: without a license the kernel refuses GPL-only helpers (bpf_trace_printk). */
char _license[] SEC("license") = "GPL";
