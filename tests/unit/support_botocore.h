/* Ask botocore (tests/tools/botocore_oracle.py) what it would do, so that
 * a test compares deployctl with an independent implementation. */
#ifndef DC_TEST_SUPPORT_BOTOCORE_H
#define DC_TEST_SUPPORT_BOTOCORE_H

#include <stddef.h>

/* Run the oracle's `command` with `input` (tab-separated lines) on its
 * standard input; its standard output, malloc'ed. A failure to run it, or a
 * non-zero exit, fails the current test and returns NULL. */
char *dc_test_botocore(const char *command, const char *input);

/* Split the next line of *cursor into at most max tab-separated fields, in
 * place ("-" becomes NULL). Returns the field count, or -1 at the end. */
int dc_test_next_row(char **cursor, const char **fields, int max);

#endif
