/* JSON 1.0/1.1 (DynamoDB, ECS, Logs, SSM, ...) and REST-JSON (Lambda, API
 * Gateway v2, EFS): a JSON body out, a JSON body back. */
#include "aws/protocol.h"
#include "util/error.h"
#include "util/xalloc.h"

static int put_json(struct dc_buf *body, json_t *input)
{
	if (!input)
		return dc_buf_puts(body, "{}");
	char *text = json_dumps(input, JSON_COMPACT);
	if (!text)
		return dc_error_set("cannot encode the request as JSON");
	int rc = dc_buf_puts(body, text);
	free(text);
	return rc;
}

int dc_protocol_json_body(json_t **out, const struct dc_http_response *res, const char *what)
{
	if (!out)
		return 0;
	if (res->body.len == 0) {
		*out = json_object();
		return 0;
	}
	json_error_t err;
	*out = json_loadb(res->body.ptr, res->body.len, 0, &err);
	if (!*out)
		return dc_error_set("%s: the answer is not valid JSON (%s)", what, err.text);
	return 0;
}

static int send_json(struct dc_aws *aws, const struct dc_service *svc,
		     struct dc_http_request *req, json_t **out, const char *what)
{
	struct dc_http_response res;
	dc_http_response_init(&res);
	int rc = dc_aws_send(aws, svc, req, &res);
	if (rc == 0)
		rc = dc_protocol_json_body(out, &res, what);
	dc_http_response_dispose(&res);
	return rc;
}

int dc_aws_json(struct dc_aws *aws, const char *service, const char *operation, json_t *input,
		json_t **out)
{
	const struct dc_service *svc = dc_service_find(service);
	if (!svc || !svc->target_prefix)
		return dc_error_set("'%s' is not a JSON-protocol AWS service", service);

	struct dc_http_request req;
	dc_http_request_init(&req, "POST", "/");
	char *target = dc_xasprintf("%s.%s", svc->target_prefix, operation);
	char *type = dc_xasprintf("application/x-amz-json-%s", svc->json_version);
	dc_headers_add(&req.headers, "X-Amz-Target", target);
	dc_headers_add(&req.headers, "Content-Type", type);
	free(target);
	free(type);

	int rc = put_json(&req.body, input);
	if (rc == 0)
		rc = send_json(aws, svc, &req, out, operation);
	dc_http_request_dispose(&req);
	return rc;
}

int dc_aws_rest_json(struct dc_aws *aws, const char *service, const char *method,
		     const char *path_query, json_t *input, json_t **out)
{
	const struct dc_service *svc = dc_service_find(service);
	if (!svc)
		return dc_error_set("unknown AWS service '%s'", service);

	struct dc_http_request req;
	dc_http_request_init(&req, method, path_query);
	int rc = 0;
	if (input) {
		dc_headers_add(&req.headers, "Content-Type", "application/json");
		rc = put_json(&req.body, input);
	}
	if (rc == 0)
		rc = send_json(aws, svc, &req, out, path_query);
	dc_http_request_dispose(&req);
	return rc;
}
