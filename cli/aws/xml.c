/* The little XML reading the query and REST-XML protocols need, on libxml2. */
#include <libxml/parser.h>

#include "aws/protocol.h"
#include "util/error.h"
#include "util/xalloc.h"

int dc_xml_parse(xmlDocPtr *out, const char *data, size_t len)
{
	if (len > (size_t)INT32_MAX)
		return dc_error_set("XML answer too large");
	/* No network, no entity substitution: answers are data, never programs. */
	*out = xmlReadMemory(data, (int)len, "answer.xml", NULL,
			     XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!*out)
		return dc_error_set("the answer is not well-formed XML");
	return 0;
}

static xmlNodePtr child_named(xmlNodePtr parent, const char *name, size_t len)
{
	for (xmlNodePtr n = parent->children; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && strlen((const char *)n->name) == len &&
		    strncmp((const char *)n->name, name, len) == 0)
			return n;
	return NULL;
}

char *dc_xml_text(xmlDocPtr doc, const char *path)
{
	xmlNodePtr n = doc ? xmlDocGetRootElement(doc) : NULL;
	while (n && *path) {
		const char *slash = strchr(path, '/');
		size_t len = slash ? (size_t)(slash - path) : strlen(path);
		n = child_named(n, path, len);
		path += len + (slash != NULL);
	}
	if (!n)
		return NULL;
	xmlChar *text = xmlNodeGetContent(n);
	char *copy = dc_xstrdup(text ? (const char *)text : "");
	xmlFree(text);
	return copy;
}
