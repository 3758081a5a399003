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
for f in "$here"/refused/*.c; do
  name=$(basename "$f" .c)
  clang -O2 -g -target bpf -I"$inc" -c "$f" -o "$out/$name.o"
done
clang --version | head -1 > "$out/CLANG_VERSION"
ls -l "$out"
