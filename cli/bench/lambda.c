/* REPORT lines from CloudWatch Logs, and a configuration change that gives
 * the next call a fresh execution environment. */
#include <limits.h>
#include <math.h>
#include <time.h>

#include "aws/protocol.h"
#include "bench/lambda.h"
#include "resources/rest.h"
#include "util/error.h"
#include "util/xalloc.h"

#define MAX_PAGES 1000
#define UPDATE_LIMIT_S 120

/* The number after `label` in line, or -1 when the label is absent. A
 * label must not be the tail of a longer one ("Billed Duration: " holds
 * "Duration: "). */
static double field(const char *line, const char *label)
{
	size_t n = strlen(label);
	for (const char *p = strstr(line, label); p; p = strstr(p + 1, label)) {
		if (p != line && p[-1] != ' ' && p[-1] != '\t')
			continue;
		if (n == 10 && p - line >= 7 && strncmp(p - 7, "Billed ", 7) == 0)
			continue;
		return strtod(p + n, NULL);
	}
	return -1;
}

/* A size in MB, or -1: a log line's "1e99" must not reach an (int) cast,
 * which is undefined out of range. */
static int megabytes(const char *line, const char *label)
{
	double v = field(line, label);
	return v >= 0 && v <= INT_MAX ? (int)v : -1;
}

static int usable(double ms)
{
	return isfinite(ms) && ms >= 0;
}

int dc_lambda_report_parse(struct dc_lambda_report *out, const char *line)
{
	if (strncmp(line, "REPORT ", 7) != 0)
		return -1;
	out->duration_ms = field(line, "Duration: ");
	out->billed_ms = field(line, "Billed Duration: ");
	out->memory_size_mb = megabytes(line, "Memory Size: ");
	out->max_memory_used_mb = megabytes(line, "Max Memory Used: ");
	out->init_ms = field(line, "Init Duration: ");
	if (!usable(out->init_ms))
		out->init_ms = 0;
	if (!usable(out->duration_ms) || !usable(out->billed_ms) || out->memory_size_mb < 0)
		return -1;
	return 0;
}

void dc_lambda_usage_add(struct dc_lambda_usage *u, const struct dc_lambda_report *r)
{
	u->reports++;
	u->billed_ms_sum += r->billed_ms;
	u->duration_ms_sum += r->duration_ms;
	if (r->init_ms > 0) {
		u->cold++;
		u->cold_billed_ms_sum += r->billed_ms;
		u->init_ms_sum += r->init_ms;
	}
	u->memory_size_mb = r->memory_size_mb;
	if (r->max_memory_used_mb > u->max_memory_used_mb)
		u->max_memory_used_mb = r->max_memory_used_mb;
}

static void add_events(struct dc_lambda_usage *u, const json_t *events)
{
	size_t i;
	json_t *ev;
	json_array_foreach(events, i, ev) {
		struct dc_lambda_report r;
		const char *msg = json_string_value(json_object_get(ev, "message"));
		if (msg && dc_lambda_report_parse(&r, msg) == 0)
			dc_lambda_usage_add(u, &r);
	}
}

int dc_lambda_usage_fetch(struct dc_lambda_usage *u, struct dc_aws *aws, const char *log_group,
			  int64_t start_ms, int64_t end_ms)
{
	json_t *in = json_pack("{s:s,s:I,s:I,s:s}", "logGroupName", log_group, "startTime",
			       (json_int_t)start_ms, "endTime", (json_int_t)end_ms,
			       "filterPattern", "REPORT");
	int rc = 0;
	for (int page = 0; page < MAX_PAGES; page++) {
		json_t *res;
		if ((rc = dc_aws_json(aws, "logs", "FilterLogEvents", in, &res)) < 0) {
			dc_error_prefix("reading the REPORT lines of '%s'", log_group);
			break;
		}
		add_events(u, json_object_get(res, "events"));
		const char *next = json_string_value(json_object_get(res, "nextToken"));
		int more = next && *next;
		if (more)
			json_object_set_new(in, "nextToken", json_string(next));
		json_decref(res);
		if (!more)
			break;
	}
	json_decref(in);
	return rc;
}

static int get_config(json_t **out, struct dc_aws *aws, const char *function)
{
	char *path = dc_rest_path("/2015-03-31/functions/%s/configuration", function);
	int rc = dc_aws_rest_json(aws, "lambda", "GET", path, NULL, out);
	free(path);
	return rc;
}

/* 1 when the last update is done, 0 while it runs, -1 when it failed. */
static int update_done(struct dc_aws *aws, const char *function)
{
	json_t *cfg;
	if (get_config(&cfg, aws, function) < 0)
		return -1;
	const char *st = json_string_value(json_object_get(cfg, "LastUpdateStatus"));
	int rc = !st || strcmp(st, "Successful") == 0;
	if (st && strcmp(st, "Failed") == 0)
		rc = dc_error_set("update of function '%s' failed: %s", function,
				  json_string_value(json_object_get(cfg, "LastUpdateStatusReason")));
	json_decref(cfg);
	return rc;
}

static int wait_update(struct dc_aws *aws, const char *function)
{
	time_t until = time(NULL) + UPDATE_LIMIT_S;
	int rc;
	while ((rc = update_done(aws, function)) == 0) {
		if (time(NULL) >= until)
			return dc_error_set("function '%s' still updating after %d s", function,
					    UPDATE_LIMIT_S);
		struct timespec ts = { 1, 0 };
		nanosleep(&ts, NULL);
	}
	return rc < 0 ? -1 : 0;
}

int dc_lambda_set_cold_marker(struct dc_aws *aws, const char *function, const char *value)
{
	json_t *cfg = NULL, *res = NULL;
	int rc = wait_update(aws, function);
	if (rc == 0)
		rc = get_config(&cfg, aws, function);
	if (rc < 0)
		goto done;
	json_t *vars = json_deep_copy(
		json_object_get(json_object_get(cfg, "Environment"), "Variables"));
	if (!json_is_object(vars)) {
		json_decref(vars);
		vars = json_object();
	}
	if (value)
		json_object_set_new(vars, DC_LAMBDA_COLD_VAR, json_string(value));
	else
		json_object_del(vars, DC_LAMBDA_COLD_VAR);
	json_t *body = json_pack("{s:{s:o}}", "Environment", "Variables", vars);
	char *path = dc_rest_path("/2015-03-31/functions/%s/configuration", function);
	rc = dc_aws_rest_json(aws, "lambda", "PUT", path, body, &res);
	free(path);
	json_decref(body);
	if (rc == 0)
		rc = wait_update(aws, function);
done:
	json_decref(cfg);
	json_decref(res);
	return rc;
}
