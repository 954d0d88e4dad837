/* The load generator. Concurrent requests are spread over a few worker
 * threads (no more than the machine's cores), each with its own epoll set
 * and its own result, merged at the end. A slot is one connection and the
 * request on it. libcurl opens the connection (DNS, TCP, TLS, and its error
 * codes say which step failed) as a CONNECT_ONLY transfer in the worker's
 * multi handle; bench then sends the request, built once, and reads the
 * answer itself (http1.c). A libcurl transfer per request cost twice wrk's
 * CPU per request (perf: handle setup, header callbacks, an epoll_ctl and a
 * poll per request), CPU that on a loaded machine the server went without;
 * now a request is a send, a recv and a share of an epoll_wait.
 *
 * A plain connection is taken over once open (a duplicate of libcurl's
 * socket), so libcurl's connection cache never holds it. A TLS connection
 * stays with its handle, read and written through curl_easy_recv and
 * curl_easy_send; the first of those attaches it to the handle, which
 * keeps the cache from closing it as idle. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/http1.h"
#include "util/error.h"
#include "util/xalloc.h"

#define PROGRESS_EVERY_MS 100
#define BAR_WIDTH 30
#define MAX_WORKERS 8
#define EVENTS 64
#define SCAN_S 0.01      /* how often request deadlines are checked */
#define ANSWER_BUF 8192  /* holds the largest answer head accepted */

enum slot_state { FREE, CONNECTING, SENDING, RECEIVING };

struct worker;

struct slot {
	struct worker *w;
	uint32_t idx;
	enum slot_state state;
	CURL *easy;          /* opens the slot's connections */
	int attached;        /* easy is in the multi: connecting, or holding a TLS connection */
	curl_socket_t fd;    /* the open connection, or CURL_SOCKET_BAD */
	uint32_t events;     /* what fd is watched for */
	double t0, deadline; /* the request's start, and when it times out */
	size_t sent, have;   /* request bytes sent; answer bytes waiting in buf */
	struct dc_http1 answer;
	char errbuf[CURL_ERROR_SIZE];
	char buf[ANSWER_BUF];
};

struct run;

struct worker {
	struct run *run;
	CURLM *multi;  /* connects */
	CURLSH *share; /* TLS sessions, resumed by a slot that connects again */
	int ep;
	double timer_at;  /* monotonic seconds when libcurl wants a timeout call; < 0: none */
	double next_scan; /* when request deadlines are checked next */
	struct slot *slots;
	struct slot **idle;
	int nslots, nidle, active;
	uint64_t bytes;
	struct dc_bench_result *res;
	pthread_t thread;
};

struct run {
	const struct dc_bench_options *opt;
	char *request; /* the whole request, sent as is on every connection */
	size_t request_len;
	int tls; /* https */
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

/* Account for one finished request: kind < 0 when it succeeded, else its
 * failure, which msg describes. The slot is free again. */
static void finish(struct slot *s, int kind, const char *msg)
{
	struct worker *w = s->w;
	struct run *r = w->run;
	struct dc_bench_result *res = w->res;
	double us = (now_s(CLOCK_MONOTONIC) - s->t0) * 1e6;
	s->state = FREE;
	w->idle[w->nidle++] = s;
	w->active--;
	if (kind >= 0 && !res->first_error[0])
		snprintf(res->first_error, sizeof(res->first_error), "%s", msg);
	res->sent++;
	if (r->phase == 0) {
		res->first_ms = us / 1000.0;
		res->first_ok = kind < 0;
	}
	if (r->phase != 2)
		return;
	res->requests++;
	atomic_fetch_add_explicit(&r->done, 1, memory_order_relaxed);
	if (kind < 0) {
		res->ok++;
		dc_hist_record(&res->hist, (uint64_t)us);
		return;
	}
	atomic_fetch_add_explicit(&r->errors, 1, memory_order_relaxed);
	res->errors[kind]++;
	if (kind == DC_BENCH_ERR_HTTP)
		count_status(res, s->answer.status, 1);
}

/* An epoll event names the slot and the socket; sockets libcurl is still
 * connecting name no slot. */
#define CURL_OWNS UINT32_MAX

static void watch_fd(struct worker *w, uint32_t idx, curl_socket_t fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.u64 = (uint64_t)idx << 32 | (uint32_t)fd };
	/* A descriptor number can come back for a new socket: ADD and MOD
	 * each fall back to the other. */
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) < 0 && errno == EEXIST)
		epoll_ctl(w->ep, EPOLL_CTL_MOD, fd, &ev);
}

static void watch(struct slot *s, uint32_t events)
{
	watch_fd(s->w, s->idx, s->fd, events);
	s->events = events;
}

/* Close the slot's connection, if it has one. */
static void drop(struct slot *s)
{
	if (s->fd != CURL_SOCKET_BAD) {
		epoll_ctl(s->w->ep, EPOLL_CTL_DEL, s->fd, NULL);
		if (!s->attached)
			close(s->fd);
	}
	s->fd = CURL_SOCKET_BAD;
	/* This closes a TLS connection (libcurl 7.88 closes CONNECT_ONLY
	 * connections as their handle leaves). */
	if (s->attached)
		curl_multi_remove_handle(s->w->multi, s->easy);
	s->attached = 0;
}

static void fail(struct slot *s, enum dc_bench_err kind, const char *msg)
{
	drop(s);
	finish(s, (int)kind, msg);
}

static void fail_curl(struct slot *s, CURLcode rc)
{
	char msg[CURL_ERROR_SIZE];
	snprintf(msg, sizeof(msg), "%s", s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc));
	fail(s, classify(rc), msg);
}

static void answered(struct slot *s)
{
	int status = s->answer.status;
	s->w->bytes += s->answer.body;
	if (!s->answer.keep_alive)
		drop(s);
	if (status >= 200 && status < 400) {
		finish(s, -1, NULL);
		return;
	}
	char msg[32];
	snprintf(msg, sizeof(msg), "HTTP status %d", status);
	finish(s, DC_BENCH_ERR_HTTP, msg);
}

/* Plain connections use the socket directly: libcurl looks the connection
 * up on every call, a tenth of bench's CPU (perf). */
static CURLcode io_send(struct slot *s, const char *p, size_t n, size_t *out)
{
	if (s->w->run->tls)
		return curl_easy_send(s->easy, p, n, out);
	ssize_t k = send(s->fd, p, n, MSG_NOSIGNAL);
	*out = k > 0 ? (size_t)k : 0;
	if (k >= 0)
		return CURLE_OK;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return CURLE_AGAIN;
	snprintf(s->errbuf, sizeof(s->errbuf), "send failure: %s", strerror(errno));
	return CURLE_SEND_ERROR;
}

static CURLcode io_recv(struct slot *s, char *p, size_t n, size_t *out)
{
	if (s->w->run->tls)
		return curl_easy_recv(s->easy, p, n, out);
	ssize_t k = recv(s->fd, p, n, 0);
	*out = k > 0 ? (size_t)k : 0;
	if (k >= 0)
		return CURLE_OK;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return CURLE_AGAIN;
	snprintf(s->errbuf, sizeof(s->errbuf), "recv failure: %s", strerror(errno));
	return CURLE_RECV_ERROR;
}

/* n more answer bytes are in buf (0: the server closed the connection).
 * 1 once the request is over, 0 while more is to come. */
static int take(struct slot *s, size_t n)
{
	if (n == 0) {
		if (dc_http1_eof(&s->answer) == 0)
			answered(s);
		else
			fail(s, DC_BENCH_ERR_CLOSED,
			     "the server closed the connection before the answer was complete");
		return 1;
	}
	s->have += n;
	long used = dc_http1_parse(&s->answer, s->buf, s->have);
	if (used < 0) {
		fail(s, DC_BENCH_ERR_OTHER, dc_error_last()->message);
		return 1;
	}
	if (s->answer.state == DC_HTTP1_DONE) {
		answered(s);
		return 1;
	}
	s->have -= (size_t)used;
	memmove(s->buf, s->buf + used, s->have);
	if (s->have < sizeof(s->buf))
		return 0;
	fail(s, DC_BENCH_ERR_OTHER, "answer head larger than 8 KiB");
	return 1;
}

/* Read until the answer is complete or nothing more is there yet. */
static void receive(struct slot *s)
{
	for (;;) {
		size_t n = 0;
		CURLcode rc = io_recv(s, s->buf + s->have, sizeof(s->buf) - s->have, &n);
		if (rc == CURLE_AGAIN)
			return;
		if (rc != CURLE_OK) {
			fail_curl(s, rc);
			return;
		}
		if (take(s, n))
			return;
	}
}

static void send_rest(struct slot *s)
{
	const struct run *r = s->w->run;
	while (s->sent < r->request_len) {
		size_t n = 0;
		CURLcode rc = io_send(s, r->request + s->sent, r->request_len - s->sent, &n);
		if (rc == CURLE_AGAIN) {
			watch(s, EPOLLIN | EPOLLOUT);
			return;
		}
		if (rc != CURLE_OK) {
			fail_curl(s, rc);
			return;
		}
		s->sent += n;
	}
	if (s->events != EPOLLIN)
		watch(s, EPOLLIN);
	s->state = RECEIVING;
}

static void send_request(struct slot *s)
{
	s->state = SENDING;
	s->sent = s->have = 0;
	dc_http1_init(&s->answer);
	send_rest(s);
}

/* libcurl is done connecting the slot: send, or account for the failure. */
static void connected(struct slot *s, CURLcode rc)
{
	curl_socket_t fd = CURL_SOCKET_BAD;
	if (rc == CURLE_OK)
		curl_easy_getinfo(s->easy, CURLINFO_ACTIVESOCKET, &fd);
	if (fd != CURL_SOCKET_BAD && !s->w->run->tls) {
		/* libcurl closes its descriptor as the handle leaves the multi:
		 * the duplicate keeps the connection open, bench's alone. */
		fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		curl_multi_remove_handle(s->w->multi, s->easy);
		s->attached = 0;
	}
	if (fd == CURL_SOCKET_BAD) {
		fail_curl(s, rc == CURLE_OK ? CURLE_COULDNT_CONNECT : rc);
		return;
	}
	s->fd = fd;
	watch(s, EPOLLIN);
	send_request(s);
}

/* Let libcurl act on a socket (or its timeout), then take what it finished. */
static void drive(struct worker *w, curl_socket_t fd, int flags)
{
	int running, left;
	CURLMsg *m;
	curl_multi_socket_action(w->multi, fd, flags, &running);
	while ((m = curl_multi_info_read(w->multi, &left))) {
		struct slot *s;
		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
		connected(s, m->data.result);
	}
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct worker *w = userp;
	struct slot *s = NULL;
	if (easy)
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&s);
	if (what == CURL_POLL_REMOVE) {
		/* A TLS slot's socket is bench's to watch once connected. */
		if (!s || fd != s->fd)
			epoll_ctl(w->ep, EPOLL_CTL_DEL, fd, NULL);
		return 0;
	}
	watch_fd(w, CURL_OWNS, fd,
		 (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0));
	return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct worker *w = userp;
	w->timer_at = timeout_ms < 0 ? -1 : now_s(CLOCK_MONOTONIC) + (double)timeout_ms / 1000.0;
	return 0;
}

static void start(struct slot *s)
{
	struct worker *w = s->w;
	s->t0 = now_s(CLOCK_MONOTONIC);
	s->deadline = s->t0 + (double)w->run->opt->timeout_ms / 1000.0;
	s->errbuf[0] = '\0';
	w->active++;
	if (s->fd != CURL_SOCKET_BAD) {
		send_request(s);
		return;
	}
	/* libcurl applies the timeout to connecting; it starts on the timer
	 * call that adding the handle asks for. */
	s->state = CONNECTING;
	s->attached = 1;
	curl_multi_add_handle(w->multi, s->easy);
}

/* Fail the requests past their deadline. */
static void scan(struct worker *w, double now)
{
	w->next_scan = now + SCAN_S;
	for (int i = 0; i < w->nslots; i++) {
		struct slot *s = &w->slots[i];
		if ((s->state == SENDING || s->state == RECEIVING) && now >= s->deadline) {
			char msg[64];
			snprintf(msg, sizeof(msg), "no complete answer within %ld ms",
				 w->run->opt->timeout_ms);
			fail(s, DC_BENCH_ERR_TIMEOUT, msg);
		}
	}
}

static void on_event(struct worker *w, uint64_t tag, uint32_t events)
{
	curl_socket_t fd = (curl_socket_t)(uint32_t)tag;
	if (tag >> 32 == CURL_OWNS) {
		drive(w, fd, (events & EPOLLIN ? CURL_CSELECT_IN : 0) |
				     (events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
				     (events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0));
		return;
	}
	struct slot *s = &w->slots[tag >> 32];
	if (fd != s->fd)
		return; /* a closed connection's event, already dealt with */
	if (s->state == SENDING)
		send_rest(s);
	if (s->state == RECEIVING)
		receive(s);
	else if (s->state == FREE)
		drop(s); /* a kept-alive connection the server closed */
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
	while (w->nidle > 0 && may_start(w->run))
		start(w->idle[--w->nidle]);
}

static void wait_events(struct worker *w)
{
	struct epoll_event ev[EVENTS];
	double now = now_s(CLOCK_MONOTONIC);
	double wake = w->timer_at >= 0 && w->timer_at < w->next_scan ? w->timer_at : w->next_scan;
	int ms = now >= wake ? 0 : (int)ceil((wake - now) * 1000.0);
	int n = epoll_wait(w->ep, ev, EVENTS, ms);
	for (int i = 0; i < n; i++)
		on_event(w, ev[i].data.u64, ev[i].events);
	now = now_s(CLOCK_MONOTONIC);
	if (w->timer_at >= 0 && now >= w->timer_at) {
		w->timer_at = -1;
		drive(w, CURL_SOCKET_TIMEOUT, 0);
	}
	if (now >= w->next_scan)
		scan(w, now);
}

/* Drop the requests still in flight, unmeasured (a stop), with their
 * connections, which are mid-answer. */
static void abandon(struct worker *w)
{
	for (int i = 0; w->active > 0 && i < w->nslots; i++) {
		struct slot *s = &w->slots[i];
		if (s->state == FREE)
			continue;
		drop(s);
		s->state = FREE;
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

static void slot_init(struct slot *s, struct worker *w, uint32_t idx)
{
	const struct dc_bench_options *opt = w->run->opt;
	s->w = w;
	s->idx = idx;
	s->fd = CURL_SOCKET_BAD;
	s->easy = curl_easy_init();
	if (!s->easy)
		die("cannot create a libcurl handle");
	curl_easy_setopt(s->easy, CURLOPT_URL, opt->url);
	curl_easy_setopt(s->easy, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(s->easy, CURLOPT_PRIVATE, (char *)s);
	curl_easy_setopt(s->easy, CURLOPT_SHARE, w->share);
	curl_easy_setopt(s->easy, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, opt->timeout_ms);
	/* TLS offers http/1.1 alone (ALPN): the exchange bench speaks. */
	curl_easy_setopt(s->easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(s->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	/* No proxy: bench talks to the server itself. */
	curl_easy_setopt(s->easy, CURLOPT_PROXY, "");
	curl_easy_setopt(s->easy, CURLOPT_NOPROXY, "");
}

static void worker_init(struct worker *w, struct run *r, int nslots)
{
	w->run = r;
	w->timer_at = -1;
	w->res = dc_xcalloc(1, sizeof(*w->res));
	w->multi = curl_multi_init();
	w->share = curl_share_init();
	w->ep = epoll_create1(EPOLL_CLOEXEC);
	if (!w->multi || !w->share || w->ep < 0)
		die("cannot set up a bench worker");
	curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS, (long)nslots);
	curl_multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(w->multi, CURLMOPT_SOCKETDATA, w);
	curl_multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(w->multi, CURLMOPT_TIMERDATA, w);
	/* One thread uses the share: no locks needed. */
	curl_share_setopt(w->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	w->nslots = nslots;
	w->slots = dc_xcalloc((size_t)nslots, sizeof(*w->slots));
	w->idle = dc_xcalloc((size_t)nslots, sizeof(*w->idle));
	for (int i = nslots - 1; i >= 0; i--) {
		slot_init(&w->slots[i], w, (uint32_t)i);
		w->idle[w->nidle++] = &w->slots[i];
	}
}

static void worker_dispose(struct worker *w)
{
	for (int i = 0; i < w->nslots; i++) {
		drop(&w->slots[i]);
		curl_easy_cleanup(w->slots[i].easy);
	}
	curl_multi_cleanup(w->multi);
	curl_share_cleanup(w->share);
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

/* The GET request for url, as libcurl would have sent it. */
static void build_request(struct run *r, const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *query = NULL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
		die("cannot parse a URL that was checked");
	curl_url_get(u, CURLUPART_PORT, &port, 0);
	curl_url_get(u, CURLUPART_QUERY, &query, 0);
	r->request = dc_xasprintf("GET %s%s%s HTTP/1.1\r\nHost: %s%s%s\r\n"
				  "User-Agent: deployctl/" DC_VERSION " bench\r\nAccept: */*\r\n\r\n",
				  path, query ? "?" : "", query ? query : "", host, port ? ":" : "",
				  port ? port : "");
	r->request_len = strlen(r->request);
	r->tls = strcmp(scheme, "https") == 0;
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(query);
	curl_url_cleanup(u);
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
	build_request(&r, opt->url);
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
	free(r.request);
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
