#!/usr/bin/env bash
# Compiles the C objects the object-file tests read (committed, so the tests need no clang): the seed's three
# examples (scripts/clang-seed/*.c) and the samples under refused/ (what the importer must refuse, and a
# two-program object it must accept), with clang -O2 -g -target bpf as users build them.
# Needs clang and libbpf-dev (apt-get install clang libbpf-dev). Output: tests/SockOps.Programs.Tests/objects/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../../tests/SockOps.Programs.Tests/objects"
mkdir -p "$out"
inc=/usr/include/"$(uname -m)"-linux-gnu
for f in clamp dump_stats sockmap; do
  clang -O2 -g -target bpf -I"$inc" -I"$here/../clang-seed" -c "$here/../clang-seed/$f.c" -o "$out/$f.o"
done
# clamp.c without its `#define DEBUG 1` (no bpf_printk): the C twin of the DSL clamp's default (printk=false), for
# the run-time comparison (benchmarks: runtime-vs-clang --program clamp-noprintk).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed 's/^#define DEBUG 1$//' "$here/../clang-seed/clamp.c" > "$tmp/clamp_noprintk.c"
clang -O2 -g -target bpf -I"$inc" -I"$here/../clang-seed" -c "$tmp/clamp_noprintk.c" -o "$out/clamp_noprintk.o"
for f in "$here"/refused/*.c; do
  name=$(basename "$f" .c)
  clang -O2 -g -target bpf -I"$inc" -c "$f" -o "$out/$name.o"
done
clang --version | head -1 > "$out/CLANG_VERSION"
ls -l "$out"
