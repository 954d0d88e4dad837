#!/bin/sh
# make fuzz-regress: every input of tests/fuzz/regress/<name>/ (crashes
# found and fixed) and tests/fuzz/corpus/<name>/ (the seeds) run once
# through its target. Usage: sh tests/fuzz/regress.sh NAME...
status=0
passed=0
failed=0
for t in "$@"; do
	files=$(find tests/fuzz/regress/$t tests/fuzz/corpus/$t -type f 2>/dev/null | sort)
	[ -n "$files" ] || continue
	n=$(echo "$files" | wc -l)
	if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		build/fuzz/fuzz_$t -close_fd_mask=2 $files >build/fuzz/regress-$t.log 2>&1; then
		echo "ok   $t ($n inputs)"
		passed=$((passed + 1))
	else
		echo "FAIL $t: see build/fuzz/regress-$t.log"
		grep -m3 -E 'ERROR: |runtime error|SUMMARY|Running: ' build/fuzz/regress-$t.log | tail -3
		failed=$((failed + 1))
		status=1
	fi
done
echo "$passed passed, $failed failed"
exit $status
