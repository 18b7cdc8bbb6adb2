#!/bin/sh
# install-deps.sh - install the Debian packages the build, demo and tests
# need, from bookworm itself (never upgrading libc), then the BPF toolchain
# for Enoki policies (enoki/bpf/install-bpf-deps.sh).  Quiet and quick
# when everything is already there.
set -e

PKGS="gcc make pkg-config libfuse3-dev fuse3 libcmocka-dev zlib1g-dev \
libxxhash-dev e2fsprogs fuse2fs fio xxhash util-linux libjansson-dev gdb"

here=$(cd "$(dirname "$0")" && pwd)

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
	# The BPF toolchain (clang-16, bpftool and libbpf from backports).
	exec "$here/../enoki/bpf/install-bpf-deps.sh"
fi

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing (run as root to install)" >&2
	exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq -t bookworm --no-install-recommends $missing >/dev/null

# The BPF toolchain (clang-16, bpftool and libbpf from backports).
exec "$here/../enoki/bpf/install-bpf-deps.sh"
