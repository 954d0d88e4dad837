#include <ctype.h>

#include "harness.h"
#include "support_botocore.h"
#include "aws/service.h"
#include "util/buf.h"
#include "util/xalloc.h"

static const char *protocol_name(enum dc_protocol p)
{
	switch (p) {
	case DC_PROTO_QUERY:
		return "query";
	case DC_PROTO_EC2:
		return "ec2";
	case DC_PROTO_JSON:
		return "json";
	case DC_PROTO_REST_JSON:
		return "rest-json";
	case DC_PROTO_REST_XML:
		return "rest-xml";
	}
	return "?";
}

/* Every fact of every row, as botocore's model and its endpoint-override
 * lookup have it. */
void test_service__table_matches_botocore(void)
{
	struct dc_buf in = DC_BUF_INIT(DC_MAX_SMALL);
	int rows = 0;
	for (const struct dc_service *s = dc_services; s->id; s++, rows++)
		dc_buf_printf(&in, "%s\t%s\t%s\n", s->model, s->env_name, s->config_key);
	char *text = dc_test_botocore("services", dc_buf_cstr(&in));
	dc_buf_dispose(&in);
	if (!text)
		return;
	char *cursor = text;
	const char *f[10];
	const struct dc_service *s = dc_services;
	int seen = 0;
	for (; s->id && dc_test_next_row(&cursor, f, 10) == 10; s++, seen++) {
		check_str(f[0], s->model);
		check_str(s->signing_name, f[1]);
		check_str(s->endpoint_prefix, f[2]);
		check_str(protocol_name(s->protocol), f[3]);
		check_str(s->api_version, f[4]);
		check_str(s->target_prefix, f[5]);
		check_str(s->json_version, f[6]);
		check_str(s->sdk_id, f[7]);
		check_str(f[8], "ok"); /* else the variable botocore reads */
		check_str(f[9], "ok"); /* else the [services] key botocore reads */
	}
	check_int(seen, rows);
	free(text);
}

/* The SDKs' rule: serviceId with spaces as "_", upper-cased for
 * AWS_ENDPOINT_URL_<NAME>, lower-cased for the [services] key. */
void test_service__override_names_follow_sdk_rule(void)
{
	for (const struct dc_service *s = dc_services; s->id; s++) {
		char *up = dc_xstrdup(s->sdk_id), *low = dc_xstrdup(s->sdk_id);
		for (size_t i = 0; up[i]; i++) {
			up[i] = up[i] == ' ' ? '_' : (char)toupper((unsigned char)up[i]);
			low[i] = low[i] == ' ' ? '_' : (char)tolower((unsigned char)low[i]);
		}
		check_str(s->env_name, up);
		check_str(s->config_key, low);
		free(up);
		free(low);
	}
}

void test_service__roadmap_services_are_present(void)
{
	static const char *const ids[] = { "sts", "iam", "ec2", "elbv2", "dynamodb", "ecs",
					   "logs", "ssm", "ecr", "pricing", "tagging", "lambda",
					   "apigatewayv2", "efs", "s3", "eks", "autoscaling" };
	for (size_t i = 0; i < sizeof(ids) / sizeof(*ids); i++) {
		const struct dc_service *s = dc_service_find(ids[i]);
		check_str(s ? s->id : NULL, ids[i]);
	}
}

void test_service__find_by_alias(void)
{
	static const char *const pairs[][2] = {
		{ "elasticloadbalancing", "elbv2" },
		{ "elasticfilesystem", "efs" },
		{ "apigateway", "apigatewayv2" },
		{ "resourcegroupstaggingapi", "tagging" },
		{ "api.ecr", "ecr" },
		{ "api.pricing", "pricing" },
	};
	for (size_t i = 0; i < sizeof(pairs) / sizeof(*pairs); i++) {
		const struct dc_service *s = dc_service_find(pairs[i][0]);
		check_str(s ? s->id : NULL, pairs[i][1]);
	}
	check(dc_service_find("nosuchservice") == NULL);
	check(dc_service_find("") == NULL);
	check(dc_service_find(NULL) == NULL);
	check(dc_service_find("DynamoDB") == NULL);
}

/* No id or alias of one row leads to another row. */
void test_service__names_are_unambiguous(void)
{
	for (const struct dc_service *s = dc_services; s->id; s++) {
		check(dc_service_find(s->id) == s);
		check(dc_service_find(s->model) == s);
		check(dc_service_find(s->signing_name) == s);
		check(dc_service_find(s->endpoint_prefix) == s);
	}
}
