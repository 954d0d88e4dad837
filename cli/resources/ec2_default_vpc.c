/* ec2.default_vpc: a lookup of the region's default VPC and its subnets
 * (one per availability zone). Nothing is made, so nothing is deleted. */
#include "aws/protocol.h"
#include "resources/ec2_common.h"
#include "util/error.h"
#include "util/xalloc.h"

static int subnets_of(struct dc_res_ctx *ctx, const char *vpc, json_t **out)
{
	struct dc_buf form = DC_BUF_INIT(DC_MAX_SMALL);
	xmlDocPtr doc = NULL;
	*out = NULL;
	int rc = dc_ec2_filter(&form, 1, "vpc-id", vpc);
	if (rc == 0)
		rc = dc_ec2_send(ctx, "DescribeSubnets", &form, &doc);
	dc_buf_dispose(&form);
	if (rc < 0)
		return rc;
	json_t *subnets = dc_ec2_json(doc, "subnetSet"), *s;
	size_t i;
	*out = json_array();
	json_array_foreach(subnets, i, s) {
		const char *id = dc_ec2_str(s, "subnetId");
		if (id)
			json_array_append_new(*out, json_string(id));
	}
	json_decref(subnets);
	xmlFreeDoc(doc);
	return 0;
}

static int cmp_strings(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a),
		      json_string_value(*(json_t *const *)b));
}

/* Sorted, so that the same subnets compare equal between runs. */
static json_t *sorted(json_t *list)
{
	size_t n = json_array_size(list);
	json_t **v = dc_xcalloc(n ? n : 1, sizeof(*v));
	json_t *out = json_array();
	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(list, i);
	qsort(v, n, sizeof(*v), cmp_strings);
	for (size_t i = 0; i < n; i++)
		json_array_append(out, v[i]);
	free(v);
	json_decref(list);
	return out;
}

static int vpc_lookup(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	xmlDocPtr doc = NULL;
	json_t *subnets = NULL;
	*attrs = NULL;
	int rc = dc_ec2_call(ctx, &doc, "DescribeVpcs", "Filter.1.Name", "isDefault",
			     "Filter.1.Value.1", "true", NULL);
	if (rc < 0)
		return rc;
	json_t *vpcs = dc_ec2_json(doc, "vpcSet");
	xmlFreeDoc(doc);
	const char *id = dc_ec2_str(json_array_get(vpcs, 0), "vpcId");
	const char *cidr = dc_ec2_str(json_array_get(vpcs, 0), "cidrBlock");
	if (!id)
		rc = dc_error_set("region '%s' has no default VPC (`aws ec2 create-default-vpc` "
				  "makes one)", ctx->region);
	if (rc == 0)
		rc = subnets_of(ctx, id, &subnets);
	if (rc == 0 && json_array_size(subnets) == 0)
		rc = dc_error_set("default VPC '%s' has no subnet", id);
	if (rc == 0)
		*attrs = json_pack("{s:s, s:s, s:s, s:o}", "id", id, "vpc_id", id, "cidr",
				   cidr ? cidr : "", "subnets", sorted(json_incref(subnets)));
	json_decref(subnets);
	json_decref(vpcs);
	return rc;
}

static int vpc_update(struct dc_res_ctx *ctx, const json_t *old_props, const json_t *new_props,
		      json_t *attrs)
{
	json_t *now = NULL;
	int rc = vpc_lookup(ctx, new_props, &now);
	if (rc == 0)
		json_object_update(attrs, now);
	json_decref(now);
	return rc;
}

static int vpc_forget(struct dc_res_ctx *ctx, const json_t *attrs)
{
	return 0;
}

const struct dc_resource_type dc_type_ec2_default_vpc = {
	.name = "ec2.default_vpc",
	.create = vpc_lookup,
	.update = vpc_update,
	.delete = vpc_forget,
};
