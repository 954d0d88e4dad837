/* The local target: a stack run on this machine with no AWS account.
 *
 * One supervisor per stack (deployctl itself, started in the background by
 * `up --target local`, as `deployctl local-supervise`) runs:
 *   - the emulator: moto_server on a free loopback port, where the AWS
 *     resource types make the stack's data resources (tables, buckets,
 *     objects, roles, log groups) exactly as they would on AWS;
 *   - one process per Lambda function, under a Lambda Runtime API it serves
 *     (the same HTTP protocol as AWS's), one port per function;
 *   - one gateway port per HTTP API, turning each request into the payload
 *     2.0 event and the function's answer back into HTTP;
 *   - any other supervised process a local type asks for (a server), and
 *     the listening sockets it owns for them (a load balancer's or a
 *     server's address, kept while the processes behind it restart);
 * and restarts a crashed child with backoff. Compute resources have local
 * types (cli/local/registry.c) that talk to the supervisor through a small
 * control channel (HTTP on loopback, with a token from a 0600 file).
 *
 * Files: <state dir>/local/<stack>/ holds supervisor.json (written by the
 * supervisor alone: pid, ports, token, children), supervisor.log, one log
 * per child and the functions' code. Only the supervisor writes there
 * while it runs; the stack document is written only by the deployctl run
 * that holds the stack's lock. `destroy` stops the supervisor, kills any
 * process a dead supervisor left behind (found by pid and by the
 * DEPLOYCTL_LOCAL_DIR marker in its environment) and removes the folder. */
#ifndef DC_LOCAL_H
#define DC_LOCAL_H

#include <jansson.h>
#include <sys/types.h>

struct dc_resource_type;

/* What the stack document records for a local stack. */
#define DC_LOCAL_TARGET "local"
#define DC_LOCAL_REGION "local"
#define DC_LOCAL_ACCOUNT "000000000000"
/* moto knows only real regions: the emulator's resources live in this one,
 * and functions see it as AWS_REGION. */
#define DC_LOCAL_EMULATOR_REGION "us-east-1"
/* Fixed credentials for the emulator, which does not check signatures. */
#define DC_LOCAL_ACCESS_KEY "AKIDLOCALDEPLOYCTL00"
#define DC_LOCAL_SECRET_KEY "local-emulator-secret-not-a-real-key"
/* In the environment of every child: <state dir>/local/<stack>, so that a
 * process a dead supervisor left behind can still be found. */
#define DC_LOCAL_MARKER "DEPLOYCTL_LOCAL_DIR"

/* A running local stack, as a deployctl run sees it. */
struct dc_local {
	char *dir;          /* <state dir>/local/<stack>, absolute */
	char *stack;
	char *template_root; /* NULL, or where bootstraps are found */
	pid_t pid;          /* the supervisor */
	int control_port;
	char *token;        /* for the control channel; never printed or stored in state */
	char *emulator_url; /* http://127.0.0.1:<port> */
	char *epoch;        /* changes whenever the emulator starts empty */
	int started;        /* 1: this run started the supervisor */
};

/* The supervisor of the stack when it runs, else (start) a new one started
 * and waited for until its emulator answers; without start, DC_ENOTFOUND.
 * A missing moto_server is one line naming the package. */
int dc_local_open(struct dc_local **out, const char *state_dir, const char *stack, int start);
void dc_local_free(struct dc_local *l);

/* One control call: method, path ("/functions/x"), body (NULL: none).
 * *out (may be NULL) is the answer's JSON (new reference). A non-2xx answer
 * is -1 with the supervisor's message (DC_ENOTFOUND for 404). */
int dc_local_call(struct dc_local *l, const char *method, const char *path, const json_t *body,
		  json_t **out);

/* Stop the stack's supervisor and its children (SIGTERM, then SIGKILL),
 * kill whatever a dead one left behind, and remove the stack's folder.
 * Nothing running is success. */
int dc_local_stop(const char *state_dir, const char *stack);

/* The supervisor's view for `status`: {"running": bool, "pid", "ports",
 * "processes": [{"name", "pid", "restarts", "alive"}], "sockets": [{"name",
 * "port"}]} (new reference). */
json_t *dc_local_status(const char *state_dir, const char *stack);

/* The hidden command's body: run the supervisor of `stack` until SIGTERM.
 * Returns the process exit code. */
int dc_local_supervise(const char *state_dir, const char *stack);

/* The local implementation of a resource type, or NULL when the AWS type
 * itself is used (pointed at the emulator). */
const struct dc_resource_type *dc_local_type_find(const char *name);

#endif
