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

/* The path of a python3 that can import every module of `modules` (a JSON
 * array of module names), *out malloc'ed: each python3 on PATH is tried in
 * PATH's order, since Debian's python3-fastapi serves /usr/bin/python3,
 * which may come after a pyenv or virtualenv python3. None: one line
 * naming the Debian packages to install. */
int dc_local_python_with(char **out, const json_t *modules);

/* ---- servers (types_servers.c): what a template's "local" prop runs ----
 * An ec2.instance or ecs.task_definition carries, for the local target
 * only, "local": {"asgi": "module:app", "imports": [modules beside
 * uvicorn], "files": {name: template file}, "env": {name: value}}: the
 * files are copied into one folder and the app runs there under uvicorn,
 * on a listening socket of the supervisor. The AWS types drop the prop. */

/* The prepared props of a type wrapping `aws`: props without "local"
 * through the AWS type's prepare, then "local" and "local_sha256" (of its
 * files) added, so an edit of the app is a change. A missing "local" is
 * one line saying the type needs it on the local target. */
int dc_local_prepare_with(json_t **out, struct dc_res_ctx *ctx,
			  const struct dc_resource_type *aws, const json_t *props);

/* How the "local" prop of props runs, as the start of a control request:
 * {"argv", "env"} (new reference), env being the prop's own. */
int dc_local_server_command(json_t **out, struct dc_res_ctx *ctx, const json_t *props);

/* The prop's files, copied into dest (made anew). */
int dc_local_server_files(struct dc_res_ctx *ctx, const json_t *props, const char *dest);

/* The supervisor's socket that stands for the load balancer named `name`
 * (malloc'ed). */
char *dc_local_lb_socket(const char *name);

#endif
