#!/bin/sh
# Installs what the app tests need beyond python3: the AWS SDK for JavaScript
# v3 clients the Node.js Lambda runtime provides, at the versions pinned in
# package-lock.json. Called by `make deps`.
set -eu
cd "$(dirname "$0")"
if ! command -v npm >/dev/null 2>&1; then
	echo "tests/app/install.sh: npm not found; install nodejs and npm" >&2
	exit 1
fi
npm ci --no-audit --no-fund --loglevel=error
