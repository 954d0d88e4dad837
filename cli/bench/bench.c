/* The load generator. Concurrent requests are spread over a few worker
 * threads (no more than the machine's cores), each with its own libcurl
 * multi handle driven by epoll through curl_multi_socket_action, so one
 * event costs one socket's work and not a pass over every transfer. A
 * worker has a fixed set of easy handles, one per request it keeps in
 * flight; a finished handle is taken out and put back with the same
 * options, so its connection stays in the multi's cache and is reused.
 * Each worker records into its own result; they are merged at the end. */
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "util/error.h"
#include "util/xalloc.h"

#define PROGRESS_EVERY_MS 100
#define BAR_WIDTH 30
#define MAX_WORKERS 8
#define EVENTS 64

struct slot {
	CURL *easy;
	CURLU *url;
	int busy;
	char errbuf[CURL_ERROR_SIZE];
};

struct run;

struct worker {
	struct run *run;
	CURLM *multi;
	int ep;
	double timer_at; /* monotonic seconds when curl wants a timeout call; < 0: none */
	struct slot *slots;
	struct slot **idle;
	int nslots, nidle, active;
	uint64_t bytes;
	struct dc_bench_result *res;
	pthread_t thread;
};

struct run {
	const struct dc_bench_options *opt;
	struct worker *w;
	int nw;
	int phase; /* 0 first, 1 warm-up, 2 measured */
	long limit;
	double deadline;
	atomic_long started, done, errors;
	atomic_int halt, finished;
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

/* As allocation failure: nothing sensible is left to do. */
static void die(const char *what)
{
	fprintf(stderr, "deployctl: %s\n", what);
	abort();
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

static void count_status(struct dc_bench_result *res, int status, long n)
{
	for (int i = 0; i < DC_BENCH_STATUSES; i++) {
		if (res->statuses[i].status == status || res->statuses[i].status == 0) {
			res->statuses[i].status = status;
			res->statuses[i].n += n;
			return;
		}
	}
}

static void note_error(struct dc_bench_result *res, CURLcode rc, const char *errbuf, long status)
{
	if (res->first_error[0])
		return;
	if (rc != CURLE_OK)
		snprintf(res->first_error, sizeof(res->first_error), "%s",
			 errbuf[0] ? errbuf : curl_easy_strerror(rc));
	else
		snprintf(res->first_error, sizeof(res->first_error), "HTTP status %ld", status);
}

/* Account for one finished request. */
static void finish(struct worker *w, struct slot *s, CURLcode rc)
{
	struct run *r = w->run;
	struct dc_bench_result *res = w->res;
	long status = 0;
	curl_off_t us = 0;
	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(s->easy, CURLINFO_TOTAL_TIME_T, &us);
	int ok = rc == CURLE_OK && status >= 200 && status < 400;
	if (!ok)
		note_error(res, rc, s->errbuf, status);
	res->sent++;
	if (r->phase == 0) {
		res->first_ms = (double)us / 1000.0;
		res->first_ok = ok;
	}
	if (r->phase != 2)
		return;
	res->requests++;
	atomic_fetch_add_explicit(&r->done, 1, memory_order_relaxed);
	if (ok) {
		res->ok++;
		dc_hist_record(&res->hist, (uint64_t)us);
		return;
	}
	atomic_fetch_add_explicit(&r->errors, 1, memory_order_relaxed);
	if (rc == CURLE_OK) {
		res->errors[DC_BENCH_ERR_HTTP]++;
		count_status(res, (int)status, 1);
	} else {
		res->errors[classify(rc)]++;
	}
}

static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct worker *w = userp;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(w->ep, EPOLL_CTL_DEL, s, NULL);
		curl_multi_assign(w->multi, s, NULL);
		return 0;
	}
	struct epoll_event ev = { .data.fd = s };
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	/* A descriptor number can come back for a new socket: ADD and MOD
	 * each fall back to the other. */
	int op = socketp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(w->ep, op, s, &ev) < 0)
		epoll_ctl(w->ep, op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s, &ev);
	if (!socketp)
		curl_multi_assign(w->multi, s, w);
	return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct worker *w = userp;
	w->timer_at = timeout_ms < 0 ? -1 : now_s(CLOCK_MONOTONIC) + (double)timeout_ms / 1000.0;
	return 0;
}

/* Take every finished transfer out of the multi and account for it. */
static void reap(struct worker *w)
{
	int left;
	CURLMsg *m;
	while ((m = curl_multi_info_read(w->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		struct slot *s;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
		CURLcode rc = m->data.result;
		curl_multi_remove_handle(w->multi, s->easy);
		finish(w, s, rc);
		s->busy = 0;
		w->idle[w->nidle++] = s;
		w->active--;
	}
}

static int may_start(struct run *r)
{
	if (atomic_load_explicit(&r->halt, memory_order_relaxed))
		return 0;
	if (r->deadline > 0 && now_s(CLOCK_MONOTONIC) >= r->deadline)
		return 0;
	return !r->limit || atomic_fetch_add(&r->started, 1) < r->limit;
}

static void top_up(struct worker *w)
{
	while (w->nidle > 0 && may_start(w->run)) {
		struct slot *s = w->idle[--w->nidle];
		s->errbuf[0] = '\0';
		s->busy = 1;
		w->active++;
		curl_multi_add_handle(w->multi, s->easy);
	}
}

static void wait_events(struct worker *w)
{
	struct epoll_event ev[EVENTS];
	int running, ms = 100;
	if (w->timer_at >= 0) {
		double left = (w->timer_at - now_s(CLOCK_MONOTONIC)) * 1000.0;
		/* Due now (a request just added): no need to ask epoll first;
		 * level-triggered events wait for the next round. */
		if (left <= 0) {
			w->timer_at = -1;
			curl_multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0, &running);
			return;
		}
		ms = left < 100 ? (int)ceil(left) : 100;
	}
	int n = epoll_wait(w->ep, ev, EVENTS, ms);
	for (int i = 0; i < n; i++) {
		int flags = (ev[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
			    (ev[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
			    (ev[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
		curl_multi_socket_action(w->multi, ev[i].data.fd, flags, &running);
	}
	if (w->timer_at >= 0 && now_s(CLOCK_MONOTONIC) >= w->timer_at) {
		w->timer_at = -1;
		curl_multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	}
}

/* Drop the requests still in flight, unmeasured (a stop). */
static void abandon(struct worker *w)
{
	for (int i = 0; w->active > 0 && i < w->nslots; i++) {
		struct slot *s = &w->slots[i];
		if (!s->busy)
			continue;
		curl_multi_remove_handle(w->multi, s->easy);
		s->busy = 0;
		w->idle[w->nidle++] = s;
		w->active--;
	}
}

/* Keep this worker's requests in flight while the run allows more, then
 * wait for them. */
static void *work(void *arg)
{
	struct worker *w = arg;
	struct run *r = w->run;
	for (;;) {
		top_up(w);
		if (w->active == 0 || atomic_load(&r->halt))
			break;
		wait_events(w);
		reap(w);
	}
	abandon(w);
	atomic_fetch_add(&r->finished, 1);
	return NULL;
}

static int stop_asked(const struct run *r)
{
	return r->opt->stop && *r->opt->stop;
}

static void progress(struct run *r, double t0, int last)
{
	FILE *f = r->opt->progress;
	if (!f)
		return;
	if (last) {
		fputs("\r\033[K", f);
		fflush(f);
		return;
	}
	double t = now_s(CLOCK_MONOTONIC);
	long done = atomic_load(&r->done);
	double frac = r->limit ? (double)done / (double)r->limit : 0;
	if (r->deadline > 0)
		frac = fmax(frac, (t - t0) / (r->deadline - t0));
	char bar[BAR_WIDTH + 1];
	int fill = (int)(fmin(frac, 1) * BAR_WIDTH);
	for (int i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < fill ? '#' : ' ';
	bar[BAR_WIDTH] = '\0';
	fprintf(f, "\r%s [%s] %ld requests, %ld errors, %.0f/s\033[K",
		r->opt->label ? r->opt->label : "", bar, done, atomic_load(&r->errors),
		t > t0 ? (double)done / (t - t0) : 0);
	fflush(f);
}

/* Run one phase on every worker at once: `limit` requests in all (0: no
 * limit), until the deadline if there is one. The calling thread watches
 * for a stop and draws the progress bar. */
static void phase(struct run *r, int phase, long limit, int nw)
{
	r->phase = phase;
	r->limit = limit;
	atomic_store(&r->started, 0);
	atomic_store(&r->finished, 0);
	for (int i = 0; i < nw; i++)
		if (pthread_create(&r->w[i].thread, NULL, work, &r->w[i]) != 0)
			die("cannot start a thread");
	double t0 = now_s(CLOCK_MONOTONIC), next = t0;
	while (atomic_load(&r->finished) < nw) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		if (stop_asked(r))
			atomic_store(&r->halt, 1);
		if (phase == 2 && now_s(CLOCK_MONOTONIC) >= next) {
			progress(r, t0, 0);
			next += PROGRESS_EVERY_MS / 1000.0;
		}
	}
	for (int i = 0; i < nw; i++)
		pthread_join(r->w[i].thread, NULL);
	if (phase == 2)
		progress(r, t0, 1);
}

static void setup_slot(struct worker *w, struct slot *s)
{
	const struct dc_bench_options *opt = w->run->opt;
	s->easy = curl_easy_init();
	if (!s->easy)
		die("cannot create a libcurl handle");
	/* A parsed URL is copied for each request, not parsed again: a fifth
	 * of libcurl's work per request (callgrind). */
	s->url = curl_url();
	if (!s->url || curl_url_set(s->url, CURLUPART_URL, opt->url, 0) != CURLUE_OK)
		die("cannot parse a URL that was checked");
	curl_easy_setopt(s->easy, CURLOPT_CURLU, s->url);

	curl_easy_setopt(s->easy, CURLOPT_PRIVATE, (char *)s);
	curl_easy_setopt(s->easy, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, &w->bytes);
	curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, opt->timeout_ms);
	/* One request per connection at a time, as the original and wrk do. */
	curl_easy_setopt(s->easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(s->easy, CURLOPT_USERAGENT, "deployctl/" DC_VERSION " bench");
	curl_easy_setopt(s->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	/* No proxy: spares looking up the proxy variables for every request. */
	curl_easy_setopt(s->easy, CURLOPT_PROXY, "");
	curl_easy_setopt(s->easy, CURLOPT_NOPROXY, "");
}

static void worker_init(struct worker *w, struct run *r, int nslots)
{
	w->run = r;
	w->timer_at = -1;
	w->res = dc_xcalloc(1, sizeof(*w->res));
	w->multi = curl_multi_init();
	w->ep = epoll_create1(EPOLL_CLOEXEC);
	if (!w->multi || w->ep < 0)
		die("cannot create a libcurl multi handle");
	curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS, (long)nslots);
	curl_multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(w->multi, CURLMOPT_SOCKETDATA, w);
	curl_multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(w->multi, CURLMOPT_TIMERDATA, w);
	w->nslots = nslots;
	w->slots = dc_xcalloc((size_t)nslots, sizeof(*w->slots));
	w->idle = dc_xcalloc((size_t)nslots, sizeof(*w->idle));
	for (int i = nslots - 1; i >= 0; i--) {
		setup_slot(w, &w->slots[i]);
		w->idle[w->nidle++] = &w->slots[i];
	}
}

static void worker_dispose(struct worker *w)
{
	for (int i = 0; i < w->nslots; i++) {
		curl_easy_cleanup(w->slots[i].easy);
		curl_url_cleanup(w->slots[i].url);
	}
	curl_multi_cleanup(w->multi);
	close(w->ep);
	free(w->slots);
	free(w->idle);
	free(w->res);
}

static void merge(struct dc_bench_result *out, const struct dc_bench_result *in)
{
	dc_hist_merge(&out->hist, &in->hist);
	out->requests += in->requests;
	out->sent += in->sent;
	out->ok += in->ok;
	for (int k = 0; k < DC_BENCH_ERR_KINDS; k++)
		out->errors[k] += in->errors[k];
	for (int i = 0; i < DC_BENCH_STATUSES && in->statuses[i].n; i++)
		count_status(out, in->statuses[i].status, in->statuses[i].n);
	if (!out->first_error[0])
		memcpy(out->first_error, in->first_error, sizeof(out->first_error));
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

static int worker_count(int conc)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int n = cpus > 0 ? (int)cpus : 1;
	n = n < MAX_WORKERS ? n : MAX_WORKERS;
	return conc < n ? conc : n;
}

static void measure(struct run *r, struct dc_bench_result *out)
{
	const struct dc_bench_options *opt = r->opt;
	uint64_t bytes0 = 0;
	for (int i = 0; i < r->nw; i++)
		bytes0 += r->w[i].bytes;
	double t0 = now_s(CLOCK_MONOTONIC);
	r->deadline = opt->duration_s > 0 ? t0 + opt->duration_s : 0;
	phase(r, 2, opt->requests, r->nw);
	out->elapsed_s = now_s(CLOCK_MONOTONIC) - t0;
	for (int i = 0; i < r->nw; i++)
		out->bytes += r->w[i].bytes;
	out->bytes -= bytes0;
}

int dc_bench_run(struct dc_bench_result *out, const struct dc_bench_options *opt)
{
	memset(out, 0, sizeof(*out));
	dc_hist_init(&out->hist);
	if (dc_bench_check_url(opt->url) < 0)
		return -1;
	int conc = opt->concurrency > 0 ? opt->concurrency : 1;
	struct run r = { .opt = opt, .nw = worker_count(conc) };
	r.w = dc_xcalloc((size_t)r.nw, sizeof(*r.w));
	for (int i = 0; i < r.nw; i++)
		worker_init(&r.w[i], &r, conc / r.nw + (i < conc % r.nw));
	out->start_epoch_ms = now_s(CLOCK_REALTIME) * 1000.0;
	phase(&r, 0, 1, 1);
	out->first_ms = r.w[0].res->first_ms;
	out->first_ok = r.w[0].res->first_ok;
	/* Every connection is opened before measuring, unless asked otherwise. */
	long warm = opt->warmup > 0 && opt->warmup < conc ? conc : opt->warmup;
	if (warm > 0 && !stop_asked(&r))
		phase(&r, 1, warm, r.nw);
	if (!stop_asked(&r))
		measure(&r, out);
	out->end_epoch_ms = now_s(CLOCK_REALTIME) * 1000.0;
	out->interrupted = stop_asked(&r);
	for (int i = 0; i < r.nw; i++) {
		merge(out, r.w[i].res);
		worker_dispose(&r.w[i]);
	}
	free(r.w);
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
