/* The EC2 helpers: answers shaped as the EC2 API reference's examples read
 * as JSON, and the user data script with the template's files in it (run
 * through bash by the integration tests; here its exact text). */
#include <stdio.h>

#include "aws/protocol.h"
#include "harness.h"
#include "resources/ec2_common.h"

static xmlDocPtr parse(const char *text)
{
	xmlDocPtr doc = NULL;
	check_int(dc_xml_parse(&doc, text, strlen(text)), 0);
	return doc;
}

void test_ec2_common__items_objects_and_empty_sets(void)
{
	xmlDocPtr doc = parse(
		"<DescribeSecurityGroupsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
		"<requestId>r</requestId><securityGroupInfo><item><groupId>sg-1</groupId>"
		"<ipPermissions><item><ipProtocol>tcp</ipProtocol><fromPort>80</fromPort>"
		"<toPort>80</toPort><groups/><ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item>"
		"</ipRanges></item></ipPermissions><tagSet><item><key>deployctl:stack</key>"
		"<value>demo</value></item></tagSet></item></securityGroupInfo>"
		"</DescribeSecurityGroupsResponse>");
	json_t *groups = dc_ec2_json(doc, "securityGroupInfo");
	json_t *g = json_array_get(groups, 0);
	check_int(json_array_size(groups), 1);
	check_str(dc_ec2_str(g, "groupId"), "sg-1");
	json_t *perm = json_array_get(json_object_get(g, "ipPermissions"), 0);
	check_str(dc_ec2_str(perm, "fromPort"), "80");
	check_str(dc_ec2_str(json_array_get(json_object_get(perm, "ipRanges"), 0), "cidrIp"),
		  "0.0.0.0/0");
	json_t *tags = dc_ec2_tags(json_object_get(g, "tagSet"));
	check_str(json_string_value(json_object_get(tags, "deployctl:stack")), "demo");
	struct dc_res_ctx ctx = { .stack = "demo" };
	check_int(dc_resource_tagged(&ctx, tags), 1);
	json_decref(tags);
	json_decref(groups);
	/* An absent or empty set is an empty list, never "". */
	json_t *none = dc_ec2_json(doc, "reservationSet");
	check(json_is_array(none) && json_array_size(none) == 0);
	json_decref(none);
	xmlFreeDoc(doc);
	doc = parse("<DescribeVpcsResponse><vpcSet/></DescribeVpcsResponse>");
	none = dc_ec2_json(doc, "vpcSet");
	check(json_is_array(none) && json_array_size(none) == 0);
	json_decref(none);
	xmlFreeDoc(doc);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	check(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

void test_ec2_common__user_data_files_after_shebang(void)
{
	const char *dir = dc_test_tmpdir();
	struct dc_res_ctx ctx = { .logical_id = "vm", .template_dir = dir };
	struct dc_buf out = DC_BUF_INIT(DC_MAX_SMALL);
	write_file(dir, "app.py", "x = '$HOME `id`'\n");
	json_t *props = json_pack("{s:s, s:{s:s}}", "user_data", "#!/bin/bash\nrun\n",
				  "user_data_files", "/opt/app/app.py", "app.py");
	check_int(dc_ec2_user_data(&out, &ctx, props), 0);
	check_str(dc_buf_cstr(&out), "#!/bin/bash\n"
				     "# files from the template, written by deployctl\n"
				     "mkdir -p '/opt/app'\n"
				     "cat > '/opt/app/app.py' <<'DEPLOYCTL_FILE_END'\n"
				     "x = '$HOME `id`'\n"
				     "DEPLOYCTL_FILE_END\n"
				     "run\n");
	json_decref(props);
	dc_buf_dispose(&out);
}

void test_ec2_common__user_data_refusals(void)
{
	const char *dir = dc_test_tmpdir();
	struct dc_res_ctx ctx = { .logical_id = "vm", .template_dir = dir };
	struct dc_buf out = DC_BUF_INIT(DC_MAX_SMALL);
	write_file(dir, "nonl", "no newline");
	write_file(dir, "end", "DEPLOYCTL_FILE_END\n");
	const char *cases[][2] = { { "/a/nonl", "nonl" }, { "/a/end", "end" },
				   { "/a/../etc/x", "end" }, { "/a b", "end" },
				   { "/a/missing", "missing" } };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *props = json_pack("{s:s, s:{s:s}}", "user_data", "#!/bin/sh\n",
					  "user_data_files", cases[i][0], cases[i][1]);
		dc_buf_reset(&out);
		check(dc_ec2_user_data(&out, &ctx, props) < 0);
		json_decref(props);
	}
	json_t *both = json_pack("{s:s, s:s}", "user_data", "#!/bin/sh\n", "user_data_file", "x");
	check(dc_ec2_user_data(&out, &ctx, both) < 0);
	json_decref(both);
	dc_buf_dispose(&out);
}
