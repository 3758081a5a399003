// Loads raw BPF instructions as a socket filter and prints the verifier's level-2 log, in which
// the kernel's print_bpf_insn() (kernel/bpf/disasm.c) prints every instruction it visits.
// Input: one instruction per line as 16 or 32 lowercase hex digits (its little-endian bytes).
// Used by gen-kernel-golden.sh; the program is unloaded again at once.
#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_SLOTS 4096
#define LOG_SIZE (64u << 20)

static int parse_hex(const char *text, unsigned char *out, size_t bytes)
{
	for (size_t i = 0; i < bytes; i++) {
		unsigned int value;
		if (sscanf(text + 2 * i, "%2x", &value) != 1)
			return -1;
		out[i] = (unsigned char)value;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct bpf_insn insns[MAX_SLOTS];
	char line[256];
	unsigned int slots = 0;
	FILE *in = argc > 1 ? fopen(argv[1], "r") : stdin;

	if (!in) {
		perror(argv[1]);
		return 2;
	}
	while (fgets(line, sizeof(line), in)) {
		size_t len = strcspn(line, " \t\r\n#");
		if (len == 0)
			continue;
		if ((len != 16 && len != 32) || slots + len / 16 > MAX_SLOTS ||
		    parse_hex(line, (unsigned char *)&insns[slots], len / 2)) {
			fprintf(stderr, "bad instruction line: %s", line);
			return 2;
		}
		slots += len / 16;
	}

	char *log = calloc(1, LOG_SIZE);
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.insn_cnt = slots;
	attr.license = (uint64_t)(uintptr_t)"GPL";
	attr.log_level = 2;
	attr.log_size = LOG_SIZE;
	attr.log_buf = (uint64_t)(uintptr_t)log;

	int fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	int saved = errno;
	fputs(log, stdout);
	if (fd < 0) {
		fprintf(stderr, "BPF_PROG_LOAD failed: %s\n", strerror(saved));
		return 1;
	}
	close(fd);
	return 0;
}
