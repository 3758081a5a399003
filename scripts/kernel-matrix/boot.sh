#!/usr/bin/env bash
# boot.sh KERNEL_PKG CMD...     boot KERNEL_PKG and run CMD in it
# boot.sh --build-initrd FILE   only build the base initramfs (busybox, libraries, PAYLOAD) into FILE
#   Boots the Debian kernel package KERNEL_PKG (e.g. linux-image-6.1.0-57-cloud-amd64) under qemu with a busybox
#   initramfs, runs CMD as root inside it (/bin/sh -c "CMD..."), prints its stdout+stderr on stdout and exits with
#   CMD's exit code (124 when the guest did not finish). Adapted from shared/tools/kernel-vm/run-in-kernel.sh.
# Env:
#   PAYLOAD="HOSTDIR:GUESTDIR ..."  directories copied into the initramfs
#   INITRD_BASE=FILE   reuse FILE as the initramfs (busybox, libraries, payload) when it exists, else build it there;
#                      the command goes into a small second cpio archive appended at boot, so one base serves
#                      every kernel
#   SOCKOPS_KERNEL_CACHE  where kernels are unpacked (default /var/cache/sockops-kernels; never /boot)
#   ACCEL=tcg|kvm (default tcg)  CPU=max  MEM=2G  SMP=1 (TCG: one vCPU per guest runs these checks as fast as two)  TIMEOUT=600 (s)
#   BOOT_STATS=FILE    write key=value timings (wall, init_at, cmd, rc) there
#   VERBOSE=1          copy the guest console (kernel log) to stderr
# Needs qemu-system-x86, busybox-static, cpio (apt-get install -y qemu-system-x86 busybox-static cpio).
# The guest: no network device (loopback only), no modules, no disk; cgroup2 at /sys/fs/cgroup, bpffs, debugfs,
# /tmp on tmpfs, BTF from the kernel. Everything else lives in the initramfs.
set -euo pipefail
[ $# -ge 2 ] || { sed -n 2,20p "$0" >&2; exit 2; }
PKG=$1; shift; CMD="$*"
ONLY_INITRD=""; [ "$PKG" = --build-initrd ] && ONLY_INITRD=$1
ACCEL=${ACCEL:-tcg}; CPU=${CPU:-max}; MEM=${MEM:-2G}; SMP=${SMP:-1}; TIMEOUT=${TIMEOUT:-600}
here=$(cd "$(dirname "$0")" && pwd)

W=$(mktemp -d "${TMPDIR:-/tmp}/sockops-boot.XXXXXX")
cleanup() { rm -rf "$W"; }
trap cleanup EXIT

# --- 1. the initramfs: busybox, glibc + the C++ runtime .NET needs, the payload, /init ---------------------------
build_base() {
  local out=$1 R=$W/root
  mkdir -p "$R"/{bin,sbin,dev,proc,sys,tmp,run,etc,root,lib64,lib/x86_64-linux-gnu,usr/bin,usr/sbin}
  cp /bin/busybox "$R/bin/busybox"
  local a
  for a in $(/bin/busybox --list); do [ -e "$R/bin/$a" ] || ln -s busybox "$R/bin/$a"; done
  local l f
  for l in libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1 libstdc++.so.6 libgcc_s.so.1 libz.so.1 libresolv.so.2; do
    f=/lib/x86_64-linux-gnu/$l; [ -e "$f" ] && cp -L "$f" "$R/lib/x86_64-linux-gnu/"
  done
  cp -L /lib64/ld-linux-x86-64.so.2 "$R/lib64/"
  local p
  for p in ${PAYLOAD:-}; do mkdir -p "$R/${p#*:}"; cp -a "${p%%:*}/." "$R/${p#*:}/"; done
  cat > "$R/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mkdir -p /sys/fs/cgroup /dev/pts /dev/shm; mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t bpf bpf /sys/fs/bpf; mount -t tmpfs tmpfs /tmp; mount -t tmpfs tmpfs /dev/shm
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
ip link set lo up
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root TMPDIR=/tmp DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
echo "@@INIT $(cut -d' ' -f1 /proc/uptime)" > /dev/ttyS0
exec 1>/dev/ttyS1 2>&1
echo "@@BEGIN uptime=$(cut -d' ' -f1 /proc/uptime) kernel=$(uname -r)"
/bin/sh -c "$(cat /cmd)"
rc=$?
echo "@@END rc=$rc uptime=$(cut -d' ' -f1 /proc/uptime)"
sync; poweroff -f
INIT
  chmod +x "$R/init"
  # Uncompressed: under TCG the kernel unpacks it faster than it would decompress gzip or zstd.
  (cd "$R" && find . | cpio -o -H newc --quiet) > "$out.tmp.$$"
  mv "$out.tmp.$$" "$out"
  rm -rf "$R"
}
if [ -n "$ONLY_INITRD" ]; then build_base "$ONLY_INITRD"; exit 0; fi
BASE=${INITRD_BASE:-$W/base.cpio}
[ -s "$BASE" ] || build_base "$BASE"
VMLINUZ=$("$here/kernels.sh" fetch "$PKG")
mkdir -p "$W/cmd"
printf '%s\n' "$CMD" > "$W/cmd/cmd"
(cd "$W/cmd" && echo cmd | cpio -o -H newc --quiet) > "$W/cmd.cpio"
cat "$BASE" "$W/cmd.cpio" > "$W/initrd"

# --- 2. boot ---------------------------------------------------------------------------------------------------------
ACC=(-accel "tcg,thread=multi"); [ "$ACCEL" = kvm ] && ACC=(-accel kvm)
CONS=/dev/null; [ -n "${VERBOSE:-}" ] && CONS=/dev/stderr
T0=$(date +%s.%N)
timeout "$TIMEOUT" qemu-system-x86_64 "${ACC[@]}" -cpu "$CPU" -m "$MEM" -smp "$SMP" -nographic -no-reboot \
  -kernel "$VMLINUZ" -initrd "$W/initrd" -nic none \
  -serial "file:$W/console.log" -serial "file:$W/out.log" -monitor none \
  -append "console=ttyS0 panic=-1 rdinit=/init quiet loglevel=4" >"$CONS" 2>&1 &
QEMU=$!
# Stopped from outside (run.sh's cleanup sends TERM): stop the guest too (timeout passes the signal on to qemu).
trap 'kill "$QEMU" 2>/dev/null; exit 143' TERM INT
wait "$QEMU" || true
trap - TERM INT
T1=$(date +%s.%N)
[ -n "${VERBOSE:-}" ] && cat "$W/console.log" >&2
sed -e 's/\r$//' "$W/out.log" | grep -v '^@@' || true

field() { sed -n "$1" "$2" | tr -d '\r' | head -1; }
RC=$(field 's/^@@END rc=\([0-9]*\).*/\1/p' "$W/out.log")
INIT_AT=$(field 's/.*@@INIT \([0-9.]*\).*/\1/p' "$W/console.log")
B=$(field 's/^@@BEGIN uptime=\([0-9.]*\).*/\1/p' "$W/out.log")
E=$(field 's/^@@END rc=[0-9]* uptime=\([0-9.]*\).*/\1/p' "$W/out.log")
WALL=$(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.1f", b - a }')
CMD_TIME=$( [ -n "$B" ] && [ -n "$E" ] && awk -v a="$B" -v b="$E" 'BEGIN { printf "%.1f", b - a }' || echo "?")
echo "== boot: kernel=$PKG accel=$ACCEL wall=${WALL}s init_at=${INIT_AT:-?}s cmd=${CMD_TIME}s rc=${RC:-none}" >&2
if [ -n "${BOOT_STATS:-}" ]; then
  printf 'wall=%s\ninit_at=%s\ncmd=%s\nrc=%s\n' "$WALL" "${INIT_AT:-?}" "$CMD_TIME" "${RC:-none}" > "$BOOT_STATS"
fi
if [ -z "$RC" ]; then
  echo "guest did not finish; console log tail:" >&2
  tail -30 "$W/console.log" >&2
  exit 124
fi
exit "$RC"
