/* The wire protocols, one place each: query/ec2 (protocol_query.c), JSON
 * 1.0/1.1 (protocol_json.c), REST-JSON and REST-XML (protocol_rest.c), and
 * the error bodies of all of them (protocol_error.c). */
#ifndef DC_PROTOCOL_H
#define DC_PROTOCOL_H

#include <jansson.h>
#include <stdarg.h>
#include <libxml/tree.h>

#include "aws/client.h"
#include "aws/uri.h"
#include "util/buf.h"

/* Query/EC2: POST Action=action&Version=...&<form>; *out is the parsed
 * response document (xmlFreeDoc it). */
int dc_aws_query(struct dc_aws *aws, const char *service, const char *action,
		 const char *form, xmlDocPtr *out);
/* dc_aws_query with the form given as NULL-terminated key, value pairs
 * (each encoded here), and its va_list twin for wrappers. */
int dc_aws_query_pairs(struct dc_aws *aws, const char *service, const char *action,
		       xmlDocPtr *out, ...) __attribute__((sentinel));
int dc_aws_queryv(struct dc_aws *aws, const char *service, const char *action, xmlDocPtr *out,
		  va_list pairs);

/* The same signed with `creds` instead of the client's own (NULL: unsigned,
 * as STS AssumeRoleWithWebIdentity is). For the credential providers, which
 * cannot use the chain they are part of. */
int dc_aws_query_as(struct dc_aws *aws, const struct dc_credentials *creds, const char *service,
		    const char *action, const char *form, xmlDocPtr *out);

/* JSON 1.0/1.1: POST / with X-Amz-Target: <prefix>.<operation>. input is
 * borrowed (NULL sends {}); *out is a new reference ({} for an empty body). */
int dc_aws_json(struct dc_aws *aws, const char *service, const char *operation,
		json_t *input, json_t **out);

/* REST-JSON: method path_query (already encoded) with an optional JSON body. */
int dc_aws_rest_json(struct dc_aws *aws, const char *service, const char *method,
		     const char *path_query, json_t *input, json_t **out);

/* The JSON of a 2xx answer's body into *out (new reference; {} for an
 * empty body; nothing when out is NULL); `what` names the call in the
 * error. What dc_aws_json and dc_aws_rest_json do with an answer. */
int dc_protocol_json_body(json_t **out, const struct dc_http_response *res, const char *what);

/* Fill dc_error from a non-2xx answer of svc, whatever its protocol; returns
 * -1 or DC_ENOTFOUND. `code` (may be NULL) receives the AWS error code. */
int dc_protocol_error(const struct dc_service *svc, const struct dc_http_response *res,
		      char *code, size_t code_size);

/* Parse an XML answer (network access and entity expansion off). */
int dc_xml_parse(xmlDocPtr *out, const char *data, size_t len);

/* The text of the first element reached by a '/'-separated path of local
 * names from the root's children ("GetCallerIdentityResult/Account"),
 * namespaces ignored; NULL when absent. The caller frees it. */
char *dc_xml_text(xmlDocPtr doc, const char *path);

#endif
