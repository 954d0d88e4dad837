/* Test support for code that reads the environment and files: a clean,
 * restorable environment, fixture files in the test's tmpdir, and a way to
 * ask python3 (botocore) the same question as an independent oracle. */
#ifndef DC_TEST_SUPPORT_ENV_H
#define DC_TEST_SUPPORT_ENV_H

/* Save every AWS_* variable and HOME, then unset them all and point HOME
 * at dc_test_tmpdir(), so ~/.aws/ is the test's own. Pair with
 * dc_test_env_end(), which puts the saved environment back exactly. */
void dc_test_env_begin(void);
void dc_test_env_end(void);
/* setenv, or unsetenv for a NULL value. */
void dc_test_env_set(const char *name, const char *value);

/* Write text to dc_test_tmpdir()/relpath (creating directories) with the
 * given mode; returns the full path (caller frees). */
char *dc_test_write_file(const char *relpath, const char *text, int mode);

/* Run python3 -c code with the current environment; its stdout with the
 * final newline removed (caller frees), or NULL when it failed to run. */
char *dc_test_python(const char *code);

#endif
