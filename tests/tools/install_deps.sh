#!/bin/sh
# make deps: install, with apt, what building and testing deployctl needs and
# this machine lacks. Libraries are checked by package, tools by command, so
# a tool installed another way (Node.js from NodeSource, say) is kept.
set -eu

LIBS="gcc make pkg-config libc6-dev libcurl4-openssl-dev libssl-dev libjansson-dev
libxml2-dev libgit2-dev libzip-dev ca-certificates python3-fastapi python3-uvicorn"
# command:package
TOOLS="python3:python3 git:git curl:curl valgrind:valgrind node:nodejs npm:npm
chromium:chromium shellcheck:shellcheck"

missing=""
for p in $LIBS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
		missing="$missing $p"
done
for t in $TOOLS; do
	command -v "${t%%:*}" >/dev/null 2>&1 || missing="$missing ${t#*:}"
done

if [ -n "$missing" ]; then
	echo "installing:$missing"
	sudo=""
	[ "$(id -u)" = 0 ] || sudo=sudo
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing
fi
