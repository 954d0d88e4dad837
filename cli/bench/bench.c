/* The load generator: a fixed set of easy handles, one per concurrent
 * request, cycled through one multi handle. A handle that finishes is taken
 * out and put back in with the same options, so its connection stays in the
 * multi's cache and the next request reuses it. */
#include <curl/curl.h>
#include <time.h>

#include "bench/bench.h"
#include "util/error.h"
#include "util/xalloc.h"

#define PROGRESS_EVERY_S 0.1
#define BAR_WIDTH 30

struct slot {
	CURL *easy;
	int busy;
	char errbuf[CURL_ERROR_SIZE];
};

struct run {
	const struct dc_bench_options *opt;
	struct dc_bench_result *res;
	CURLM *multi;
	struct slot *slots;
	struct slot **idle;
	int nidle;
	uint64_t bytes;
	int phase; /* 0 first, 1 warm-up, 2 measured */
	long target;
	double t0, deadline, next_progress;
};

static const char *const err_names[DC_BENCH_ERR_KINDS] = {
	"connect", "tls", "timeout", "http", "closed", "other"
};

const char *dc_bench_err_name(enum dc_bench_err kind)
{
	return kind < DC_BENCH_ERR_KINDS ? err_names[kind] : "other";
}

static double now_s(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	*(uint64_t *)arg += size * n;
	return size * n;
}

static enum dc_bench_err classify(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		return DC_BENCH_ERR_CONNECT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_USE_SSL_FAILED:
		return DC_BENCH_ERR_TLS;
	case CURLE_OPERATION_TIMEDOUT:
		return DC_BENCH_ERR_TIMEOUT;
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
		return DC_BENCH_ERR_CLOSED;
	default:
		return DC_BENCH_ERR_OTHER;
	}
}

static void count_status(struct dc_bench_result *res, int status)
{
	for (int i = 0; i < DC_BENCH_STATUSES; i++) {
		if (res->statuses[i].status == status || res->statuses[i].status == 0) {
			res->statuses[i].status = status;
			res->statuses[i].n++;
			return;
		}
	}
}

static void note_error(struct dc_bench_result *res, const char *fmt, const char *detail)
{
	if (!res->first_error[0])
		snprintf(res->first_error, sizeof(res->first_error), fmt, detail);
}

/* Account for one finished request. */
static void finish(struct run *r, struct slot *s, CURLcode rc)
{
	struct dc_bench_result *res = r->res;
	long status = 0;
	curl_off_t us = 0;
	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(s->easy, CURLINFO_TOTAL_TIME_T, &us);
	int ok = rc == CURLE_OK && status >= 200 && status < 400;
	if (rc != CURLE_OK)
		note_error(res, "%s", s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc));
	else if (!ok) {
		char st[16];
		snprintf(st, sizeof(st), "%ld", status);
		note_error(res, "HTTP status %s", st);
	}
	res->sent++;
	if (r->phase == 0) {
		res->first_ms = (double)us / 1000.0;
		res->first_ok = ok;
	}
	if (r->phase != 2)
		return;
	res->requests++;
	if (ok) {
		res->ok++;
		dc_hist_record(&res->hist, (uint64_t)us);
	} else if (rc == CURLE_OK) {
		res->errors[DC_BENCH_ERR_HTTP]++;
		count_status(res, (int)status);
	} else {
		res->errors[classify(rc)]++;
	}
}

static void progress(struct run *r, int last)
{
	FILE *f = r->opt->progress;
	double t = now_s(CLOCK_MONOTONIC);
	if (!f || r->phase != 2 || (!last && t < r->next_progress))
		return;
	r->next_progress = t + PROGRESS_EVERY_S;
	if (last) {
		fputs("\r\033[K", f);
		fflush(f);
		return;
	}
	const struct dc_bench_result *res = r->res;
	double frac = r->target ? (double)res->requests / (double)r->target : 0;
	if (r->deadline > 0 && (t - r->t0) / (r->deadline - r->t0) > frac)
		frac = (t - r->t0) / (r->deadline - r->t0);
	if (frac > 1)
		frac = 1;
	char bar[BAR_WIDTH + 1];
	int fill = (int)(frac * BAR_WIDTH);
	for (int i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < fill ? '#' : ' ';
	bar[BAR_WIDTH] = '\0';
	fprintf(f, "\r%s [%s] %ld requests, %.2f ms avg, %ld errors\033[K",
		r->opt->label ? r->opt->label : "", bar, res->requests,
		dc_hist_mean(&res->hist) / 1000.0, dc_bench_error_total(res));
	fflush(f);
}

static int stopped(const struct run *r)
{
	return r->opt->stop && *r->opt->stop;
}

/* Take every finished transfer out of the multi and account for it. */
static int reap(struct run *r)
{
	int done = 0, left;
	CURLMsg *m;
	while ((m = curl_multi_info_read(r->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		struct slot *s;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
		CURLcode rc = m->data.result;
		curl_multi_remove_handle(r->multi, s->easy);
		finish(r, s, rc);
		s->busy = 0;
		r->idle[r->nidle++] = s;
		done++;
	}
	return done;
}

static int may_start(const struct run *r, long started, long count)
{
	if (stopped(r) || (count && started >= count))
		return 0;
	return !(r->deadline > 0 && now_s(CLOCK_MONOTONIC) >= r->deadline);
}

/* Keep up to `conc` requests in flight until `count` were started (0: no
 * limit) or the deadline passed, then wait for them all. On a stop, the
 * requests in flight are dropped unmeasured. */
static void phase(struct run *r, long count, int conc)
{
	long started = 0;
	int active = 0, running;
	for (;;) {
		while (active < conc && r->nidle > 0 && may_start(r, started, count)) {
			struct slot *s = r->idle[--r->nidle];
			s->errbuf[0] = '\0';
			s->busy = 1;
			curl_multi_add_handle(r->multi, s->easy);
			started++;
			active++;
		}
		if (active == 0)
			break;
		curl_multi_perform(r->multi, &running);
		active -= reap(r);
		if (stopped(r))
			break;
		progress(r, 0);
		if (active > 0 && running > 0)
			curl_multi_poll(r->multi, NULL, 0, 100, NULL);
	}
	for (int i = 0; active > 0 && i < r->opt->concurrency; i++) {
		struct slot *s = &r->slots[i];
		if (!s->busy)
			continue;
		curl_multi_remove_handle(r->multi, s->easy);
		s->busy = 0;
		r->idle[r->nidle++] = s;
	}
}

/* As allocation failure: nothing sensible is left to do. */
static void die(const char *what)
{
	fprintf(stderr, "deployctl: %s\n", what);
	abort();
}

static void setup_slot(struct run *r, struct slot *s)
{
	const struct dc_bench_options *opt = r->opt;
	s->easy = curl_easy_init();
	if (!s->easy)
		die("cannot create a libcurl handle");
	curl_easy_setopt(s->easy, CURLOPT_URL, opt->url);
	curl_easy_setopt(s->easy, CURLOPT_PRIVATE, (char *)s);
	curl_easy_setopt(s->easy, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, &r->bytes);
	curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, opt->timeout_ms);
	/* One request per connection at a time, as the original and wrk do. */
	curl_easy_setopt(s->easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(s->easy, CURLOPT_USERAGENT, "deployctl/" DC_VERSION " bench");
	curl_easy_setopt(s->easy, CURLOPT_PROTOCOLS_STR, "http,https");
}

int dc_bench_check_url(const char *url)
{
	CURLU *u = curl_url();
	int rc = curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK ? 0 : -1;
	char *scheme = NULL;
	if (rc == 0 && curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
		rc = -1;
	curl_free(scheme);
	curl_url_cleanup(u);
	return rc < 0 ? dc_error_set("cannot bench '%s': not an http or https URL", url) : 0;
}

static void measure(struct run *r)
{
	const struct dc_bench_options *opt = r->opt;
	r->phase = 2;
	r->target = opt->requests;
	uint64_t bytes0 = r->bytes;
	r->t0 = now_s(CLOCK_MONOTONIC);
	r->deadline = opt->duration_s > 0 ? r->t0 + opt->duration_s : 0;
	phase(r, opt->requests, opt->concurrency);
	r->res->elapsed_s = now_s(CLOCK_MONOTONIC) - r->t0;
	r->res->bytes = r->bytes - bytes0;
	progress(r, 1);
}

int dc_bench_run(struct dc_bench_result *out, const struct dc_bench_options *opt)
{
	memset(out, 0, sizeof(*out));
	dc_hist_init(&out->hist);
	if (dc_bench_check_url(opt->url) < 0)
		return -1;
	int conc = opt->concurrency > 0 ? opt->concurrency : 1;
	struct run r = { .opt = opt, .res = out };
	r.multi = curl_multi_init();
	if (!r.multi)
		die("cannot create a libcurl handle");
	curl_multi_setopt(r.multi, CURLMOPT_MAXCONNECTS, (long)conc);
	r.slots = dc_xcalloc((size_t)conc, sizeof(*r.slots));
	r.idle = dc_xcalloc((size_t)conc, sizeof(*r.idle));
	for (int i = conc - 1; i >= 0; i--) {
		setup_slot(&r, &r.slots[i]);
		r.idle[r.nidle++] = &r.slots[i];
	}
	out->start_epoch_ms = now_s(CLOCK_REALTIME) * 1000.0;
	phase(&r, 1, 1);
	/* Every connection is opened before measuring, unless asked otherwise. */
	long warm = opt->warmup > 0 && opt->warmup < conc ? conc : opt->warmup;
	r.phase = 1;
	if (warm > 0 && !stopped(&r))
		phase(&r, warm, conc);
	if (!stopped(&r))
		measure(&r);
	out->end_epoch_ms = now_s(CLOCK_REALTIME) * 1000.0;
	out->interrupted = stopped(&r);
	for (int i = 0; i < conc; i++)
		curl_easy_cleanup(r.slots[i].easy);
	curl_multi_cleanup(r.multi);
	free(r.slots);
	free(r.idle);
	return 0;
}

double dc_bench_throughput(const struct dc_bench_result *r)
{
	return r->elapsed_s > 0 ? (double)r->requests / r->elapsed_s : 0;
}

long dc_bench_error_total(const struct dc_bench_result *r)
{
	long n = 0;
	for (int i = 0; i < DC_BENCH_ERR_KINDS; i++)
		n += r->errors[i];
	return n;
}
