#!/bin/sh
# gen-vmlinux-h.sh - regenerate include/enoki/vmlinux/vmlinux.h, the kernel
# types Enoki's BPF policies compile against, from the guest kernel's BTF.
#
#   vm/gen-vmlinux-h.sh [VERSION]          (default 7.3.4+deb13)
#
# Downloads the Debian kernel with vm/fetch-kernel.sh (a private apt
# configuration, a cache outside the repository), checks that its vmlinux
# carries a .BTF section and that the kernel has sched_ext, and writes
#
#	bpftool btf dump file VMLINUX format c
#
# with a two-line comment naming the kernel and this command on top.  The
# result is committed, so building policies never needs a download; run
# this only to move to another kernel, and commit the result.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
version=${1:-7.3.4+deb13}
out=$here/../include/enoki/vmlinux/vmlinux.h

kdir=$("$here/fetch-kernel.sh" "$version")
vmlinux=$kdir/vmlinux
if ! readelf -S -W "$vmlinux" | grep -q ' \.BTF '; then
	echo "gen-vmlinux-h: $vmlinux: no .BTF section (kernel built without CONFIG_DEBUG_INFO_BTF)" >&2
	exit 1
fi
if [ -e "$kdir/config" ] && ! grep -q '^CONFIG_SCHED_CLASS_EXT=y' "$kdir/config"; then
	echo "gen-vmlinux-h: kernel $version: CONFIG_SCHED_CLASS_EXT is not set" >&2
	exit 1
fi

mkdir -p "$(dirname "$out")"
{
	echo "/* Generated from Debian kernel $version (linux-binary-$version-amd64)"
	echo " * by vm/gen-vmlinux-h.sh: bpftool btf dump file vmlinux format c */"
	bpftool btf dump file "$vmlinux" format c
} >"$out.tmp"
mv "$out.tmp" "$out"
echo "gen-vmlinux-h: wrote $out ($(wc -l <"$out") lines)" >&2
