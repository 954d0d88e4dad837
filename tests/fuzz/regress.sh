#!/bin/sh
# Every input of tests/fuzz/regress/<name>/ (crashes found and fixed) and
# tests/fuzz/corpus/<name>/ (the seeds) run once through its target.
#   sh tests/fuzz/regress.sh [NAME...]            libFuzzer builds (make fuzz-regress)
#   sh tests/fuzz/regress.sh --replay [NAME...]   gcc ASan builds (make test)
# Ends with "N passed, M failed" (one per target).
prefix=build/fuzz/fuzz_
extra=-close_fd_mask=2
if [ "$1" = "--replay" ]; then
	prefix=build/asan/fuzz/replay_
	extra=
	shift
fi
if [ $# -eq 0 ]; then
	set -- $(ls tests/fuzz/fuzz_*.c | sed 's|tests/fuzz/fuzz_||;s|\.c$||')
fi
mkdir -p build/fuzz
status=0
passed=0
failed=0
for t in "$@"; do
	files=$(find tests/fuzz/regress/$t tests/fuzz/corpus/$t -type f 2>/dev/null | sort)
	[ -n "$files" ] || continue
	n=$(echo "$files" | wc -l)
	log=build/fuzz/regress-$t.log
	if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$prefix$t $extra $files >$log 2>&1; then
		echo "ok   $t ($n inputs)"
		passed=$((passed + 1))
	else
		echo "FAIL $t: see $log"
		grep -m3 -E 'ERROR: |runtime error|SUMMARY' $log
		failed=$((failed + 1))
		status=1
	fi
done
echo "$passed passed, $failed failed"
exit $status
