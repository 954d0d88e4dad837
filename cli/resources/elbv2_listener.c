/* elbv2.listener: a load balancer's listener that forwards every request
 * to one target group. Port, protocol and target group change in place; a
 * listener on another load balancer is a new one. */
#include "aws/protocol.h"
#include "resources/elbv2_common.h"
#include "resources/rest.h"
#include "util/error.h"
#include "util/xalloc.h"

#define MEMBER "DescribeListenersResult/Listeners/member"

struct listener_spec {
	const char *lb;
	const char *target_group;
	const char *protocol;
	char port[16];
};

static int spec_init(struct listener_spec *s, const json_t *props)
{
	json_int_t port = 80;
	*s = (struct listener_spec){ .protocol = "HTTP" };
	if (dc_rest_props("elbv2.listener", props, "{s:s, s:s, s?I, s?s}", "load_balancer",
			  &s->lb, "target_group", &s->target_group, "port", &port, "protocol",
			  &s->protocol) < 0)
		return -1;
	if (port < 1 || port > 65535)
		return dc_error_set("elbv2.listener props: \"port\" must be 1-65535");
	snprintf(s->port, sizeof(s->port), "%lld", (long long)port);
	return 0;
}

static json_t *listener_attrs(const char *arn)
{
	return json_pack("{s:s, s:s}", "id", arn, "arn", arn);
}

/* Protocol, port and the forward action: what CreateListener and
 * ModifyListener both take. */
static int settings_form(struct dc_buf *form, const struct listener_spec *s)
{
	int rc = dc_form_add(form, "Protocol", s->protocol);
	if (rc == 0)
		rc = dc_form_add(form, "Port", s->port);
	if (rc == 0)
		rc = dc_form_add(form, "DefaultActions.member.1.Type", "forward");
	if (rc == 0)
		rc = dc_form_add(form, "DefaultActions.member.1.TargetGroupArn", s->target_group);
	return rc;
}

/* The ARN of the balancer's listener on s->port, or NULL (a new string). */
static int listener_on_port(struct dc_res_ctx *ctx, const struct listener_spec *s, char **arn)
{
	xmlDocPtr doc;
	json_t *l;
	size_t i;
	*arn = NULL;
	int rc = dc_elbv2_call(ctx, &doc, "DescribeListeners", "LoadBalancerArn", s->lb, NULL);
	if (rc < 0)
		return rc;
	json_t *all = dc_resource_xml_list(doc, MEMBER);
	xmlFreeDoc(doc);
	json_array_foreach(all, i, l) {
		const char *port = json_string_value(json_object_get(l, "Port"));
		const char *a = json_string_value(json_object_get(l, "ListenerArn"));
		if (port && a && strcmp(port, s->port) == 0 && !*arn)
			*arn = dc_xstrdup(a);
	}
	json_decref(all);
	return 0;
}

static int modify(struct dc_res_ctx *ctx, const char *arn, const struct listener_spec *s)
{
	struct dc_buf form = DC_BUF_INIT(DC_MAX_SMALL);
	int rc = dc_form_add(&form, "ListenerArn", arn);
	if (rc == 0)
		rc = settings_form(&form, s);
	if (rc == 0)
		rc = dc_elbv2_send(ctx, "ModifyListener", &form, NULL);
	dc_buf_dispose(&form);
	return rc;
}

static int create_call(struct dc_res_ctx *ctx, const struct listener_spec *s, json_t **attrs)
{
	struct dc_buf form = DC_BUF_INIT(DC_MAX_SMALL);
	xmlDocPtr doc = NULL;
	int rc = dc_form_add(&form, "LoadBalancerArn", s->lb);
	if (rc == 0)
		rc = settings_form(&form, s);
	if (rc == 0)
		rc = dc_elbv2_form_tags(&form, ctx);
	if (rc == 0)
		rc = dc_elbv2_send(ctx, "CreateListener", &form, &doc);
	dc_buf_dispose(&form);
	if (rc < 0)
		return rc;
	char *arn = dc_xml_text(doc, "CreateListenerResult/Listeners/member/ListenerArn");
	xmlFreeDoc(doc);
	if (!arn)
		return dc_error_set("CreateListener answered without an ARN");
	*attrs = listener_attrs(arn);
	free(arn);
	return ctx->record(ctx, *attrs);
}

/* A listener a crashed run made on the port is made to say what the
 * template says; the balancer is this stack's, so its listeners are too. */
static int listener_create(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	struct listener_spec s;
	char *arn = NULL;
	*attrs = NULL;
	int rc = spec_init(&s, props);
	if (rc == 0)
		rc = listener_on_port(ctx, &s, &arn);
	if (rc == 0 && arn) {
		*attrs = listener_attrs(arn);
		rc = modify(ctx, arn, &s);
	} else if (rc == 0) {
		rc = create_call(ctx, &s, attrs);
	}
	if (rc < 0) {
		dc_error_prefix("listener on port %s", s.port);
		json_decref(*attrs);
		*attrs = NULL;
	}
	free(arn);
	return rc;
}

static int listener_update(struct dc_res_ctx *ctx, const json_t *old_props,
			   const json_t *new_props, json_t *attrs)
{
	struct listener_spec was, now;
	const char *arn = json_string_value(json_object_get(attrs, "arn"));
	if (!arn)
		return dc_error_set("listener: state holds no arn");
	if (spec_init(&was, old_props) < 0 || spec_init(&now, new_props) < 0)
		return -1;
	if (strcmp(was.lb, now.lb) != 0)
		return DC_EREPLACE;
	int rc = modify(ctx, arn, &now);
	if (rc < 0)
		dc_error_prefix("listener '%s'", arn);
	return rc;
}

static int listener_delete(struct dc_res_ctx *ctx, const json_t *attrs)
{
	const char *arn = json_string_value(json_object_get(attrs, "arn"));
	if (!arn)
		return dc_error_set("listener: state holds no arn");
	int rc = dc_elbv2_call(ctx, NULL, "DeleteListener", "ListenerArn", arn, NULL);
	if (rc == DC_ENOTFOUND)
		return 0;
	if (rc < 0)
		dc_error_prefix("deleting listener '%s'", arn);
	return rc;
}

/* Only with the balancer known: swept, a listener goes with its balancer. */
static int listener_find(struct dc_res_ctx *ctx, const json_t *props, json_t **found)
{
	struct listener_spec s;
	char *arn = NULL;
	*found = json_array();
	if (spec_init(&s, props) < 0)
		return 0;
	int rc = listener_on_port(ctx, &s, &arn);
	if (rc == 0 && arn)
		rc = dc_elbv2_ours(ctx, arn);
	if (rc == 1)
		json_array_append_new(*found, listener_attrs(arn));
	free(arn);
	if (rc >= 0 || rc == DC_ENOTFOUND)
		return 0;
	json_decref(*found);
	*found = NULL;
	return rc;
}

const struct dc_resource_type dc_type_elbv2_listener = {
	.name = "elbv2.listener",
	.create = listener_create,
	.update = listener_update,
	.delete = listener_delete,
	.find = listener_find,
};
