/* What s3.bucket and s3.object share: one S3 request, addressed with
 * dc_endpoint_s3_url (path style against an endpoint override such as
 * moto) and sent through the client. */
#ifndef DC_S3_COMMON_H
#define DC_S3_COMMON_H

#include <libxml/tree.h>

#include "aws/client.h"

#define DC_S3_XMLNS "http://s3.amazonaws.com/doc/2006-03-01/"

struct dc_s3_request {
	const char *method;
	const char *bucket;       /* NULL: the service itself (ListBuckets) */
	const char *key;          /* raw; NULL: the bucket itself */
	const char *query;        /* encoded, without '?' ("tagging"); NULL: none */
	const char *content_type; /* NULL: no Content-Type */
	const void *body;         /* NULL: no body */
	size_t body_len;
};

/* Send r to the client's S3 endpoint. A body goes with its Content-MD5,
 * which S3 demands for tagging, encryption, public access block and
 * multi-object delete. res is initialised by the caller; returns as
 * dc_aws_send does (DC_ENOTFOUND for NoSuchBucket, NoSuchKey, 404). */
int dc_s3_send(struct dc_aws *aws, const struct dc_s3_request *r, struct dc_http_response *res);

/* dc_s3_send, with the XML answer parsed into *doc (xmlFreeDoc it) when
 * doc is not NULL; an empty answer gives *doc NULL. */
int dc_s3_call(struct dc_aws *aws, const struct dc_s3_request *r, xmlDocPtr *doc);

/* Append s to out with XML's special characters escaped. */
int dc_s3_xml_escape(struct dc_buf *out, const char *s);

#endif
