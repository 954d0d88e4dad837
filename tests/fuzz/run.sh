#!/bin/sh
# make fuzz: run each target for $1 seconds, one after another, and print
# one line per target with libFuzzer's final numbers. Usage:
#   sh tests/fuzz/run.sh SECONDS NAME...
# New inputs go to build/fuzz/corpus/<name> (seeded from
# tests/fuzz/corpus/<name>), a crash, leak or hang to build/fuzz/crash/<name>/,
# the whole output to build/fuzz/log/<name>.log.
secs=$1
shift
status=0
summary=""
for t in "$@"; do
	bin=build/fuzz/fuzz_$t
	maxlen=$(sed -n "s/^$t[[:space:]]\{1,\}//p" tests/fuzz/max_len)
	mkdir -p build/fuzz/corpus/$t build/fuzz/crash/$t build/fuzz/log
	dict=""
	[ -f tests/fuzz/$t.dict ] && dict="-dict=tests/fuzz/$t.dict"
	log=build/fuzz/log/$t.log
	echo "== fuzz $t (${secs}s, max_len ${maxlen:-4096})"
	# close_fd_mask=2: the library's own stderr (the supervisor's log lines)
	# is dropped; libFuzzer and sanitizer reports still reach the log.
	ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	$bin -max_total_time="$secs" -max_len="${maxlen:-4096}" -timeout=10 \
		-rss_limit_mb=2048 -close_fd_mask=2 -print_final_stats=1 $dict \
		-artifact_prefix=build/fuzz/crash/$t/ \
		build/fuzz/corpus/$t tests/fuzz/corpus/$t >"$log" 2>&1
	rc=$?
	done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(echo "$done_line" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$done_line" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$done_line" | sed -n 's/.*corp: \([0-9]*\).*/\1/p')
	if [ $rc -ne 0 ]; then
		status=1
		line="$t: FAILED (exit $rc) after ${execs:-?} execs; see $log and build/fuzz/crash/$t/"
		grep -m3 -E 'ERROR: |runtime error|SUMMARY' "$log"
	else
		line="$t: ${secs}s, ${execs:-?} execs, cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}"
	fi
	echo "$line"
	summary="$summary$line
"
done
echo "== fuzz summary"
printf '%s' "$summary"
exit $status
