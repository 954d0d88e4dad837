/* How a stack is shown, shared by up and status. */
#ifndef DC_STACK_PRINT_H
#define DC_STACK_PRINT_H

#include <jansson.h>

/* {name, arch, region, url, resources: [{id, type, status, physical_id}],
 * aws_calls (when calls >= 0)} on stdout. */
void dc_print_stack_json(const json_t *doc, long calls);
/* A JSON value of that summary (new reference). */
json_t *dc_stack_summary(const json_t *doc);
/* The stack and a table of its resources as text on stdout. */
void dc_print_stack_text(const json_t *doc);

#endif
