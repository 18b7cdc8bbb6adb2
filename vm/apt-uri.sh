#!/bin/sh
# apt-uri.sh - print the Debian archive address the host's own apt uses.
#
#   vm/apt-uri.sh
#
# Scripts that need another suite of the same archive (bookworm-backports
# on the host, trixie and trixie-backports for guest kernels) reuse this
# address, so no mirror host name is ever written into the repository and
# whatever mirror the user configured is respected.  The address is the
# first one serving the host's own release (VERSION_CODENAME of
# /etc/os-release): a URIs: line of a deb822 stanza in
# /etc/apt/sources.list.d/*.sources whose Suites: has that codename, else
# a "deb" line of /etc/apt/sources.list or sources.list.d/*.list naming
# it.  Exits 1 with one line on stderr if there is none.
set -eu

codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
if [ -z "$codename" ]; then
	echo "apt-uri: /etc/os-release has no VERSION_CODENAME" >&2
	exit 1
fi

# deb822 stanzas: remember Types/URIs/Suites until a blank line ends one.
uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
	awk -v want="$codename" '
	function flush() {
		if (types ~ /(^| )deb( |$)/ && uris != "" && !found) {
			n = split(suites, s, " ")
			for (i = 1; i <= n; i++)
				if (s[i] == want) { split(uris, u, " "); print u[1]; found = 1 }
		}
		types = uris = suites = ""
	}
	/^[ \t]*$/ { flush(); next }
	/^#/ { next }
	tolower($1) == "types:" { $1 = ""; types = $0 }
	tolower($1) == "uris:" { $1 = ""; uris = $0 }
	tolower($1) == "suites:" { $1 = ""; suites = $0 }
	END { flush() }' | head -n 1)

# One-line format: deb [options] URI SUITE COMPONENTS...
if [ -z "$uri" ]; then
	uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		2>/dev/null | awk -v want="$codename" '
	$1 == "deb" {
		i = 2
		if ($i ~ /^\[/) while ($i !~ /\]$/) i++
		if ($i ~ /^\[/ || $i ~ /\]$/) i++
		if ($(i + 1) == want) { print $i; exit }
	}')
fi

if [ -z "$uri" ]; then
	echo "apt-uri: no apt source for $codename in /etc/apt" >&2
	exit 1
fi
echo "${uri%/}"
