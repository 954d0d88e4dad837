/* dynamodb.table: a table with one hash key, billed on demand. Only its tags
 * change in place; a different key is a new table. */
#include "aws/protocol.h"
#include "resources/resource.h"
#include "util/error.h"
#include "util/xalloc.h"

#define TABLE_NAME_MAX 255
#define ACTIVE_LIMIT_S 300
#define GONE_LIMIT_S 300
#define IN_USE_LIMIT_S 300

struct table_spec {
	const char *hash_key;
	const char *hash_type; /* "S", "N" or "B" */
};

/* One DynamoDB call; `in` is consumed. out may be NULL. */
static int ddb(struct dc_res_ctx *ctx, const char *op, json_t *in, json_t **out)
{
	json_t *ignored = NULL;
	int rc = dc_aws_json(ctx->aws, "dynamodb", op, in, out ? out : &ignored);
	json_decref(ignored);
	json_decref(in);
	return rc;
}

static int spec_init(struct table_spec *s, const struct dc_res_ctx *ctx, const json_t *props)
{
	s->hash_key = json_string_value(json_object_get(props, "hash_key"));
	s->hash_type = json_string_value(json_object_get(props, "hash_type"));
	if (!json_object_get(props, "hash_type"))
		s->hash_type = "S";
	if (!s->hash_key || !*s->hash_key)
		return dc_error_set("table '%s': \"hash_key\" (an attribute name) is missing",
				    ctx->logical_id);
	if (!s->hash_type || strlen(s->hash_type) != 1 || !strchr("SNB", s->hash_type[0]))
		return dc_error_set("table '%s': \"hash_type\" must be \"S\", \"N\" or \"B\"",
				    ctx->logical_id);
	return 0;
}

static const char *attr_id(const json_t *attrs)
{
	return json_string_value(json_object_get(attrs, "id"));
}

static json_t *table_attrs(const char *name, const char *arn)
{
	return json_pack("{s:s, s:s, s:s}", "id", name, "name", name, "arn", arn ? arn : "");
}

/* The tags as DynamoDB wants them: [{"Key": ..., "Value": ...}]. */
static json_t *tag_list(const struct dc_res_ctx *ctx)
{
	json_t *tags = dc_resource_tags(ctx), *list = json_array(), *v;
	const char *k;
	json_object_foreach(tags, k, v)
		json_array_append_new(list, json_pack("{s:s, s:O}", "Key", k, "Value", v));
	json_decref(tags);
	return list;
}

static int tag_table(struct dc_res_ctx *ctx, const json_t *attrs)
{
	const char *arn = json_string_value(json_object_get(attrs, "arn"));
	return ddb(ctx, "TagResource",
		   json_pack("{s:s, s:o}", "ResourceArn", arn ? arn : "", "Tags", tag_list(ctx)),
		   NULL);
}

/* The table's description (a new reference); DC_ENOTFOUND when none. */
static int describe(struct dc_res_ctx *ctx, const char *name, json_t **table)
{
	json_t *out;
	*table = NULL;
	int rc = ddb(ctx, "DescribeTable", json_pack("{s:s}", "TableName", name), &out);
	if (rc < 0)
		return rc;
	*table = json_incref(json_object_get(out, "Table"));
	json_decref(out);
	return *table ? 0 : dc_error_set("DescribeTable '%s': no table in the answer", name);
}

/* Does the existing table have the key the template asks for? */
static int key_matches(const json_t *table, const struct table_spec *s)
{
	const json_t *keys = json_object_get(table, "KeySchema"), *d;
	const json_t *first = json_array_get(keys, 0);
	const char *k = json_string_value(json_object_get(first, "AttributeName"));
	size_t i;
	if (json_array_size(keys) != 1 || !k || strcmp(k, s->hash_key) != 0)
		return 0;
	json_array_foreach(json_object_get(table, "AttributeDefinitions"), i, d) {
		const char *n = json_string_value(json_object_get(d, "AttributeName"));
		const char *t = json_string_value(json_object_get(d, "AttributeType"));
		if (n && t && strcmp(n, s->hash_key) == 0)
			return strcmp(t, s->hash_type) == 0;
	}
	return 0;
}

/* The table a crashed run made, if its key is the one asked for. */
static int adopt(struct dc_res_ctx *ctx, const char *name, const struct table_spec *s,
		 json_t **attrs)
{
	json_t *table;
	int rc = describe(ctx, name, &table);
	if (rc < 0)
		return rc;
	if (!key_matches(table, s))
		rc = dc_error_set("it exists already with another key than '%s' (%s): delete it or "
				  "rename the resource", s->hash_key, s->hash_type);
	else
		*attrs = table_attrs(name, json_string_value(json_object_get(table, "TableArn")));
	json_decref(table);
	return rc == 0 ? tag_table(ctx, *attrs) : rc;
}

static json_t *create_input(const struct dc_res_ctx *ctx, const char *name,
			    const struct table_spec *s)
{
	return json_pack("{s:s, s:[{s:s, s:s}], s:[{s:s, s:s}], s:s, s:o}", "TableName", name,
			 "AttributeDefinitions", "AttributeName", s->hash_key, "AttributeType",
			 s->hash_type, "KeySchema", "AttributeName", s->hash_key, "KeyType", "HASH",
			 "BillingMode", "PAY_PER_REQUEST", "Tags", tag_list(ctx));
}

static int create_or_adopt(struct dc_res_ctx *ctx, const char *name, const struct table_spec *s,
			   json_t **attrs)
{
	json_t *out;
	int rc = ddb(ctx, "CreateTable", create_input(ctx, name, s), &out);
	if (rc < 0 && dc_resource_error_is("ResourceInUseException"))
		return adopt(ctx, name, s, attrs);
	if (rc < 0)
		return rc;
	json_t *desc = json_object_get(out, "TableDescription");
	*attrs = table_attrs(name, json_string_value(json_object_get(desc, "TableArn")));
	json_decref(out);
	return ctx->record(ctx, *attrs);
}

static int table_active(struct dc_res_ctx *ctx, void *name)
{
	json_t *table;
	int rc = describe(ctx, name, &table);
	if (rc == DC_ENOTFOUND)
		return 0; /* a new table may not be visible at once */
	if (rc < 0)
		return rc;
	const char *status = json_string_value(json_object_get(table, "TableStatus"));
	int ready = status && strcmp(status, "ACTIVE") == 0;
	json_decref(table);
	return ready;
}

static int table_create(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	struct table_spec s;
	*attrs = NULL;
	if (spec_init(&s, ctx, props) < 0)
		return -1;
	char *name = dc_resource_name(ctx, TABLE_NAME_MAX);
	int rc = create_or_adopt(ctx, name, &s, attrs);
	if (rc == 0) {
		char *what = dc_xasprintf("table '%s' to become ACTIVE", name);
		rc = dc_resource_wait(ctx, what, ACTIVE_LIMIT_S, table_active, name);
		free(what);
	}
	if (rc < 0) {
		dc_error_prefix("table '%s'", name);
		json_decref(*attrs);
		*attrs = NULL;
	}
	free(name);
	return rc;
}

static int table_update(struct dc_res_ctx *ctx, const json_t *old_props,
			const json_t *new_props, json_t *attrs)
{
	struct table_spec was, now;
	if (spec_init(&now, ctx, new_props) < 0)
		return -1;
	if (spec_init(&was, ctx, old_props) < 0 || strcmp(was.hash_key, now.hash_key) != 0 ||
	    strcmp(was.hash_type, now.hash_type) != 0)
		return DC_EREPLACE;
	int rc = tag_table(ctx, attrs);
	if (rc < 0 && attr_id(attrs))
		dc_error_prefix("table '%s'", attr_id(attrs));
	return rc;
}

static int table_gone(struct dc_res_ctx *ctx, void *name)
{
	json_t *table;
	int rc = describe(ctx, name, &table);
	json_decref(table);
	return rc == DC_ENOTFOUND ? 1 : rc < 0 ? rc : 0;
}

static int delete_call(struct dc_res_ctx *ctx, void *name)
{
	return ddb(ctx, "DeleteTable", json_pack("{s:s}", "TableName", (const char *)name), NULL);
}

static int table_delete(struct dc_res_ctx *ctx, const json_t *attrs)
{
	const char *name = attr_id(attrs);
	if (!name)
		return dc_error_set("table: state holds no id");
	char *busy = dc_xasprintf("table '%s' to finish its current change", name);
	char *gone = dc_xasprintf("table '%s' to be deleted", name);
	/* A table still CREATING or UPDATING cannot be deleted yet. */
	int rc = dc_resource_retry_while(ctx, "ResourceInUseException", NULL, busy, IN_USE_LIMIT_S,
					 delete_call, (void *)name);
	if (rc == 0 || rc == DC_ENOTFOUND)
		rc = dc_resource_wait(ctx, gone, GONE_LIMIT_S, table_gone, (void *)name);
	if (rc < 0)
		dc_error_prefix("deleting table '%s'", name);
	free(busy);
	free(gone);
	return rc;
}

static int ours(struct dc_res_ctx *ctx, const char *arn)
{
	json_t *out;
	if (ddb(ctx, "ListTagsOfResource", json_pack("{s:s}", "ResourceArn", arn), &out) < 0)
		return -1;
	int yes = dc_resource_tagged(ctx, json_object_get(out, "Tags"));
	json_decref(out);
	return yes;
}

static int table_find(struct dc_res_ctx *ctx, const json_t *props, json_t **found)
{
	char *name = dc_resource_name(ctx, TABLE_NAME_MAX);
	json_t *table = NULL;
	const char *arn = NULL;
	int rc = describe(ctx, name, &table);
	*found = NULL;
	if (rc == 0 && (arn = json_string_value(json_object_get(table, "TableArn"))))
		rc = ours(ctx, arn);
	if (rc >= 0 || rc == DC_ENOTFOUND) {
		*found = json_array();
		if (rc == 1)
			json_array_append_new(*found, table_attrs(name, arn));
		rc = 0;
	}
	json_decref(table);
	free(name);
	return rc;
}

const struct dc_resource_type dc_type_dynamodb_table = {
	.name = "dynamodb.table",
	.create = table_create,
	.update = table_update,
	.delete = table_delete,
	.find = table_find,
};
