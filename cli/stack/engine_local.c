/* The local target in the engine: the stack's supervisor found or started,
 * and every AWS client of the run pointed at its emulator with fixed
 * credentials. The supervisor writes only its own files; the stack
 * document is written by this run alone, under the stack's lock. */
#include "local/local.h"
#include "stack/engine_internal.h"
#include "util/error.h"
#include "util/xalloc.h"

static const char *recorded_epoch(struct engine *e)
{
	return json_string_value(json_object_get(json_object_get(e->doc, "local"), "epoch"));
}

/* An emulator starts empty: what state recorded in an earlier one is
 * gone, so up makes it again instead of trusting the record. */
static int forget_if_stale(struct engine *e)
{
	const char *was = recorded_epoch(e);
	json_t *res = json_object_get(e->doc, "resources");
	if (json_object_size(res) == 0 || (was && strcmp(was, e->local->epoch) == 0))
		return 0;
	return engine_local_forget(e, "its local emulator started afresh");
}

int engine_local_forget(struct engine *e, const char *why)
{
	engine_say(e, "%s: making every resource again", why);
	pthread_mutex_lock(&e->lock);
	json_object_clear(json_object_get(e->doc, "resources"));
	json_object_del(e->doc, "local");
	int rc = engine_save_locked(e, "%s: %s; its resources went with it", e->name, why);
	pthread_mutex_unlock(&e->lock);
	return rc;
}

static json_t *local_section(const struct dc_local *l)
{
	return json_pack("{s:i, s:i, s:s, s:s, s:s}", "supervisor_pid", (int)l->pid,
			 "control_port", l->control_port, "emulator", l->emulator_url, "epoch",
			 l->epoch, "logs", l->dir);
}

/* What supervisor runs the stack, in state before anything is made in it,
 * so that even a failed up leaves the epoch its resources belong to. */
static int record(struct engine *e)
{
	json_t *now = local_section(e->local);
	int rc = 0;
	pthread_mutex_lock(&e->lock);
	if (!json_equal(now, json_object_get(e->doc, "local"))) {
		json_object_set(e->doc, "local", now);
		rc = engine_save_locked(e, "%s: %s supervisor pid %d, emulator %s", e->name,
					e->local->started ? "started local" : "local",
					(int)e->local->pid, e->local->emulator_url);
	}
	pthread_mutex_unlock(&e->lock);
	json_decref(now);
	return rc;
}

int engine_local_open(struct engine *e, struct dc_engine_options *opt, int for_up)
{
	if (for_up)
		engine_say(e, "starting or finding the local supervisor");
	int rc = dc_local_open(&e->local, dc_state_dir(e->st), e->name, for_up);
	if (rc == DC_ENOTFOUND)
		return 0; /* destroy: nothing runs */
	if (rc < 0)
		return rc;
	if (for_up && ((rc = forget_if_stale(e)) < 0 || (rc = record(e)) < 0))
		return rc;
	e->local_creds.access_key_id = dc_xstrdup(DC_LOCAL_ACCESS_KEY);
	e->local_creds.secret_access_key = dc_xstrdup(DC_LOCAL_SECRET_KEY);
	snprintf(e->local_creds.source, sizeof(e->local_creds.source), "the local emulator");
	opt->aws.config.profile = NULL;
	opt->aws.config.region = DC_LOCAL_EMULATOR_REGION;
	opt->aws.config.endpoint_url = e->local->emulator_url;
	opt->aws.credentials = &e->local_creds;
	return 0;
}

void engine_local_record(struct engine *e)
{
	if (e->local)
		json_object_set_new(e->doc, "local", local_section(e->local));
}
