/* A template: templates/<arch>/stack.json, the stack described as data
 * (DESIGN.md section 3), checked on load so that every later step may trust
 * it: known types, references that name existing resources or params, no
 * cycles. */
#ifndef DC_TEMPLATE_H
#define DC_TEMPLATE_H

#include <jansson.h>

#include "opt.h"

struct dc_template_resource {
	const char *id;     /* logical id, key in "resources" */
	const char *type;   /* "dynamodb.table" */
	json_t *props;      /* borrowed from the template document */
	size_t *deps;       /* indexes of the resources it references */
	size_t ndeps;
};

struct dc_template {
	char *arch;
	char *dir;          /* templates/<arch> */
	json_t *doc;
	json_t *params;     /* defaults with --param overrides applied */
	const char *summary;
	json_t *outputs;
	struct dc_template_resource *res; /* in a dependency order: deps first */
	size_t nres;
};

/* Where templates are: $DEPLOYCTL_TEMPLATES, else templates/ beside the
 * executable (a build tree), else the installed share directory. */
const char *dc_template_root(void);

/* Names of the architectures (folders with a stack.json), sorted. The
 * strings are the caller's to free. */
int dc_template_list(struct dc_strlist *out, const char *root);

/* Load and check templates/<arch>/stack.json, applying "k=v" overrides
 * (values parsed as JSON when they are JSON, else kept as strings; an
 * unknown param is an error). Messages name the file, resource and field. */
int dc_template_load(struct dc_template **out, const char *root, const char *arch,
		     const struct dc_strlist *overrides);
void dc_template_free(struct dc_template *t);

/* The resource of that logical id, or NULL. */
const struct dc_template_resource *dc_template_find(const struct dc_template *t,
						    const char *id);

#endif
