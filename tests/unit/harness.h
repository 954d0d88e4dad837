/* A small clar-style harness: every `void test_<file>__<case>(void)` in
 * tests/unit/test_*.c is found by gen-registry.sh and run by harness.c.
 * A check that fails records the failure and the test goes on, so one run
 * shows every broken expectation. */
#ifndef DC_TEST_HARNESS_H
#define DC_TEST_HARNESS_H

#include <stddef.h>

void dc_test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int dc_test_str_eq(const char *file, int line, const char *expr, const char *got,
		   const char *want);
int dc_test_mem_eq(const char *file, int line, const char *expr, const void *got,
		   size_t got_len, const void *want, size_t want_len);

/* Directory of the shared fixtures (../shared next to the repository). */
const char *dc_test_shared_dir(void);
/* A fresh empty temporary directory for this test, removed afterwards. */
const char *dc_test_tmpdir(void);

#define check(cond)                                                        \
	do {                                                               \
		if (!(cond))                                               \
			dc_test_fail(__FILE__, __LINE__, "%s", #cond);     \
	} while (0)

#define check_int(got, want)                                                       \
	do {                                                                       \
		long long g_ = (long long)(got), w_ = (long long)(want);           \
		if (g_ != w_)                                                      \
			dc_test_fail(__FILE__, __LINE__, "%s: got %lld, want %lld", \
				     #got, g_, w_);                                \
	} while (0)

#define check_str(got, want) dc_test_str_eq(__FILE__, __LINE__, #got, (got), (want))

#endif
