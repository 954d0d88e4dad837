#include <pthread.h>
#include <unistd.h>

#include "harness.h"
#include "stack/sched.h"

struct record {
	pthread_mutex_t lock;
	int order[16];
	int n;
	int fail_node;
	int running, max_running;
};

static int run(void *arg, void *worker, size_t i)
{
	struct record *r = arg;
	pthread_mutex_lock(&r->lock);
	r->running++;
	if (r->running > r->max_running)
		r->max_running = r->running;
	pthread_mutex_unlock(&r->lock);
	usleep(20000);
	pthread_mutex_lock(&r->lock);
	r->running--;
	r->order[r->n++] = (int)i;
	pthread_mutex_unlock(&r->lock);
	return (int)i == r->fail_node ? -1 : 0;
}

static int position(const struct record *r, int node)
{
	for (int i = 0; i < r->n; i++)
		if (r->order[i] == node)
			return i;
	return -1;
}

/* 0 <- 1 <- 3, 0 <- 2 <- 3, 4 independent */
static const size_t d1[] = { 0 }, d2[] = { 0 }, d3[] = { 1, 2 };

static void graph(struct dc_sched_node *nodes)
{
	memset(nodes, 0, 5 * sizeof(*nodes));
	nodes[1] = (struct dc_sched_node){ d1, 1, 0 };
	nodes[2] = (struct dc_sched_node){ d2, 1, 0 };
	nodes[3] = (struct dc_sched_node){ d3, 2, 0 };
}

void test_sched__dependencies_first_and_parallel(void)
{
	struct dc_sched_node nodes[5];
	struct record r = { PTHREAD_MUTEX_INITIALIZER, { 0 }, 0, -1, 0, 0 };
	struct dc_sched_ops ops = { NULL, NULL, run };
	graph(nodes);
	check_int(dc_sched_run(nodes, 5, 4, &ops, &r), 0);
	check_int(r.n, 5);
	check(position(&r, 0) < position(&r, 1));
	check(position(&r, 0) < position(&r, 2));
	check(position(&r, 1) < position(&r, 3));
	check(position(&r, 2) < position(&r, 3));
	check(r.max_running >= 2);
}

void test_sched__failure_skips_dependents_only(void)
{
	struct dc_sched_node nodes[5];
	struct record r = { PTHREAD_MUTEX_INITIALIZER, { 0 }, 0, 1, 0, 0 };
	struct dc_sched_ops ops = { NULL, NULL, run };
	graph(nodes);
	check_int(dc_sched_run(nodes, 5, 2, &ops, &r), -1);
	check_int(nodes[1].state, DC_NODE_FAILED);
	check_int(nodes[3].state, DC_NODE_SKIPPED);
	check_int(nodes[2].state, DC_NODE_DONE);
	check_int(nodes[4].state, DC_NODE_DONE);
	check_int(position(&r, 3), -1);
}

void test_sched__one_worker_is_sequential(void)
{
	struct dc_sched_node nodes[5];
	struct record r = { PTHREAD_MUTEX_INITIALIZER, { 0 }, 0, -1, 0, 0 };
	struct dc_sched_ops ops = { NULL, NULL, run };
	graph(nodes);
	check_int(dc_sched_run(nodes, 5, 1, &ops, &r), 0);
	check_int(r.max_running, 1);
}
