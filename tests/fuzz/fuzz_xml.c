/* XML API answers (query, EC2, S3's REST-XML): dc_xml_parse, then what the
 * resource types read from a document: dc_xml_text and
 * dc_resource_xml_list over the paths they use. */
#include "fuzz.h"

#include <stdlib.h>

#include "aws/protocol.h"
#include "resources/resource.h"

/* The paths in cli/ (grep dc_xml_text, dc_resource_xml_list), and some
 * near misses: empty steps, a leading or trailing slash. */
static const char *const paths[] = {
	"GetCallerIdentityResult/Account",
	"CreateRoleResult/Role/Arn",
	"GetRoleResult/Role/Arn",
	"ListRoleTagsResult/Tags/member",
	"ListRolePoliciesResult/PolicyNames/member",
	"CreateLoadBalancerResult/LoadBalancers/member",
	"CreateTargetGroupResult/TargetGroups/member",
	"CreateListenerResult/Listeners/member/ListenerArn",
	"DescribeTagsResult/TagDescriptions/member/Tags/",
	"reservationSet/item/instancesSet/item/instanceState/name",
	"/State/Code",
	"TagSet/Tag",
	"DeleteMarker",
	"Version",
	"groupId",
	"Error",
	"a//b",
	"",
	"/",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	xmlDocPtr doc;
	if (dc_xml_parse(&doc, (const char *)data, size) < 0)
		return 0;
	for (size_t i = 0; i < sizeof(paths) / sizeof(*paths); i++) {
		free(dc_xml_text(doc, paths[i]));
		json_t *list = dc_resource_xml_list(doc, paths[i]);
		if (!json_is_array(list))
			__builtin_trap();
		json_decref(list);
	}
	xmlFreeDoc(doc);
	return 0;
}
