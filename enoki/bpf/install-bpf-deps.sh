#!/bin/sh
# install-bpf-deps.sh - host tools for compiling Enoki policies as BPF.
#
#   enoki/bpf/install-bpf-deps.sh
#
# clang-16 (bookworm's; clang 14 drops the BTF of kfuncs named __scx_*)
# compiles the policies with -target bpf, llvm-objdump inspects them; bpftool 7.5
# and libbpf-dev 1.4 (bpf_helpers.h, bpf_tracing.h and the loader library)
# come from bookworm-backports, which bookworm does not list by default.
# This adds /etc/apt/sources.list.d/bookworm-backports.sources with the
# host's own archive address (vm/apt-uri.sh: no mirror name is written
# into the repository) and installs those two packages from it.  Backports
# are never installed unless asked for by name or -t, so adding the suite
# upgrades nothing else.  Quiet and quick when everything is there; run as
# root otherwise.
set -e

here=$(cd "$(dirname "$0")" && pwd)

installed() {	# installed PKG [MIN_VERSION]
	v=$(dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null) || return 1
	case $v in "install ok installed "*) ;; *) return 1 ;; esac
	[ -z "${2:-}" ] && return 0
	dpkg --compare-versions "${v##* }" ge "$2"
}

missing=""
installed clang-16 || missing="$missing clang-16"
installed llvm || missing="$missing llvm"
bpo=""
installed bpftool 7.5 || bpo="$bpo bpftool"
installed libbpf-dev 1:1.4 || bpo="$bpo libbpf-dev"
[ -z "$missing$bpo" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "install-bpf-deps: missing packages:$missing$bpo (run as root to install)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive

# bookworm-backports, with the host's own archive address.
src=/etc/apt/sources.list.d/bookworm-backports.sources
if [ -n "$bpo" ] && [ ! -e "$src" ]; then
	uri=$("$here/../../vm/apt-uri.sh")
	cat >"$src" <<EOT
Types: deb
URIs: $uri
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOT
	echo "install-bpf-deps: added $src ($uri)"
fi

echo "install-bpf-deps: installing$missing$bpo"
apt-get update -qq
[ -z "$missing" ] ||
	apt-get install -y -qq -t bookworm --no-install-recommends $missing >/dev/null
[ -z "$bpo" ] ||
	apt-get install -y -qq -t bookworm-backports --no-install-recommends $bpo >/dev/null
