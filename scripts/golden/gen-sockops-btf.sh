#!/usr/bin/env bash
# Regenerates tests/SockOps.Emit.Tests/golden/btf-sockops.txt: the sock_ops layouts and constants of
# the running kernel, read from its BTF (bpftool btf dump ... format raw), plus the socket-option
# macros that BTF cannot carry (from the system headers, compiled with cc). Tests compare the
# hand-written model in Emitter/SockOps.Emit/Model against this file; they never run bpftool.
#
# Usage: scripts/golden/gen-sockops-btf.sh [vmlinux-btf-file]   (needs bpftool, python3, cc)
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
btf="${1:-/sys/kernel/btf/vmlinux}"
out="$repo/tests/SockOps.Emit.Tests/golden/btf-sockops.txt"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

bpftool btf dump file "$btf" format raw > "$tmp/raw.txt"

python3 - "$tmp/raw.txt" > "$tmp/btf.txt" <<'PY'
import re, sys

types = {}   # id -> dict(kind, name, size, type, nelems, members[(name, type, bit_off)], values[(name, val)])
cur = None
head = re.compile(r"^\[(\d+)\] (\w+) '([^']*)'(.*)$")
member = re.compile(r"^\t'([^']*)' type_id=(\d+) bits_offset=(\d+)")
value = re.compile(r"^\t'([^']*)' val=(-?\d+)")
for line in open(sys.argv[1]):
    m = head.match(line)
    if m:
        attrs = dict(kv.split("=", 1) for kv in m.group(4).split() if "=" in kv)
        cur = {"kind": m.group(2), "name": m.group(3), "attrs": attrs, "members": [], "values": []}
        types[int(m.group(1))] = cur
        continue
    m = member.match(line)
    if m and cur is not None:
        cur["members"].append((m.group(1), int(m.group(2)), int(m.group(3))))
        continue
    m = value.match(line)
    if m and cur is not None:
        cur["values"].append((m.group(1), int(m.group(2).rstrip("ULL"))))

def resolve(tid):
    t = types[tid]
    while t["kind"] in ("TYPEDEF", "VOLATILE", "CONST", "RESTRICT", "TYPE_TAG"):
        t = types[int(t["attrs"]["type_id"])]
    return t

def size_of(tid):
    t = resolve(tid)
    if t["kind"] == "ARRAY":
        return int(t["attrs"]["nr_elems"]) * size_of(int(t["attrs"]["type_id"]))
    if t["kind"] == "PTR":
        return 8
    return int(t["attrs"]["size"])

def flatten(tid, base, out):
    # Anonymous unions/structs (e.g. the args/reply/replylong union, __bpf_md_ptr) are expanded in place.
    for name, mtid, bits in resolve(tid)["members"]:
        off = base + bits // 8
        mt = resolve(mtid)
        if name == "(anon)" and mt["kind"] in ("STRUCT", "UNION"):
            flatten(mtid, off, out)
            continue
        kind = mt["kind"].lower()
        elems = int(mt["attrs"]["nr_elems"]) if mt["kind"] == "ARRAY" else 0
        out.append((name, off, size_of(mtid), kind, elems))

for sname in ("bpf_sock_ops", "bpf_sock", "bpf_tcp_sock"):
    tid = next(i for i, t in types.items() if t["kind"] == "STRUCT" and t["name"] == sname)
    print(f"struct {sname} size={types[tid]['attrs']['size']}")
    fields = []
    flatten(tid, 0, fields)
    for name, off, size, kind, elems in fields:
        print(f"field {sname} {name} offset={off} size={size} kind={kind}" + (f" elements={elems}" if elems else ""))

prefixes = ("BPF_SOCK_OPS_", "BPF_TCP_", "TCP_BPF_", "SK_BPF_", "BPF_LOAD_HDR_OPT_", "BPF_WRITE_HDR_",
            "BPF_SK_STORAGE_GET_F_", "BPF_FUNC_", "__BPF_FUNC_MAX_ID", "BPF_MAP_TYPE_")
exact = {"BPF_ANY", "BPF_NOEXIST", "BPF_EXIST", "BPF_F_CURRENT_CPU", "BPF_PROG_TYPE_SOCK_OPS", "BPF_CGROUP_SOCK_OPS"}
seen = set()
for t in types.values():
    if t["kind"] not in ("ENUM", "ENUM64"):
        continue
    for name, val in t["values"]:
        if (name.startswith(prefixes) or name in exact) and (name, val) not in seen:
            seen.add((name, val))
for name, val in sorted(seen, key=lambda nv: (nv[0].startswith("BPF_FUNC_"), nv[0] if not nv[0].startswith("BPF_FUNC_") else "", nv[1])):
    print(f"enum {name} {val}")
PY

# Socket option levels and names are preprocessor macros, absent from BTF: take them from the headers.
cat > "$tmp/macros.c" <<'C'
#include <stdio.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <linux/in6.h>
#define P(x) printf("macro %s %d\n", #x, (int)(x));
int main(void) {
  P(SOL_SOCKET) P(SOL_IP) P(SOL_IPV6)
  printf("macro SOL_TCP %d\n", IPPROTO_TCP); /* the kernel's SOL_TCP is IPPROTO_TCP */
  P(SO_REUSEADDR) P(SO_SNDBUF) P(SO_RCVBUF) P(SO_KEEPALIVE) P(SO_PRIORITY) P(SO_REUSEPORT)
  P(SO_RCVLOWAT) P(SO_BINDTODEVICE) P(SO_MARK) P(SO_MAX_PACING_RATE) P(SO_BINDTOIFINDEX) P(SO_TXREHASH)
  P(TCP_NODELAY) P(TCP_MAXSEG) P(TCP_KEEPIDLE) P(TCP_KEEPINTVL) P(TCP_KEEPCNT) P(TCP_SYNCNT)
  P(TCP_WINDOW_CLAMP) P(TCP_CONGESTION) P(TCP_THIN_LINEAR_TIMEOUTS) P(TCP_USER_TIMEOUT)
  P(TCP_NOTSENT_LOWAT) P(TCP_SAVE_SYN) P(TCP_SAVED_SYN)
#ifdef TCP_RTO_MAX_MS
  P(TCP_RTO_MAX_MS)
#endif
  P(IP_TOS) P(IPV6_TCLASS) P(IPV6_AUTOFLOWLABEL)
  return 0;
}
C
cc -o "$tmp/macros" "$tmp/macros.c"
"$tmp/macros" > "$tmp/macros.txt"

# Helper prototypes: BTF has no helper signatures; the uapi header documents each one as
# " * <ret> bpf_name(<args>)". Record the argument count and which arguments are pointers.
python3 - /usr/include/linux/bpf.h > "$tmp/protos.txt" <<'PY'
import re, sys
proto = re.compile(r"^ \* (?:[\w ]+?)[ *]+(bpf_\w+)\((.*)\)$")
seen = set()
for line in open(sys.argv[1]):
    m = proto.match(line.rstrip("\n"))
    if not m or m.group(1) in seen:
        continue
    seen.add(m.group(1))
    # "..." (bpf_trace_printk) is not a declared argument: the verifier does not check those registers.
    args = [] if m.group(2).strip() == "void" else [a.strip() for a in m.group(2).split(",") if a.strip() != "..."]
    pointers = ",".join("1" if "*" in a else "0" for a in args) or "-"
    names = ",".join(re.split(r"[ *]+", a)[-1] for a in args) or "-"
    print(f"proto {m.group(1)} args={len(args)} pointers={pointers} names={names}")
PY

# The same structs and constants in the system's uapi header (6.1 on this machine: the oldest target
# the model describes). One tiny compile per field: a member missing from the header fails to compile.
python3 - "$tmp" "$tmp/btf.txt" > "$tmp/header.txt" <<'PY'
import os, re, subprocess, sys
tmp, btf = sys.argv[1], sys.argv[2]
def run(body):
    src = os.path.join(tmp, "probe.c")
    exe = os.path.join(tmp, "probe")
    with open(src, "w") as f:
        f.write("#include <stdio.h>\n#include <stddef.h>\n#include <linux/bpf.h>\nint main(void){" + body + "return 0;}\n")
    if subprocess.run(["cc", "-w", "-o", exe, src], capture_output=True).returncode != 0:
        return None
    return subprocess.run([exe], capture_output=True, text=True, check=True).stdout.strip()
structs, fields, names = [], [], []
for line in open(btf):
    parts = line.split()
    if parts[0] == "struct": structs.append(parts[1])
    elif parts[0] == "field": fields.append((parts[1], parts[2]))
    elif parts[0] == "enum": names.append(parts[1])
Q = chr(34)
for st in structs:
    print("header struct %s size=%s" % (st, run("printf(%s%%zu%s, sizeof(struct %s));" % (Q, Q, st))))
for st, name in fields:
    out = run("printf(%s%%zu %%zu%s, offsetof(struct %s, %s), sizeof(((struct %s *)0)->%s));" % (Q, Q, st, name, st, name))
    print("header field %s %s %s" % (st, name, "missing" if out is None else "offset=%s size=%s" % tuple(out.split())))
for name in names:
    out = run("printf(%s%%lld%s, (long long)%s);" % (Q, Q, name))
    print("header const %s %s" % (name, "missing" if out is None else "value=" + out))
PY

{
  echo "# Generated by scripts/golden/gen-sockops-btf.sh — do not edit."
  echo "# kernel $(uname -r); BTF $btf; macros from $(cc --version | head -1) system headers;"
  echo "# helper prototypes from /usr/include/linux/bpf.h ($(dpkg-query -W -f='${Package} ${Version}' linux-libc-dev 2>/dev/null || echo unknown))"
  echo "# 'header' lines: the same structs/constants compiled against /usr/include/linux/bpf.h"
  cat "$tmp/btf.txt" "$tmp/macros.txt" "$tmp/protos.txt" "$tmp/header.txt"
} > "$out"
echo "wrote $out ($(wc -l < "$out") lines)"
