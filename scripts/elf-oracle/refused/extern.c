/* Refused on import: an extern other than a kfunc call — a kconfig value (__kconfig), which libbpf fills in. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
extern unsigned int LINUX_KERNEL_VERSION __kconfig;
SEC("sockops")
int kconfig_value(struct bpf_sock_ops *skops)
{
    return LINUX_KERNEL_VERSION > skops->op;
}
char _license[] SEC("license") = "GPL";
