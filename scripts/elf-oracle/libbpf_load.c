/* Oracle for the ELF export: opens a BPF object with libbpf (as libbpf-based loaders and bpfman do), prints
 * what libbpf sees (programs with type, expected attach type and instruction count; maps with type, sizes,
 * max_entries, flags), then loads everything into the kernel and prints "loaded". Exit 1 with libbpf's error
 * otherwise. Build: cc -O2 -o libbpf_load libbpf_load.c -lbpf (libbpf-dev). */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static int print_libbpf(enum libbpf_print_level level, const char *format, va_list args)
{
    if (level == LIBBPF_DEBUG) return 0;
    return vfprintf(stderr, format, args);
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: %s OBJECT [--open-only]\n", argv[0]);
        return 2;
    }
    libbpf_set_print(print_libbpf);
    struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
    long err = libbpf_get_error(obj);
    if (err) {
        fprintf(stderr, "open %s: %s\n", argv[1], strerror((int)-err));
        return 1;
    }
    struct bpf_program *prog;
    bpf_object__for_each_program(prog, obj) {
        printf("program %s section %s type %d attach %d insns %zu\n", bpf_program__name(prog), bpf_program__section_name(prog),
               (int)bpf_program__type(prog), (int)bpf_program__expected_attach_type(prog), bpf_program__insn_cnt(prog));
    }
    struct bpf_map *map;
    bpf_object__for_each_map(map, obj) {
        printf("map %s type %d key %u value %u max_entries %u flags %u\n", bpf_map__name(map), (int)bpf_map__type(map),
               bpf_map__key_size(map), bpf_map__value_size(map), bpf_map__max_entries(map), bpf_map__map_flags(map));
    }
    if (argc == 3 && strcmp(argv[2], "--open-only") == 0) {
        bpf_object__close(obj);
        return 0;
    }
    err = bpf_object__load(obj);
    if (err) {
        fprintf(stderr, "load %s: %s\n", argv[1], strerror((int)-err));
        bpf_object__close(obj);
        return 1;
    }
    printf("loaded\n");
    bpf_object__close(obj);
    return 0;
}
