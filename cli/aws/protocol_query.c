/* The query protocol (IAM, STS, ELBv2) and its EC2 variant: a form POST,
 * an XML answer. */
#include <libxml/parser.h>

#include "aws/protocol.h"
#include "util/error.h"

static int build_form(struct dc_buf *body, const struct dc_service *svc, const char *action,
		      const char *form)
{
	if (dc_form_add(body, "Action", action) < 0 ||
	    dc_form_add(body, "Version", svc->api_version) < 0)
		return -1;
	if (form && *form && (dc_buf_putc(body, '&') < 0 || dc_buf_puts(body, form) < 0))
		return -1;
	return 0;
}

static int query(struct dc_aws *aws, int as, const struct dc_credentials *creds,
		 const char *service, const char *action, const char *form, xmlDocPtr *out)
{
	const struct dc_service *svc = dc_service_find(service);
	if (!svc)
		return dc_error_set("unknown AWS service '%s'", service);

	struct dc_http_request req;
	struct dc_http_response res;
	dc_http_request_init(&req, "POST", "/");
	dc_http_response_init(&res);
	dc_headers_add(&req.headers, "Content-Type",
		       "application/x-www-form-urlencoded; charset=utf-8");
	int rc = build_form(&req.body, svc, action, form);
	if (rc == 0)
		rc = as ? dc_aws_send_as(aws, svc, creds, &req, &res)
			: dc_aws_send(aws, svc, &req, &res);
	if (rc == 0 && out) {
		rc = dc_xml_parse(out, res.body.ptr, res.body.len);
		if (rc < 0)
			dc_error_prefix("%s %s", svc->id, action);
	}
	dc_http_request_dispose(&req);
	dc_http_response_dispose(&res);
	return rc;
}

int dc_aws_query(struct dc_aws *aws, const char *service, const char *action,
		 const char *form, xmlDocPtr *out)
{
	return query(aws, 0, NULL, service, action, form, out);
}

int dc_aws_query_as(struct dc_aws *aws, const struct dc_credentials *creds, const char *service,
		    const char *action, const char *form, xmlDocPtr *out)
{
	return query(aws, 1, creds, service, action, form, out);
}

int dc_aws_queryv(struct dc_aws *aws, const char *service, const char *action, xmlDocPtr *out,
		  va_list pairs)
{
	struct dc_buf form = DC_BUF_INIT(DC_MAX_FILE);
	int rc = 0;
	for (const char *k; rc == 0 && (k = va_arg(pairs, const char *));)
		rc = dc_form_add(&form, k, va_arg(pairs, const char *));
	if (rc == 0)
		rc = dc_aws_query(aws, service, action, dc_buf_cstr(&form), out);
	dc_buf_dispose(&form);
	return rc;
}

int dc_aws_query_pairs(struct dc_aws *aws, const char *service, const char *action,
		       xmlDocPtr *out, ...)
{
	va_list ap;
	va_start(ap, out);
	int rc = dc_aws_queryv(aws, service, action, out, ap);
	va_end(ap);
	return rc;
}
