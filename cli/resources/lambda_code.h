/* A function's code folder as Lambda takes it: every file under the folder
 * (recursively, sorted by path), zipped in memory so that the same sources
 * always give the same bytes, and hashed so a changed file is noticed. */
#ifndef DC_LAMBDA_CODE_H
#define DC_LAMBDA_CODE_H

#include <stddef.h>

#include "util/buf.h"

struct dc_lambda_file {
	char *path;  /* relative to the folder, '/'-separated */
	char *data;
	size_t len;
	int exec;    /* any execute bit set: stored as 0755, else 0644 */
};

struct dc_lambda_code {
	struct dc_lambda_file *files;
	size_t n;
};

/* Read every regular file under dir (symlinks followed; ".git" and
 * "__pycache__" folders skipped, as they are no part of the sources). An
 * empty folder is an error. Dispose *out either way. */
int dc_lambda_code_read(struct dc_lambda_code *out, const char *dir);
void dc_lambda_code_dispose(struct dc_lambda_code *code);

/* Hex SHA-256 of the sorted paths, modes and contents (not of the zip). */
void dc_lambda_code_hash(char out[65], const struct dc_lambda_code *code);

/* Append the zip to out: deflated, every entry dated 1980-01-01 00:00 with
 * Unix mode 0644 or 0755. */
int dc_lambda_code_zip(struct dc_buf *out, const struct dc_lambda_code *code);

/* The hex source hash of the folder at dir (read, hashed, disposed). */
int dc_lambda_code_hash_dir(char out[65], const char *dir);

#endif
