#include "aws/service.h"

/* Copied from botocore's models (metadata of service-2.json); the override
 * names follow the SDKs' rule: serviceId with spaces as underscores,
 * upper-cased for the environment and lower-cased for the config file.
 * test_service.c holds every field against botocore. */
#define ROW(id_, model_, sign_, prefix_, proto_, ver_, target_, json_, sdk_, env_, key_) \
	{ .id = id_, .model = model_, .signing_name = sign_, .endpoint_prefix = prefix_,  \
	  .protocol = proto_, .api_version = ver_, .target_prefix = target_,              \
	  .json_version = json_, .sdk_id = sdk_, .env_name = env_, .config_key = key_ }

const struct dc_service dc_services[] = {
	ROW("sts", "sts", "sts", "sts", DC_PROTO_QUERY, "2011-06-15", NULL, NULL,
	    "STS", "STS", "sts"),
	ROW("iam", "iam", "iam", "iam", DC_PROTO_QUERY, "2010-05-08", NULL, NULL,
	    "IAM", "IAM", "iam"),
	ROW("ec2", "ec2", "ec2", "ec2", DC_PROTO_EC2, "2016-11-15", NULL, NULL,
	    "EC2", "EC2", "ec2"),
	ROW("elbv2", "elbv2", "elasticloadbalancing", "elasticloadbalancing", DC_PROTO_QUERY,
	    "2015-12-01", NULL, NULL, "Elastic Load Balancing v2",
	    "ELASTIC_LOAD_BALANCING_V2", "elastic_load_balancing_v2"),
	ROW("autoscaling", "autoscaling", "autoscaling", "autoscaling", DC_PROTO_QUERY,
	    "2011-01-01", NULL, NULL, "Auto Scaling", "AUTO_SCALING", "auto_scaling"),
	ROW("dynamodb", "dynamodb", "dynamodb", "dynamodb", DC_PROTO_JSON, "2012-08-10",
	    "DynamoDB_20120810", "1.0", "DynamoDB", "DYNAMODB", "dynamodb"),
	ROW("ecs", "ecs", "ecs", "ecs", DC_PROTO_JSON, "2014-11-13",
	    "AmazonEC2ContainerServiceV20141113", "1.1", "ECS", "ECS", "ecs"),
	ROW("logs", "logs", "logs", "logs", DC_PROTO_JSON, "2014-03-28", "Logs_20140328", "1.1",
	    "CloudWatch Logs", "CLOUDWATCH_LOGS", "cloudwatch_logs"),
	ROW("ssm", "ssm", "ssm", "ssm", DC_PROTO_JSON, "2014-11-06", "AmazonSSM", "1.1",
	    "SSM", "SSM", "ssm"),
	ROW("ecr", "ecr", "ecr", "api.ecr", DC_PROTO_JSON, "2015-09-21",
	    "AmazonEC2ContainerRegistry_V20150921", "1.1", "ECR", "ECR", "ecr"),
	ROW("pricing", "pricing", "pricing", "api.pricing", DC_PROTO_JSON, "2017-10-15",
	    "AWSPriceListService", "1.1", "Pricing", "PRICING", "pricing"),
	ROW("tagging", "resourcegroupstaggingapi", "tagging", "tagging", DC_PROTO_JSON,
	    "2017-01-26", "ResourceGroupsTaggingAPI_20170126", "1.1",
	    "Resource Groups Tagging API", "RESOURCE_GROUPS_TAGGING_API",
	    "resource_groups_tagging_api"),
	ROW("lambda", "lambda", "lambda", "lambda", DC_PROTO_REST_JSON, "2015-03-31", NULL, NULL,
	    "Lambda", "LAMBDA", "lambda"),
	ROW("apigatewayv2", "apigatewayv2", "apigateway", "apigateway", DC_PROTO_REST_JSON,
	    "2018-11-29", NULL, "1.1", "ApiGatewayV2", "APIGATEWAYV2", "apigatewayv2"),
	ROW("efs", "efs", "elasticfilesystem", "elasticfilesystem", DC_PROTO_REST_JSON,
	    "2015-02-01", NULL, NULL, "EFS", "EFS", "efs"),
	ROW("eks", "eks", "eks", "eks", DC_PROTO_REST_JSON, "2017-11-01", NULL, "1.1",
	    "EKS", "EKS", "eks"),
	ROW("s3", "s3", "s3", "s3", DC_PROTO_REST_XML, "2006-03-01", NULL, NULL,
	    "S3", "S3", "s3"),
	{ .id = NULL },
};

const struct dc_service *dc_service_find(const char *id)
{
	if (!id)
		return NULL;
	/* Ids first, so that an alias can never shadow another row's id. */
	for (const struct dc_service *s = dc_services; s->id; s++)
		if (strcmp(s->id, id) == 0)
			return s;
	for (const struct dc_service *s = dc_services; s->id; s++)
		if (strcmp(s->model, id) == 0 || strcmp(s->signing_name, id) == 0 ||
		    strcmp(s->endpoint_prefix, id) == 0)
			return s;
	return NULL;
}
