/* The seed's "dump_stats" example (shared/seed/BPF_PROG_TYPE_SOCK_OPS.md), unchanged but for the
 * include of seed_helpers.h; used only to measure the slots clang -O2 emits. */
#include "seed_helpers.h"
#define INTERVAL			1000000000ULL

int _version SEC("version") = 1;
char _license[] SEC("license") = "GPL";

/* The seed initialises this map definition's fields (.type = ..., .map_flags = ...), which libbpf >= 1.0
 * refuses ("attr 'type': expected PTR, got int"); the same map in the __uint/__type form libbpf reads. */
struct {
    __uint(type, BPF_MAP_TYPE_SK_STORAGE);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, int);
    __type(value, __u64);
} bpf_next_dump SEC(".maps");

SEC("sockops")
int _sockops(struct bpf_sock_ops *ctx)
{
    struct bpf_tcp_sock *tcp_sk;
    struct bpf_sock *sk;
    __u64 *next_dump;
    __u64 now;

    switch (ctx->op) {
    case BPF_SOCK_OPS_TCP_CONNECT_CB:
        bpf_sock_ops_cb_flags_set(ctx, BPF_SOCK_OPS_RTT_CB_FLAG);
        return 1;
    case BPF_SOCK_OPS_RTT_CB:
        break;
    default:
        return 1;
    }

    sk = ctx->sk;
    if (!sk)
        return 1;

    next_dump = bpf_sk_storage_get(&bpf_next_dump, sk, 0,
                    BPF_SK_STORAGE_GET_F_CREATE);
    if (!next_dump)
        return 1;

    now = bpf_ktime_get_ns();
    if (now < *next_dump)
        return 1;

    tcp_sk = bpf_tcp_sock(sk);
    if (!tcp_sk)
        return 1;

    *next_dump = now + INTERVAL;

    bpf_printk("dsack_dups=%u delivered=%u\n",
        tcp_sk->dsack_dups, tcp_sk->delivered);
    bpf_printk("delivered_ce=%u icsk_retransmits=%u\n",
        tcp_sk->delivered_ce, tcp_sk->icsk_retransmits);

    return 1;
}
