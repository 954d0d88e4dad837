/* Shared by the local resource types (types_*.c, runtimes.c). */
#ifndef DC_LOCAL_TYPES_H
#define DC_LOCAL_TYPES_H

#include <jansson.h>

#include "local/local.h"
#include "resources/resource.h"

/* templates/common/runtime, absolute (malloc'ed), from the template
 * directory; NULL with an error when it is missing. */
char *dc_local_runtime_dir(const struct dc_res_ctx *ctx);

/* How a function of `runtime` runs here, as the start of a control
 * request: {"argv": [...], "env": {...}} (new reference). Python and Node
 * run under their bootstrap (templates/common/runtime), "provided*" runs
 * the code's own `bootstrap`. A runtime this machine lacks is one line
 * naming the package to install. */
int dc_local_function_command(json_t **out, struct dc_res_ctx *ctx, const char *runtime,
			      const char *handler, const char *code_dir);

/* The node_modules folder holding the AWS SDK for JavaScript v3 that the
 * Node.js Lambda runtime provides, pinned by
 * templates/common/runtime/node/package-lock.json: fetched once with
 * `npm ci` into the cache ($DEPLOYCTL_CACHE_DIR, else
 * $XDG_CACHE_HOME/deployctl, else ~/.cache/deployctl). *out is malloc'ed. */
int dc_local_node_sdk(char **out, struct dc_res_ctx *ctx, const char *runtime_dir);

/* A short id for a local API Gateway object, the same for the same stack
 * and logical id: n (<= 16) characters of [a-z0-9]. */
void dc_local_object_id(char *out, size_t n, const struct dc_res_ctx *ctx);

/* ctx->local, or an error saying the supervisor is not running. */
int dc_local_need(const struct dc_res_ctx *ctx);

#endif
