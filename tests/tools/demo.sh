#!/bin/sh
# make demo: every architecture up on the local target (in parallel: each
# stack has its own supervisor and emulator), one bench of them all with
# the latency and cost table and an HTML report, then destroy, even when
# something failed. No AWS account is used.
#   tests/tools/demo.sh ./deployctl REQUESTS REPORT ARCH...
set -u
bin=$1 n=$2 report=$3
shift 3
state=$(mktemp -d /tmp/deployctl-demo-XXXXXX)
logs=$(mktemp -d /tmp/deployctl-demo-logs-XXXXXX)
export DEPLOYCTL_STATE_DIR="$state"
# Compiled handlers: one build cache, and Debian's packaged Rust crates
# offline where they are installed (crates.io may be out of reach).
eval "$(python3 "$(dirname "$0")/toolchain.py")"
trap '"$bin" -q destroy --all; rm -rf "$state" "$logs"' EXIT
trap 'exit 130' INT TERM

echo "== up --target local, $# architectures in parallel"
start=$(date +%s)
for arch in "$@"; do
	("$bin" -q up "$arch" --target local >"$logs/$arch.out" 2>"$logs/$arch.err"
	 echo $? >"$logs/$arch.rc") &
done
wait
failed=0
for arch in "$@"; do
	if [ "$(cat "$logs/$arch.rc")" = 0 ]; then
		printf '   %-24s %s\n' "$arch" "$(tail -n 1 "$logs/$arch.out")"
	else
		cat "$logs/$arch.err" >&2
		failed=1
	fi
done
echo "   all up in $(($(date +%s) - start)) s"
[ "$failed" = 0 ] || exit 1

echo "== bench -n $n"
"$bin" bench -n "$n" --report "$report" || exit 1
echo "report: $report"
