/* What deployctl knows of each AWS service: how to name it, sign for it,
 * reach it and talk to it. One row per service in service.c; every fact is
 * copied from botocore's model (data/<model>/<version>/service-2.json
 * "metadata"), and tests/unit/test_service.c checks the table against it. */
#ifndef DC_SERVICE_H
#define DC_SERVICE_H

enum dc_protocol {
	DC_PROTO_QUERY,     /* form-encoded Action=...&Version=..., XML answers (IAM, STS, ELBv2) */
	DC_PROTO_EC2,       /* query with EC2's error format and list naming */
	DC_PROTO_JSON,      /* POST / with X-Amz-Target (DynamoDB, ECS, Logs, SSM, ECR, Pricing, Tagging) */
	DC_PROTO_REST_JSON, /* REST paths with JSON bodies (Lambda, API Gateway v2, EFS) */
	DC_PROTO_REST_XML   /* REST paths with XML bodies (S3) */
};

struct dc_service {
	const char *id;              /* name on deployctl's command line ("elbv2", "tagging") */
	const char *model;           /* botocore/SDK model name ("resourcegroupstaggingapi") */
	const char *signing_name;    /* SigV4 service name (model signingName, else endpointPrefix) */
	const char *endpoint_prefix; /* host label(s): <prefix>.<region>.<dns suffix> ("api.ecr") */
	enum dc_protocol protocol;
	const char *api_version;     /* Version= for query, path version for REST */
	const char *target_prefix;   /* JSON: X-Amz-Target prefix ("DynamoDB_20120810"), else NULL */
	const char *json_version;    /* JSON: "1.0" or "1.1" (as the model says), else NULL */
	const char *sdk_id;          /* the model's serviceId ("CloudWatch Logs") */
	/* The SDKs' names for overrides, derived from sdk_id (spaces to "_"):
	 * AWS_ENDPOINT_URL_<env_name>, and <config_key> under [services NAME]. */
	const char *env_name;        /* "CLOUDWATCH_LOGS" */
	const char *config_key;      /* "cloudwatch_logs" */
};

/* The service of that id, else the one whose model name, signing name or
 * endpoint prefix it is ("resourcegroupstaggingapi", "apigateway",
 * "elasticloadbalancing"), or NULL. */
const struct dc_service *dc_service_find(const char *id);

/* The table, for listing; terminated by a row with id NULL. */
extern const struct dc_service dc_services[];

#endif
