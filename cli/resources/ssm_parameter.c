/* ssm.parameter: a lookup of a parameter, such as AWS's public
 * /aws/service/ami-amazon-linux-latest/... naming the latest AMI. The value
 * read at create is kept until the name changes, so a new AMI release does
 * not replace a running instance on the next `up`. Nothing is made, so
 * nothing is deleted. */
#include "aws/protocol.h"
#include "resources/resource.h"
#include "util/error.h"

static int param_read(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	const char *name = json_string_value(json_object_get(props, "name"));
	json_t *out = NULL;
	*attrs = NULL;
	if (!name || !*name)
		return dc_error_set("parameter '%s': \"name\" is missing", ctx->logical_id);
	json_t *in = json_pack("{s:s}", "Name", name);
	int rc = dc_aws_json(ctx->aws, "ssm", "GetParameter", in, &out);
	json_decref(in);
	const char *value = json_string_value(json_object_get(json_object_get(out, "Parameter"),
							      "Value"));
	if (rc == 0 && !value)
		rc = dc_error_set("SSM GetParameter answered without a value");
	if (rc == 0)
		*attrs = json_pack("{s:s, s:s}", "id", name, "value", value);
	else
		dc_error_prefix("reading parameter '%s'", name);
	json_decref(out);
	return rc;
}

static int param_update(struct dc_res_ctx *ctx, const json_t *old_props, const json_t *new_props,
			json_t *attrs)
{
	json_t *now = NULL;
	int rc = param_read(ctx, new_props, &now);
	if (rc == 0)
		json_object_update(attrs, now);
	json_decref(now);
	return rc;
}

static int param_forget(struct dc_res_ctx *ctx, const json_t *attrs)
{
	return 0;
}

const struct dc_resource_type dc_type_ssm_parameter = {
	.name = "ssm.parameter",
	.create = param_read,
	.update = param_update,
	.delete = param_forget,
};
