/* References in template values: "${id.attr}" names another resource's
 * attribute; "${name}" a param or a built-in (stack, region, account). A
 * string that is exactly one reference becomes the referenced value with its
 * JSON type; references inside a longer string are put in as text. */
#ifndef DC_REFS_H
#define DC_REFS_H

#include <jansson.h>

/* Called for each reference found: `id` is the resource id (NULL for a
 * param or built-in), `name` the attr (or param/built-in name). Return 0 to
 * go on, -1 to stop with an error set. */
typedef int (*dc_ref_visit)(void *arg, const char *id, const char *name, const char *where);

/* Visit every reference in v. `where` names v in messages ("fn.props"). A
 * malformed reference ("${", "${}", "${a.b.c}") is an error naming it. */
int dc_refs_visit(const json_t *v, const char *where, dc_ref_visit fn, void *arg);

/* Look a reference up: *out is borrowed. DC_ENOTFOUND if unknown. */
typedef int (*dc_ref_lookup)(void *arg, const char *id, const char *name, json_t **out);

/* A copy of v with every reference replaced (new reference in *out). */
int dc_refs_resolve(json_t **out, const json_t *v, dc_ref_lookup fn, void *arg);

#endif
