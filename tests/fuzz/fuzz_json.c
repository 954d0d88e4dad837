/* JSON API answers (JSON 1.0/1.1 and REST-JSON): dc_protocol_json_body,
 * then the shared reading of what answers carry: tags in both of AWS's
 * shapes (dc_resource_tagged). */
#include "fuzz.h"

#include "aws/http.h"
#include "aws/protocol.h"
#include "resources/resource.h"

static void tags(const json_t *doc)
{
	static const char *const names[] = { "Tags", "tags", "TagList", "TagSet" };
	struct dc_res_ctx ctx = { .stack = "demo", .logical_id = "table" };
	for (size_t i = 0; i < 4; i++) {
		json_t *t = json_object_get(doc, names[i]);
		if (dc_resource_tagged(&ctx, t) < 0)
			__builtin_trap();
	}
	if (dc_resource_tagged(&ctx, doc) < 0)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dc_http_response res;
	json_t *doc = NULL;
	dc_http_response_init(&res);
	dc_buf_put(&res.body, data, size);
	if (dc_protocol_json_body(&doc, &res, "DescribeTable") == 0) {
		if (!doc)
			__builtin_trap();
		tags(doc);
	}
	json_decref(doc);
	dc_http_response_dispose(&res);
	return 0;
}
