#!/usr/bin/env bash
# Unpacks Debian's InspIRCd 3 into .programs/inspircd for the end-to-end tests, without installing it: Debian's
# IRC servers conflict as packages (installing inspircd would remove ngircd), so the package is fetched with
# `apt-get download` and extracted with `dpkg-deb -x`. A library the machine lacks (checked with ldd on the
# binary and the modules the tests load) is unpacked beside it from inspircd's own dependencies; the tests
# point LD_LIBRARY_PATH there. Idempotent: does nothing when a working copy is already there.
#
#   test/support/unpack-inspircd.sh      (or: npm run programs:inspircd)
set -euo pipefail
cd "$(dirname "$0")/../.."

target=.programs/inspircd
binary="$target/usr/sbin/inspircd"
modules="$target/usr/lib/inspircd/modules"
libs="$target/usr/lib/x86_64-linux-gnu"

# The libraries that the binary and the modules test/support/inspircd.ts loads (the core ones, always, and
# those its config names) cannot find; `ldd` of a file that is not there yet says so too.
missing_libraries() {
  { LD_LIBRARY_PATH="$libs" ldd "$binary" "$modules"/core_*.so "$modules/m_cap.so" "$modules/m_monitor.so" 2>&1 || true; } |
    awk '/not found|No such file/ { print $1 }' | sort -u
}

if [ -x "$binary" ] && "$binary" --version >/dev/null 2>&1 && [ -z "$(missing_libraries)" ]; then
  echo "inspircd: $("$binary" --version) in $target"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# apt-get download writes as the `_apt` user when it can
chmod 777 "$work"

download() {
  (cd "$work" && apt-get download -qq "$@") || {
    # a machine that never ran `apt-get update` has no package lists yet
    [ "$(id -u)" = 0 ] || return 1
    apt-get update -qq
    (cd "$work" && apt-get download -qq "$@")
  }
}

rm -rf "$target"
mkdir -p "$target"
download inspircd
dpkg-deb -x "$work"/inspircd_*.deb "$target"

if [ -n "$(missing_libraries)" ]; then
  # inspircd's library dependencies that are not installed here, unpacked beside it
  wanted=()
  for package in $(dpkg-deb -f "$work"/inspircd_*.deb Depends | tr ',' '\n' | sed -E 's/^ +//; s/[ (].*//' | grep '^lib'); do
    dpkg -s "$package" >/dev/null 2>&1 || wanted+=("$package")
  done
  if [ ${#wanted[@]} -gt 0 ]; then
    echo "inspircd: unpacking libraries this machine lacks: ${wanted[*]}"
    download "${wanted[@]}"
    for deb in "$work"/lib*.deb; do dpkg-deb -x "$deb" "$target"; done
  fi
fi

still=$(missing_libraries)
if [ -n "$still" ]; then
  echo "inspircd: libraries still missing: $still" >&2
  exit 1
fi
# the tests run it as an unprivileged user (it refuses root), who must be able to read and run it
chmod -R a+rX "$target"
echo "inspircd: $("$binary" --version) unpacked in $target"
