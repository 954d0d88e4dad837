/* up --dry-run: what up would do, in order, from the template and state
 * alone: no AWS call at all, not even to learn the account. */
#include "stack/engine_internal.h"
#include "stack/refs.h"
#include "util/error.h"
#include "util/xalloc.h"

#define UNKNOWN "(known after up)"

struct plan {
	struct engine *e;
	json_t *changing; /* ids of resources that will be made anew: their attrs are unknown */
	json_t *unknown;
};

static int lookup(void *arg, const char *id, const char *name, json_t **out)
{
	struct plan *p = arg;
	struct engine *e = p->e;
	if (id && json_object_get(p->changing, id)) {
		*out = p->unknown;
		return 0;
	}
	if (id)
		*out = json_object_get(json_object_get(engine_entry(e, id), "attrs"), name);
	else if (!strcmp(name, "stack"))
		*out = json_object_get(e->doc, "name");
	else if (!strcmp(name, "region") || !strcmp(name, "account"))
		*out = json_object_get(e->doc, name);
	else
		*out = json_object_get(e->t->params, name);
	if (!*out)
		*out = p->unknown;
	return 0;
}

/* "create", "update", "replace" (the type cannot update) or "keep". */
static const char *action(struct plan *p, const struct dc_template_resource *r, json_t *props)
{
	json_t *entry = engine_entry(p->e, r->id);
	const char *status = json_string_value(json_object_get(entry, "status"));
	const char *was = json_string_value(json_object_get(entry, "type"));
	const struct dc_resource_type *type = engine_type(p->e, r->type);
	if (!entry || !status || strcmp(status, "created") != 0)
		return "create";
	/* As up decides: an entry that records no type is not replaced. */
	if (was && strcmp(was, r->type) != 0)
		return "replace";
	if (json_equal(json_object_get(entry, "props"), props))
		return "keep";
	return type->update ? "update" : "replace";
}

static int plan_one(FILE *out, struct plan *p, const struct dc_template_resource *r)
{
	const struct dc_resource_type *type = engine_type(p->e, r->type);
	json_t *empty = json_object(), *props, *prepared = NULL;
	struct dc_res_ctx ctx;
	engine_ctx(p->e, NULL, r->id, &ctx);
	int rc = dc_refs_resolve(&props, r->props ? r->props : empty, lookup, p);
	json_decref(empty);
	if (rc < 0)
		return -1;
	if (type->prepare && type->prepare(&ctx, props, &prepared) < 0) {
		json_decref(props);
		return -1;
	}
	const char *what = action(p, r, prepared ? prepared : props);
	if (strcmp(what, "create") == 0 || strcmp(what, "replace") == 0)
		json_object_set_new(p->changing, r->id, json_true());
	fprintf(out, "  %-8s %-22s %s\n", what, r->id, r->type);
	json_decref(props);
	json_decref(prepared);
	return 0;
}

int dc_engine_plan(FILE *out, struct dc_state *st, const char *name, const struct dc_template *t)
{
	struct engine e;
	struct dc_engine_result res;
	struct dc_engine_options opt = { 0 };
	engine_init(&e, st, name, &opt, &res);
	e.t = t;
	int rc = dc_state_load(&e.doc, st, name);
	if (rc == DC_ENOTFOUND) {
		e.doc = engine_new_doc(name, t->arch, "aws", UNKNOWN, UNKNOWN, t->params);
		rc = 0;
	}
	const char *target = json_string_value(json_object_get(e.doc, "target"));
	e.target = target ? target : "aws";
	struct plan p = { &e, json_object(), json_string(UNKNOWN) };
	fprintf(out, "plan for stack '%s' (%s):\n", name, t->arch);
	for (size_t i = 0; rc == 0 && i < t->nres; i++)
		rc = plan_one(out, &p, &t->res[i]);
	const char *id;
	json_t *v;
	json_object_foreach(json_object_get(e.doc, "resources"), id, v) {
		const char *type = json_string_value(json_object_get(v, "type"));
		if (rc == 0 && !dc_template_find(t, id))
			fprintf(out, "  %-8s %-22s %s\n", "delete", id, type ? type : "?");
	}
	json_decref(p.changing);
	json_decref(p.unknown);
	engine_dispose(&e);
	dc_engine_result_dispose(&res);
	return rc;
}
