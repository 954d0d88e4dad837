/* Load generation against one URL: the first request alone on a new
 * connection (reported apart, it pays for DNS, TCP and TLS), then warm-up
 * requests that are not recorded, then the measured ones, each on a
 * kept-alive HTTP/1.1 connection, `concurrency` at a time (1: strictly
 * sequential on one connection, as the original comparison measured).
 * libcurl opens the connections; bench sends GET requests and reads the
 * answers itself. A connection the server closes is opened again for the
 * next request; the request it was closed under counts as failed, it is
 * not retried. Latencies of successful requests go into a dc_hist in
 * microseconds; failures are counted by kind. Memory does not grow with
 * the number of requests. */
#ifndef DC_BENCH_BENCH_H
#define DC_BENCH_BENCH_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "bench/hist.h"

enum dc_bench_err {
	DC_BENCH_ERR_CONNECT, /* could not resolve or connect */
	DC_BENCH_ERR_TLS,     /* handshake or certificate */
	DC_BENCH_ERR_TIMEOUT, /* no complete answer within the timeout */
	DC_BENCH_ERR_HTTP,    /* an answer with a status outside 200-399 */
	DC_BENCH_ERR_CLOSED,  /* the server closed or reset the connection mid-request */
	DC_BENCH_ERR_OTHER,
	DC_BENCH_ERR_KINDS
};

/* "connect", "tls", "timeout", "http", "closed", "other". */
const char *dc_bench_err_name(enum dc_bench_err kind);

#define DC_BENCH_STATUSES 8

struct dc_bench_options {
	const char *url;
	long requests;       /* measured requests; 0: no limit (then duration_s is one) */
	int concurrency;     /* >= 1 */
	double duration_s;   /* 0: none; else stop starting requests after this long */
	long warmup;         /* requests after the first, not recorded */
	long timeout_ms;     /* per request */
	FILE *progress;      /* a progress bar, or NULL */
	const char *label;   /* shown in the progress bar */
	volatile sig_atomic_t *stop; /* set (by a signal handler) to stop early, or NULL */
};

struct dc_bench_result {
	struct dc_hist hist;          /* successful measured requests, microseconds */
	long requests;                /* measured requests completed (ok + errors) */
	long sent;                    /* requests completed in every phase */
	long ok;
	long errors[DC_BENCH_ERR_KINDS];
	struct { int status; long n; } statuses[DC_BENCH_STATUSES]; /* of the http errors */
	char first_error[256];        /* the first failure's message, or "" */
	double first_ms;              /* the first request, on a new connection */
	int first_ok;
	double elapsed_s;             /* wall time of the measured phase */
	uint64_t bytes;               /* body bytes received in the measured phase */
	double start_epoch_ms;        /* wall clock at the first request */
	double end_epoch_ms;          /* ... and when the last one ended */
	int interrupted;              /* stopped by opt->stop */
};

/* -1 with a message unless url is an http or https URL libcurl accepts. */
int dc_bench_check_url(const char *url);

/* Run the benchmark. -1 only when it could not run at all (a URL curl
 * rejects); failed requests are results, not failures. */
int dc_bench_run(struct dc_bench_result *out, const struct dc_bench_options *opt);

/* Measured requests per second. */
double dc_bench_throughput(const struct dc_bench_result *r);
long dc_bench_error_total(const struct dc_bench_result *r);

#endif
