/* What the fuzz targets (tests/fuzz/fuzz_<name>.c) share: each is one
 * libFuzzer LLVMFuzzerTestOneInput over one parser of outside input, built
 * with ASan+UBSan against the library (make fuzz, make fuzz-regress). */
#ifndef DC_FUZZ_H
#define DC_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A NUL-terminated malloc'ed copy of n bytes. */
char *fuzz_strndup(const uint8_t *data, size_t n);

/* The input read piece by piece, each ending at a separator byte. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
	int done;
};
#define FUZZ_IN(data, size) { (data), (size), 0 }

/* The next piece up to sep (or the end): 1 with *part and *n (not
 * NUL-terminated), 0 once the input is used up. */
int fuzz_part(struct fuzz_in *in, int sep, const uint8_t **part, size_t *n);

/* A fresh directory under /dev/shm (or $TMPDIR), removed at exit. */
const char *fuzz_tmpdir(void);

/* Write n bytes to path, replacing it. Aborts on failure. */
void fuzz_write_file(const char *path, const void *data, size_t n);



/* ---- the local target's supervisor (fuzz_runtime_api, fuzz_gateway) ---- */
struct sv_fn;

/* The supervisor's lock and one function "fn" in sv.fns, with no process:
 * the fuzz target plays its runtime through the Runtime API. */
struct sv_fn *fuzz_sv_function(void);

/* One request to fn's Runtime API handler; when it hands out an event,
 * its request id is copied to id (64 bytes). Returns the status. */
int fuzz_runtime_call(struct sv_fn *fn, const char *method, const char *target,
		      const void *body, size_t n, char *id);

/* 1 when an event waits in fn's queue (takes the lock). */
int fuzz_sv_queued(struct sv_fn *fn);
#endif
