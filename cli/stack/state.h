/* Stack state: a directory that is a git repository driven through libgit2
 * (.deployctl/ by default). stacks/<name>.json holds one stack's document;
 * every change is written (temp file + rename) and committed at once with a
 * message saying what happened, so the history is an audit log and a crash
 * loses nothing. A per-stack lock (flock, released by the kernel when its
 * holder dies) keeps two runs from writing one stack. No secret is stored.
 *
 * The stack document:
 *   { "version": 1, "name": "demo", "arch": "lambda-python-dynamodb",
 *     "target": "aws", "region": "eu-west-2", "account": "123456789012",
 *     "params": { ... },
 *     "resources": { "<logical id>": { "type": "dynamodb.table",
 *         "status": "creating" | "created" | "deleting",
 *         "props": { resolved props }, "attrs": { "id": ..., ... } } },
 *     "outputs": { "url": ... } } */
#ifndef DC_STATE_H
#define DC_STATE_H

#include <jansson.h>
#include <time.h>

#include "opt.h"

#define DC_STATE_VERSION 1

struct dc_state;
struct dc_state_lock;

/* Open the state directory, creating it (and its repository) when absent
 * or empty. dir NULL: $DEPLOYCTL_STATE_DIR, else ".deployctl". A path that
 * is a file, or a directory that is not a deployctl state repository, is an
 * error naming it. One dc_state may be used from several threads: its
 * writes are serialised, as are commits of other processes. */
int dc_state_open(struct dc_state **out, const char *dir);
void dc_state_free(struct dc_state *st);
const char *dc_state_dir(const struct dc_state *st);

/* Take the lock of one stack, failing at once (with the holder's pid in
 * the message) when a live process holds it. */
int dc_state_lock(struct dc_state_lock **out, struct dc_state *st, const char *stack);
void dc_state_unlock(struct dc_state_lock *lock);

/* Read a stack's document. DC_ENOTFOUND when there is no such stack; a
 * corrupt file is an error naming the file and the last good commit; a
 * document of a newer version is refused. */
int dc_state_load(json_t **out, struct dc_state *st, const char *stack);

/* Write the document and commit it with `message` (one line, e.g.
 * "demo: created table (dynamodb.table demo-table)"). The caller holds the
 * stack's lock. Refused: a bad name, a document that is not a stack
 * document of this name and version, a value that looks secret (the error
 * names its JSON path). On failure the previous file is intact. */
int dc_state_save(struct dc_state *st, const char *stack, const json_t *doc,
		  const char *message);

/* Remove the stack's file and commit. */
int dc_state_remove(struct dc_state *st, const char *stack, const char *message);

/* Names of the stacks in state, sorted; strings owned by the list's
 * caller (free each, then dc_strlist_dispose). */
int dc_state_list(struct dc_state *st, struct dc_strlist *names);

struct dc_state_entry {
	char commit[41];
	time_t when;
	const char *message;
};

/* Walk the log, newest first, of every stack or of one (stack non-NULL:
 * commits that touched stacks/<stack>.json). fn returns non-zero to stop;
 * the entry (message: the first line) is valid during the call only. */
int dc_state_history(struct dc_state *st, const char *stack,
		     int (*fn)(const struct dc_state_entry *e, void *arg), void *arg);

#endif
