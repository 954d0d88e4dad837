/* Templates: templates/<arch>/stack.json through dc_template_load (parse,
 * known types, references, params and --param overrides, dependency
 * order). Input: stack.json NUL override lines ("name=value"). The file is
 * written to <tmpfs>/fuzz/stack.json, so "arch" must be "fuzz". */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "opt.h"
#include "stack/template.h"
#include "util/xalloc.h"

static char *path;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *dir = dc_xasprintf("%s/fuzz", fuzz_tmpdir());
	mkdir(dir, 0700);
	path = dc_xasprintf("%s/stack.json", dir);
	free(dir);
	return 0;
}

static void check(const struct dc_template *t)
{
	/* Loaded means ordered: every dependency comes first. */
	for (size_t i = 0; i < t->nres; i++) {
		for (size_t d = 0; d < t->res[i].ndeps; d++)
			if (t->res[i].deps[d] >= i)
				__builtin_trap();
		if (dc_template_find(t, t->res[i].id) != &t->res[i])
			__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = FUZZ_IN(data, size);
	struct dc_strlist overrides = { 0 };
	const uint8_t *part;
	size_t n;
	fuzz_part(&in, '\0', &part, &n);
	fuzz_write_file(path, part, n);
	while (!in.done && fuzz_part(&in, '\n', &part, &n))
		dc_strlist_push(&overrides, fuzz_strndup(part, n));
	struct dc_template *t;
	if (dc_template_load(&t, fuzz_tmpdir(), "fuzz", &overrides) == 0) {
		check(t);
		dc_template_free(t);
	}
	for (size_t i = 0; i < overrides.n; i++)
		free((char *)overrides.v[i]);
	dc_strlist_dispose(&overrides);
	return 0;
}
