/* The contract between the stack engine and one AWS resource type. Each type
 * is one file in cli/resources/ and one row in registry.c. A type knows its
 * AWS API and nothing of the engine's order, state or command line.
 *
 * Props are the template's "props" with every ${...} reference already
 * resolved (plain JSON). Attrs are what the type reports about the resource
 * it made: always "id" (the physical id: a name, an ARN or an AWS-assigned
 * id) plus whatever other resources may reference as ${logical.attr}
 * ("arn", "name", "endpoint", ...). Attrs are stored in state, so they hold
 * no secret. */
#ifndef DC_RESOURCE_H
#define DC_RESOURCE_H

#include <jansson.h>
#include <libxml/tree.h>

#include "aws/client.h"

enum {
	/* update(): this change cannot be made in place; the engine replaces
	 * the resource (delete, then create). */
	DC_EREPLACE = -20
};

struct dc_local;

struct dc_res_ctx {
	struct dc_aws *aws;       /* this worker's client; not shared between threads */
	const char *stack;        /* stack name, e.g. "demo" */
	const char *arch;         /* architecture, e.g. "lambda-python-dynamodb" */
	const char *region;
	const char *account;
	const char *logical_id;   /* the resource's key in the template */
	const char *template_dir; /* templates/<arch>/, for files a prop names ("code": "app/") */

	/* Record attrs in state now, before the next AWS call, so a crash after
	 * this point cannot lose the resource. A type calls it as soon as the
	 * create call has answered with the physical id. attrs is borrowed. */
	int (*record)(struct dc_res_ctx *ctx, json_t *attrs);
	/* One progress line ("waiting for function to become Active"); the
	 * engine decides whether and where it is shown. */
	void (*progress)(struct dc_res_ctx *ctx, const char *fmt, ...)
		__attribute__((format(printf, 2, 3)));
	void *engine;             /* the engine's own data; types do not touch it */
	/* Set when state recorded that this stack was creating the resource:
	 * the deterministic name alone then proves it ours, even when a crash
	 * came between the create call and the tagging that follows it. */
	int name_is_ours;
	/* The local target's running stack (cli/local/local.h) for the local
	 * types; NULL on AWS, and NULL on the local target when its supervisor
	 * is gone (what it ran went with it). */
	struct dc_local *local;
};

struct dc_resource_type {
	const char *name; /* "dynamodb.table" */

	/* Optional: turn resolved props into what is compared between runs,
	 * e.g. add the content hash of a function's code. *out is a new
	 * reference. NULL: props are compared as they are. */
	int (*prepare)(struct dc_res_ctx *ctx, const json_t *props, json_t **out);
	/* Optional: work on this machine that needs neither AWS nor another
	 * resource (compiling a function's code), done by `up` before its first
	 * change, so that a missing compiler stops it with nothing made. props
	 * are those the template's params alone resolve (a prop that references
	 * another resource is left out). ctx has no AWS client. */
	int (*precheck)(struct dc_res_ctx *ctx, const json_t *props);

	/* Create the resource and wait until it is usable. If a previous run
	 * crashed after creating it (the deterministic name exists, or a
	 * creation token matches), adopt it instead of failing. *attrs is a
	 * new reference with at least "id". */
	int (*create)(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs);

	/* Optional: bring the resource from old props to new props in place;
	 * attrs may be updated in place. DC_EREPLACE when AWS cannot change it
	 * in place. NULL: every change is a replacement. */
	int (*update)(struct dc_res_ctx *ctx, const json_t *old_props, const json_t *new_props,
		      json_t *attrs);

	/* Delete and wait until gone. A resource that is already gone is
	 * success. attrs are those recorded (at least "id"). */
	int (*delete)(struct dc_res_ctx *ctx, const json_t *attrs);

	/* Optional, for `destroy --sweep`: attrs (a JSON array of attrs
	 * objects) of resources of this type that belong to ctx->stack but that
	 * state may not know: found by the deployctl:stack tag, or by the
	 * deterministic name for untaggable ones. Swept without state, props
	 * hold only what references no other resource; a type whose parent is
	 * then unknown (a permission's function, an object's bucket) finds
	 * nothing, as it goes with its parent. */
	int (*find)(struct dc_res_ctx *ctx, const json_t *props, json_t **found);
};

/* The type of that name, or NULL. */
const struct dc_resource_type *dc_resource_type_find(const char *name);

/* The type of that name for a target: on "local", its local implementation
 * (cli/local/registry.c) when it has one, else the AWS type itself, which
 * the engine points at the stack's local emulator. target NULL or "aws":
 * dc_resource_type_find. */
const struct dc_resource_type *dc_resource_type_find_for(const char *name, const char *target);

/* Deterministic AWS name for a resource: "<stack>-<logical_id>", made safe
 * for the service (lower-case letters, digits and hyphens; cut to max_len
 * with a short hash of the whole so two long names never collide). The
 * caller frees it. */
char *dc_resource_name(const struct dc_res_ctx *ctx, size_t max_len);

/* The tags every taggable resource carries, as a JSON object
 * {"deployctl:stack": ..., "deployctl:arch": ...} (new reference). */
json_t *dc_resource_tags(const struct dc_res_ctx *ctx);

/* Poll `check` with backoff (200 ms at first, growing to 5 s) until it
 * returns 1 (ready), fails (< 0), or `limit_s` seconds pass (an error that
 * says what was awaited and for how long). `what` is said on the progress
 * line ("function 'x' to become Active"). */
int dc_resource_wait(struct dc_res_ctx *ctx, const char *what, int limit_s,
		     int (*check)(struct dc_res_ctx *ctx, void *arg), void *arg);

/* Retry `call` while it fails with an AWS error whose code is `code` and
 * whose message contains `needle` (NULL: any message): known eventual
 * consistency, e.g. a new IAM role not yet assumable by Lambda. Bounded by
 * limit_s, said on the progress line as `why`. */
int dc_resource_retry_while(struct dc_res_ctx *ctx, const char *code, const char *needle,
			    const char *why, int limit_s,
			    int (*call)(struct dc_res_ctx *ctx, void *arg), void *arg);

/* The tail of a create: when rc is 0, record *attrs in state; when that or
 * the create failed, drop *attrs (set to NULL). Returns the outcome. */
int dc_resource_record_or_drop(struct dc_res_ctx *ctx, int rc, json_t **attrs);

/* 1 when tags say the resource belongs to ctx->stack (deployctl:stack),
 * or when ctx->name_is_ours, else 0. tags is either an object {key: value} or a list [{"Key": ...,
 * "Value": ...}], the two shapes AWS answers with. */
int dc_resource_tagged(const struct dc_res_ctx *ctx, const json_t *tags);

/* 1 when the last recorded failure carries this AWS error code
 * ("EntityAlreadyExists"), else 0. */
int dc_resource_error_is(const char *code);

/* Every element of an XML answer reached by a '/'-separated path of local
 * names from the root's children (as dc_xml_text), where the last step may
 * match many siblings ("ListRolePoliciesResult/PolicyNames/member",
 * "Version"): a JSON array (new reference, [] when none) with, for each, an
 * object of its child elements' texts ({"Key": ..., "VersionId": ...}), or
 * its own text when it has no child element. */
json_t *dc_resource_xml_list(xmlDocPtr doc, const char *path);

#endif
