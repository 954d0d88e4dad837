/* Time dc_state_save: the engine calls it after every AWS create, so its
 * cost is paid once per resource. Usage: state_bench [saves] [dir]
 * (default 200 saves in a fresh directory under /tmp; run it on the disk
 * the state will live on). Prints ms per save: mean, median, max. */
#include <unistd.h>

#include "stack/state.h"
#include "util/error.h"
#include "util/xalloc.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* A document of the size an architecture makes: a dozen resources. */
static json_t *make_doc(int round)
{
	json_t *resources = json_object();
	for (int i = 0; i < 12; i++) {
		char id[32], name[64];
		snprintf(id, sizeof(id), "res%d", i);
		snprintf(name, sizeof(name), "bench-res%d-%d", i, i <= round % 12 ? round : 0);
		json_object_set_new(resources, id,
				    json_pack("{s:s, s:s, s:{s:s, s:i}, s:{s:s, s:s}}", "type",
					      "lambda.function", "status", "created", "props",
					      "handler", "app.handler", "memory_mb", 128, "attrs",
					      "id", name, "arn",
					      "arn:aws:lambda:eu-west-2:123456789012:function:x"));
	}
	return json_pack("{s:i, s:s, s:s, s:s, s:o, s:{}}", "version", DC_STATE_VERSION, "name",
			 "bench", "target", "aws", "region", "eu-west-2", "resources", resources,
			 "outputs");
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 200;
	char tmpl[] = "/tmp/deployctl-state-bench-XXXXXX";
	char *dir = argc > 2 ? dc_xstrdup(argv[2]) : NULL;
	if (!dir) {
		if (!mkdtemp(tmpl))
			return 1;
		dir = dc_xasprintf("%s/st", tmpl);
	}
	struct dc_state *st = NULL;
	if (n < 1 || dc_state_open(&st, dir) < 0) {
		fprintf(stderr, "state_bench: %s\n", dc_error_last()->message);
		return 1;
	}
	double *ms = dc_xcalloc((size_t)n, sizeof(*ms)), total = 0;
	for (int i = 0; i < n; i++) {
		json_t *doc = make_doc(i);
		char message[64];
		snprintf(message, sizeof(message), "bench: created res%d", i % 12);
		double t0 = now_ms();
		int rc = dc_state_save(st, "bench", doc, message);
		ms[i] = now_ms() - t0;
		total += ms[i];
		json_decref(doc);
		if (rc < 0) {
			fprintf(stderr, "state_bench: %s\n", dc_error_last()->message);
			return 1;
		}
	}
	qsort(ms, (size_t)n, sizeof(*ms), compare);
	printf("dc_state_save: %d saves, mean %.2f ms, median %.2f ms, max %.2f ms\n", n, total / n,
	       ms[n / 2], ms[n - 1]);
	dc_state_free(st);
	free(ms);
	free(dir);
	return 0;
}
