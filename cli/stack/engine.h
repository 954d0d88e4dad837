/* The stack engine: a template and a state document in, AWS resources out,
 * in dependency order and in parallel where independent; and back down
 * again. Every change that reaches AWS is recorded in state before the next
 * call (DESIGN.md sections 4 and 5). */
#ifndef DC_ENGINE_H
#define DC_ENGINE_H

#include <stdio.h>

#include "aws/client.h"
#include "stack/state.h"
#include "stack/template.h"

struct dc_engine_options {
	struct dc_aws_options aws; /* each worker makes its own client from these */
	int parallel;              /* workers; 0: DC_ENGINE_PARALLEL */
	FILE *progress;            /* one line per step, or NULL for none */
	/* "aws" or "local" for a new stack; NULL: "aws". An existing stack
	 * keeps the target state records, and naming another is an error. */
	const char *target;
};

#define DC_ENGINE_PARALLEL 4

struct dc_engine_result {
	json_t *doc;    /* the stack document afterwards (new reference), or NULL */
	long calls;     /* AWS requests sent, retries included */
	int created, updated, replaced, deleted, unchanged, failed;
};

void dc_engine_result_dispose(struct dc_engine_result *r);

/* Create or converge stack `name` from template t. On failure the document
 * in *out says what is in place. */
int dc_engine_up(struct dc_engine_result *out, struct dc_state *st, const char *name,
		 const struct dc_template *t, const struct dc_engine_options *opt);

/* Print what up would do, in order, and call nothing that changes AWS. */
int dc_engine_plan(FILE *out, struct dc_state *st, const char *name,
		   const struct dc_template *t);

/* Delete every resource of stack `name`, in reverse dependency order. With
 * `sweep`, also what the templates' resource types find by tag or by name
 * that state does not know (works without a state file). Returns -1 while
 * anything is left; out->doc then lists it. */
int dc_engine_destroy(struct dc_engine_result *out, struct dc_state *st, const char *name,
		      int sweep, const struct dc_engine_options *opt);

#endif
