#!/usr/bin/env bash
# Compiles the seed's three C examples and the C twins of four kernel samples (syn_rto, rwnd, base_rtt,
# tos_reflect: the samples' logic, written here) with clang -O2 -target bpf (default cpu and -mcpu=v3) and
# prints the instruction slots of each sockops program (section size / 8; ld_imm64 counts 2), the
# figures docs/size-vs-clang.md compares the DSL's programs against. Needs clang and llvm
# (apt-get install clang llvm). Output: clang-slots.tsv beside this script.
set -euo pipefail
cd "$(dirname "$0")"
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
slots() { # object file -> slots of its sockops section
  local hex; hex=$(llvm-objdump -h "$1" | awk '$2=="sockops"{print $3}')
  echo $(( 16#$hex / 8 ))
}
ver=$(clang --version | head -1 | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -1)
{
  printf 'program\tclang\tslots_default_cpu\tslots_mcpu_v3\n'
  for f in clamp dump_stats sockmap syn_rto rwnd base_rtt tos_reflect; do
    clang -O2 -g0 -target bpf -I/usr/include/"$(uname -m)"-linux-gnu -c "$f.c" -o "$out/$f.o"
    clang -O2 -g0 -mcpu=v3 -target bpf -I/usr/include/"$(uname -m)"-linux-gnu -c "$f.c" -o "$out/$f.v3.o"
    printf '%s\t%s\t%d\t%d\n' "$f" "$ver" "$(slots "$out/$f.o")" "$(slots "$out/$f.v3.o")"
  done
} | tee clang-slots.tsv
