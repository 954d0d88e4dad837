/* sigv4-driver: the signer behind a JSON-lines pipe, for the differential
 * test against botocore (tests/sigv4/differential.py) and the benchmark
 * (tests/bench/sign_bench.py).
 *
 * Each input line is one request:
 *   {"method", "url", "headers": [[name, value], ...], "body", "region",
 *    "service", "s3": bool, "access_key", "secret_key", "token",
 *    "time": epoch, "presign": bool, "expires": n,
 *    optional "unsigned_payload", "sign_body", "no_normalize": bool}
 * and gets one output line:
 *   {"authorization", "url" (presigned, or null), "canonical_request",
 *    "headers": [[name, value], ...] (after signing)} or {"error": message}.
 *
 * sigv4-driver --bench [--rounds N] reads every line first, then signs the
 * whole set N times and prints {"requests", "signatures", "failures",
 * "seconds", "per_second" (over all rounds), "best_per_second" (the fastest
 * round)}: JSON parsing and output are outside the timed part. */
#include <jansson.h>
#include <time.h>

#include "aws/credentials.h"
#include "aws/sigv4.h"
#include "util/error.h"
#include "util/xalloc.h"

struct job {
	struct dc_http_request req;
	struct dc_credentials creds;
	struct dc_sigv4_params params;
	char *region;
	char *service;
	int presign;
};

static char *dup_member(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s ? dc_xstrdup(s) : NULL;
}

static int add_headers(struct dc_headers *h, json_t *list)
{
	size_t i;
	json_t *pair;
	json_array_foreach(list, i, pair)
	{
		const char *name = json_string_value(json_array_get(pair, 0));
		const char *value = json_string_value(json_array_get(pair, 1));
		if (!name || !value)
			return dc_error_set("header %zu is not a [name, value] pair", i);
		dc_headers_add(h, name, value);
	}
	return 0;
}

static int job_init(struct job *j, json_t *in)
{
	memset(j, 0, sizeof(*j));
	j->req.method = dup_member(in, "method");
	j->req.url = dup_member(in, "url");
	j->req.headers = (struct dc_headers)DC_HEADERS_INIT;
	dc_buf_init(&j->req.body, DC_MAX_FILE);
	json_t *body = json_object_get(in, "body");
	if (json_is_string(body) &&
	    dc_buf_put(&j->req.body, json_string_value(body), json_string_length(body)) < 0)
		return -1;
	j->creds.access_key_id = dup_member(in, "access_key");
	j->creds.secret_access_key = dup_member(in, "secret_key");
	j->creds.session_token = dup_member(in, "token");
	j->region = dup_member(in, "region");
	j->service = dup_member(in, "service");
	j->presign = json_is_true(json_object_get(in, "presign"));
	struct dc_sigv4_params *p = &j->params;
	p->creds = &j->creds;
	p->region = j->region;
	p->service = j->service;
	p->now = (time_t)json_integer_value(json_object_get(in, "time"));
	p->s3 = json_is_true(json_object_get(in, "s3"));
	p->sign_body = json_is_true(json_object_get(in, "sign_body"));
	p->unsigned_payload = json_is_true(json_object_get(in, "unsigned_payload"));
	p->no_normalize = json_is_true(json_object_get(in, "no_normalize"));
	p->expires = (long)json_integer_value(json_object_get(in, "expires"));
	return add_headers(&j->req.headers, json_object_get(in, "headers"));
}

static void job_dispose(struct job *j)
{
	free(j->req.method);
	free(j->req.url);
	dc_headers_dispose(&j->req.headers);
	dc_buf_dispose(&j->req.body);
	free(j->creds.access_key_id);
	free(j->creds.secret_access_key);
	free(j->creds.session_token);
	free(j->region);
	free(j->service);
}

static json_t *headers_json(const struct dc_headers *h)
{
	json_t *list = json_array();
	for (size_t i = 0; i < h->n; i++)
		json_array_append_new(list, json_pack("[ss]", h->v[i].name, h->v[i].value));
	return list;
}

/* Sign one job and describe the result; NULL with a dc_error on failure. */
static json_t *run_job(struct job *j)
{
	struct dc_buf canon = DC_BUF_INIT((size_t)16 << 20);
	char *url = NULL;
	json_t *out = NULL;
	if (dc_sigv4_canonical_request(&canon, &j->req, &j->params, j->presign) < 0)
		goto done;
	if (j->presign ? dc_sigv4_presign(&url, &j->req, &j->params) < 0
		       : dc_sigv4_sign(&j->req, &j->params) < 0)
		goto done;
	const char *auth = dc_headers_get(&j->req.headers, "authorization");
	out = json_pack("{s:o, s:o, s:s%, s:o}", "authorization", auth ? json_string(auth) : json_null(),
			"url", url ? json_string(url) : json_null(), "canonical_request",
			dc_buf_cstr(&canon), canon.len, "headers", headers_json(&j->req.headers));
	if (!out)
		dc_error_set("result is not valid utf-8");
done:
	free(url);
	dc_buf_dispose(&canon);
	return out;
}

static void print_line(json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT);
	puts(s ? s : "{\"error\":\"cannot serialise the result\"}");
	free(s);
}

static int serve(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, stdin)) > 0) {
		json_error_t err;
		struct job j;
		json_t *in = json_loadb(line, (size_t)n, JSON_ALLOW_NUL, &err), *out = NULL;
		if (!in)
			dc_error_set("bad json line: %s", err.text);
		else if (job_init(&j, in) == 0)
			out = run_job(&j);
		if (in)
			job_dispose(&j);
		if (!out)
			out = json_pack("{ss}", "error", dc_error_last()->message);
		print_line(out);
		json_decref(out);
		json_decref(in);
		fflush(stdout);
	}
	free(line);
	return 0;
}

static double seconds_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct job *read_jobs(size_t *count)
{
	char *line = NULL;
	size_t cap = 0, n = 0, jcap = 0;
	ssize_t len;
	struct job *v = NULL;
	while ((len = getline(&line, &cap, stdin)) > 0) {
		json_error_t err;
		json_t *in = json_loadb(line, (size_t)len, JSON_ALLOW_NUL, &err);
		if (!in)
			continue;
		dc_xgrow((void **)&v, &jcap, n + 1, sizeof(*v));
		if (job_init(&v[n], in) == 0)
			n++;
		else
			job_dispose(&v[n]);
		json_decref(in);
	}
	free(line);
	for (size_t i = 0; i < n; i++)
		v[i].params.creds = &v[i].creds; /* the array moved as it grew */
	*count = n;
	return v;
}

/* The timed loop: exactly what a caller pays per request, Authorization
 * header or presigned URL included. */
static int sign_all(struct job *v, size_t n, int rounds, size_t *failures)
{
	for (int r = 0; r < rounds; r++) {
		for (size_t i = 0; i < n; i++) {
			char *url = NULL;
			int rc = v[i].presign ? dc_sigv4_presign(&url, &v[i].req, &v[i].params)
					      : dc_sigv4_sign(&v[i].req, &v[i].params);
			*failures += rc < 0;
			free(url);
		}
	}
	return 0;
}

/* Each round is timed on its own: on a shared machine the fastest round
 * is the one least disturbed by others. */
static int bench(int rounds)
{
	size_t n = 0, failures = 0;
	struct job *v = read_jobs(&n);
	sign_all(v, n, 1, &failures); /* warm up: caches, allocator, key cache */
	double total_time = 0, best = 0;
	for (int r = 0; r < rounds; r++) {
		double t0 = seconds_now();
		sign_all(v, n, 1, &failures);
		double dt = seconds_now() - t0;
		total_time += dt;
		best = (r == 0 || dt < best) ? dt : best;
	}
	size_t total = n * (size_t)rounds;
	printf("{\"requests\":%zu,\"signatures\":%zu,\"failures\":%zu,\"seconds\":%.6f,"
	       "\"per_second\":%.1f,\"best_per_second\":%.1f}\n",
	       n, total, failures, total_time, total_time > 0 ? (double)total / total_time : 0.0,
	       best > 0 ? (double)n / best : 0.0);
	for (size_t i = 0; i < n; i++)
		job_dispose(&v[i]);
	free(v);
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	int rounds = 5, bench_mode = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--bench") == 0) {
			bench_mode = 1;
		} else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
			rounds = (int)strtol(argv[++i], NULL, 10);
		} else {
			fprintf(stderr, "usage: sigv4-driver [--bench [--rounds N]] < requests.jsonl\n");
			return 2;
		}
	}
	if (rounds < 1)
		rounds = 1;
	return bench_mode ? bench(rounds) : serve();
}
