/* Minimal stand-ins for libbpf's bpf_helpers.h / bpf_endian.h (libbpf-dev is not needed):
 * helper prototypes as in bpf_helper_defs.h and bpf_printk as libbpf defines it. */
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/socket.h>
#include <linux/in.h>
#define SEC(name) __attribute__((section(name), used))
#define bpf_ntohl(x) __builtin_bswap32(x)
#define AF_INET6 10
#define SOL_SOCKET 1
#define SOL_TCP 6
#define SO_SNDBUF 7
#define SO_RCVBUF 8
#ifndef TCP_BPF_SNDCWND_CLAMP
#define TCP_BPF_SNDCWND_CLAMP 1002
#endif
static long (*bpf_setsockopt)(void *ctx, int level, int optname, void *optval, int optlen) = (void *)49;
static long (*bpf_sock_ops_cb_flags_set)(struct bpf_sock_ops *ctx, int argval) = (void *)59;
static void *(*bpf_sk_storage_get)(void *map, void *sk, void *value, __u64 flags) = (void *)107;
static __u64 (*bpf_ktime_get_ns)(void) = (void *)5;
static struct bpf_tcp_sock *(*bpf_tcp_sock)(struct bpf_sock *sk) = (void *)96;
static long (*bpf_trace_printk)(const char *fmt, __u32 fmt_size, ...) = (void *)6;
static long (*bpf_sock_map_update)(struct bpf_sock_ops *skops, void *map, void *key, __u64 flags) = (void *)53;
static long (*bpf_sock_hash_update)(struct bpf_sock_ops *skops, void *map, void *key, __u64 flags) = (void *)70;
#define bpf_printk(fmt, ...) ({ static const char ____fmt[] = fmt; bpf_trace_printk(____fmt, sizeof(____fmt), ##__VA_ARGS__); })
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
/* For the C twins of the kernel samples (syn_rto.c, rwnd.c, base_rtt.c, tos_reflect.c). */
static long (*bpf_getsockopt)(void *ctx, int level, int optname, void *optval, int optlen) = (void *)57;
#define AF_INET 2
#define SOL_IP 0
#define SOL_IPV6 41
#ifndef TCP_CONGESTION
#define TCP_CONGESTION 13
#endif
#ifndef TCP_SAVE_SYN
#define TCP_SAVE_SYN 27
#endif
#ifndef TCP_SAVED_SYN
#define TCP_SAVED_SYN 28
#endif
#ifndef IPV6_TCLASS
#define IPV6_TCLASS 67
#endif
