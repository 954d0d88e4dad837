/* lambda.permission: one statement of a function's resource policy, e.g.
 * letting API Gateway invoke it. The statement id is the deterministic
 * name, so a statement a crashed run added is found again. Nothing changes
 * in place: any change replaces the statement. */
#include "aws/protocol.h"
#include "resources/rest.h"
#include "util/error.h"
#include "util/xalloc.h"

#define TYPE "lambda.permission"
#define SID_MAX_LEN 100
#define CONFLICT_LIMIT_S 120

struct perm {
	const char *function;
	const char *principal;
	const char *source_arn; /* NULL: none */
	const char *action;
};

static int read_perm(struct perm *p, const json_t *props)
{
	*p = (struct perm){ .action = "lambda:InvokeFunction" };
	return dc_rest_props(TYPE, props, "{s:s, s:s, s?:s, s?:s}", "function", &p->function,
			     "principal", &p->principal, "source_arn", &p->source_arn, "action",
			     &p->action);
}

static json_t *perm_attrs(const char *function, const char *sid)
{
	char *id = dc_xasprintf("%s/%s", function, sid);
	json_t *a = json_pack("{s:s, s:s}", "id", id, "statement_id", sid);
	free(id);
	return a;
}

struct call {
	const char *method;
	const char *path;
	json_t *body;
};

static int send_call(struct dc_res_ctx *ctx, void *arg)
{
	struct call *c = arg;
	return dc_aws_rest_json(ctx->aws, "lambda", c->method, c->path, c->body, NULL);
}

/* The policy cannot change while the function itself is being changed
 * ("An update is in progress"); wait that out. */
static int send_retrying(struct dc_res_ctx *ctx, struct call *c)
{
	return dc_resource_retry_while(ctx, "ResourceConflictException", "in progress",
				       "a change of the function to finish", CONFLICT_LIMIT_S,
				       send_call, c);
}

static int perm_create(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	struct perm p;
	*attrs = NULL;
	if (read_perm(&p, props) < 0)
		return -1;
	char *sid = dc_resource_name(ctx, SID_MAX_LEN);
	char *path = dc_rest_path("/2015-03-31/functions/%s/policy", p.function);
	json_t *body = json_pack("{s:s, s:s, s:s}", "StatementId", sid, "Action", p.action,
				 "Principal", p.principal);
	if (p.source_arn)
		json_object_set_new(body, "SourceArn", json_string(p.source_arn));
	struct call c = { "POST", path, body };
	int rc = send_retrying(ctx, &c);
	/* The statement exists: a crashed run added it. */
	if (rc < 0 && dc_resource_error_is("ResourceConflictException") &&
	    strstr(dc_error_last()->message, "already exists"))
		rc = 0;
	if (rc == 0) {
		*attrs = perm_attrs(p.function, sid);
		rc = ctx->record(ctx, *attrs);
	}
	if (rc < 0) {
		json_decref(*attrs);
		*attrs = NULL;
	}
	json_decref(body);
	free(path);
	free(sid);
	return rc;
}

static int perm_delete(struct dc_res_ctx *ctx, const json_t *attrs)
{
	const char *id = json_string_value(json_object_get(attrs, "id"));
	const char *sid = json_string_value(json_object_get(attrs, "statement_id"));
	const char *slash = id ? strrchr(id, '/') : NULL;
	if (!slash || !sid)
		return dc_error_set(TYPE " attrs need 'id' (function/statement) and 'statement_id'");
	char *function = dc_xstrndup(id, (size_t)(slash - id));
	char *path = dc_rest_path("/2015-03-31/functions/%s/policy/%s", function, sid);
	struct call c = { "DELETE", path, NULL };
	int rc = send_retrying(ctx, &c);
	free(path);
	free(function);
	return rc == DC_ENOTFOUND ? 0 : rc;
}

static int has_statement(const json_t *answer, const char *sid)
{
	const char *text = json_string_value(json_object_get(answer, "Policy"));
	json_t *policy = text ? json_loads(text, 0, NULL) : NULL;
	json_t *statements = json_object_get(policy, "Statement");
	int found = dc_rest_find_item(statements, "Sid", sid) != NULL;
	json_decref(policy);
	return found;
}

static int perm_find(struct dc_res_ctx *ctx, const json_t *props, json_t **found)
{
	struct perm p;
	/* Swept without state, the function is unknown: the permission goes
	 * with the function. */
	if (!json_object_get(props, "function")) {
		*found = json_array();
		return 0;
	}
	if (read_perm(&p, props) < 0)
		return -1;
	char *sid = dc_resource_name(ctx, SID_MAX_LEN);
	char *path = dc_rest_path("/2015-03-31/functions/%s/policy", p.function);
	json_t *answer = NULL;
	int rc = dc_aws_rest_json(ctx->aws, "lambda", "GET", path, NULL, &answer);
	if (rc == 0 || rc == DC_ENOTFOUND) {
		*found = json_array();
		if (rc == 0 && has_statement(answer, sid))
			json_array_append_new(*found, perm_attrs(p.function, sid));
		rc = 0;
	}
	json_decref(answer);
	free(path);
	free(sid);
	return rc;
}

const struct dc_resource_type dc_type_lambda_permission = {
	.name = "lambda.permission",
	.create = perm_create,
	.delete = perm_delete,
	.find = perm_find,
};
