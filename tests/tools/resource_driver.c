/* Drive one resource type against a real endpoint (moto in tests), outside
 * the engine, so a type's create/update/delete/find can be checked on its
 * own with boto3:
 *
 *   resource-driver ACTION TYPE --props JSON [--old-props JSON] [--attrs JSON]
 *       [--stack S] [--arch A] [--logical ID] [--template-dir DIR]
 *
 * ACTION is prepare, create, update, delete or find. AWS settings come from the
 * environment as for deployctl. Prints the prepared props (prepare), the
 * resulting attrs (create, update)
 * or the found array (find) as JSON on stdout; every ctx->record call is
 * printed on stderr as "record: {...}", progress as "progress: ...". */
#include <stdarg.h>

#include "aws/client.h"
#include "opt.h"
#include "resources/resource.h"
#include "util/error.h"

static int record(struct dc_res_ctx *ctx, json_t *attrs)
{
	char *s = json_dumps(attrs, JSON_COMPACT | JSON_SORT_KEYS);
	fprintf(stderr, "record: %s\n", s);
	free(s);
	return 0;
}

static void progress(struct dc_res_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	fputs("progress: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static json_t *parse_arg(const char *text, const char *what)
{
	json_error_t err;
	json_t *v = json_loads(text ? text : "{}", 0, &err);
	if (!v)
		fprintf(stderr, "resource-driver: %s is not JSON: %s\n", what, err.text);
	return v;
}

static int act(const char *action, const struct dc_resource_type *t, struct dc_res_ctx *ctx,
	       json_t *props, json_t *old_props, json_t *attrs)
{
	json_t *out = NULL;
	int rc;
	if (strcmp(action, "prepare") == 0) {
		rc = t->prepare ? t->prepare(ctx, props, &out) : 0;
		if (!t->prepare)
			out = json_incref(props);
	} else if (strcmp(action, "create") == 0) {
		rc = t->create(ctx, props, &out);
	} else if (strcmp(action, "update") == 0) {
		rc = t->update ? t->update(ctx, old_props, props, attrs) : DC_EREPLACE;
		out = json_incref(attrs);
	} else if (strcmp(action, "delete") == 0) {
		rc = t->delete(ctx, attrs);
	} else if (strcmp(action, "find") == 0) {
		rc = t->find ? t->find(ctx, props, &out) : dc_error_set("type has no find");
	} else {
		rc = dc_error_set("unknown action '%s'", action);
	}
	if (rc == DC_EREPLACE)
		printf("\"replace\"\n");
	else if (rc >= 0 && out)
		json_dumpf(out, stdout, JSON_COMPACT | JSON_SORT_KEYS), putchar('\n');
	json_decref(out);
	return rc;
}

int main(int argc, char **argv)
{
	const char *props_s = NULL, *old_s = NULL, *attrs_s = NULL;
	struct dc_res_ctx ctx = { .stack = "drv", .arch = "test-arch", .logical_id = "res",
				  .template_dir = ".", .record = record, .progress = progress };
	const struct dc_opt opts[] = {
		{ DC_OPT_STRING, "props", 0, &props_s, "JSON", "" },
		{ DC_OPT_STRING, "old-props", 0, &old_s, "JSON", "" },
		{ DC_OPT_STRING, "attrs", 0, &attrs_s, "JSON", "" },
		{ DC_OPT_STRING, "stack", 0, &ctx.stack, "S", "" },
		{ DC_OPT_STRING, "arch", 0, &ctx.arch, "A", "" },
		{ DC_OPT_STRING, "logical", 0, &ctx.logical_id, "ID", "" },
		{ DC_OPT_STRING, "template-dir", 0, &ctx.template_dir, "DIR", "" },
		DC_OPT_TABLE_END
	};
	struct dc_strlist args = { 0 };
	struct dc_aws_options aopt = { .need_region = 1 };
	const struct dc_resource_type *t;
	json_t *props = NULL, *old_props = NULL, *attrs = NULL;
	int rc = -1;

	if (dc_opt_parse(opts, NULL, argc - 1, argv + 1, &args) < 0 || args.n != 2) {
		fprintf(stderr, "usage: resource-driver ACTION TYPE --props JSON ...\n");
		goto done;
	}
	if (!(t = dc_resource_type_find(args.v[1]))) {
		fprintf(stderr, "resource-driver: no type '%s'\n", args.v[1]);
		goto done;
	}
	props = parse_arg(props_s, "--props");
	old_props = parse_arg(old_s, "--old-props");
	attrs = parse_arg(attrs_s, "--attrs");
	if (!props || !old_props || !attrs)
		goto done;
	if (dc_aws_new(&ctx.aws, &aopt) < 0) {
		fprintf(stderr, "resource-driver: %s\n", dc_error_last()->message);
		goto done;
	}
	ctx.region = dc_aws_region(ctx.aws);
	ctx.account = getenv("DC_ACCOUNT") ? getenv("DC_ACCOUNT") : "123456789012";
	rc = act(args.v[0], t, &ctx, props, old_props, attrs);
	if (rc < 0 && rc != DC_EREPLACE)
		fprintf(stderr, "resource-driver: %s\n", dc_error_last()->message);
done:
	dc_aws_free(ctx.aws);
	json_decref(props);
	json_decref(old_props);
	json_decref(attrs);
	dc_strlist_dispose(&args);
	return rc < 0 && rc != DC_EREPLACE ? 1 : 0;
}
