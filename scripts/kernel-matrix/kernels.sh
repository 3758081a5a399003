#!/usr/bin/env bash
# kernels.sh resolve SERIES   prints the newest Debian cloud kernel package of SERIES (6.1 or 6.12)
# kernels.sh fetch PKG        downloads PKG (apt-get download) and unpacks its vmlinuz into the cache (never into
#                             /boot; nothing is installed); prints the vmlinuz path
# Cache: ${SOCKOPS_KERNEL_CACHE:-/var/cache/sockops-kernels}/PKG/{vmlinuz,version}. Needs apt's package lists
# (apt-get update) for resolve and for a first fetch.
set -euo pipefail
CACHE=${SOCKOPS_KERNEL_CACHE:-/var/cache/sockops-kernels}

resolve() {
  local pattern
  case $1 in
    6.1) pattern='^linux-image-6\.1\.0-[0-9]+-cloud-amd64$' ;;
    6.12) pattern='^linux-image-6\.12\.[0-9]+\+deb12-cloud-amd64$' ;;
    *) echo "kernels.sh: no package pattern for series '$1' (known: 6.1, 6.12)" >&2; return 2 ;;
  esac
  local newest
  newest=$(apt-cache search --names-only "$pattern" | cut -d' ' -f1 | sort -V | tail -1)
  [ -n "$newest" ] || { echo "kernels.sh: apt-cache knows no package matching $pattern (run apt-get update)" >&2; return 3; }
  echo "$newest"
}

fetch() {
  local pkg=$1 dir=$CACHE/$1
  if [ ! -s "$dir/vmlinuz" ]; then
    mkdir -p "$CACHE"
    local tmp
    tmp=$(mktemp -d "$CACHE/.fetch.XXXXXX")
    # shellcheck disable=SC2064
    trap "rm -rf '$tmp'" RETURN
    (cd "$tmp" && apt-get download "$pkg" >/dev/null 2>"$tmp/apt.err") \
      || { echo "kernels.sh: apt-get download $pkg failed: $(tail -1 "$tmp/apt.err")" >&2; return 3; }
    dpkg-deb --fsys-tarfile "$tmp"/"${pkg}"_*.deb | tar -x -C "$tmp" --wildcards './boot/vmlinuz-*'
    local v
    v=$(ls "$tmp"/boot/vmlinuz-* | head -1)
    mkdir -p "$dir.new"
    cp "$v" "$dir.new/vmlinuz"
    dpkg-deb -f "$tmp"/"${pkg}"_*.deb Version > "$dir.new/version"
    rm -rf "$dir" && mv "$dir.new" "$dir"
  fi
  echo "$dir/vmlinuz"
}

case ${1:-} in
  resolve) [ $# -eq 2 ] || { echo "usage: kernels.sh resolve SERIES" >&2; exit 2; }; resolve "$2" ;;
  fetch) [ $# -eq 2 ] || { echo "usage: kernels.sh fetch PKG" >&2; exit 2; }; fetch "$2" ;;
  *) sed -n 2,7p "$0" >&2; exit 2 ;;
esac
