/* What the Lambda bill is computed from, read where AWS writes it: the
 * REPORT line of every invocation in the function's CloudWatch log group
 * (Logs FilterLogEvents), and fresh execution environments on demand for
 * cold-start measurements (a configuration change the function does not
 * use: an environment variable DEPLOYCTL_BENCH_COLD). */
#ifndef DC_BENCH_LAMBDA_H
#define DC_BENCH_LAMBDA_H

#include <stdint.h>

struct dc_aws;

#define DC_LAMBDA_COLD_VAR "DEPLOYCTL_BENCH_COLD"

struct dc_lambda_report {
	double duration_ms;
	double billed_ms;
	int memory_size_mb;
	int max_memory_used_mb;
	double init_ms; /* 0: a warm invocation */
};

/* Parse "REPORT RequestId: ... Duration: 12.34 ms Billed Duration: 13 ms
 * Memory Size: 128 MB Max Memory Used: 70 MB [Init Duration: 150.1 ms]";
 * -1 for anything else. */
int dc_lambda_report_parse(struct dc_lambda_report *out, const char *line);

struct dc_lambda_usage {
	long reports;        /* REPORT lines found */
	long cold;           /* of which with an Init Duration */
	double billed_ms_sum;
	double cold_billed_ms_sum; /* of the cold ones */
	double duration_ms_sum;
	double init_ms_sum;
	int memory_size_mb;
	int max_memory_used_mb; /* the highest seen */
};

void dc_lambda_usage_add(struct dc_lambda_usage *u, const struct dc_lambda_report *r);

/* Add the REPORT lines of `log_group` with timestamps in [start_ms, end_ms]
 * (every page) to *u. */
int dc_lambda_usage_fetch(struct dc_lambda_usage *u, struct dc_aws *aws, const char *log_group,
			  int64_t start_ms, int64_t end_ms);

/* Set DC_LAMBDA_COLD_VAR to `value` (NULL: remove it) in the function's
 * environment, keeping its other variables, and wait (bounded) until the
 * update is done, so the next call gets a new execution environment. */
int dc_lambda_set_cold_marker(struct dc_aws *aws, const char *function, const char *value);

#endif
