#!/bin/sh
# extract-vmlinux.sh - write the uncompressed ELF vmlinux inside a vmlinuz.
#
#   vm/extract-vmlinux.sh VMLINUZ > vmlinux
#
# A bzImage is a boot stub followed by the compressed kernel.  Find each
# place where a compression format's magic bytes occur, decompress from
# there, and keep the first result that is an ELF file (a magic can also
# occur by chance inside the stub, so every candidate is tried in order).
# Formats: zstd, xz, gzip, lzma, bzip2, lz4, lzo, as far as their tools
# are installed.  Exits 1 with one line on stderr if none yields an ELF.
set -eu

if [ $# -ne 1 ] || [ ! -r "$1" ]; then
	echo "extract-vmlinux: usage: extract-vmlinux.sh VMLINUZ (readable file)" >&2
	exit 2
fi
img=$1
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

is_elf() { [ "$(head -c 4 "$1" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; }

# An uncompressed vmlinux passes through unchanged.
if is_elf "$img"; then
	cat "$img"
	exit 0
fi

# try MAGIC_REGEX TOOL...: decompress from every offset MAGIC occurs at.
try() {
	magic=$1
	shift
	command -v "$1" >/dev/null 2>&1 || return 1
	for off in $(LC_ALL=C grep -obUaP "$magic" "$img" | cut -d: -f1); do
		tail -c "+$((off + 1))" "$img" | "$@" >"$tmp" 2>/dev/null || true
		if is_elf "$tmp"; then
			cat "$tmp"
			exit 0
		fi
	done
	return 1
}

try '\x28\xb5\x2f\xfd' zstd -dcq ||
try '\xfd\x37\x7a\x58\x5a\x00' xz -dcq ||
try '\x1f\x8b\x08' gzip -dcq ||
try '\x5d\x00\x00\x00' xz -dcq --format=lzma ||
try '\x42\x5a\x68' bzip2 -dcq ||
try '\x02\x21\x4c\x18' lz4 -dcq ||
try '\x89\x4c\x5a\x4f' lzop -dcq ||
true
echo "extract-vmlinux: $img: no compressed ELF kernel found" >&2
exit 1
