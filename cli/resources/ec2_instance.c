/* ec2.instance: one EC2 instance, IMDSv2 required, tagged at launch, with
 * the template's user data (base64-encoded here). RunInstances carries a
 * ClientToken derived from stack and logical id, EC2's idempotency token: a
 * retried or resumed launch returns the instance the first one made. */
#include <openssl/evp.h>

#include "aws/protocol.h"
#include "aws/sigv4.h"
#include "resources/ec2_common.h"
#include "util/error.h"
#include "util/xalloc.h"

#define NAME_MAX_LEN 255
#define USER_DATA_CAP (64 * 1024)
#define RUNNING_LIMIT_S 600
#define TERMINATED_LIMIT_S 900
/* Each destroy and up again uses the next token: EC2 answers a token whose
 * instance was terminated with that terminated instance for 24 hours or
 * more. */
#define TOKEN_GENERATIONS 100

struct instance_spec {
	char *name;
	const char *ami, *type, *subnet;
	const json_t *groups; /* list of security group ids */
	const json_t *tags;   /* extra tags, may be NULL */
	struct dc_buf user_data;
};

static int is_string_list(const json_t *v)
{
	size_t i;
	json_t *e;
	if (!json_is_array(v))
		return 0;
	json_array_foreach(v, i, e)
		if (!json_is_string(e) || !*json_string_value(e))
			return 0;
	return 1;
}

static void spec_dispose(struct instance_spec *s)
{
	free(s->name);
	dc_buf_dispose(&s->user_data);
}

static int spec_init(struct instance_spec *s, struct dc_res_ctx *ctx, const json_t *props)
{
	*s = (struct instance_spec){ .name = dc_resource_name(ctx, NAME_MAX_LEN) };
	dc_buf_init(&s->user_data, USER_DATA_CAP);
	s->ami = json_string_value(json_object_get(props, "ami"));
	s->type = json_string_value(json_object_get(props, "instance_type"));
	s->subnet = json_string_value(json_object_get(props, "subnet"));
	s->groups = json_object_get(props, "security_groups");
	s->tags = json_object_get(props, "tags");
	if (!s->type)
		s->type = "t3.micro";
	if (!s->ami || !*s->ami)
		return dc_error_set("instance '%s': \"ami\" is missing", s->name);
	if (s->groups && !is_string_list(s->groups))
		return dc_error_set("instance '%s': \"security_groups\" must be a list of ids",
				    s->name);
	if (s->tags && !json_is_object(s->tags))
		return dc_error_set("instance '%s': \"tags\" must be an object", s->name);
	return dc_ec2_user_data(&s->user_data, ctx, props);
}

/* Props as compared between runs: the user data's files are read now, so a
 * change to the app they carry is a change to the instance. */
static int instance_prepare(struct dc_res_ctx *ctx, const json_t *props, json_t **out)
{
	struct instance_spec s;
	char hex[65];
	int rc = spec_init(&s, ctx, props);
	*out = NULL;
	if (rc == 0) {
		dc_sha256_hex(hex, s.user_data.ptr ? s.user_data.ptr : "", s.user_data.len);
		*out = json_deep_copy(props);
		/* For the local target only (cli/local/types.h): no change here. */
		json_object_del(*out, "local");
		json_object_set_new(*out, "user_data_sha256", json_string(hex));
	}
	spec_dispose(&s);
	return rc;
}

/* ---- reading instances ---------------------------------------------------- */

static json_t *instance_attrs(const json_t *inst)
{
	const char *id = dc_ec2_str(inst, "instanceId");
	const char *dns = dc_ec2_str(inst, "dnsName"), *ip = dc_ec2_str(inst, "ipAddress");
	const char *pdns = dc_ec2_str(inst, "privateDnsName");
	const char *pip = dc_ec2_str(inst, "privateIpAddress");
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", id ? id : "", "public_dns",
			 dns ? dns : "", "public_ip", ip ? ip : "", "private_dns",
			 pdns ? pdns : "", "private_ip", pip ? pip : "");
}

/* Every instance in a DescribeInstances answer, across reservations. */
static json_t *instances_of(xmlDocPtr doc)
{
	json_t *res = dc_ec2_json(doc, "reservationSet"), *out = json_array(), *r, *i;
	size_t a, b;
	json_array_foreach(res, a, r)
		json_array_foreach(json_object_get(r, "instancesSet"), b, i)
			json_array_append(out, i);
	json_decref(res);
	return out;
}

static int describe(struct dc_res_ctx *ctx, const struct dc_buf *form, json_t **out)
{
	xmlDocPtr doc = NULL;
	int rc = dc_ec2_send(ctx, "DescribeInstances", form, &doc);
	*out = rc == 0 ? instances_of(doc) : NULL;
	xmlFreeDoc(doc);
	return rc;
}

/* This stack's live instances named `name` (not shutting down or gone). */
static int describe_ours(struct dc_res_ctx *ctx, const char *name, json_t **out)
{
	struct dc_buf form = DC_BUF_INIT(DC_MAX_SMALL);
	int rc = dc_ec2_filter_ours(&form, ctx, name);
	const char *live[] = { "pending", "running", "stopping", "stopped" };
	for (int i = 0; rc == 0 && i < 4; i++) {
		char key[40];
		snprintf(key, sizeof(key), "Filter.3.Value.%d", i + 1);
		rc = dc_form_add(&form, key, live[i]);
	}
	if (rc == 0)
		rc = dc_form_add(&form, "Filter.3.Name", "instance-state-name");
	if (rc == 0)
		rc = describe(ctx, &form, out);
	dc_buf_dispose(&form);
	return rc;
}

static int describe_one(struct dc_res_ctx *ctx, const char *id, json_t **inst)
{
	struct dc_buf form = DC_BUF_INIT(DC_MAX_SMALL);
	json_t *all = NULL;
	int rc = dc_ec2_form_nth(&form, "InstanceId", 1, id);
	if (rc == 0)
		rc = describe(ctx, &form, &all);
	dc_buf_dispose(&form);
	*inst = json_incref(json_array_get(all, 0));
	json_decref(all);
	return rc == 0 && !*inst ? DC_ENOTFOUND : rc;
}

static const char *state_of(const json_t *inst)
{
	const char *s = dc_ec2_str(inst, "instanceState/name");
	return s ? s : "";
}

/* ---- launching ------------------------------------------------------------ */

/* EC2's idempotency token for launch number `gen` of this resource: the
 * same for every retry or resume, different per stack, resource and
 * account. */
static void client_token(char out[49], const struct dc_res_ctx *ctx, int gen)
{
	char *seed = dc_xasprintf("deployctl/%s/%s/%s/%s/%d", ctx->account ? ctx->account : "",
				  ctx->region ? ctx->region : "", ctx->stack, ctx->logical_id, gen);
	char hex[65];
	dc_sha256_hex(hex, seed, strlen(seed));
	snprintf(out, 49, "%.48s", hex);
	free(seed);
}

static char *base64(const struct dc_buf *b)
{
	char *out = dc_xmalloc(4 * ((b->len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)dc_buf_cstr(b), (int)b->len);
	return out;
}

static int launch_form(struct dc_buf *form, struct dc_res_ctx *ctx,
		       const struct instance_spec *s, const char *token)
{
	size_t i;
	json_t *g;
	int rc = 0;
	rc |= dc_form_add(form, "ImageId", s->ami);
	rc |= dc_form_add(form, "InstanceType", s->type);
	rc |= dc_form_add(form, "MinCount", "1");
	rc |= dc_form_add(form, "MaxCount", "1");
	rc |= dc_form_add(form, "ClientToken", token);
	rc |= dc_form_add(form, "MetadataOptions.HttpTokens", "required");
	rc |= dc_form_add(form, "MetadataOptions.HttpEndpoint", "enabled");
	json_array_foreach(s->groups, i, g)
		rc |= dc_ec2_form_nth(form, "SecurityGroupId", (int)i + 1, json_string_value(g));
	if (s->subnet && *s->subnet)
		rc |= dc_form_add(form, "SubnetId", s->subnet);
	if (s->user_data.len) {
		char *b64 = base64(&s->user_data);
		rc |= dc_form_add(form, "UserData", b64);
		free(b64);
	}
	if (rc == 0)
		rc = dc_ec2_tag_spec(form, ctx, "instance", s->name, s->tags);
	return rc ? -1 : 0;
}

/* RunInstances with token `gen`: *inst is the instance EC2 answers with,
 * new or the one this token made before. */
static int run_instance(struct dc_res_ctx *ctx, const struct instance_spec *s, int gen,
			json_t **inst)
{
	struct dc_buf form = DC_BUF_INIT(DC_MAX_SMALL);
	xmlDocPtr doc = NULL;
	char token[49];
	client_token(token, ctx, gen);
	int rc = launch_form(&form, ctx, s, token);
	if (rc == 0)
		rc = dc_ec2_send(ctx, "RunInstances", &form, &doc);
	dc_buf_dispose(&form);
	json_t *all = rc == 0 ? dc_ec2_json(doc, "instancesSet") : NULL;
	xmlFreeDoc(doc);
	*inst = json_incref(json_array_get(all, 0));
	json_decref(all);
	if (rc == 0 && !dc_ec2_str(*inst, "instanceId"))
		rc = dc_error_set("EC2 RunInstances answered without an instance");
	return rc;
}

static int is_gone(const char *state)
{
	return strcmp(state, "terminated") == 0 || strcmp(state, "shutting-down") == 0;
}

/* The instance of this resource: one a crashed run launched (found by its
 * tags, which RunInstances sets atomically), else a launch whose token has
 * not launched an instance since terminated. Recorded at once. */
static int launch_or_adopt(struct dc_res_ctx *ctx, const struct instance_spec *s, json_t **attrs)
{
	json_t *found = NULL, *inst = NULL;
	int rc = describe_ours(ctx, s->name, &found);
	inst = json_incref(json_array_get(found, 0));
	json_decref(found);
	for (int gen = 1; rc == 0 && !inst && gen <= TOKEN_GENERATIONS; gen++) {
		rc = run_instance(ctx, s, gen, &inst);
		if (rc == 0 && is_gone(state_of(inst))) {
			json_decref(inst);
			inst = NULL;
		}
	}
	if (rc == 0 && !inst)
		rc = dc_error_set("instance '%s': all %d launch tokens name terminated instances",
				  s->name, TOKEN_GENERATIONS);
	if (rc == 0) {
		*attrs = instance_attrs(inst);
		rc = ctx->record(ctx, *attrs);
	}
	json_decref(inst);
	return rc;
}

struct running_wait {
	const char *id;
	json_t *inst; /* the last answer */
};

static int is_running(struct dc_res_ctx *ctx, void *arg)
{
	struct running_wait *w = arg;
	json_decref(w->inst);
	int rc = describe_one(ctx, w->id, &w->inst);
	/* Just launched, an instance may not be visible yet. */
	if (rc == DC_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	const char *state = state_of(w->inst);
	if (is_gone(state) || strcmp(state, "stopped") == 0)
		return dc_error_set("instance '%s' is %s: %s", w->id, state,
				    dc_ec2_str(w->inst, "stateReason/message")
					    ? dc_ec2_str(w->inst, "stateReason/message")
					    : "no reason given");
	return strcmp(state, "running") == 0;
}

static int instance_create(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	struct instance_spec s;
	struct running_wait w = { 0 };
	*attrs = NULL;
	int rc = spec_init(&s, ctx, props);
	if (rc == 0)
		rc = launch_or_adopt(ctx, &s, attrs);
	if (rc == 0) {
		w.id = json_string_value(json_object_get(*attrs, "id"));
		char *what = dc_xasprintf("instance '%s' to be running", w.id);
		rc = dc_resource_wait(ctx, what, RUNNING_LIMIT_S, is_running, &w);
		free(what);
	}
	/* Public DNS and IP come with the running state. */
	if (rc == 0) {
		json_t *now = instance_attrs(w.inst);
		json_object_update(*attrs, now);
		json_decref(now);
	}
	if (rc < 0) {
		json_decref(*attrs);
		*attrs = NULL;
	}
	json_decref(w.inst);
	spec_dispose(&s);
	return rc;
}

/* ---- update, delete, find ------------------------------------------------- */

/* Security groups and tags change in place; anything else (AMI, type,
 * subnet, user data, which runs at first boot only) makes a new instance. */
static int only_in_place(const json_t *old_props, const json_t *new_props)
{
	json_t *a = json_deep_copy(old_props), *b = json_deep_copy(new_props);
	const char *in_place[] = { "security_groups", "tags" };
	for (int i = 0; i < 2; i++) {
		json_object_del(a, in_place[i]);
		json_object_del(b, in_place[i]);
	}
	int same = json_equal(a, b);
	json_decref(a);
	json_decref(b);
	return same;
}

static int set_groups(struct dc_res_ctx *ctx, const char *id, const json_t *groups)
{
	struct dc_buf form = DC_BUF_INIT(DC_MAX_SMALL);
	size_t i;
	json_t *g;
	int rc = dc_form_add(&form, "InstanceId", id);
	json_array_foreach(groups, i, g)
		if (rc == 0)
			rc = dc_ec2_form_nth(&form, "GroupId", (int)i + 1, json_string_value(g));
	if (rc == 0)
		rc = dc_ec2_send(ctx, "ModifyInstanceAttribute", &form, NULL);
	dc_buf_dispose(&form);
	return rc;
}

static int instance_update(struct dc_res_ctx *ctx, const json_t *old_props,
			   const json_t *new_props, json_t *attrs)
{
	const char *id = json_string_value(json_object_get(attrs, "id"));
	struct instance_spec s;
	if (!id)
		return dc_error_set("instance: state holds no id");
	if (!only_in_place(old_props, new_props))
		return DC_EREPLACE;
	int rc = spec_init(&s, ctx, new_props);
	if (rc == 0 && !json_equal(json_object_get(old_props, "security_groups"),
				   (json_t *)s.groups) && json_array_size(s.groups))
		rc = set_groups(ctx, id, s.groups);
	if (rc == 0 && !json_equal(json_object_get(old_props, "tags"), (json_t *)s.tags))
		rc = dc_ec2_retag(ctx, id, s.name, json_object_get(old_props, "tags"), s.tags);
	if (rc < 0)
		dc_error_prefix("instance '%s'", id);
	spec_dispose(&s);
	return rc;
}

static int is_terminated(struct dc_res_ctx *ctx, void *id)
{
	json_t *inst = NULL;
	int rc = describe_one(ctx, id, &inst);
	if (rc == 0)
		rc = strcmp(state_of(inst), "terminated") == 0;
	json_decref(inst);
	return rc == DC_ENOTFOUND ? 1 : rc;
}

/* Terminated and waited for: its network interface holds the security
 * groups the engine deletes next. */
static int instance_delete(struct dc_res_ctx *ctx, const json_t *attrs)
{
	const char *id = json_string_value(json_object_get(attrs, "id"));
	if (!id)
		return dc_error_set("instance: state holds no id");
	int rc = dc_ec2_call(ctx, NULL, "TerminateInstances", "InstanceId.1", id, NULL);
	if (rc == DC_ENOTFOUND)
		return 0;
	if (rc == 0) {
		char *what = dc_xasprintf("instance '%s' to terminate", id);
		rc = dc_resource_wait(ctx, what, TERMINATED_LIMIT_S, is_terminated, (void *)id);
		free(what);
	}
	if (rc < 0)
		dc_error_prefix("deleting instance '%s'", id);
	return rc;
}

static int instance_find(struct dc_res_ctx *ctx, const json_t *props, json_t **found)
{
	char *name = dc_resource_name(ctx, NAME_MAX_LEN);
	json_t *all = NULL, *inst;
	size_t i;
	int rc = describe_ours(ctx, name, &all);
	*found = rc == 0 ? json_array() : NULL;
	json_array_foreach(all, i, inst)
		json_array_append_new(*found, instance_attrs(inst));
	json_decref(all);
	free(name);
	return rc;
}

const struct dc_resource_type dc_type_ec2_instance = {
	.name = "ec2.instance",
	.prepare = instance_prepare,
	.create = instance_create,
	.update = instance_update,
	.delete = instance_delete,
	.find = instance_find,
};
