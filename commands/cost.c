/* deployctl cost: what each architecture costs a month and per million
 * calls, from a price set and the architectures' cost profiles, with the
 * billed duration bench measured when there is one. */
#include <sys/stat.h>

#include "bench/report.h"
#include "commands/commands.h"
#include "commands/costing.h"
#include "stack/state.h"
#include "util/error.h"
#include "util/xalloc.h"

static const char *calls_arg;
static const char *prices_arg;
static const char *report_arg;
static struct dc_strlist param_args;
static int explain_flag;

const struct dc_opt cost_opts[] = {
	{ DC_OPT_STRING, "calls-per-month", 0, &calls_arg, "N", "also total a month at N calls, and the break-even traffic" },
	{ DC_OPT_STRING, "prices", 0, &prices_arg, "FILE|NAME|live", "price set: a file, a set in templates/prices, or live from the AWS Price List API (default: the region's set)" },
	{ DC_OPT_FLAG, "explain", 0, &explain_flag, NULL, "break each cost down by component" },
	{ DC_OPT_LIST, "param", 'p', &param_args, "NAME=VALUE", "set a cost param (memory_mb, billed_ms, instance_type...)" },
	{ DC_OPT_STRING, "report", 0, &report_arg, "FILE.html", "also write an HTML report with charts" },
	DC_OPT_TABLE_END
};

struct measured {
	json_t *params; /* billed_ms, memory_mb */
	struct dc_latency lat;
	int have_lat;
	char *note;
};

/* The newest bench of a stack of `arch` in state, when state exists. */
static void find_measured(struct measured *m, struct dc_state *st, const struct dc_strlist *names,
			  const char *arch)
{
	char newest[32] = "";
	for (size_t i = 0; st && i < names->n; i++) {
		json_t *doc;
		if (dc_state_load(&doc, st, names->v[i]) < 0)
			continue;
		const json_t *b = json_object_get(doc, "bench");
		const char *a = json_string_value(json_object_get(doc, "arch"));
		struct dc_latency lat;
		if (a && strcmp(a, arch) == 0 &&
		    dc_latency_parse(&lat, json_object_get(b, "latency")) == 0 &&
		    strcmp(lat.at, newest) > 0) {
			snprintf(newest, sizeof(newest), "%s", lat.at);
			m->lat = lat;
			m->have_lat = 1;
			const json_t *l = json_object_get(b, "lambda");
			const json_t *billed = json_object_get(l, "billed_ms_warm_avg");
			json_decref(m->params);
			m->params = json_object();
			free(m->note);
			m->note = NULL;
			if (json_is_number(billed)) {
				json_object_set(m->params, "billed_ms", (json_t *)billed);
				json_object_set(m->params, "memory_mb",
						json_object_get(l, "memory_size_mb"));
				m->note = dc_xasprintf("billed duration %.1f ms measured by bench on "
						       "stack '%s' at %s",
						       json_number_value(billed), names->v[i], lat.at);
			}
		}
		json_decref(doc);
	}
}

static int state_exists(const struct dc_cli *cli)
{
	const char *dir = cli->state_dir ? cli->state_dir : getenv("DEPLOYCTL_STATE_DIR");
	struct stat sb;
	return stat(dir && *dir ? dir : ".deployctl", &sb) == 0;
}

struct run {
	struct dc_costing costing;
	struct dc_report rep;
	struct measured *m;
	struct dc_strlist archs;
	struct dc_state *st;
	struct dc_strlist stacks;
};

static int add_row(struct run *r, const char *arch)
{
	size_t i = r->rep.n++;
	struct dc_report_row *row = &r->rep.rows[i];
	struct measured *m = &r->m[i];
	find_measured(m, r->st, &r->stacks, arch);
	struct dc_cost *cost, *orig;
	if (dc_costing_arch(&r->costing, arch, m->params, &cost, &orig) < 0)
		return dc_cli_fail(DC_EXIT_USAGE);
	*row = (struct dc_report_row){ .name = arch, .arch = arch, .cost = cost,
				       .original = orig, .note = m->note };
	if (m->have_lat)
		row->lat = &m->lat;
	return 0;
}

static void arch_list(struct dc_strlist *out, const json_t *profiles, const struct dc_strlist *args)
{
	const char *arch;
	json_t *p;
	for (size_t i = 0; i < args->n; i++)
		dc_strlist_push(out, args->v[i]);
	if (args->n == 0)
		json_object_foreach((json_t *)profiles, arch, p)
			dc_strlist_push(out, arch);
}

static void dispose(struct run *r)
{
	for (size_t i = 0; i < r->rep.n; i++) {
		dc_costing_free((struct dc_cost *)r->rep.rows[i].cost);
		dc_costing_free((struct dc_cost *)r->rep.rows[i].original);
	}
	for (size_t i = 0; r->m && i < r->archs.n; i++) {
		json_decref(r->m[i].params);
		free(r->m[i].note);
	}
	free(r->m);
	free(r->rep.rows);
	dc_strlist_dispose(&r->archs);
	for (size_t i = 0; i < r->stacks.n; i++)
		free((void *)r->stacks.v[i]);
	dc_strlist_dispose(&r->stacks);
	dc_state_free(r->st);
	dc_costing_close(&r->costing);
	dc_strlist_dispose(&param_args);
}

static int open_state(struct run *r, const struct dc_cli *cli)
{
	if (!state_exists(cli))
		return 0;
	if (dc_state_open(&r->st, cli->state_dir) < 0 || dc_state_list(r->st, &r->stacks) < 0)
		return dc_cli_fail(DC_EXIT_FAILED);
	return 0;
}

int cmd_cost(struct dc_cli *cli, const struct dc_strlist *args)
{
	struct run r = { 0 };
	double calls = 0;
	int code = 0;
	if (calls_arg && (code = dc_cli_parse_count(&calls, calls_arg, "--calls-per-month", 0)))
		goto done;
	if (dc_costing_open(&r.costing, cli, prices_arg, dc_costing_default_region(cli),
			    &param_args) < 0) {
		code = dc_cli_fail(DC_EXIT_FAILED);
		goto done;
	}
	if ((code = open_state(&r, cli)) != 0)
		goto done;
	arch_list(&r.archs, r.costing.profiles, args);
	r.rep = (struct dc_report){ .rows = dc_xcalloc(r.archs.n + 1, sizeof(*r.rep.rows)),
				    .prices = r.costing.prices, .prices_label = r.costing.label,
				    .calls_per_month = calls, .explain = explain_flag,
				    .profiles = r.costing.profiles };
	r.m = dc_xcalloc(r.archs.n + 1, sizeof(*r.m));
	for (size_t i = 0; code == 0 && i < r.archs.n; i++)
		code = add_row(&r, r.archs.v[i]);
	if (code == 0)
		code = dc_costing_output(cli, &r.rep, report_arg);
done:
	dispose(&r);
	return code;
}
