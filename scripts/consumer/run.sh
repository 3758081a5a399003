#!/usr/bin/env bash
# The packages as a user gets them: packs every library and the sockops tool into a folder feed, then the consumer
# project outside the solution (examples/consumer) restores SockOps.* from that feed only, builds its own DSL program,
# runs its tests (package metadata, snapshot, behaviour on the kernel, hosted in a generic host), and the tool is installed from the feed with
# `dotnet tool install --add-source` and run.
#
# Writes artifacts/consumer/results.tsv: one PASS/FAIL line per step and per consumer test (as the kernel matrix's
# results.tsv, which .ci/run counts the same way). Exits non-zero when any line is FAIL.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
consumer=examples/consumer
out=artifacts/consumer
results=$out/results.tsv
feed=$consumer/feed
rm -rf "$out" "$feed"
mkdir -p "$out" "$feed"
: >"$results"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$results"; echo "consumer: $1 $2 ${3:+($3)}"; }
finish() {
  grep -q '^FAIL' "$results" && exit 1
  exit 0
}

# The one version every package has (Directory.Build.props).
version=$(sed -n 's:.*<VersionPrefix>\(.*\)</VersionPrefix>.*:\1:p' Directory.Build.props | head -1)
[ -n "$version" ] || { record FAIL version "no VersionPrefix in Directory.Build.props"; finish; }

# 1. Pack: the libraries and the tool (one build through a solution filter), with symbol packages.
start=$(date +%s)
if dotnet pack scripts/consumer/packages.slnf -c Release -o "$feed" >"$out/pack.log" 2>&1; then
  record PASS pack "$(ls "$feed"/*.nupkg | wc -l) packages, $(ls "$feed"/*.snupkg | wc -l) symbol packages, $(( $(date +%s) - start )) s"
else
  record FAIL pack "see $out/pack.log"; tail -30 "$out/pack.log" >&2; finish
fi

# 2. Restore and build the consumer from the feed. Its own global packages folder loses every sockops.* first, so an
# earlier run's packages can never stand in for the ones just packed.
rm -rf "$consumer"/packages/sockops.*
start=$(date +%s)
if dotnet build "$consumer/Consumer.Tests" -c Release -p:SockOpsVersion="$version" >"$out/build.log" 2>&1; then
  record PASS build "restored SockOps.* $version from the folder feed, $(( $(date +%s) - start )) s"
else
  record FAIL build "see $out/build.log"; tail -30 "$out/build.log" >&2; finish
fi
# Where each SockOps package was restored from: the feed, proven by its .nupkg.metadata.
for id in sockops.emit sockops.emit.runtime sockops.emit.testing sockops.emit.hosting; do
  meta="$consumer/packages/$id/$version/.nupkg.metadata"
  if [ -f "$meta" ] && grep -q '"source": *"'"$root/$feed"'/*"' "$meta"; then
    record PASS "source $id" "$root/$feed"
  else
    record FAIL "source $id" "$(grep -o '"source": *"[^"]*"' "$meta" 2>/dev/null || echo "not restored")"
  fi
done

# 3. The consumer's tests; each test is a result line.
SOCKOPS_FEED="$root/$feed" "$consumer/Consumer.Tests/bin/Release/net10.0/Consumer.Tests" -noColor \
  -result-trx "$root/$out/Consumer.Tests.trx" >"$out/tests.log" 2>&1
tests_rc=$?
if [ -s "$out/Consumer.Tests.trx" ]; then
  grep -o '<UnitTestResult [^>]*' "$out/Consumer.Tests.trx" | while read -r line; do
    name=$(grep -oE 'testName="[^"]*"' <<<"$line" | cut -d'"' -f2)
    outcome=$(grep -oE 'outcome="[A-Za-z]+"' <<<"$line" | cut -d'"' -f2)
    case "$outcome" in
      Passed) record PASS "test $name" "" ;;
      *) record FAIL "test $name" "$outcome" ;;
    esac
  done
  [ "$tests_rc" -eq 0 ] || grep -q '^FAIL	test' "$results" || record FAIL tests "exit $tests_rc without a failed test"
else
  record FAIL tests "no TRX report (exit $tests_rc), see $out/tests.log"
fi
[ "$tests_rc" -eq 0 ] || tail -40 "$out/tests.log" >&2

# 4. The tool from the feed, as a user installs it, then run. Its NuGet configuration has no source of its own (the
# tool package carries all it needs), so --add-source is the only place SockOps.Cli can come from; the consumer's
# nuget.config cannot be used here, since dotnet refuses --add-source together with package source mapping.
tools=$out/tools
printf '<?xml version="1.0" encoding="utf-8"?>\n<configuration><packageSources><clear /></packageSources></configuration>\n' >"$out/tool-nuget.config"
if dotnet tool install --tool-path "$tools" --configfile "$out/tool-nuget.config" --add-source "$feed" --version "$version" SockOps.Cli >"$out/tool.log" 2>&1; then
  record PASS "tool install" "SockOps.Cli $version"
  if "$tools/sockops" --version >>"$out/tool.log" 2>&1 && "$tools/sockops" list >"$out/list.txt" 2>&1 && grep -q '^clamp' "$out/list.txt"; then
    record PASS "tool list" "$(( $(wc -l <"$out/list.txt") - 1 )) programs"
  else
    record FAIL "tool list" "see $out/list.txt"
  fi
  if "$tools/sockops" dump clamp --format hex >"$out/dump.txt" 2>&1 && [ "$(wc -l <"$out/dump.txt")" -gt 10 ]; then
    record PASS "tool dump" "clamp: $(wc -l <"$out/dump.txt") instructions"
  else
    record FAIL "tool dump" "see $out/dump.txt"
  fi
  # The kernel-facing verb too, where the kernel may be used (root, as in CI); elsewhere it would only say EPERM.
  if [ "$(id -u)" -eq 0 ]; then
    if "$tools/sockops" verify clamp >"$out/verify.txt" 2>&1 && grep -q '^clamp: accepted' "$out/verify.txt"; then
      record PASS "tool verify" "$(head -1 "$out/verify.txt")"
    else
      record FAIL "tool verify" "$(head -1 "$out/verify.txt")"
    fi
  fi
else
  record FAIL "tool install" "see $out/tool.log"; tail -20 "$out/tool.log" >&2
fi
finish
