/* The engine's shared machinery: its lock, state writes, progress, worker
 * clients, and deleting one resource. */
#include <libxml/tree.h>
#include <stdarg.h>

#include "aws/protocol.h"
#include "local/local.h"
#include "stack/engine_internal.h"
#include "util/error.h"
#include "util/xalloc.h"

void dc_engine_result_dispose(struct dc_engine_result *r)
{
	json_decref(r->doc);
	r->doc = NULL;
}

void engine_init(struct engine *e, struct dc_state *st, const char *name,
		 const struct dc_engine_options *opt, struct dc_engine_result *res)
{
	memset(e, 0, sizeof(*e));
	e->st = st;
	e->name = name;
	e->opt = opt;
	e->res = res;
	memset(res, 0, sizeof(*res));
	pthread_mutex_init(&e->lock, NULL);
}

void engine_dispose(struct engine *e)
{
	dc_local_free(e->local);
	e->local = NULL;
	dc_credentials_dispose(&e->local_creds);
	e->res->doc = e->doc;
	e->doc = NULL;
	pthread_mutex_destroy(&e->lock);
}

int engine_worker_init(void *arg, void **out)
{
	struct engine *e = arg;
	struct worker *w = dc_xcalloc(1, sizeof(*w));
	if (dc_aws_new(&w->aws, &e->opt->aws) < 0) {
		engine_say(e, "cannot start a worker: %s", dc_error_last()->message);
		free(w);
		return -1;
	}
	*out = w;
	return 0;
}

void engine_worker_dispose(void *arg, void *worker)
{
	struct engine *e = arg;
	struct worker *w = worker;
	pthread_mutex_lock(&e->lock);
	e->res->calls += dc_aws_request_count(w->aws);
	pthread_mutex_unlock(&e->lock);
	dc_aws_free(w->aws);
	free(w);
}

void engine_say(struct engine *e, const char *fmt, ...)
{
	if (!e->opt->progress)
		return;
	va_list ap;
	va_start(ap, fmt);
	/* flockfile keeps lines of concurrent workers whole. */
	flockfile(e->opt->progress);
	fprintf(e->opt->progress, "%s: ", e->name);
	vfprintf(e->opt->progress, fmt, ap);
	fputc('\n', e->opt->progress);
	funlockfile(e->opt->progress);
	va_end(ap);
}

static int vsave_locked(struct engine *e, const char *fmt, va_list ap)
{
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	return dc_state_save(e->st, e->name, e->doc, msg);
}

int engine_save_locked(struct engine *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = vsave_locked(e, fmt, ap);
	va_end(ap);
	return rc;
}

int engine_save(struct engine *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	pthread_mutex_lock(&e->lock);
	int rc = vsave_locked(e, fmt, ap);
	pthread_mutex_unlock(&e->lock);
	va_end(ap);
	return rc;
}

json_t *engine_entry(struct engine *e, const char *id)
{
	return json_object_get(json_object_get(e->doc, "resources"), id);
}

const struct dc_resource_type *engine_type(const struct engine *e, const char *name)
{
	return dc_resource_type_find_for(name, e->target);
}

json_t *engine_new_doc(const char *name, const char *arch, const char *target,
		       const char *region, const char *account, const json_t *params)
{
	json_t *empty = json_object();
	json_t *doc = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:O, s:{}, s:{}}", "version",
			 DC_STATE_VERSION, "name", name, "arch", arch, "target", target, "region",
			 region, "account", account, "params", params ? params : empty, "resources",
			 "outputs");
	json_decref(empty);
	return doc;
}

/* ctx->record: the attrs go into state before the type makes its next call. */
static int record(struct dc_res_ctx *ctx, json_t *attrs)
{
	struct engine *e = ctx->engine;
	pthread_mutex_lock(&e->lock);
	json_t *entry = engine_entry(e, ctx->logical_id);
	json_object_set_new(entry, "attrs", json_deep_copy(attrs));
	const char *type = json_string_value(json_object_get(entry, "type"));
	const char *pid = json_string_value(json_object_get(attrs, "id"));
	int rc = engine_save_locked(e, "%s: created %s (%s %s)", e->name, ctx->logical_id,
				    type ? type : "?", pid ? pid : "?");
	pthread_mutex_unlock(&e->lock);
	return rc;
}

static void progress(struct dc_res_ctx *ctx, const char *fmt, ...)
{
	struct engine *e = ctx->engine;
	if (!e->opt->progress)
		return;
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	engine_say(e, "%s: %s", ctx->logical_id, line);
}

void engine_ctx(struct engine *e, struct worker *w, const char *id, struct dc_res_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->aws = w ? w->aws : NULL;
	ctx->stack = e->name;
	ctx->arch = json_string_value(json_object_get(e->doc, "arch"));
	ctx->region = json_string_value(json_object_get(e->doc, "region"));
	ctx->account = json_string_value(json_object_get(e->doc, "account"));
	ctx->logical_id = id;
	ctx->template_dir = e->t ? e->t->dir : NULL;
	ctx->record = record;
	ctx->progress = progress;
	ctx->engine = e;
	ctx->local = e->local;
}

/* A resource a crash left "creating" before its attrs were recorded: ask
 * the type to find it by name or tag. *out: array of attrs (maybe empty). */
static int find_unrecorded(struct dc_res_ctx *ctx, const struct dc_resource_type *type,
			   const json_t *props, json_t **out)
{
	if (!type->find) {
		*out = json_array();
		return 0;
	}
	return type->find(ctx, props, out);
}

static int delete_found(struct dc_res_ctx *ctx, const struct dc_resource_type *type,
			json_t *entry)
{
	json_t *found = NULL;
	ctx->name_is_ours = 1;
	if (find_unrecorded(ctx, type, json_object_get(entry, "props"), &found) < 0)
		return -1;
	size_t i;
	json_t *attrs;
	int rc = 0;
	json_array_foreach(found, i, attrs) {
		if ((rc = type->delete(ctx, attrs)) < 0)
			break;
	}
	json_decref(found);
	return rc;
}

int engine_delete_entry(struct engine *e, struct worker *w, const char *id)
{
	struct dc_res_ctx ctx;
	pthread_mutex_lock(&e->lock);
	json_t *entry = json_deep_copy(engine_entry(e, id));
	json_object_set_new(engine_entry(e, id), "status", json_string("deleting"));
	int rc = engine_save_locked(e, "%s: deleting %s", e->name, id);
	pthread_mutex_unlock(&e->lock);

	const char *tname = json_string_value(json_object_get(entry, "type"));
	const struct dc_resource_type *type = tname ? engine_type(e, tname) : NULL;
	json_t *attrs = json_object_get(entry, "attrs");
	engine_ctx(e, w, id, &ctx);
	if (rc == 0 && !type)
		rc = dc_error_set("'%s' has unknown type '%s' in state", id, tname ? tname : "");
	else if (rc == 0 && json_object_get(attrs, "id"))
		rc = type->delete(&ctx, attrs);
	else if (rc == 0)
		rc = delete_found(&ctx, type, entry);
	if (rc == 0) {
		engine_say(e, "deleted %s", id);
		pthread_mutex_lock(&e->lock);
		json_object_del(json_object_get(e->doc, "resources"), id);
		rc = engine_save_locked(e, "%s: deleted %s (%s)", e->name, id, tname);
		e->res->deleted++;
		pthread_mutex_unlock(&e->lock);
	}
	json_decref(entry);
	return rc;
}

void engine_fail(struct engine *e, const char *id)
{
	engine_say(e, "%s failed: %s", id, dc_error_last()->message);
	pthread_mutex_lock(&e->lock);
	e->res->failed++;
	if (!e->error[0])
		snprintf(e->error, sizeof(e->error), "%s: %s", id, dc_error_last()->message);
	pthread_mutex_unlock(&e->lock);
}

int engine_report_failure(struct engine *e, const char *what)
{
	return dc_error_set("%s of stack '%s' failed (%d resource%s): %s", what, e->name,
			    e->res->failed, e->res->failed == 1 ? "" : "s",
			    e->error[0] ? e->error : "a worker could not start");
}

/* Who the caller is and which region the client uses. */
static int identity(struct engine *e, const struct dc_engine_options *opt, char **account,
		    char **region)
{
	struct dc_aws *aws;
	xmlDocPtr doc;
	*account = *region = NULL;
	if (dc_aws_new(&aws, &opt->aws) < 0)
		return -1;
	int rc = dc_aws_query(aws, "sts", "GetCallerIdentity", NULL, &doc);
	if (rc == 0) {
		*account = dc_xml_text(doc, "GetCallerIdentityResult/Account");
		xmlFreeDoc(doc);
		if (!*account)
			rc = dc_error_set("STS GetCallerIdentity answered without an account");
	}
	*region = dc_xstrdup(dc_aws_region(aws));
	e->res->calls += dc_aws_request_count(aws);
	dc_aws_free(aws);
	return rc;
}

static int is_local(const char *target)
{
	return target && strcmp(target, DC_LOCAL_TARGET) == 0;
}

static int new_doc(struct engine *e, const char *arch, const json_t *params,
		   struct dc_engine_options *opt)
{
	char *account = NULL, *region = NULL;
	int local = is_local(opt->target);
	int rc = local ? 0 : identity(e, opt, &account, &region);
	if (rc == 0) {
		e->doc = engine_new_doc(e->name, arch ? arch : "", local ? DC_LOCAL_TARGET : "aws",
					local ? DC_LOCAL_REGION : region,
					local ? DC_LOCAL_ACCOUNT : account, params);
		/* destroy --sweep of a stack state never knew writes nothing; a
		 * local stack is saved once its supervisor runs (engine_local.c). */
		if (arch && !local)
			rc = engine_save(e, "%s: new %s stack in %s", e->name, arch, region);
	}
	free(account);
	free(region);
	return rc;
}

/* The stack keeps the target it was made for. */
static int check_target(struct engine *e, const struct dc_engine_options *opt)
{
	const char *target = json_string_value(json_object_get(e->doc, "target"));
	e->target = target ? target : "aws";
	if (opt->target && strcmp(opt->target, e->target) != 0)
		return dc_error_set("stack '%s' was made for the %s target, not %s: destroy it "
				    "first or choose another --name", e->name, e->target,
				    opt->target);
	return 0;
}

static int open_existing(struct engine *e, const char *arch, const json_t *params,
			 struct dc_engine_options *opt)
{
	const char *was = json_string_value(json_object_get(e->doc, "arch"));
	const char *region = json_string_value(json_object_get(e->doc, "region"));
	if (arch && was && strcmp(was, arch) != 0)
		return dc_error_set("stack '%s' is a %s stack, not %s: destroy it first or choose "
				    "another --name", e->name, was, arch);
	if (!is_local(e->target) && opt->aws.config.region && region &&
	    strcmp(opt->aws.config.region, region) != 0)
		return dc_error_set("stack '%s' lives in %s, not %s: pass --region %s", e->name,
				    region, opt->aws.config.region, region);
	opt->aws.config.region = region;
	if (params)
		json_object_set(e->doc, "params", (json_t *)params);
	return 0;
}

int engine_open_doc(struct engine *e, const char *arch, const json_t *params, int create_missing,
		    struct dc_engine_options *opt)
{
	int rc = dc_state_load(&e->doc, e->st, e->name);
	int fresh = rc == DC_ENOTFOUND && create_missing;
	if (fresh)
		rc = new_doc(e, arch, params, opt);
	else if (rc == DC_ENOTFOUND)
		return dc_error_set("no stack '%s' in state", e->name);
	if (rc == 0)
		rc = check_target(e, opt);
	if (rc == 0 && !fresh)
		rc = open_existing(e, arch, params, opt);
	/* A sweep of an unknown stack has arch NULL: nothing local to start. */
	if (rc == 0 && is_local(e->target))
		rc = engine_local_open(e, opt, arch != NULL);
	return rc;
}
