/* Building a compiled function (a Lambda custom runtime) from its sources
 * with the user's own toolchain, into a folder that runs on Amazon Linux
 * 2023 whatever the build machine's C library:
 *
 *   bootstrap        a small static program that starts bin/handler through
 *                    the bundled dynamic loader, with only lib/ searched
 *   bin/handler      the compiled handler
 *   lib/             the dynamic loader and every shared library the
 *                    handler needs, found from its ELF headers
 *
 * (A statically linked handler is the bootstrap itself.) Builds are kept in
 * a cache folder keyed by the sources' hash, kind and architecture, so the
 * same sources are compiled once. */
#ifndef DC_LAMBDA_BUILD_H
#define DC_LAMBDA_BUILD_H

#include "resources/lambda_code.h"

struct dc_lambda_build {
	const char *kind;  /* "cpp" (g++, every .cpp file, libcurl + OpenSSL) or
			    * "rust" (cargo, a binary named "bootstrap") */
	const char *arch;  /* Lambda's "x86_64" or "arm64" */
	const char *who;   /* named in messages: "lambda-rust-dynamodb needs cargo" */
	const char *hash;  /* hex hash of the sources (dc_lambda_code_hash) */
	const struct dc_lambda_code *src;
};

/* 0 when kind names a known recipe, else -1 with a message. */
int dc_lambda_build_check_kind(const char *kind);

/* The folder this build lives in: <cache>/<hash>-<kind>-<arch>, where the
 * cache is $XDG_CACHE_HOME/deployctl/build or ~/.cache/deployctl/build.
 * NULL (with a message) when neither variable is set. Caller frees. */
char *dc_lambda_build_dir(const struct dc_lambda_build *b);

/* 1 when dir already holds a finished package, else 0. */
int dc_lambda_build_done(const char *dir);

/* Build into dir (from dc_lambda_build_dir) unless already done; *out is
 * then dir/pkg, the folder to zip (caller frees). A missing toolchain, or
 * an architecture this machine cannot build for, is one line saying what
 * to install; a failed compile names the log file in dir. */
int dc_lambda_build_run(char **out, const struct dc_lambda_build *b, const char *dir);

#endif
