/* A main for the fuzz targets without libFuzzer: run each file named on
 * the command line once through LLVMFuzzerTestOneInput. Linked with the
 * gcc ASan+UBSan build, it is how `make test` replays the regressions and
 * seeds (tests/fuzz/regress.sh) without a clang build. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>

#include "util/buf.h"

/* Only some targets have one. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

int main(int argc, char **argv)
{
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		struct dc_buf b = DC_BUF_INIT(DC_MAX_FILE);
		if (dc_buf_read_file(&b, argv[i]) < 0) {
			fprintf(stderr, "replay: cannot read %s\n", argv[i]);
			return 2;
		}
		LLVMFuzzerTestOneInput((const uint8_t *)(b.ptr ? b.ptr : ""), b.len);
		dc_buf_dispose(&b);
		fprintf(stderr, "Executed %s\n", argv[i]);
	}
	return 0;
}
