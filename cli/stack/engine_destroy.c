/* destroy: every recorded resource deleted in reverse dependency order,
 * independent ones at the same time; with --sweep, also what the resource
 * types find by tag or name that state does not know. */
#include "local/local.h"
#include "stack/engine_internal.h"
#include "stack/refs.h"
#include "util/error.h"
#include "util/xalloc.h"

/* Recorded resources deleted in reverse order of their recorded
 * dependencies. */
struct deletion {
	struct engine *e;
	const char **ids;
	size_t n;
};

static int run_deletion(void *arg, void *worker, size_t i)
{
	struct deletion *o = arg;
	int rc = engine_delete_entry(o->e, worker, o->ids[i]);
	if (rc < 0)
		engine_fail(o->e, o->ids[i]);
	return rc;
}

static int deletion_worker_init(void *arg, void **worker)
{
	return engine_worker_init(((struct deletion *)arg)->e, worker);
}

static void deletion_worker_dispose(void *arg, void *worker)
{
	engine_worker_dispose(((struct deletion *)arg)->e, worker);
}

/* Node i must wait for every orphan that depends on it. */
static struct dc_sched_node *reverse_nodes(struct engine *e, const char **ids, size_t n)
{
	struct dc_sched_node *nodes = dc_xcalloc(n ? n : 1, sizeof(*nodes));
	for (size_t i = 0; i < n; i++) {
		size_t *deps = dc_xcalloc(n ? n : 1, sizeof(*deps));
		for (size_t j = 0; j < n; j++) {
			json_t *d = json_object_get(engine_entry(e, ids[j]), "deps");
			size_t k;
			json_t *dep;
			json_array_foreach(d, k, dep) {
				if (j != i && strcmp(json_string_value(dep), ids[i]) == 0)
					deps[nodes[i].ndeps++] = j;
			}
		}
		nodes[i].deps = deps;
	}
	return nodes;
}

int engine_delete_all(struct engine *e, const char **ids, size_t n, int parallel)
{
	struct deletion o = { e, ids, n };
	struct dc_sched_ops ops = { deletion_worker_init, deletion_worker_dispose, run_deletion };
	pthread_mutex_lock(&e->lock);
	struct dc_sched_node *nodes = reverse_nodes(e, ids, n);
	pthread_mutex_unlock(&e->lock);
	int rc = n ? dc_sched_run(nodes, n, parallel, &ops, &o) : 0;
	for (size_t i = 0; i < n; i++)
		free((void *)nodes[i].deps);
	free(nodes);
	return rc;
}

int engine_delete_recorded(struct engine *e, int (*select)(const void *arg, const char *id),
			   const void *arg, int parallel)
{
	json_t *res = json_object_get(e->doc, "resources");
	const char **ids = dc_xcalloc(json_object_size(res) + 1, sizeof(*ids));
	size_t n = 0;
	const char *id;
	json_t *v;
	json_object_foreach(res, id, v) {
		if (!select || select(arg, id))
			ids[n++] = dc_xstrdup(id);
	}
	int rc = engine_delete_all(e, ids, n, parallel);
	for (size_t i = 0; i < n; i++)
		free((void *)ids[i]);
	free(ids);
	return rc;
}

struct sweep_env {
	struct engine *e;
	const struct dc_template *t;
};

/* Built-ins and params only (the stack's own, then the template's):
 * other resources' attrs are what was lost. */
static int sweep_lookup(void *arg, const char *id, const char *name, json_t **out)
{
	struct sweep_env *env = arg;
	if (id)
		*out = NULL;
	else if (!strcmp(name, "stack"))
		*out = json_object_get(env->e->doc, "name");
	else if (!strcmp(name, "region") || !strcmp(name, "account"))
		*out = json_object_get(env->e->doc, name);
	else if (!(*out = json_object_get(json_object_get(env->e->doc, "params"), name)))
		*out = json_object_get(env->t->params, name);
	return *out ? 0 : DC_ENOTFOUND;
}

/* The props a type's find can use without state: each one that references
 * no other resource, resolved ("/aws/lambda/${stack}-fn"). */
static json_t *sweep_props(struct engine *e, const struct dc_template *t, const json_t *props)
{
	struct sweep_env env = { e, t };
	json_t *out = json_object();
	const char *key;
	json_t *v, *resolved;
	json_object_foreach((json_t *)props, key, v) {
		if (dc_refs_resolve(&resolved, v, sweep_lookup, &env) == 0)
			json_object_set_new(out, key, resolved);
	}
	return out;
}

/* A sweep of one template: each resource's lookup (its type's find, by
 * tag or name) at the same time, then what was found deleted one by one in
 * reverse template order, so that what depends on another goes first. */
struct sweep_run {
	struct engine *e;
	const struct dc_template *t;
	json_t **found; /* per resource: what its type found, or NULL */
};

static int run_find(void *arg, void *worker, size_t i)
{
	struct sweep_run *s = arg;
	const struct dc_template_resource *r = &s->t->res[i];
	const struct dc_resource_type *type = engine_type(s->e, r->type);
	struct dc_res_ctx ctx;
	if (!type->find)
		return 0;
	engine_ctx(s->e, worker, r->id, &ctx);
	ctx.template_dir = s->t->dir;
	json_t *props = sweep_props(s->e, s->t, r->props);
	int rc = type->find(&ctx, props, &s->found[i]);
	json_decref(props);
	if (rc < 0)
		engine_fail(s->e, r->id);
	return rc;
}

static int sweep_worker_init(void *arg, void **worker)
{
	return engine_worker_init(((struct sweep_run *)arg)->e, worker);
}

static void sweep_worker_dispose(void *arg, void *worker)
{
	engine_worker_dispose(((struct sweep_run *)arg)->e, worker);
}

static int delete_found(struct engine *e, struct worker *w, const struct dc_template *t,
			const struct dc_template_resource *r, const json_t *found)
{
	const struct dc_resource_type *type = engine_type(e, r->type);
	struct dc_res_ctx ctx;
	size_t i;
	json_t *attrs;
	int rc = 0;
	engine_ctx(e, w, r->id, &ctx);
	ctx.template_dir = t->dir;
	json_array_foreach(found, i, attrs) {
		engine_say(e, "sweeping %s (%s %s)", r->id, r->type,
			   json_string_value(json_object_get(attrs, "id")));
		if (type->delete(&ctx, attrs) < 0) {
			engine_fail(e, r->id);
			rc = -1;
		}
	}
	return rc;
}

static int sweep_arch(struct engine *e, void *worker, const char *root, const char *arch,
		      int parallel)
{
	struct dc_template *t;
	if (dc_template_load(&t, root, arch, NULL) < 0)
		return -1;
	struct sweep_run s = { e, t, dc_xcalloc(t->nres ? t->nres : 1, sizeof(json_t *)) };
	struct dc_sched_node *nodes = dc_xcalloc(t->nres ? t->nres : 1, sizeof(*nodes));
	struct dc_sched_ops ops = { sweep_worker_init, sweep_worker_dispose, run_find };
	int rc = t->nres && dc_sched_run(nodes, t->nres, parallel, &ops, &s) < 0 ? -1 : 0;
	for (size_t i = t->nres; i-- > 0;) {
		if (s.found[i] && delete_found(e, worker, t, &t->res[i], s.found[i]) < 0)
			rc = -1;
		json_decref(s.found[i]);
	}
	free(nodes);
	free(s.found);
	dc_template_free(t);
	return rc;
}

/* Only `arch`'s template, or (NULL) every architecture's, for a stack
 * whose kind is unknown. */
static int sweep(struct engine *e, const char *arch, int parallel)
{
	struct dc_strlist archs = { 0 };
	const char *root = dc_template_root();
	void *worker = NULL;
	if (arch)
		dc_strlist_push(&archs, dc_xstrdup(arch));
	else if (dc_template_list(&archs, root) < 0)
		return -1;
	int rc = engine_worker_init(e, &worker);
	for (size_t a = 0; rc == 0 && a < archs.n; a++)
		if (sweep_arch(e, worker, root, archs.v[a], parallel) < 0)
			rc = -1;
	if (worker)
		engine_worker_dispose(e, worker);
	for (size_t a = 0; a < archs.n; a++)
		free((void *)archs.v[a]);
	dc_strlist_dispose(&archs);
	return rc;
}

static int remove_stack(struct dc_state *st, const char *name)
{
	char *msg = dc_xasprintf("%s: destroyed", name);
	int rc = dc_state_remove(st, name, msg);
	free(msg);
	/* A sweep of a stack state never knew has nothing to remove. */
	return rc == DC_ENOTFOUND ? 0 : rc;
}

int dc_engine_destroy(struct dc_engine_result *out, struct dc_state *st, const char *name,
		      int do_sweep, const struct dc_engine_options *opt)
{
	struct engine e;
	struct dc_engine_options local = *opt;
	engine_init(&e, st, name, &local, out);
	int parallel = opt->parallel > 0 ? opt->parallel : DC_ENGINE_PARALLEL;
	int rc = engine_open_doc(&e, NULL, NULL, do_sweep, &local);
	int is_local = rc == 0 && strcmp(e.target, DC_LOCAL_TARGET) == 0;
	if (is_local && !e.local)
		rc = engine_local_forget(&e, "its local supervisor is not running");
	if (rc == 0) {
		const char *arch = json_string_value(json_object_get(e.doc, "arch"));
		int failed = engine_delete_recorded(&e, NULL, NULL, parallel) < 0;
		/* Nothing of a local stack is anywhere but on this machine. A
		 * create that takes no idempotency token (CreateApi, ...) whose
		 * answer was lost and was sent again made a twin state never
		 * heard of: every destroy ends with a sweep of the stack's own
		 * architecture, --sweep with every architecture's. */
		if (!is_local && (do_sweep || !failed))
			failed |= sweep(&e, do_sweep || !arch || !*arch ? NULL : arch, parallel) < 0;
		if (failed)
			rc = engine_report_failure(&e, "destroy");
		else if (json_object_size(json_object_get(e.doc, "resources")) == 0)
			rc = remove_stack(st, name);
	}
	/* Its processes, ports and files go once its resources have. */
	if (rc == 0 && is_local)
		rc = dc_local_stop(dc_state_dir(st), name);
	engine_dispose(&e);
	return rc;
}
