/* dc_resource_xml_list and dc_resource_tagged on answers shaped as IAM and
 * S3 send them (examples from the services' API references). */
#include "aws/protocol.h"
#include "harness.h"
#include "resources/resource.h"

static xmlDocPtr parse(const char *text)
{
	xmlDocPtr doc = NULL;
	check_int(dc_xml_parse(&doc, text, strlen(text)), 0);
	return doc;
}

void test_resource_xml__list_of_texts(void)
{
	xmlDocPtr doc = parse(
		"<ListRolePoliciesResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"
		"<ListRolePoliciesResult><PolicyNames><member>a</member><member>b &amp; c"
		"</member></PolicyNames><IsTruncated>false</IsTruncated></ListRolePoliciesResult>"
		"</ListRolePoliciesResponse>");
	json_t *l = dc_resource_xml_list(doc, "ListRolePoliciesResult/PolicyNames/member");
	check_int(json_array_size(l), 2);
	check_str(json_string_value(json_array_get(l, 0)), "a");
	check_str(json_string_value(json_array_get(l, 1)), "b & c");
	json_decref(l);
	l = dc_resource_xml_list(doc, "ListRolePoliciesResult/Nothing/member");
	check_int(json_array_size(l), 0);
	json_decref(l);
	xmlFreeDoc(doc);
}

void test_resource_xml__list_of_objects_among_siblings(void)
{
	xmlDocPtr doc = parse(
		"<ListVersionsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
		"<Name>b</Name><Version><Key>k1</Key><VersionId>v1</VersionId></Version>"
		"<DeleteMarker><Key>k1</Key><VersionId>m1</VersionId></DeleteMarker>"
		"<Version><Key>k2</Key><VersionId>null</VersionId></Version></ListVersionsResult>");
	json_t *v = dc_resource_xml_list(doc, "Version");
	json_t *m = dc_resource_xml_list(doc, "DeleteMarker");
	check_int(json_array_size(v), 2);
	check_str(json_string_value(json_object_get(json_array_get(v, 1), "Key")), "k2");
	check_str(json_string_value(json_object_get(json_array_get(v, 1), "VersionId")), "null");
	check_int(json_array_size(m), 1);
	check_str(json_string_value(json_object_get(json_array_get(m, 0), "VersionId")), "m1");
	json_decref(v);
	json_decref(m);
	xmlFreeDoc(doc);
	json_t *none = dc_resource_xml_list(NULL, "Version");
	check_int(json_array_size(none), 0);
	json_decref(none);
}

void test_resource_xml__tagged(void)
{
	struct dc_res_ctx ctx = { .stack = "demo" };
	json_t *obj = json_pack("{s:s}", "deployctl:stack", "demo");
	json_t *list = json_pack("[{s:s, s:s}]", "Key", "deployctl:stack", "Value", "demo");
	json_t *other = json_pack("[{s:s, s:s}]", "Key", "deployctl:stack", "Value", "demo2");
	json_t *empty = json_object();
	check_int(dc_resource_tagged(&ctx, obj), 1);
	check_int(dc_resource_tagged(&ctx, list), 1);
	check_int(dc_resource_tagged(&ctx, other), 0);
	check_int(dc_resource_tagged(&ctx, empty), 0);
	check_int(dc_resource_tagged(&ctx, NULL), 0);
	json_decref(obj);
	json_decref(list);
	json_decref(other);
	json_decref(empty);
}
