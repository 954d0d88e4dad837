#include "aws/protocol.h"
#include "harness.h"
#include "util/error.h"

static void answer(struct dc_http_response *res, long status, const char *body)
{
	dc_http_response_init(res);
	res->status = status;
	dc_buf_puts(&res->body, body);
}

void test_protocol_error__query_error_response(void)
{
	struct dc_http_response res;
	char code[64];
	answer(&res, 403,
	       "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error>"
	       "<Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized"
	       "</Message></Error><RequestId>4a5b</RequestId></ErrorResponse>");
	check_int(dc_protocol_error(dc_service_find("iam"), &res, code, sizeof(code)), -1);
	check_str(code, "AccessDenied");
	check_str(dc_error_last()->message,
		  "AccessDenied: User is not authorized (HTTP 403, request id 4a5b)");
	check_str(dc_error_last()->request_id, "4a5b");
	check_int(dc_error_last()->http_status, 403);
	dc_http_response_dispose(&res);
}

void test_protocol_error__ec2_not_found(void)
{
	struct dc_http_response res;
	answer(&res, 400,
	       "<?xml version=\"1.0\"?><Response><Errors><Error><Code>InvalidVpcID.NotFound</Code>"
	       "<Message>The vpc ID 'vpc-1' does not exist</Message></Error></Errors>"
	       "<RequestID>r-1</RequestID></Response>");
	check_int(dc_protocol_error(dc_service_find("ec2"), &res, NULL, 0), DC_ENOTFOUND);
	check_str(dc_error_last()->code, "InvalidVpcID.NotFound");
	check_str(dc_error_last()->request_id, "r-1");
	dc_http_response_dispose(&res);
}

void test_protocol_error__json_type_with_namespace(void)
{
	struct dc_http_response res;
	answer(&res, 400,
	       "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException\","
	       "\"message\":\"Requested resource not found\"}");
	dc_headers_add(&res.headers, "x-amzn-RequestId", "RID9");
	check_int(dc_protocol_error(dc_service_find("dynamodb"), &res, NULL, 0), DC_ENOTFOUND);
	check_str(dc_error_last()->message,
		  "ResourceNotFoundException: Requested resource not found (HTTP 400, request id RID9)");
	dc_http_response_dispose(&res);
}

void test_protocol_error__rest_json_header_type(void)
{
	struct dc_http_response res;
	answer(&res, 409, "{\"Message\":\"Function already exist: f\"}");
	dc_headers_add(&res.headers, "X-Amzn-ErrorType",
		       "ResourceConflictException:http://internal.amazon.com/coral/");
	char code[64];
	check_int(dc_protocol_error(dc_service_find("lambda"), &res, code, sizeof(code)), -1);
	check_str(code, "ResourceConflictException");
	check(strstr(dc_error_last()->message, "Function already exist: f") != NULL);
	dc_http_response_dispose(&res);
}

void test_protocol_error__s3_head_without_body(void)
{
	struct dc_http_response res;
	answer(&res, 404, "");
	dc_headers_add(&res.headers, "x-amz-request-id", "S3RID");
	check_int(dc_protocol_error(dc_service_find("s3"), &res, NULL, 0), DC_ENOTFOUND);
	check_str(dc_error_last()->message, "NotFound (HTTP 404, request id S3RID)");
	dc_http_response_dispose(&res);
}

void test_protocol_error__foreign_html_is_described(void)
{
	struct dc_http_response res;
	answer(&res, 502, "<html><body>\nBad Gateway\n</body></html>");
	check_int(dc_protocol_error(dc_service_find("sts"), &res, NULL, 0), -1);
	check(strstr(dc_error_last()->message, "HTTP 502") != NULL);
	check(strstr(dc_error_last()->message, "not an AWS error") != NULL);
	check(strchr(dc_error_last()->message, '\n') == NULL);
	dc_http_response_dispose(&res);
}
