/* ec2.instance: `count` EC2 instances (1 by default, 0 launches none) made
 * alike by one RunInstances, IMDSv2 required, tagged at launch, with the
 * template's user data (base64-encoded here) and an optional instance
 * profile. RunInstances carries a ClientToken derived from stack and logical
 * id, EC2's idempotency token: a retried or resumed launch returns the
 * instances the first one made. */
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
#define COUNT_MAX 50
/* A new instance profile takes a while to reach EC2 (IAM is eventually
 * consistent); RunInstances refuses it meanwhile. */
#define PROFILE_LIMIT_S 120

struct instance_spec {
	char *name;
	const char *ami, *type, *subnet;
	const char *profile; /* instance profile ARN, or NULL */
	int count;
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
	s->profile = json_string_value(json_object_get(props, "instance_profile"));
	const json_t *count = json_object_get(props, "count");
	s->count = count ? (int)json_integer_value(count) : 1;
	if (!s->type)
		s->type = "t3.micro";
	if (s->profile && !*s->profile)
		s->profile = NULL;
	if (count && (!json_is_integer(count) || json_integer_value(count) < 0 ||
		      json_integer_value(count) > COUNT_MAX))
		return dc_error_set("instance '%s': \"count\" must be a whole number from 0 to %d",
				    s->name, COUNT_MAX);
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

/* The resource's attrs for these instances: with count 1, the instance's
 * own (its id, addresses); otherwise id is the name they share. Both list
 * every instance id in "ids". */
static json_t *group_attrs(const struct instance_spec *s, const json_t *insts)
{
	json_t *ids = json_array(), *inst;
	size_t i;
	json_array_foreach(insts, i, inst)
		json_array_append_new(ids, json_string(dc_ec2_str(inst, "instanceId")));
	json_t *attrs = s->count == 1 && json_array_size(insts) == 1
				? instance_attrs(json_array_get(insts, 0))
				: json_pack("{s:s}", "id", s->name);
	json_object_set_new(attrs, "ids", ids);
	return attrs;
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

/* InstanceId.1, .2, ... of a list of ids. */
static int ids_form(struct dc_buf *form, const json_t *ids)
{
	size_t i;
	json_t *id;
	int rc = 0;
	json_array_foreach(ids, i, id)
		if (rc == 0)
			rc = dc_ec2_form_nth(form, "InstanceId", (int)i + 1, json_string_value(id));
	return rc;
}

/* The instances of these ids that EC2 knows. */
static int describe_ids(struct dc_res_ctx *ctx, const json_t *ids, json_t **insts)
{
	struct dc_buf form = DC_BUF_INIT(DC_MAX_SMALL);
	int rc = ids_form(&form, ids);
	if (rc == 0)
		rc = describe(ctx, &form, insts);
	dc_buf_dispose(&form);
	return rc;
}

static const char *state_of(const json_t *inst)
{
	const char *s = dc_ec2_str(inst, "instanceState/name");
	return s ? s : "";
}

/* The instance ids of recorded attrs: "ids", or "id" alone as recorded
 * before there was a count. New reference. */
static json_t *ids_of(const json_t *attrs)
{
	json_t *ids = json_object_get(attrs, "ids");
	if (json_is_array(ids))
		return json_incref(ids);
	return json_pack("[s]", json_string_value(json_object_get(attrs, "id")));
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
	char count[16];
	int rc = 0;
	snprintf(count, sizeof(count), "%d", s->count);
	rc |= dc_form_add(form, "ImageId", s->ami);
	rc |= dc_form_add(form, "InstanceType", s->type);
	rc |= dc_form_add(form, "MinCount", count);
	rc |= dc_form_add(form, "MaxCount", count);
	rc |= dc_form_add(form, "ClientToken", token);
	rc |= dc_form_add(form, "MetadataOptions.HttpTokens", "required");
	rc |= dc_form_add(form, "MetadataOptions.HttpEndpoint", "enabled");
	json_array_foreach(s->groups, i, g)
		rc |= dc_ec2_form_nth(form, "SecurityGroupId", (int)i + 1, json_string_value(g));
	if (s->subnet && *s->subnet)
		rc |= dc_form_add(form, "SubnetId", s->subnet);
	if (s->profile)
		rc |= dc_form_add(form, "IamInstanceProfile.Arn", s->profile);
	if (s->user_data.len) {
		char *b64 = base64(&s->user_data);
		rc |= dc_form_add(form, "UserData", b64);
		free(b64);
	}
	if (rc == 0)
		rc = dc_ec2_tag_spec(form, ctx, "instance", s->name, s->tags);
	return rc ? -1 : 0;
}

struct launch {
	const struct instance_spec *s;
	const char *token;
	json_t *insts; /* what EC2 answered with */
};

static int run_call(struct dc_res_ctx *ctx, void *arg)
{
	struct launch *l = arg;
	struct dc_buf form = DC_BUF_INIT(DC_MAX_SMALL);
	xmlDocPtr doc = NULL;
	int rc = launch_form(&form, ctx, l->s, l->token);
	if (rc == 0)
		rc = dc_ec2_send(ctx, "RunInstances", &form, &doc);
	dc_buf_dispose(&form);
	json_decref(l->insts);
	l->insts = rc == 0 ? dc_ec2_json(doc, "instancesSet") : NULL;
	xmlFreeDoc(doc);
	return rc;
}

/* RunInstances with token `gen`: *insts are the instances EC2 answers
 * with, new or the ones this token made before. */
static int run_instances(struct dc_res_ctx *ctx, const struct instance_spec *s, int gen,
			 json_t **insts)
{
	char token[49];
	client_token(token, ctx, gen);
	struct launch l = { .s = s, .token = token };
	int rc = s->profile ? dc_resource_retry_while(ctx, "InvalidParameterValue",
						       "Invalid IAM Instance Profile",
						       "the new instance profile to reach EC2",
						       PROFILE_LIMIT_S, run_call, &l)
			    : run_call(ctx, &l);
	*insts = l.insts;
	if (rc == 0 && !dc_ec2_str(json_array_get(*insts, 0), "instanceId"))
		rc = dc_error_set("EC2 RunInstances answered without an instance");
	return rc;
}

static int is_gone(const char *state)
{
	return strcmp(state, "terminated") == 0 || strcmp(state, "shutting-down") == 0;
}

static int any_gone(const json_t *insts)
{
	size_t i;
	json_t *inst;
	json_array_foreach(insts, i, inst)
		if (is_gone(state_of(inst)))
			return 1;
	return 0;
}

/* The instances of this resource: those a crashed run launched (found by
 * their tags, which RunInstances sets atomically), else a launch whose
 * token has launched nothing since terminated (EC2 answers a used token
 * with what it made, or, with other parameters, IdempotentParameterMismatch:
 * both mean the next token). Recorded at once. */
static int launch_or_adopt(struct dc_res_ctx *ctx, const struct instance_spec *s, json_t **attrs)
{
	json_t *insts = NULL;
	int rc = describe_ours(ctx, s->name, &insts);
	for (int gen = 1; rc == 0 && s->count && !json_array_size(insts) &&
			  gen <= TOKEN_GENERATIONS; gen++) {
		json_decref(insts);
		rc = run_instances(ctx, s, gen, &insts);
		if (rc < 0 && dc_resource_error_is("IdempotentParameterMismatch"))
			rc = 0;
		if (rc < 0 || any_gone(insts)) {
			json_decref(insts);
			insts = json_array();
		}
	}
	if (rc == 0 && s->count && !json_array_size(insts))
		rc = dc_error_set("instance '%s': all %d launch tokens name terminated instances",
				  s->name, TOKEN_GENERATIONS);
	if (rc == 0) {
		*attrs = group_attrs(s, insts);
		rc = ctx->record(ctx, *attrs);
	}
	json_decref(insts);
	return rc;
}

struct running_wait {
	json_t *ids;
	json_t *insts; /* the last answer */
};

static int is_running(struct dc_res_ctx *ctx, void *arg)
{
	struct running_wait *w = arg;
	size_t i;
	json_t *inst;
	json_decref(w->insts);
	int rc = describe_ids(ctx, w->ids, &w->insts);
	/* Just launched, an instance may not be visible yet. */
	if (rc == DC_ENOTFOUND || (rc == 0 && json_array_size(w->insts) < json_array_size(w->ids)))
		return 0;
	if (rc < 0)
		return rc;
	json_array_foreach(w->insts, i, inst) {
		const char *state = state_of(inst), *why = dc_ec2_str(inst, "stateReason/message");
		if (is_gone(state) || strcmp(state, "stopped") == 0)
			return dc_error_set("instance '%s' is %s: %s",
					    dc_ec2_str(inst, "instanceId"), state,
					    why ? why : "no reason given");
		if (strcmp(state, "running") != 0)
			return 0;
	}
	return 1;
}

static int wait_running(struct dc_res_ctx *ctx, const struct instance_spec *s, json_t *attrs)
{
	struct running_wait w = { .ids = json_object_get(attrs, "ids") };
	if (!json_array_size(w.ids))
		return 0;
	char *what = json_array_size(w.ids) == 1
			     ? dc_xasprintf("instance '%s' to be running",
					    json_string_value(json_array_get(w.ids, 0)))
			     : dc_xasprintf("%zu instances '%s' to be running",
					    json_array_size(w.ids), s->name);
	int rc = dc_resource_wait(ctx, what, RUNNING_LIMIT_S, is_running, &w);
	free(what);
	/* Public DNS and IP come with the running state. */
	if (rc == 0) {
		json_t *now = group_attrs(s, w.insts);
		json_object_update(attrs, now);
		json_decref(now);
	}
	json_decref(w.insts);
	return rc;
}

static int instance_create(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	struct instance_spec s;
	*attrs = NULL;
	int rc = spec_init(&s, ctx, props);
	if (rc == 0)
		rc = launch_or_adopt(ctx, &s, attrs);
	if (rc == 0)
		rc = wait_running(ctx, &s, *attrs);
	if (rc < 0) {
		json_decref(*attrs);
		*attrs = NULL;
	}
	spec_dispose(&s);
	return rc;
}

/* ---- update, delete, find ------------------------------------------------- */

/* Security groups and tags change in place; anything else (AMI, type,
 * subnet, user data, which runs at first boot only, count, profile) makes
 * new instances. */
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

static int update_one(struct dc_res_ctx *ctx, const json_t *old_props,
		      const struct instance_spec *s, const char *id)
{
	int rc = 0;
	if (!json_equal(json_object_get(old_props, "security_groups"), (json_t *)s->groups) &&
	    json_array_size(s->groups))
		rc = set_groups(ctx, id, s->groups);
	if (rc == 0 && !json_equal(json_object_get(old_props, "tags"), (json_t *)s->tags))
		rc = dc_ec2_retag(ctx, id, s->name, json_object_get(old_props, "tags"), s->tags);
	if (rc < 0)
		dc_error_prefix("instance '%s'", id);
	return rc;
}

static int instance_update(struct dc_res_ctx *ctx, const json_t *old_props,
			   const json_t *new_props, json_t *attrs)
{
	struct instance_spec s;
	size_t i;
	json_t *id;
	if (!json_string_value(json_object_get(attrs, "id")))
		return dc_error_set("instance: state holds no id");
	if (!only_in_place(old_props, new_props))
		return DC_EREPLACE;
	int rc = spec_init(&s, ctx, new_props);
	json_t *ids = ids_of(attrs);
	json_array_foreach(ids, i, id)
		if (rc == 0)
			rc = update_one(ctx, old_props, &s, json_string_value(id));
	json_decref(ids);
	spec_dispose(&s);
	return rc;
}

static int all_terminated(struct dc_res_ctx *ctx, void *ids)
{
	json_t *insts = NULL, *inst;
	size_t i;
	int rc = describe_ids(ctx, ids, &insts);
	if (rc == DC_ENOTFOUND)
		return 1;
	int done = rc == 0;
	json_array_foreach(insts, i, inst)
		if (strcmp(state_of(inst), "terminated") != 0)
			done = 0;
	json_decref(insts);
	return rc < 0 ? rc : done;
}

/* Terminated and waited for: their network interfaces hold the security
 * groups the engine deletes next. */
static int instance_delete(struct dc_res_ctx *ctx, const json_t *attrs)
{
	struct dc_buf form = DC_BUF_INIT(DC_MAX_SMALL);
	const char *id = json_string_value(json_object_get(attrs, "id"));
	if (!id)
		return dc_error_set("instance: state holds no id");
	json_t *ids = ids_of(attrs);
	int rc = ids_form(&form, ids);
	if (rc == 0 && json_array_size(ids))
		rc = dc_ec2_send(ctx, "TerminateInstances", &form, NULL);
	if (rc == 0 && json_array_size(ids)) {
		char *what = dc_xasprintf("instance '%s' to terminate", id);
		rc = dc_resource_wait(ctx, what, TERMINATED_LIMIT_S, all_terminated, ids);
		free(what);
	}
	if (rc < 0 && rc != DC_ENOTFOUND)
		dc_error_prefix("deleting instance '%s'", id);
	dc_buf_dispose(&form);
	json_decref(ids);
	return rc == DC_ENOTFOUND ? 0 : rc;
}

/* Each live instance on its own, as deleting it needs nothing more. */
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
