/* The local API Gateway (sv_gateway_handler): an HTTP request from any
 * local client, matched to the API's routes, turned into the payload 2.0
 * event, run by function "fn" (answered from another thread through the
 * Runtime API, as a runtime would), and the function's answer turned back
 * into HTTP. Input, in parts separated by 0x1e: the API's routes and
 * integrations ({"routes": {...}, "integrations": {...}}, as the control
 * channel stores them; anything else: a default set), the bytes a client
 * sends (served from one end of a socketpair by dc_server_serve_fd), and
 * the function's answer (a leading '!' posts it to /error instead). */
#include "fuzz.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "local/supervisor.h"
#include "util/xalloc.h"

static const char default_api[] =
	"{\"integrations\": {\"i1\": {\"uri\": \"arn:aws:lambda:local:000000000000:function:fn\"},"
	" \"i2\": {\"uri\": \"arn:aws:lambda:local:000000000000:function:gone\"}},"
	" \"routes\": {\"r1\": {\"route_key\": \"GET /\", \"target\": \"integrations/i1\"},"
	" \"r2\": {\"route_key\": \"ANY /items/{id}\", \"target\": \"integrations/i1\"},"
	" \"r3\": {\"route_key\": \"POST /files/{path+}\", \"target\": \"integrations/i1\"},"
	" \"r4\": {\"route_key\": \"GET /gone\", \"target\": \"integrations/i2\"},"
	" \"r5\": {\"route_key\": \"$default\", \"target\": \"integrations/i1\"}}}";

struct runtime {
	struct sv_fn *fn;
	const uint8_t *answer;
	size_t n;
	int stop;
};

/* The function's runtime: take each event and answer it. */
static void *runtime_main(void *arg)
{
	struct runtime *r = arg;
	char id[64], target[160];
	int error = r->n && r->answer[0] == '!';
	for (;;) {
		pthread_mutex_lock(&sv.mu);
		while (!r->fn->queue && !r->stop)
			pthread_cond_wait(&sv.cond, &sv.mu);
		int stop = r->stop;
		pthread_mutex_unlock(&sv.mu);
		if (stop)
			return NULL;
		if (fuzz_runtime_call(r->fn, "GET", "/2018-06-01/runtime/invocation/next", "", 0,
				      id) != 200)
			__builtin_trap();
		snprintf(target, sizeof(target), "/2018-06-01/runtime/invocation/%s/%s", id,
			 error ? "error" : "response");
		fuzz_runtime_call(r->fn, "POST", target, r->answer + error, r->n - error, NULL);
	}
}

static void *drain(void *arg)
{
	int fd = *(int *)arg;
	char buf[16384];
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	return NULL;
}

static void set_api(struct sv_api *a, const uint8_t *p, size_t n)
{
	json_t *doc = json_loadb((const char *)p, n, 0, NULL);
	if (!json_is_object(json_object_get(doc, "routes")) ||
	    !json_is_object(json_object_get(doc, "integrations"))) {
		json_decref(doc);
		doc = json_loads(default_api, 0, NULL);
	}
	a->routes = json_incref(json_object_get(doc, "routes"));
	a->integrations = json_incref(json_object_get(doc, "integrations"));
	json_decref(doc);
}

static void serve(struct sv_api *a, const uint8_t *p, size_t n)
{
	int s[2];
	pthread_t t;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s) < 0)
		abort();
	for (size_t off = 0; off < n;) {
		ssize_t w = write(s[0], p + off, n - off);
		if (w <= 0)
			abort();
		off += (size_t)w;
	}
	shutdown(s[0], SHUT_WR);
	if (pthread_create(&t, NULL, drain, &s[0]) != 0)
		abort();
	dc_server_serve_fd(s[1], "127.0.0.1", sv_gateway_handler, a);
	close(s[1]);
	pthread_join(t, NULL);
	close(s[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = FUZZ_IN(data, size);
	const uint8_t *api = NULL, *request = NULL;
	size_t an = 0, rn = 0;
	struct runtime r = { .fn = fuzz_sv_function(), .answer = (const uint8_t *)"" };
	struct sv_api a = { .id = "fuzzapi" };
	pthread_t t;
	fuzz_part(&in, 0x1e, &api, &an);
	fuzz_part(&in, 0x1e, &request, &rn);
	if (!in.done) {
		r.answer = in.p;
		r.n = in.n;
	}
	set_api(&a, api, an);
	if (pthread_create(&t, NULL, runtime_main, &r) != 0)
		abort();
	serve(&a, request, rn);
	pthread_mutex_lock(&sv.mu);
	r.stop = 1;
	pthread_cond_broadcast(&sv.cond);
	pthread_mutex_unlock(&sv.mu);
	pthread_join(t, NULL);
	json_decref(a.routes);
	json_decref(a.integrations);
	return 0;
}
