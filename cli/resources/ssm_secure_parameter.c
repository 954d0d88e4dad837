/* ssm.secure_parameter: a SecureString parameter /deployctl/<stack>/<logical>
 * holding a random secret (32 bytes from OpenSSL's RAND_bytes, hex), made
 * for instances that read it through their instance profile, such as the
 * k3s agent join token. The value is generated at create, sent once in
 * PutParameter (which --debug redacts: a SecureString's "Value") and never
 * kept: attrs hold the name and ARN only, an error that quotes the value is
 * replaced, and update keeps it. */
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "aws/endpoints.h"
#include "aws/protocol.h"
#include "resources/resource.h"
#include "util/error.h"
#include "util/xalloc.h"

#define SECRET_BYTES 32

static char *param_name(const struct dc_res_ctx *ctx)
{
	return dc_xasprintf("/deployctl/%s/%s", ctx->stack, ctx->logical_id);
}

static json_t *param_attrs(const struct dc_res_ctx *ctx, const char *name)
{
	const char *partition = dc_endpoint_partition(ctx->region);
	char *arn = dc_xasprintf("arn:%s:ssm:%s:%s:parameter%s", partition ? partition : "aws",
				 ctx->region, ctx->account, name);
	json_t *attrs = json_pack("{s:s, s:s, s:s}", "id", name, "name", name, "arn", arn);
	free(arn);
	return attrs;
}

static json_t *tag_list(const struct dc_res_ctx *ctx)
{
	json_t *tags = dc_resource_tags(ctx), *list = json_array(), *v;
	const char *k;
	json_object_foreach(tags, k, v)
		json_array_append_new(list, json_pack("{s:s, s:O}", "Key", k, "Value", v));
	json_decref(tags);
	return list;
}

/* 1 when the parameter carries this stack's tag. */
static int is_ours(struct dc_res_ctx *ctx, const char *name)
{
	json_t *out = NULL;
	json_t *in = json_pack("{s:s, s:s}", "ResourceType", "Parameter", "ResourceId", name);
	int rc = dc_aws_json(ctx->aws, "ssm", "ListTagsForResource", in, &out);
	json_decref(in);
	if (rc == 0)
		rc = dc_resource_tagged(ctx, json_object_get(out, "TagList"));
	json_decref(out);
	/* SSM's answer for tags of a parameter that does not exist. */
	if (rc < 0 && dc_resource_error_is("InvalidResourceId"))
		return DC_ENOTFOUND;
	return rc;
}

/* AWS's validation messages may quote what was sent: keep the code and
 * request id, drop a message that holds the value. */
static void scrub_error(const char *value)
{
	const struct dc_error *e = dc_error_last();
	if (!strstr(e->message, value))
		return;
	char code[sizeof(e->code)], request_id[sizeof(e->request_id)];
	snprintf(code, sizeof(code), "%s", e->code);
	snprintf(request_id, sizeof(request_id), "%s", e->request_id);
	dc_error_set_aws(e->http_status, code, request_id,
			 "message withheld: it quoted the secret value");
}

/* PutParameter with a fresh random value, never overwriting. */
static int put_new(struct dc_res_ctx *ctx, const char *name)
{
	unsigned char raw[SECRET_BYTES];
	char hex[2 * SECRET_BYTES + 1];
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return dc_error_set("parameter '%s': no random bytes from OpenSSL", name);
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	char *desc = dc_xasprintf("deployctl stack %s: %s", ctx->stack, ctx->logical_id);
	json_t *in = json_pack("{s:s, s:s, s:s, s:s, s:b, s:o}", "Name", name, "Description",
			       desc, "Value", hex, "Type", "SecureString", "Overwrite", 0, "Tags",
			       tag_list(ctx));
	int rc = dc_aws_json(ctx->aws, "ssm", "PutParameter", in, NULL);
	if (rc < 0)
		scrub_error(hex);
	json_decref(in);
	OPENSSL_cleanse(hex, sizeof(hex));
	OPENSSL_cleanse(raw, sizeof(raw));
	free(desc);
	return rc;
}

/* A parameter of that name a crashed run made (tagged at creation, in the
 * same call) is adopted with its value; anyone else's is left alone. */
static int adopt(struct dc_res_ctx *ctx, const char *name)
{
	int ours = is_ours(ctx, name);
	if (ours < 0)
		return ours;
	if (!ours)
		return dc_error_set("parameter '%s' exists and is not this stack's: delete it or "
				    "choose another stack name",
				    name);
	return 0;
}

static int secure_create(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	char *name = param_name(ctx);
	*attrs = NULL;
	int rc = put_new(ctx, name);
	if (rc < 0 && dc_resource_error_is("ParameterAlreadyExists"))
		rc = adopt(ctx, name);
	if (rc < 0)
		dc_error_prefix("parameter '%s'", name);
	else
		*attrs = param_attrs(ctx, name);
	free(name);
	return dc_resource_record_or_drop(ctx, rc, attrs);
}

/* There is nothing to change: the value stays what the instances read. */
static int secure_update(struct dc_res_ctx *ctx, const json_t *old_props, const json_t *new_props,
			 json_t *attrs)
{
	return 0;
}

static int secure_delete(struct dc_res_ctx *ctx, const json_t *attrs)
{
	const char *name = json_string_value(json_object_get(attrs, "id"));
	if (!name)
		return dc_error_set("parameter: state holds no id");
	json_t *in = json_pack("{s:s}", "Name", name);
	int rc = dc_aws_json(ctx->aws, "ssm", "DeleteParameter", in, NULL);
	json_decref(in);
	if (rc == DC_ENOTFOUND)
		return 0;
	if (rc < 0)
		dc_error_prefix("deleting parameter '%s'", name);
	return rc;
}

static int secure_find(struct dc_res_ctx *ctx, const json_t *props, json_t **found)
{
	char *name = param_name(ctx);
	int rc = is_ours(ctx, name);
	*found = NULL;
	if (rc >= 0 || rc == DC_ENOTFOUND)
		*found = json_array();
	if (rc == 1)
		json_array_append_new(*found, param_attrs(ctx, name));
	free(name);
	return *found ? 0 : rc;
}

const struct dc_resource_type dc_type_ssm_secure_parameter = {
	.name = "ssm.secure_parameter",
	.create = secure_create,
	.update = secure_update,
	.delete = secure_delete,
	.find = secure_find,
};
