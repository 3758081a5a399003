#!/usr/bin/env bash
# run.sh: the kernel matrix. Publishes the sockops CLI and sockops-matrix (self-contained linux-x64, ReadyToRun) into
# one folder, boots Debian's newest 6.1 and 6.12 cloud kernels under qemu with it (in parallel, one vCPU each) and
# runs scripts/kernel-matrix/guest.sh in each, runs guest.sh on the host kernel too (as root, in a temporary child
# cgroup), compares each kernel's results with scripts/kernel-matrix/expected/<major.minor>/ and writes
#   artifacts/kernel-matrix/results.tsv   PASS|FAIL <TAB> kernel <TAB> check <TAB> detail   (one line per check)
#   artifacts/kernel-matrix/summary.txt   the human summary with timings (also printed)
#   artifacts/kernel-matrix/<kernel>/     each check's raw output, normalized output and diff
# Exit status: 0 when every check passed, 1 otherwise. See docs/kernel-matrix.md.
# Env: KM_SERIES="6.1 6.12" (guest kernels; empty for none)  KM_HOST=1 (0: skip the host kernel)
#      KM_FUZZ_COUNT=500  KM_FUZZ_SEED=20251206  KM_ARTIFACTS=artifacts/kernel-matrix
#      KM_UPDATE_EXPECTED=1 writes the normalized verify/conformance outputs into expected/ (review the diff!)
#      SOCKOPS_CONFORMANCE_DIR (default ../shared/conformance beside the repository)
#      SOCKOPS_KERNEL_CACHE (default /var/cache/sockops-kernels)  TIMEOUT=600 per guest (s)
# Needs: the .NET 10 SDK, root, qemu-system-x86, busybox-static, cpio, apt package lists (apt-get update).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/scripts/kernel-matrix
EXPECTED=$HERE/expected
ART=${KM_ARTIFACTS:-$ROOT/artifacts/kernel-matrix}
CONF=${SOCKOPS_CONFORMANCE_DIR:-$(dirname "$ROOT")/shared/conformance}
TESTS=$CONF/tests
SERIES=${KM_SERIES-6.1 6.12}
HOST=${KM_HOST:-1}
FUZZ_COUNT=${KM_FUZZ_COUNT:-500}
FUZZ_SEED=${KM_FUZZ_SEED:-20251206}
UPDATE=${KM_UPDATE_EXPECTED:-0}
CHECKS="verify conformance-v3 conformance-v4 conformance-v4-kernel fuzz behaviour"
BEHAVIOURS="clamp sockmap-adder rtt-metrics"

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
T_START=$(now)

rm -rf "$ART"
mkdir -p "$ART"
RESULTS=$ART/results.tsv
: > "$RESULTS"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sockops-matrix.XXXXXX")
HOST_CG=""
BG_PIDS=()

cleanup() {
  set +e   # best effort: every step runs
  local pid
  local f
  # boot.sh stops its own qemu on TERM; the subshells around it go next.
  for f in "$WORK"/*.bootpid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
  for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${BG_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$HOST_CG" ] && [ -d "$HOST_CG" ]; then
    # Children first (the behaviour checks remove theirs; this is for a run that was interrupted).
    find "$HOST_CG" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null || true
    rmdir "$HOST_CG" 2>/dev/null || echo "run.sh: could not remove $HOST_CG" >&2
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# result VERDICT KERNEL CHECK DETAIL: one line of results.tsv (tabs in the detail become spaces).
result() {
  local detail=${4//$'\t'/ }
  printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${detail//$'\n'/ }" >> "$RESULTS"
}

# --- (a) publish both apps into one folder, (b) resolve and fetch the kernels meanwhile ----------------------------
BIN=$WORK/payload/bin
mkdir -p "$BIN" "$WORK/kernels"
fetch_kernels() {
  local s pkg
  for s in $SERIES; do
    if pkg=$("$HERE/kernels.sh" resolve "$s" 2>"$WORK/kernels/$s.err") && "$HERE/kernels.sh" fetch "$pkg" >/dev/null 2>>"$WORK/kernels/$s.err"; then
      echo "$pkg" > "$WORK/kernels/$s.pkg"
      cp "${SOCKOPS_KERNEL_CACHE:-/var/cache/sockops-kernels}/$pkg/version" "$WORK/kernels/$s.version" 2>/dev/null || true
    fi
  done
}
T0=$(now)
fetch_kernels & BG_PIDS+=($!)
FETCH_PID=$!
publish_ok=1
for project in Programs/SockOps.Cli/SockOps.Cli.csproj tests/SockOps.KernelMatrix/SockOps.KernelMatrix.csproj; do
  dotnet publish "$ROOT/$project" -c Release -r linux-x64 --self-contained -p:PublishReadyToRun=true -o "$BIN" \
    -nologo >> "$ART/publish.log" 2>&1 || { publish_ok=0; break; }
done
T_PUBLISH=$(secs "$T0" "$(now)")
rm -f "$BIN"/*.pdb "$BIN"/*.xml
cp "$HERE/guest.sh" "$BIN/"
# Two self-contained apps of the same runtime share the folder: both must start from it.
if [ "$publish_ok" = 1 ] && cli_version=$("$BIN/sockops" --version 2>&1) && "$BIN/sockops-matrix" --help > /dev/null 2>&1; then
  result PASS all publish "sockops ${cli_version} and sockops-matrix, self-contained linux-x64 ReadyToRun, one folder ($(du -sh "$BIN" | cut -f1)), ${T_PUBLISH} s"
else
  publish_ok=0
  result FAIL all publish "dotnet publish failed or an app does not start from the shared folder (see $ART/publish.log): $(tail -3 "$ART/publish.log" | tr '\n' ' ')"
fi
wait "$FETCH_PID" || true
T_FETCH_DONE=$(secs "$T0" "$(now)")

# Whether the CLI takes --target (main gains it for verify and conformance).
VERIFY_TARGET=0; CONFORMANCE_TARGET=0
if [ "$publish_ok" = 1 ]; then
  "$BIN/sockops" verify --help 2>&1 | grep -q -- '--target' && VERIFY_TARGET=1
  "$BIN/sockops" conformance --help 2>&1 | grep -q -- '--target' && CONFORMANCE_TARGET=1
fi
ENVS="KM_VERIFY_TARGET=$VERIFY_TARGET KM_CONFORMANCE_TARGET=$CONFORMANCE_TARGET KM_FUZZ_COUNT=$FUZZ_COUNT KM_FUZZ_SEED=$FUZZ_SEED"

# --- (c) boot each guest kernel (in parallel) ------------------------------------------------------------------------
declare -A LABEL
for s in $SERIES; do LABEL[$s]=$s; done
if [ "$publish_ok" = 1 ] && [ -n "$SERIES" ]; then
  T0=$(now)
  PAYLOAD="$BIN:/opt/km/bin $TESTS:/opt/km/tests" "$HERE/boot.sh" --build-initrd "$WORK/base.cpio"
  T_INITRD=$(secs "$T0" "$(now)")
  for s in $SERIES; do
    [ -s "$WORK/kernels/$s.pkg" ] || continue
    (
      set +e
      INITRD_BASE=$WORK/base.cpio BOOT_STATS=$WORK/$s.stats "$HERE/boot.sh" "$(cat "$WORK/kernels/$s.pkg")" \
        "cd /tmp && $ENVS KM_TESTS=/opt/km/tests sh /opt/km/bin/guest.sh" > "$WORK/$s.out" 2> "$WORK/$s.err" &
      echo $! > "$WORK/$s.bootpid"
      wait $!
      echo $? > "$WORK/$s.rc"
      rm -f "$WORK/$s.bootpid"
    ) & BG_PIDS+=($!)
  done
fi

# --- (d) the host kernel, meanwhile: a temporary child cgroup under the cgroup2 mount, guest.sh in a temp dir ---------
HOST_LABEL=""
if [ "$HOST" = 1 ]; then
  HOST_LABEL=$(uname -r | sed -n 's/^\([0-9]*\.[0-9]*\).*/\1/p')
  if [ "$publish_ok" = 1 ] && [ "$(id -u)" = 0 ]; then
    mnt=$(awk '{ for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") { print $5; exit } break } }' /proc/self/mountinfo)
    if [ -n "$mnt" ]; then
      HOST_CG=$mnt/sockops-matrix-$$
      mkdir "$HOST_CG"
      mkdir -p "$WORK/host-tmp"
      T0=$(now)
      # In a private network namespace (lo only), as the guests are: the behaviour checks' fixed ports (55601,
      # 10000, 10001) cannot meet another process's listeners on this machine (a test run beside this one, a service).
      (cd "$WORK/host-tmp" && env $ENVS TMPDIR="$WORK/host-tmp" KM_BIN="$BIN" KM_TESTS="$TESTS" KM_CGROUP_PARENT="$HOST_CG" \
        unshare --net sh -c 'ip link set lo up && exec sh "$0"' "$BIN/guest.sh") > "$WORK/host.out" 2>&1 && echo 0 > "$WORK/host.rc" || echo $? > "$WORK/host.rc"
      printf 'wall=%s\n' "$(secs "$T0" "$(now)")" > "$WORK/host.stats"
      find "$HOST_CG" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null || true
      rmdir "$HOST_CG" && HOST_CG=""
    else
      echo "no cgroup2 mount in /proc/self/mountinfo" > "$WORK/host.err"
    fi
  else
    echo "the host checks need root and a published CLI" > "$WORK/host.err"
  fi
fi

# Wait for the guests.
for pid in "${BG_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
BG_PIDS=()

# --- (e) compare with the expectations ---------------------------------------------------------------------------------
# split OUT DIR: the framed guest.sh output into DIR/<check>.out and DIR/checks (check rc secs).
split_output() {
  awk -v dir="$2" '
    /^##KM KERNEL / { print $3 > (dir "/kernel"); next }
    /^##KM BEGIN / { name = $3; file = dir "/" name ".out"; printf "" > file; next }
    /^##KM END / { sub("rc=", "", $4); sub("secs=", "", $5); print $3, $4, $5 >> (dir "/checks"); close(file); name = ""; next }
    name != "" { print >> file }
  ' "$1"
}

normalize_verify() {
  sed -E -e 's/^([A-Za-z0-9_-]+): accepted.*/\1: accepted/' \
         -e 's/^([A-Za-z0-9_-]+): unsupported.*(\(needs Linux [0-9.]+\)).*/\1: unsupported \2/' \
         -e 's/^([A-Za-z0-9_-]+): refused.*/\1: refused/' \
         -e 's/^([A-Za-z0-9_-]+): skipped.*/\1: skipped/' "$1"
}

# Conformance: the verdict and test name of each line (the detail holds verifier text), and the summary line.
normalize_conformance() { sed -E 's/: .*//' "$1"; }

# compare LABEL CHECK NORMALIZED -> sets CMP_DETAIL; returns 0 when it matches expected/LABEL/CHECK.txt
compare_expected() {
  local label=$1 check=$2 normalized=$3 expected=$EXPECTED/$1/$2.txt
  if [ "$UPDATE" = 1 ]; then mkdir -p "$EXPECTED/$label"; cp "$normalized" "$expected"; fi
  if [ ! -f "$expected" ]; then
    CMP_DETAIL="no expectations committed at scripts/kernel-matrix/expected/$label/$check.txt (review $normalized, then KM_UPDATE_EXPECTED=1)"
    return 1
  fi
  if diff -u "$expected" "$normalized" > "$ART/$label/$check.diff"; then
    rm -f "$ART/$label/$check.diff"
    CMP_DETAIL="as expected"
    return 0
  fi
  CMP_DETAIL="differs from expected/$label/$check.txt: $(grep -E '^[-+][^-+]' "$ART/$label/$check.diff" | head -4 | tr '\n' ' ')(diff: $ART/$label/$check.diff)"
  return 1
}

declare -A SUMMARY
evaluate() {
  local label=$1 d=$ART/$1 missing=$2 check rc t line detail verdict n
  mkdir -p "$d"
  [ -f "$d/checks" ] || : > "$d/checks"
  for check in $CHECKS; do
    line=$(awk -v c="$check" '$1 == c' "$d/checks" | head -1)
    if [ -z "$line" ]; then
      if [ "$check" = behaviour ]; then
        for n in $BEHAVIOURS; do result FAIL "$label" "behaviour-$n" "no result: $missing"; done
      else
        result FAIL "$label" "$check" "no result: $missing"
      fi
      SUMMARY[$label]+="  $(printf '%-15s %6s  %s' "$check" "-" "FAIL: no result")"$'\n'
      continue
    fi
    rc=$(echo "$line" | cut -d' ' -f2); t=$(echo "$line" | cut -d' ' -f3)
    local out=$d/$check.out
    case $check in
      verify)
        { normalize_verify "$out"; echo "exit $rc"; } > "$d/verify.normalized"
        local acc uns ref
        acc=$(grep -c ': accepted$' "$d/verify.normalized" || true)
        uns=$(grep -c ': unsupported ' "$d/verify.normalized" || true)
        ref=$(grep -c ': refused$' "$d/verify.normalized" || true)
        detail="$acc accepted, $uns unsupported, $ref refused, exit $rc"
        if compare_expected "$label" verify "$d/verify.normalized"; then verdict=PASS; else verdict=FAIL; fi
        detail="$detail; $CMP_DETAIL"
        ;;
      conformance-v3 | conformance-v4 | conformance-v4-kernel)
        { normalize_conformance "$out"; echo "exit $rc"; } > "$d/$check.normalized"
        local summary known unsupported
        summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped(, [0-9]+ unsupported by the target)?$' "$out" | tail -1 || true)
        known=$(grep -c '^FAIL (kernel refuses' "$out" || true)
        unsupported=$(grep -c '^UNSUPPORTED ' "$out" || true)
        detail="${summary:-no summary line} ($known of the failures are the suite's known kernel refusals; $unsupported refused before loading as newer than the target), exit $rc"
        if compare_expected "$label" "$check" "$d/$check.normalized"; then verdict=PASS; else verdict=FAIL; fi
        detail="$detail; $CMP_DETAIL"
        ;;
      fuzz)
        line=$(grep -E '^fuzz: [0-9]+ generated, ' "$out" | head -1 || true)
        verdict=FAIL
        if [[ $line =~ ^fuzz:\ ([0-9]+)\ generated,\ ([0-9]+)\ accepted\ for\ target\ ([0-9.]+),\ ([0-9]+)\ loaded,\ ([0-9]+)\ refused\ by\ the\ kernel$ ]]; then
          local N=${BASH_REMATCH[1]} A=${BASH_REMATCH[2]} T=${BASH_REMATCH[3]} L=${BASH_REMATCH[4]} R=${BASH_REMATCH[5]}
          detail="${line#fuzz: }, exit $rc"
          if [ "$rc" != 0 ] || [ "$R" != 0 ]; then detail="$detail; first refused: $(grep -m1 -A0 '^first refused program' "$out" || true)"
          elif [ "$N" -lt "$FUZZ_COUNT" ]; then detail="$detail; fewer than $FUZZ_COUNT programs"
          elif [ "$T" != "$label" ]; then detail="$detail; built for $T, not for this kernel ($label)"
          elif [ "$L" != "$A" ]; then detail="$detail; loaded != accepted"
          elif [ $((A * 5)) -lt "$N" ]; then detail="$detail; fewer than 1 in 5 accepted (the check would prove little)"
          else verdict=PASS
          fi
        else
          detail="no fuzz summary line, exit $rc: $(tail -2 "$out" | tr '\n' ' ')"
        fi
        ;;
      behaviour)
        verdict=PASS
        detail="exit $rc"
        for n in $BEHAVIOURS; do
          line=$(grep -E "^behaviour $n: " "$out" | head -1 || true)
          if [[ $line == "behaviour $n: PASS "* ]]; then
            result PASS "$label" "behaviour-$n" "${line#"behaviour $n: PASS "}"
          else
            verdict=FAIL
            result FAIL "$label" "behaviour-$n" "${line:-no result line (exit $rc): $(tail -2 "$out" | tr '\n' ' ')}"
          fi
        done
        ;;
    esac
    [ "$check" = behaviour ] || result "$verdict" "$label" "$check" "$detail"
    SUMMARY[$label]+="  $(printf '%-15s %5ss  %s  %s' "$check" "$t" "$verdict" "$detail")"$'\n'
  done
}

stat_of() { sed -n "s/^$2=//p" "$1" 2>/dev/null | head -1 || true; }

for s in $SERIES; do
  label=${LABEL[$s]}
  mkdir -p "$ART/$label"
  pkg=$(cat "$WORK/kernels/$s.pkg" 2>/dev/null || true)
  if [ -z "$pkg" ]; then
    result FAIL "$label" boot "kernel package not available: $(tail -1 "$WORK/kernels/$s.err" 2>/dev/null)"
    evaluate "$label" "no kernel"
    continue
  fi
  if [ ! -f "$WORK/$s.out" ]; then
    result FAIL "$label" boot "$pkg was not booted (publish failed)"
    evaluate "$label" "not booted"
    continue
  fi
  cp "$WORK/$s.out" "$ART/$label/guest.out"; cp "$WORK/$s.err" "$ART/$label/boot.log"
  split_output "$WORK/$s.out" "$ART/$label"
  krel=$(cat "$ART/$label/kernel" 2>/dev/null || true)
  init_at=$(stat_of "$WORK/$s.stats" init_at); cmd=$(stat_of "$WORK/$s.stats" cmd); wall=$(stat_of "$WORK/$s.stats" wall)
  grc=$(cat "$WORK/$s.rc" 2>/dev/null || echo none)
  version=$(cat "$WORK/kernels/$s.version" 2>/dev/null || echo "?")
  boot_detail="$pkg ($version): uname $krel, kernel to init ${init_at:-?} s, checks ${cmd:-?} s, VM wall ${wall:-?} s"
  if [ -n "$krel" ] && [[ $krel == "$label".* ]] && [ "$grc" != 124 ] && [ "$grc" != none ]; then
    result PASS "$label" boot "$boot_detail"
  else
    result FAIL "$label" boot "$boot_detail; guest exit $grc (124: did not finish): $(tail -3 "$WORK/$s.err" | tr '\n' ' ')"
  fi
  SUMMARY[$label]="Linux $label: $pkg ($version), uname $krel"$'\n'"  boot: kernel to init ${init_at:-?} s; guest checks ${cmd:-?} s; VM wall ${wall:-?} s (TCG, 1 vCPU)"$'\n'
  evaluate "$label" "guest exit $grc (did it finish?)"
done

if [ "$HOST" = 1 ]; then
  label=$HOST_LABEL
  mkdir -p "$ART/$label"
  if [ -f "$WORK/host.out" ]; then
    cp "$WORK/host.out" "$ART/$label/host.out"
    split_output "$WORK/host.out" "$ART/$label"
    SUMMARY[$label]="Linux $label (host): uname $(uname -r), as root; checks $(stat_of "$WORK/host.stats" wall) s wall (beside the guests)"$'\n'
    evaluate "$label" "guest.sh exit $(cat "$WORK/host.rc")"
  else
    SUMMARY[$label]="Linux $label (host): not run: $(cat "$WORK/host.err" 2>/dev/null)"$'\n'
    evaluate "$label" "$(cat "$WORK/host.err" 2>/dev/null || echo 'host checks not run')"
  fi
fi

# --- (f) summary -------------------------------------------------------------------------------------------------------
pass=$(grep -c '^PASS' "$RESULTS" || true)
fail=$(grep -c '^FAIL' "$RESULTS" || true)
{
  echo "kernel matrix: $((pass + fail)) checks, $pass PASS, $fail FAIL; wall $(secs "$T_START" "$(now)") s"
  echo "  publish (sockops + sockops-matrix, R2R): ${T_PUBLISH} s; kernels resolved and fetched by ${T_FETCH_DONE} s; initramfs ${T_INITRD:-?} s"
  echo "  CLI --target: verify $([ $VERIFY_TARGET = 1 ] && echo yes || echo 'no (plain verify --all)'), conformance $([ $CONFORMANCE_TARGET = 1 ] && echo yes || echo 'no (plain)')"
  for s in $SERIES; do printf '%s' "${SUMMARY[${LABEL[$s]}]:-}"; done
  [ -n "$HOST_LABEL" ] && printf '%s' "${SUMMARY[$HOST_LABEL]:-}"
  if [ "$fail" -gt 0 ]; then echo "failed:"; grep '^FAIL' "$RESULTS" | cut -f2- | sed 's/^/  /'; fi
} > "$ART/summary.txt"
cat "$ART/summary.txt"
[ "$fail" -eq 0 ]
