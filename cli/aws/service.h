/* What deployctl knows of each AWS service: how to name it, sign for it,
 * reach it and talk to it. One row per service in service.c. */
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
	const char *id;            /* name on deployctl's command line and in AWS_ENDPOINT_URL_<ID> (upper-cased, spaces as _) */
	const char *signing_name;  /* SigV4 service name */
	const char *endpoint_prefix; /* host label: <prefix>.<region>.amazonaws.com */
	enum dc_protocol protocol;
	const char *api_version;   /* Version= for query, path version for REST */
	const char *target_prefix; /* JSON: X-Amz-Target prefix ("DynamoDB_20120810") */
	const char *json_version;  /* JSON: "1.0" or "1.1" */
	const char *global_region; /* signs for this region whatever the client's (IAM: us-east-1), or NULL */
	const char *env_name;      /* suffix of AWS_ENDPOINT_URL_<NAME> and key under [services]: the SDKs' service id, e.g. "DYNAMODB" / "dynamodb", "API_GATEWAY_V2"? see service.c */
};

/* The service of that id or signing name ("dynamodb", "apigatewayv2", "s3"),
 * or NULL. */
const struct dc_service *dc_service_find(const char *id);

/* The table, for listing; terminated by a row with id NULL. */
extern const struct dc_service dc_services[];

#endif
