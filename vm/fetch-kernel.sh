#!/bin/sh
# fetch-kernel.sh - download and unpack a Debian guest kernel with a
# private apt configuration.
#
#   vm/fetch-kernel.sh [-c CACHE] [-s SUITE] [-b BASE_SUITE] VERSION
#   e.g. vm/fetch-kernel.sh 7.3.4+deb13      (the sched_ext guest kernel)
#
# Everything lives under CACHE (default $BENTO_VM_CACHE or
# /var/cache/bento-vm), never in the repository and never in the host's
# apt state: CACHE/apt holds a sources list, package lists, an archive
# cache and an empty dpkg status of its own, passed to apt with
# Dir::Etc::sourcelist, Dir::State::Lists, Dir::Cache and friends.  The
# host's sources are not read by apt and not changed; nothing is
# installed.  The archive address is the host's own (vm/apt-uri.sh),
# reused with SUITE (default trixie-backports) and BASE_SUITE (default
# trixie, which backports need for their dependencies and Release keys).
#
# For VERSION it downloads the kernel image package and the package that
# carries its config (linux-binary-VERSION-amd64 and
# linux-base-VERSION-amd64 on 7.x; linux-image-VERSION-amd64 on older
# kernels, whose config is in the image package), unpacks each with
# dpkg -x into CACHE/kernels/VERSION/, and extracts the uncompressed
# vmlinux (vm/extract-vmlinux.sh) next to it:
#
#   CACHE/kernels/VERSION/vmlinuz   the boot image
#   CACHE/kernels/VERSION/vmlinux   uncompressed, with .BTF
#   CACHE/kernels/VERSION/config    the kernel config
#   CACHE/kernels/VERSION/root/     the unpacked packages
#
# Prints the kernel directory on stdout.  Re-running is quick: packages
# already downloaded and unpacked are kept.  Limits: amd64 only.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cache=${BENTO_VM_CACHE:-/var/cache/bento-vm}
suite=trixie-backports
base=trixie

usage() {
	echo "usage: fetch-kernel.sh [-c CACHE] [-s SUITE] [-b BASE_SUITE] VERSION" >&2
	exit 2
}
while getopts c:s:b:h opt; do
	case $opt in
	c) cache=$OPTARG ;;
	s) suite=$OPTARG ;;
	b) base=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage
version=$1
case $version in
*[!A-Za-z0-9.+~-]* | "") echo "fetch-kernel: bad kernel version '$version'" >&2; exit 2 ;;
esac

# 1. A private apt configuration under CACHE/apt.
uri=$("$here/apt-uri.sh")
apt=$cache/apt
mkdir -p "$apt/etc/sources.list.d" "$apt/etc/preferences.d" \
	"$apt/lists/partial" "$apt/archives/partial" "$apt/state"
# apt downloads as the _apt user where it can.
chown -R _apt "$apt/lists" "$apt/archives" 2>/dev/null || true
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
{
	echo "deb [signed-by=$keyring] $uri $base main"
	[ "$suite" = "$base" ] ||
		echo "deb [signed-by=$keyring] $uri $suite main"
} >"$apt/etc/sources.list"
: >"$apt/state/status"
set -- -o "Dir::Etc::sourcelist=$apt/etc/sources.list" \
	-o "Dir::Etc::sourceparts=$apt/etc/sources.list.d" \
	-o "Dir::Etc::preferences=$apt/etc/preferences" \
	-o "Dir::Etc::preferencesparts=$apt/etc/preferences.d" \
	-o "Dir::State=$apt/state" \
	-o "Dir::State::Lists=$apt/lists" \
	-o "Dir::State::status=$apt/state/status" \
	-o "Dir::Cache=$apt" \
	-o "Dir::Cache::archives=$apt/archives" \
	-o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=" \
	-o "APT::Architecture=amd64" -o "APT::Architectures=amd64" \
	-o "APT::Get::List-Cleanup=0" -o "Debug::NoLocking=1"

# 2. Package lists, refreshed once a day.
stamp=$apt/lists/.updated
if [ -z "$(find "$stamp" -mmin -1440 2>/dev/null)" ]; then
	echo "fetch-kernel: updating private package lists for $base and $suite" >&2
	apt-get "$@" -qq update >&2
	touch "$stamp"
fi

# 3. The package names: linux-binary/linux-base on 7.x, linux-image before.
have() { apt-cache "$@" show "$pkg" >/dev/null 2>&1; }
pkgs=""
for pkg in "linux-binary-$version-amd64" "linux-base-$version-amd64"; do
	if have "$@"; then pkgs="$pkgs $pkg"; fi
done
if [ -z "$pkgs" ]; then
	pkg=linux-image-$version-amd64
	if ! have "$@"; then
		pkg=linux-image-$version-amd64-unsigned
		if ! have "$@"; then
			echo "fetch-kernel: no kernel package for $version in $suite" >&2
			exit 1
		fi
	fi
	pkgs=$pkg
fi

# 4. Download and unpack each package once.
kdir=$cache/kernels/$version
mkdir -p "$kdir/root"
for pkg in $pkgs; do
	if [ ! -e "$kdir/.unpacked-$pkg" ]; then
		echo "fetch-kernel: downloading $pkg" >&2
		(cd "$apt/archives" && apt-get "$@" -qq download "$pkg" >&2)
		deb=$(ls -t "$apt/archives/${pkg}_"*.deb | head -n 1)
		dpkg -x "$deb" "$kdir/root"
		touch "$kdir/.unpacked-$pkg"
	fi
done

# 5. The image, its config, and the uncompressed vmlinux.
# 7.x packages keep them in usr/lib/modules/KVER/, older ones in boot/.
vmlinuz=$(ls "$kdir"/root/usr/lib/modules/*/vmlinuz \
	"$kdir"/root/boot/vmlinuz-* 2>/dev/null | head -n 1)
config=$(ls "$kdir"/root/usr/lib/modules/*/config \
	"$kdir"/root/boot/config-* 2>/dev/null | head -n 1)
if [ -z "$vmlinuz" ]; then
	echo "fetch-kernel:$pkgs: no vmlinuz inside" >&2
	exit 1
fi
ln -sf "$vmlinuz" "$kdir/vmlinuz"
[ -z "$config" ] || ln -sf "$config" "$kdir/config"
if [ ! -s "$kdir/vmlinux" ]; then
	"$here/extract-vmlinux.sh" "$vmlinuz" >"$kdir/vmlinux.tmp"
	mv "$kdir/vmlinux.tmp" "$kdir/vmlinux"
fi
echo "$kdir"
