/* One S3 request for the S3 resource types. */
#include <openssl/evp.h>

#include "aws/protocol.h"
#include "resources/s3_common.h"
#include "util/error.h"
#include "util/xalloc.h"

static char *request_url(struct dc_aws *aws, const struct dc_s3_request *r)
{
	struct dc_endpoint ep = { 0 };
	if (dc_aws_endpoint(aws, dc_service_find("s3"), &ep) < 0)
		return NULL;
	char *url = dc_endpoint_s3_url(&ep, r->bucket, r->key, 0);
	dc_endpoint_dispose(&ep);
	if (url && r->query) {
		char *with = dc_xasprintf("%s?%s", url, r->query);
		free(url);
		url = with;
	}
	return url;
}

static void add_content_md5(struct dc_http_request *req)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	unsigned char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
	EVP_Digest(req->body.ptr ? req->body.ptr : "", req->body.len, md, &n, EVP_md5(), NULL);
	EVP_EncodeBlock(b64, md, (int)n);
	dc_headers_set(&req->headers, "Content-MD5", (const char *)b64);
}

int dc_s3_send(struct dc_aws *aws, const struct dc_s3_request *r, struct dc_http_response *res)
{
	char *url = request_url(aws, r);
	if (!url)
		return -1;
	struct dc_http_request req;
	dc_http_request_init(&req, r->method, url);
	free(url);
	int rc = 0;
	if (r->content_type)
		dc_headers_add(&req.headers, "Content-Type", r->content_type);
	if (r->body) {
		rc = dc_buf_put(&req.body, r->body, r->body_len);
		add_content_md5(&req);
	}
	if (rc == 0)
		rc = dc_aws_send(aws, dc_service_find("s3"), &req, res);
	dc_http_request_dispose(&req);
	return rc;
}

int dc_s3_call(struct dc_aws *aws, const struct dc_s3_request *r, xmlDocPtr *doc)
{
	struct dc_http_response res;
	dc_http_response_init(&res);
	int rc = dc_s3_send(aws, r, &res);
	if (doc)
		*doc = NULL;
	if (rc == 0 && doc && res.body.len > 0)
		rc = dc_xml_parse(doc, res.body.ptr, res.body.len);
	dc_http_response_dispose(&res);
	return rc;
}

int dc_s3_xml_escape(struct dc_buf *out, const char *s)
{
	xmlChar *e = xmlEncodeSpecialChars(NULL, (const xmlChar *)s);
	int rc = dc_buf_puts(out, e ? (const char *)e : "");
	xmlFree(e);
	return rc;
}
