/* up: create what is missing, update what changed, replace what cannot be
 * updated, leave alone what did not change, delete what the template no
 * longer has. */
#include "stack/engine_internal.h"
#include "stack/refs.h"
#include "util/error.h"
#include "util/xalloc.h"

/* ${...} lookups against the document; called with e->lock held. */
static int lookup(void *arg, const char *id, const char *name, json_t **out)
{
	struct engine *e = arg;
	if (id) {
		*out = json_object_get(json_object_get(engine_entry(e, id), "attrs"), name);
	} else if (!strcmp(name, "stack") || !strcmp(name, "region") ||
		   !strcmp(name, "account")) {
		*out = json_object_get(e->doc, strcmp(name, "stack") == 0 ? "name" : name);
	} else {
		*out = json_object_get(e->t->params, name);
	}
	return *out ? 0 : DC_ENOTFOUND;
}

static int resolve(struct engine *e, const json_t *v, json_t **out)
{
	json_t *empty = json_object();
	pthread_mutex_lock(&e->lock);
	int rc = dc_refs_resolve(out, v ? v : empty, lookup, e);
	pthread_mutex_unlock(&e->lock);
	json_decref(empty);
	return rc;
}

static json_t *dep_ids(const struct dc_template *t, const struct dc_template_resource *r)
{
	json_t *a = json_array();
	for (size_t d = 0; d < r->ndeps; d++)
		json_array_append_new(a, json_string(t->res[r->deps[d]].id));
	return a;
}

static int create(struct engine *e, struct dc_res_ctx *ctx, const struct dc_resource_type *type,
		  const struct dc_template_resource *r, json_t *props)
{
	pthread_mutex_lock(&e->lock);
	json_t *old = json_incref(engine_entry(e, r->id));
	json_t *attrs = old ? json_object_get(old, "attrs") : NULL;
	json_t *entry = json_pack("{s:s, s:s, s:O, s:o, s:o}", "type", r->type, "status",
				  "creating", "props", props, "deps", dep_ids(e->t, r), "attrs",
				  attrs ? json_incref(attrs) : json_object());
	json_t *resources = json_object_get(e->doc, "resources");
	json_object_set_new(resources, r->id, entry);
	int rc = engine_save_locked(e, "%s: creating %s (%s)", e->name, r->id, r->type);
	/* Not recorded, not created: the document goes back to what state
	 * holds, so that nothing counts as left in place. */
	if (rc < 0 && old)
		json_object_set(resources, r->id, old);
	else if (rc < 0)
		json_object_del(resources, r->id);
	json_decref(old);
	pthread_mutex_unlock(&e->lock);
	if (rc < 0)
		return rc;

	engine_say(e, "creating %s (%s)", r->id, r->type);
	json_t *made = NULL;
	rc = type->create(ctx, props, &made);
	pthread_mutex_lock(&e->lock);
	entry = engine_entry(e, r->id);
	if (rc == 0) {
		json_object_set_new(entry, "attrs", made);
		json_object_set_new(entry, "status", json_string("created"));
		rc = engine_save_locked(e, "%s: %s is ready (%s %s)", e->name, r->id, r->type,
					json_string_value(json_object_get(made, "id")));
		e->res->created++;
	}
	pthread_mutex_unlock(&e->lock);
	if (rc == 0)
		engine_say(e, "created %s", r->id);
	return rc;
}

static int update(struct engine *e, struct dc_res_ctx *ctx, const struct dc_resource_type *type,
		  const struct dc_template_resource *r, json_t *props)
{
	pthread_mutex_lock(&e->lock);
	json_t *entry = engine_entry(e, r->id);
	json_t *old = json_deep_copy(json_object_get(entry, "props"));
	json_t *attrs = json_deep_copy(json_object_get(entry, "attrs"));
	pthread_mutex_unlock(&e->lock);

	engine_say(e, "updating %s (%s)", r->id, r->type);
	int rc = type->update ? type->update(ctx, old, props, attrs) : DC_EREPLACE;
	if (rc == 0) {
		pthread_mutex_lock(&e->lock);
		entry = engine_entry(e, r->id);
		json_object_set(entry, "props", props);
		json_object_set(entry, "attrs", attrs);
		rc = engine_save_locked(e, "%s: updated %s (%s)", e->name, r->id, r->type);
		e->res->updated++;
		pthread_mutex_unlock(&e->lock);
	}
	json_decref(old);
	json_decref(attrs);
	return rc;
}

/* What AWS cannot change in place is deleted, then made again. */
static int replace(struct engine *e, struct worker *w, struct dc_res_ctx *ctx,
		   const struct dc_resource_type *type, const struct dc_template_resource *r,
		   json_t *props)
{
	engine_say(e, "replacing %s (%s)", r->id, r->type);
	if (engine_delete_entry(e, w, r->id) < 0)
		return -1;
	pthread_mutex_lock(&e->lock);
	e->res->deleted--;
	e->res->replaced++;
	pthread_mutex_unlock(&e->lock);
	int rc = create(e, ctx, type, r, props);
	if (rc == 0) {
		pthread_mutex_lock(&e->lock);
		e->res->created--;
		pthread_mutex_unlock(&e->lock);
	}
	return rc;
}

static int prepared_props(struct engine *e, struct dc_res_ctx *ctx,
			  const struct dc_resource_type *type,
			  const struct dc_template_resource *r, json_t **out)
{
	json_t *props;
	if (resolve(e, r->props, &props) < 0)
		return -1;
	if (!type->prepare) {
		*out = props;
		return 0;
	}
	int rc = type->prepare(ctx, props, out);
	json_decref(props);
	return rc;
}

/* Which of create, update, replace or nothing a resource needs. */
static int converge(struct engine *e, struct worker *w, const struct dc_template_resource *r)
{
	const struct dc_resource_type *type = engine_type(e, r->type);
	struct dc_res_ctx ctx;
	json_t *props;
	engine_ctx(e, w, r->id, &ctx);
	if (prepared_props(e, &ctx, type, r, &props) < 0) {
		engine_fail(e, r->id);
		return -1;
	}

	pthread_mutex_lock(&e->lock);
	json_t *entry = engine_entry(e, r->id);
	const char *status = json_string_value(json_object_get(entry, "status"));
	int is_created = status && strcmp(status, "created") == 0;
	int same = is_created && json_equal(json_object_get(entry, "props"), props);
	const char *was = json_string_value(json_object_get(entry, "type"));
	int type_changed = entry && was && strcmp(was, r->type) != 0;
	if (same)
		e->res->unchanged++;
	pthread_mutex_unlock(&e->lock);

	int rc = 0;
	if (type_changed)
		rc = replace(e, w, &ctx, type, r, props);
	else if (!is_created)
		rc = create(e, &ctx, type, r, props);
	else if (!same) {
		rc = update(e, &ctx, type, r, props);
		if (rc == DC_EREPLACE)
			rc = replace(e, w, &ctx, type, r, props);
	}
	if (rc < 0)
		engine_fail(e, r->id);
	json_decref(props);
	return rc;
}

static int run_node(void *arg, void *worker, size_t i)
{
	struct engine *e = arg;
	return converge(e, worker, &e->t->res[i]);
}

static int is_orphan(const void *t, const char *id)
{
	return dc_template_find(t, id) == NULL;
}

static int delete_orphans(struct engine *e, int parallel)
{
	return engine_delete_recorded(e, is_orphan, e->t, parallel);
}

static int run_template(struct engine *e, int parallel)
{
	size_t n = e->t->nres;
	struct dc_sched_node *nodes = dc_xcalloc(n, sizeof(*nodes));
	for (size_t i = 0; i < n; i++) {
		nodes[i].deps = e->t->res[i].deps;
		nodes[i].ndeps = e->t->res[i].ndeps;
	}
	struct dc_sched_ops ops = { engine_worker_init, engine_worker_dispose, run_node };
	int rc = dc_sched_run(nodes, n, parallel, &ops, e);
	free(nodes);
	return rc;
}

static int write_outputs(struct engine *e)
{
	json_t *outputs;
	if (resolve(e, e->t->outputs, &outputs) < 0)
		return -1;
	pthread_mutex_lock(&e->lock);
	json_object_set_new(e->doc, "outputs", outputs);
	engine_local_record(e);
	int rc = engine_save_locked(e, "%s: up complete (%d created, %d updated, %d replaced, "
				    "%d deleted, %d unchanged)", e->name, e->res->created,
				    e->res->updated, e->res->replaced, e->res->deleted,
				    e->res->unchanged);
	pthread_mutex_unlock(&e->lock);
	return rc;
}

/* ${param} lookups only: before the first change no resource has attrs. */
static int param_lookup(void *arg, const char *id, const char *name, json_t **out)
{
	const struct dc_template *t = arg;
	*out = id ? NULL : json_object_get(t->params, name);
	return *out ? 0 : DC_ENOTFOUND;
}

/* The props that resolve from params alone; the others are left out. */
static json_t *param_props(const struct dc_template *t, const json_t *props)
{
	json_t *out = json_object();
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)props, k, v) {
		json_t *r;
		if (dc_refs_resolve(&r, v, param_lookup, (void *)t) == 0)
			json_object_set_new(out, k, r);
	}
	return out;
}

/* What each type can check on this machine, before the first change. */
static int precheck(struct engine *e, const char *target)
{
	for (size_t i = 0; i < e->t->nres; i++) {
		const struct dc_template_resource *r = &e->t->res[i];
		const struct dc_resource_type *type = dc_resource_type_find_for(r->type, target);
		struct dc_res_ctx ctx;
		if (!type || !type->precheck)
			continue;
		engine_ctx(e, NULL, r->id, &ctx);
		ctx.arch = e->t->arch;
		json_t *props = param_props(e->t, r->props);
		int rc = type->precheck(&ctx, props);
		json_decref(props);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int dc_engine_up(struct dc_engine_result *out, struct dc_state *st, const char *name,
		 const struct dc_template *t, const struct dc_engine_options *opt)
{
	struct engine e;
	struct dc_engine_options local = *opt;
	engine_init(&e, st, name, &local, out);
	e.t = t;
	int parallel = opt->parallel > 0 ? opt->parallel : DC_ENGINE_PARALLEL;
	int rc = precheck(&e, local.target);
	if (rc == 0)
		rc = engine_open_doc(&e, t->arch, t->params, 1, &local);
	if (rc == 0) {
		int failed = run_template(&e, parallel) < 0;
		failed |= delete_orphans(&e, parallel) < 0;
		if (failed)
			rc = engine_report_failure(&e, "up");
		else
			rc = write_outputs(&e);
	}
	engine_dispose(&e);
	return rc;
}
