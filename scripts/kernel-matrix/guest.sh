#!/bin/sh
# guest.sh: the kernel matrix's checks on the running kernel, for a booted guest (busybox sh) and for the host
# (as root). POSIX sh on purpose: the guest has busybox only. Every check runs even when an earlier one fails; the
# verdicts are made by run.sh on the host, from this framed output on stdout:
#   ##KM KERNEL <uname -r>
#   ##KM BEGIN <check>
#   ...the check's output (stdout and stderr)...
#   ##KM END <check> rc=<exit code> secs=<seconds>
# Env: KM_BIN (dir with sockops and sockops-matrix; default: this script's dir), KM_TESTS (the conformance suite's
#      tests dir), KM_VERIFY_TARGET=1 / KM_CONFORMANCE_TARGET=1 when `sockops verify` /
#      `sockops conformance` take --target (run.sh asks their --help), KM_CGROUP_PARENT (where the
#      behaviour checks create their temporary cgroups; default the cgroup2 mount), KM_FUZZ_COUNT (500),
#      KM_FUZZ_SEED (20251206), KM_CHECKS (space-separated subset of: verify conformance-v3 conformance-v4
#      conformance-v4-kernel fuzz behaviour). conformance-v4-kernel runs the suite without --target: what the
#      kernel itself accepts, beside what the target model lets through.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
BIN=${KM_BIN:-$here}
TESTS=${KM_TESTS:?KM_TESTS must name the conformance suite tests directory}
CHECKS=${KM_CHECKS:-verify conformance-v3 conformance-v4 conformance-v4-kernel fuzz behaviour}
KERNEL=$(uname -r)
TARGET=$(echo "$KERNEL" | sed -n 's/^\([0-9][0-9]*\.[0-9][0-9]*\).*/\1/p')
VERIFY_ARGS=""; CONFORMANCE_ARGS=""
[ "${KM_VERIFY_TARGET:-0}" = 1 ] && VERIFY_ARGS="--target $TARGET"
[ "${KM_CONFORMANCE_TARGET:-0}" = 1 ] && CONFORMANCE_ARGS="--target $TARGET"
OUT=$(mktemp "${TMPDIR:-/tmp}/km-check.XXXXXX")
trap 'rm -f "$OUT"' EXIT

uptime_s() { cut -d' ' -f1 /proc/uptime; }

check() {
  name=$1; shift
  echo "##KM BEGIN $name"
  t0=$(uptime_s)
  rc=0
  "$@" > "$OUT" 2>&1 || rc=$?
  t1=$(uptime_s)
  awk '{ print }' "$OUT"   # always newline-terminated, so the END marker starts its own line
  echo "##KM END $name rc=$rc secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
}

echo "##KM KERNEL $KERNEL"
# shellcheck disable=SC2086 # VERIFY_ARGS and CONFORMANCE_ARGS are empty or two words, split on purpose
for c in $CHECKS; do
  case $c in
    verify) check verify "$BIN/sockops" verify --all $VERIFY_ARGS ;;
    conformance-v3) check conformance-v3 "$BIN/sockops" conformance "$TESTS" --cpu v3 $CONFORMANCE_ARGS ;;
    conformance-v4) check conformance-v4 "$BIN/sockops" conformance "$TESTS" --cpu v4 $CONFORMANCE_ARGS ;;
    conformance-v4-kernel) check conformance-v4-kernel "$BIN/sockops" conformance "$TESTS" --cpu v4 ;;
    fuzz) check fuzz "$BIN/sockops-matrix" fuzz --target "$TARGET" --count "${KM_FUZZ_COUNT:-500}" --seed "${KM_FUZZ_SEED:-20251206}" ;;
    behaviour)
      if [ -n "${KM_CGROUP_PARENT:-}" ]; then
        check behaviour "$BIN/sockops-matrix" behaviour --cgroup-parent "$KM_CGROUP_PARENT"
      else
        check behaviour "$BIN/sockops-matrix" behaviour
      fi ;;
    *) echo "guest.sh: unknown check '$c'" >&2; exit 2 ;;
  esac
done
