/* STS AssumeRole / AssumeRoleWithWebIdentity answers: the XML parse and
 * dc_credentials_parse_sts. */
#include "fuzz.h"

#include <libxml/tree.h>

#include "aws/credentials_provider.h"
#include "aws/protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const actions[] = { "AssumeRole", "AssumeRoleWithWebIdentity" };
	xmlDocPtr doc;
	if (dc_xml_parse(&doc, (const char *)data, size) < 0)
		return 0;
	for (size_t i = 0; i < 2; i++) {
		struct dc_credentials c = { 0 };
		if (dc_credentials_parse_sts(&c, doc, actions[i]) == 0 &&
		    (!c.access_key_id || !c.secret_access_key || !c.session_token))
			__builtin_trap();
		dc_credentials_dispose(&c);
	}
	xmlFreeDoc(doc);
	return 0;
}
