/* The local target's Lambda Runtime API (sv_runtime_handler): what a
 * function's process sends, as a script of requests against a function
 * with events waiting. Records are separated by 0x1e; each is
 * "METHOD TARGET\n" and a body, where "{id}" in TARGET is the request id
 * of the last event handed out, and "INVOKE" (its body the event) queues
 * an invocation from another thread, as the gateway does. */
#include "fuzz.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "local/supervisor.h"
#include "util/xalloc.h"

#define MAX_INVOKES 8
#define NEXT "/2018-06-01/runtime/invocation/next"

struct invoker {
	pthread_t t;
	char *event;
	char *result;
	char *why;
	int rc;
};

static void *invoke(void *arg)
{
	struct invoker *v = arg;
	v->rc = sv_fn_invoke("fn", v->event, &v->result, &v->why);
	return NULL;
}

/* TARGET with its first "{id}" replaced (malloc'ed). */
static char *with_id(const char *target, const char *id)
{
	const char *at = strstr(target, "{id}");
	if (!at)
		return dc_xstrdup(target);
	return dc_xasprintf("%.*s%s%s", (int)(at - target), target, id, at + 4);
}

static void call(struct sv_fn *fn, const uint8_t *rec, size_t n, char *id)
{
	const uint8_t *nl = memchr(rec, '\n', n);
	size_t ln = nl ? (size_t)(nl - rec) : n;
	char *line = fuzz_strndup(rec, ln), *sp = strchr(line, ' ');
	if (sp) {
		*sp = '\0';
		char *target = with_id(sp + 1, id);
		size_t qn = strcspn(target, "?");
		/* A poll with no event waiting blocks until one comes: skip it. */
		int blocks = !strcmp(line, "GET") && qn == strlen(NEXT) &&
			     !strncmp(target, NEXT, qn) && !fuzz_sv_queued(fn);
		if (!blocks)
			fuzz_runtime_call(fn, line, target, nl ? nl + 1 : rec + n,
					  nl ? n - ln - 1 : 0, id);
		free(target);
	}
	free(line);
}

static void finish_all(struct invoker *v, size_t n)
{
	pthread_mutex_lock(&sv.mu);
	sv.stopping = 1;
	pthread_cond_broadcast(&sv.cond);
	pthread_mutex_unlock(&sv.mu);
	for (size_t i = 0; i < n; i++) {
		pthread_join(v[i].t, NULL);
		if (v[i].rc == 0 && !v[i].result)
			__builtin_trap();
		free(v[i].event);
		free(v[i].result);
		free(v[i].why);
	}
	sv.stopping = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sv_fn *fn = fuzz_sv_function();
	struct invoker v[MAX_INVOKES];
	struct fuzz_in in = FUZZ_IN(data, size);
	const uint8_t *rec;
	size_t n, nv = 0;
	char id[64] = "none";
	while (fuzz_part(&in, 0x1e, &rec, &n)) {
		if (n >= 7 && !memcmp(rec, "INVOKE\n", 7)) {
			if (nv == MAX_INVOKES)
				continue;
			v[nv] = (struct invoker){ .event = fuzz_strndup(rec + 7, n - 7) };
			if (pthread_create(&v[nv].t, NULL, invoke, &v[nv]) != 0)
				abort();
			nv++;
			while (!fuzz_sv_queued(fn))
				sched_yield();
		} else {
			call(fn, rec, n, id);
		}
	}
	finish_all(v, nv);
	if (fn->queue || fn->running)
		__builtin_trap();
	free(fn->init_error);
	fn->init_error = NULL;
	return 0;
}
