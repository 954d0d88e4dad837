/* What bench and cost print: the table users know (architecture, average
 * latency, monthly cost, cost per million calls) with the percentiles, as
 * text, JSON or CSV, and a self-contained HTML report with SVG charts. */
#ifndef DC_BENCH_REPORT_H
#define DC_BENCH_REPORT_H

#include <jansson.h>
#include <stdio.h>

#include "bench/bench.h"
#include "bench/cost.h"
#include "bench/lambda.h"

/* The latency distribution is kept as these percentiles (1..99, 99.5, 99.9,
 * 100): enough to draw it, small enough to keep in state. */
#define DC_CDF_POINTS 102
extern const double dc_cdf_percentiles[DC_CDF_POINTS];

struct dc_latency {
	long requests, ok;
	long errors[DC_BENCH_ERR_KINDS];
	double avg_ms, p50_ms, p90_ms, p99_ms, max_ms, stddev_ms;
	double throughput; /* requests a second */
	double first_ms;   /* the first request, on a new connection */
	double cdf_ms[DC_CDF_POINTS];
	char at[32];       /* when it was measured, ISO 8601 UTC */
};

void dc_latency_from_bench(struct dc_latency *out, const struct dc_bench_result *r, time_t at);
json_t *dc_latency_json(const struct dc_latency *l);
/* -1 when j is not a latency summary. */
int dc_latency_parse(struct dc_latency *out, const json_t *j);

/* The REPORT-line figures as JSON, with billed_ms_warm_avg (the invocations
 * without an Init Duration) when there are any. */
json_t *dc_lambda_usage_json(const struct dc_lambda_usage *u);

struct dc_report_row {
	const char *name;                     /* stack name, or the URL */
	const char *arch;                     /* or NULL */
	const char *url;                      /* or NULL */
	const struct dc_latency *lat;         /* or NULL: not benched */
	const struct dc_bench_result *bench;  /* this run's details, or NULL */
	const struct dc_lambda_usage *lambda; /* or NULL */
	const double *cold_ms;                /* --cold: first call after each change */
	size_t ncold;
	const struct dc_cost *cost;           /* or NULL */
	const struct dc_cost *original;       /* the original comparison's way, or NULL */
	const char *note;                     /* a line about this row, or NULL */
};

struct dc_report {
	struct dc_report_row *rows;
	size_t n;
	const json_t *prices;     /* the price set used, or NULL */
	const char *prices_label; /* where it came from */
	double calls_per_month;   /* 0: not given */
	int explain;
	const json_t *profiles;   /* for summaries and notes, or NULL */
};

void dc_report_text(FILE *out, const struct dc_report *r);
json_t *dc_report_json(const struct dc_report *r);
void dc_report_csv(FILE *out, const struct dc_report *r);
/* One HTML file, no network: the table and three SVG charts (latency
 * distribution per stack, latency against cost per million calls, monthly
 * cost against calls a month with the break-even points). */
void dc_report_html(FILE *out, const struct dc_report *r);

#endif
