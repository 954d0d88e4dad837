/* deployctl bench: measure what a client sees of each deployed stack (or a
 * URL), read what Lambda billed for it, and print it beside the cost. */
#include <math.h>
#include <signal.h>
#include <unistd.h>

#include "aws/client.h"
#include "bench/bench.h"
#include "bench/lambda.h"
#include "bench/report.h"
#include "commands/commands.h"
#include "commands/costing.h"
#include "stack/state.h"
#include "util/error.h"
#include "util/xalloc.h"

#define DEFAULT_REQUESTS 1000
#define DEFAULT_WARMUP 10
#define DEFAULT_TIMEOUT_S 10
#define DEFAULT_LOGS_WAIT_S 60
#define LOGS_POLL_S 5
#define EXIT_INTERRUPTED 130

static const char *url_arg, *requests_arg, *conc_arg, *duration_arg, *warmup_arg;
static const char *timeout_arg, *path_arg, *cold_arg, *logs_wait_arg, *report_arg;
static const char *prices_arg, *calls_arg;

const struct dc_opt bench_opts[] = {
	{ DC_OPT_STRING, "url", 0, &url_arg, "URL", "bench this URL instead of deployed stacks" },
	{ DC_OPT_STRING, "requests", 'n', &requests_arg, "N", "measured requests (default 1000)" },
	{ DC_OPT_STRING, "concurrency", 'c', &conc_arg, "N", "requests at once, each on its own kept-alive connection (default 1)" },
	{ DC_OPT_STRING, "duration", 0, &duration_arg, "S", "measure for S seconds (with -n: whichever comes first)" },
	{ DC_OPT_STRING, "warmup", 0, &warmup_arg, "N", "requests after the first that are not measured (default 10)" },
	{ DC_OPT_STRING, "timeout", 0, &timeout_arg, "S", "a request failing after S seconds (default 10)" },
	{ DC_OPT_STRING, "path", 0, &path_arg, "PATH", "path under a stack's URL (default hits)" },
	{ DC_OPT_STRING, "cold", 0, &cold_arg, "N", "Lambda stacks: also measure N first calls after a fresh execution environment" },
	{ DC_OPT_STRING, "logs-wait", 0, &logs_wait_arg, "S", "Lambda stacks: wait up to S seconds for the REPORT lines (default 60)" },
	{ DC_OPT_STRING, "report", 0, &report_arg, "FILE.html", "also write an HTML report with charts" },
	{ DC_OPT_STRING, "prices", 0, &prices_arg, "FILE|NAME|live", "price set for the cost columns (default: the stack's region's)" },
	{ DC_OPT_STRING, "calls-per-month", 0, &calls_arg, "N", "also total a month at N calls, and the break-even traffic" },
	DC_OPT_TABLE_END
};

static volatile sig_atomic_t stop_flag;

static void on_sigint(int sig)
{
	stop_flag = 1;
}

struct settings {
	double requests, conc, duration, warmup, timeout, cold, logs_wait, calls;
};

struct target {
	char *name, *arch, *url, *region, *function, *log_group;
	json_t *params;
	struct dc_bench_result *res;
	struct dc_latency lat;
	struct dc_lambda_usage usage;
	int have_usage;
	double *cold_ms;
	size_t ncold;
	long cold_sent;
	char *note;
};

static int parse_settings(struct settings *s)
{
	*s = (struct settings){ DEFAULT_REQUESTS, 1, 0, DEFAULT_WARMUP, DEFAULT_TIMEOUT_S, 0,
				DEFAULT_LOGS_WAIT_S, 0 };
	if (duration_arg && !requests_arg)
		s->requests = 0;
	struct { const char *arg; double *v; const char *name; double min; } o[] = {
		{ requests_arg, &s->requests, "--requests", 1 },
		{ conc_arg, &s->conc, "--concurrency", 1 },
		{ duration_arg, &s->duration, "--duration", 0.001 },
		{ warmup_arg, &s->warmup, "--warmup", 0 },
		{ timeout_arg, &s->timeout, "--timeout", 0.001 },
		{ cold_arg, &s->cold, "--cold", 0 },
		{ logs_wait_arg, &s->logs_wait, "--logs-wait", 0 },
		{ calls_arg, &s->calls, "--calls-per-month", 0 },
	};
	for (size_t i = 0; i < sizeof(o) / sizeof(o[0]); i++) {
		int code;
		if (o[i].arg && (code = dc_cli_parse_count(o[i].v, o[i].arg, o[i].name, o[i].min)))
			return code;
	}
	if (s->conc > 1000)
		return dc_cli_usage_error("--concurrency must be at most 1000");
	return 0;
}

static char *join_url(const char *base, const char *path)
{
	while (*path == '/')
		path++;
	size_t n = strlen(base);
	return dc_xasprintf("%s%s%s", base, n && base[n - 1] == '/' ? "" : "/", path);
}

/* The first resource of `type` in the stack, by its name attribute. */
static const char *resource_name(const json_t *doc, const char *type)
{
	const char *id;
	json_t *res;
	json_object_foreach(json_object_get(doc, "resources"), id, res) {
		const char *t = json_string_value(json_object_get(res, "type"));
		const json_t *attrs = json_object_get(res, "attrs");
		const char *name = json_string_value(json_object_get(attrs, "name"));
		if (t && strcmp(t, type) == 0)
			return name ? name : json_string_value(json_object_get(attrs, "id"));
	}
	return NULL;
}

static char *dup_or_null(const char *s)
{
	return s ? dc_xstrdup(s) : NULL;
}

#define LOCAL_COST_REGION "eu-west-2"

static int target_from_doc(struct target *t, const char *name, const json_t *doc)
{
	const char *url = json_string_value(json_object_get(json_object_get(doc, "outputs"), "url"));
	if (!url)
		return dc_error_set("stack '%s' has no URL in state; is it up?", name);
	t->name = dc_xstrdup(name);
	t->url = join_url(url, path_arg ? path_arg : "hits");
	t->arch = dup_or_null(json_string_value(json_object_get(doc, "arch")));
	t->params = json_incref(json_object_get(doc, "params"));
	const char *target = json_string_value(json_object_get(doc, "target"));
	if (target && strcmp(target, "local") == 0) {
		/* No CloudWatch to read locally; the cost columns say what the
		 * same stack would cost on AWS, in the region of the original
		 * comparison. */
		t->region = dc_xstrdup(LOCAL_COST_REGION);
		return 0;
	}
	t->region = dup_or_null(json_string_value(json_object_get(doc, "region")));
	t->function = dup_or_null(resource_name(doc, "lambda.function"));
	const char *lg = resource_name(doc, "logs.log_group");
	if (t->function)
		t->log_group = lg ? dc_xstrdup(lg) : dc_xasprintf("/aws/lambda/%s", t->function);
	return 0;
}

struct run {
	struct dc_cli *cli;
	struct settings s;
	struct target *t;
	size_t n;
	int failed; /* a Lambda step failed: said in the row, exit 1 */
};

static int load_targets(struct run *r, const struct dc_strlist *args)
{
	struct dc_strlist names = { 0 };
	int code = 0;
	if (args->n == 0 && dc_state_list(r->cli->state, &names) < 0)
		return dc_cli_fail(DC_EXIT_FAILED);
	const struct dc_strlist *list = args->n ? args : &names;
	if (list->n == 0)
		code = dc_cli_usage_error("no stacks to bench; create one with 'deployctl up ARCH' "
					  "or give --url URL");
	r->t = dc_xcalloc(list->n + 1, sizeof(*r->t));
	for (size_t i = 0; code == 0 && i < list->n; i++) {
		json_t *doc;
		int rc = dc_state_load(&doc, r->cli->state, list->v[i]);
		if (rc == DC_ENOTFOUND)
			code = dc_cli_usage_error("no stack '%s'; see 'deployctl list'", list->v[i]);
		else if (rc < 0 || target_from_doc(&r->t[r->n], list->v[i], doc) < 0)
			code = dc_cli_fail(DC_EXIT_FAILED);
		else
			r->n++;
		json_decref(doc);
	}
	for (size_t i = 0; i < names.n; i++)
		free((void *)names.v[i]);
	dc_strlist_dispose(&names);
	return code;
}

static FILE *progress_stream(const struct dc_cli *cli)
{
	if (!cli->quiet && (isatty(STDERR_FILENO) || getenv("DEPLOYCTL_PROGRESS")))
		return stderr;
	return NULL;
}

static int measure(struct run *r, struct target *t)
{
	struct dc_bench_options opt = {
		.url = t->url, .requests = (long)r->s.requests, .concurrency = (int)r->s.conc,
		.duration_s = r->s.duration, .warmup = (long)r->s.warmup,
		.timeout_ms = (long)(r->s.timeout * 1000), .progress = progress_stream(r->cli),
		.label = t->name, .stop = &stop_flag,
	};
	t->res = dc_xmalloc(sizeof(*t->res));
	if (dc_bench_run(t->res, &opt) < 0)
		return dc_cli_fail(DC_EXIT_USAGE);
	dc_latency_from_bench(&t->lat, t->res, time(NULL));
	return 0;
}

static void add_note(struct target *t, const char *what)
{
	char *old = t->note;
	t->note = dc_xasprintf("%s%s%s: %s", old ? old : "", old ? "; " : "", what,
			       dc_error_last()->message);
	free(old);
}

static void fail_note(struct run *r, struct target *t, const char *what)
{
	add_note(t, what);
	r->failed = 1;
}

static int cold_starts(struct run *r, struct target *t, struct dc_aws *aws)
{
	t->cold_ms = dc_xcalloc((size_t)r->s.cold + 1, sizeof(double));
	struct dc_bench_result *one = dc_xmalloc(sizeof(*one));
	struct dc_bench_options opt = { .url = t->url, .requests = 1, .concurrency = 1,
					.timeout_ms = (long)(r->s.timeout * 1000),
					.stop = &stop_flag };
	int rc = 0;
	for (long i = 0; rc == 0 && i < (long)r->s.cold && !stop_flag; i++) {
		char marker[64];
		snprintf(marker, sizeof(marker), "%ld-%ld", (long)time(NULL), i + 1);
		if (!r->cli->quiet)
			fprintf(stderr, "%s: fresh execution environment %ld of %ld\n", t->name, i + 1,
				(long)r->s.cold);
		rc = dc_lambda_set_cold_marker(aws, t->function, marker);
		if (rc == 0 && dc_bench_run(one, &opt) == 0) {
			t->cold_ms[t->ncold++] = one->first_ms;
			t->cold_sent += one->sent;
		}
	}
	free(one);
	/* Leave the function's configuration as the template made it. */
	if (rc == 0)
		rc = dc_lambda_set_cold_marker(aws, t->function, NULL);
	return rc;
}

static int read_reports(struct run *r, struct target *t, struct dc_aws *aws)
{
	time_t until = time(NULL) + (time_t)r->s.logs_wait;
	long want = t->res->sent + t->cold_sent;
	for (;;) {
		memset(&t->usage, 0, sizeof(t->usage));
		int64_t end = (int64_t)time(NULL) * 1000 + 1000;
		if (dc_lambda_usage_fetch(&t->usage, aws, t->log_group,
					  (int64_t)t->res->start_epoch_ms - 1000, end) < 0)
			return -1;
		if (t->usage.reports >= want || time(NULL) >= until || stop_flag)
			break;
		if (!r->cli->quiet)
			fprintf(stderr, "%s: %ld of %ld REPORT lines in '%s' so far; waiting\n", t->name,
				t->usage.reports, want, t->log_group);
		sleep(LOGS_POLL_S);
	}
	t->have_usage = 1;
	return 0;
}

static void lambda_steps(struct run *r, struct target *t)
{
	struct dc_aws *aws = NULL;
	struct dc_aws_options opt = {
		.config = { r->cli->profile, t->region, r->cli->endpoint_url },
		.debug = r->cli->debug ? stderr : NULL,
		.need_region = 1,
		.connect_timeout_ms = r->cli->connect_timeout_ms,
		.read_timeout_ms = r->cli->read_timeout_ms,
	};
	if (dc_aws_new(&aws, &opt) < 0) {
		fail_note(r, t, "no AWS client");
		return;
	}
	if (r->s.cold > 0 && cold_starts(r, t, aws) < 0)
		fail_note(r, t, "cold starts");
	if (read_reports(r, t, aws) < 0)
		fail_note(r, t, "REPORT lines");
	dc_aws_free(aws);
}

static json_t *bench_doc(const struct target *t)
{
	json_t *b = json_pack("{s:s,s:o}", "url", t->url, "latency", dc_latency_json(&t->lat));
	if (t->have_usage && t->usage.reports)
		json_object_set_new(b, "lambda", dc_lambda_usage_json(&t->usage));
	if (t->ncold) {
		json_t *a = json_array();
		for (size_t i = 0; i < t->ncold; i++)
			json_array_append_new(a, json_real(t->cold_ms[i]));
		json_object_set_new(b, "cold_ms", a);
	}
	return b;
}

/* Keep the stack's last bench in its state, where cost finds it. */
static void save(struct run *r, struct target *t)
{
	struct dc_state_lock *lock;
	json_t *doc = NULL;
	if (dc_state_lock(&lock, r->cli->state, t->name) < 0) {
		fprintf(stderr, "deployctl: bench of '%s' not kept in state: %s\n", t->name,
			dc_error_last()->message);
		return;
	}
	if (dc_state_load(&doc, r->cli->state, t->name) == 0) {
		json_object_set_new(doc, "bench", bench_doc(t));
		char *msg = dc_xasprintf("%s: benched, %ld requests", t->name, t->res->requests);
		if (dc_state_save(r->cli->state, t->name, doc, msg) < 0)
			fprintf(stderr, "deployctl: bench of '%s' not kept in state: %s\n", t->name,
				dc_error_last()->message);
		free(msg);
	}
	json_decref(doc);
	dc_state_unlock(lock);
}

static json_t *measured_params(const struct target *t)
{
	json_t *m = json_object();
	const json_t *mem = json_object_get(t->params, "memory_mb");
	if (json_is_number(mem))
		json_object_set(m, "memory_mb", (json_t *)mem);
	long warm = t->usage.reports - t->usage.cold;
	if (t->have_usage && warm > 0) {
		json_object_set_new(m, "billed_ms", json_real((t->usage.billed_ms_sum -
							       t->usage.cold_billed_ms_sum) / warm));
		json_object_set_new(m, "memory_mb", json_integer(t->usage.memory_size_mb));
	}
	return m;
}

struct costs {
	struct dc_costing c;
	int open;
	struct dc_report rep;
};

/* Cost each stack with its region's prices (or --prices), the measured
 * billed duration and its memory. A region without a price set: no cost. */
static void add_costs(struct run *r, struct costs *k)
{
	for (size_t i = 0; i < r->n; i++) {
		struct target *t = &r->t[i];
		struct dc_report_row *row = &k->rep.rows[i];
		if (!t->arch || !t->region)
			continue;
		if (k->open && strcmp(k->c.region, t->region) != 0 && !prices_arg) {
			dc_costing_close(&k->c);
			k->open = 0;
		}
		if (!k->open && dc_costing_open(&k->c, r->cli, prices_arg, t->region, NULL) == 0)
			k->open = 1;
		json_t *m = measured_params(t);
		struct dc_cost *cost = NULL, *orig = NULL;
		if (!k->open || dc_costing_arch(&k->c, t->arch, m, &cost, &orig) < 0)
			add_note(t, "no cost");
		row->cost = cost;
		row->original = orig;
		if (k->open) {
			k->rep.prices = k->c.prices;
			k->rep.prices_label = k->c.label;
			k->rep.profiles = k->c.profiles;
		}
		json_decref(m);
	}
}

static void fill_rows(struct run *r, struct costs *k)
{
	k->rep.rows = dc_xcalloc(r->n + 1, sizeof(*k->rep.rows));
	k->rep.n = r->n;
	k->rep.calls_per_month = r->s.calls;
	for (size_t i = 0; i < r->n; i++) {
		struct target *t = &r->t[i];
		k->rep.rows[i] = (struct dc_report_row){
			.name = t->name, .arch = t->arch, .url = t->url,
			.lat = t->res ? &t->lat : NULL, .bench = t->res,
			.lambda = t->have_usage ? &t->usage : NULL,
			.cold_ms = t->cold_ms, .ncold = t->ncold,
		};
	}
}

static void free_run(struct run *r, struct costs *k)
{
	for (size_t i = 0; i < r->n; i++) {
		struct target *t = &r->t[i];
		free(t->name);
		free(t->arch);
		free(t->url);
		free(t->region);
		free(t->function);
		free(t->log_group);
		json_decref(t->params);
		free(t->res);
		free(t->cold_ms);
		free(t->note);
		if (k->rep.rows) {
			dc_costing_free((struct dc_cost *)k->rep.rows[i].cost);
			dc_costing_free((struct dc_cost *)k->rep.rows[i].original);
		}
	}
	free(r->t);
	free(k->rep.rows);
	if (k->open)
		dc_costing_close(&k->c);
}

static void bench_all(struct run *r)
{
	for (size_t i = 0; i < r->n && !stop_flag; i++) {
		struct target *t = &r->t[i];
		if (measure(r, t) != 0) {
			r->failed = 1;
			continue;
		}
		if (t->function && !url_arg)
			lambda_steps(r, t);
		else if (r->s.cold > 0 && !t->note)
			t->note = dc_xstrdup("--cold measures Lambda stacks only: not this one");
		if (!url_arg && t->res->requests > 0)
			save(r, t);
	}
}

static int open_targets(struct run *r, const struct dc_strlist *args)
{
	if (url_arg && args->n)
		return dc_cli_usage_error("give stack NAMEs or --url, not both");
	if (!url_arg) {
		if (dc_state_open(&r->cli->state, r->cli->state_dir) < 0)
			return dc_cli_fail(DC_EXIT_FAILED);
		return load_targets(r, args);
	}
	if (dc_bench_check_url(url_arg) < 0)
		return dc_cli_fail(DC_EXIT_USAGE);
	r->t = dc_xcalloc(1, sizeof(*r->t));
	r->t[0].name = dc_xstrdup(url_arg);
	r->t[0].url = dc_xstrdup(url_arg);
	r->n = 1;
	return 0;
}

int cmd_bench(struct dc_cli *cli, const struct dc_strlist *args)
{
	struct run r = { .cli = cli };
	struct costs k = { 0 };
	int code = parse_settings(&r.s);
	if (code == 0)
		code = open_targets(&r, args);
	if (code != 0)
		goto done;
	struct sigaction sa = { .sa_handler = on_sigint }, old;
	sigemptyset(&sa.sa_mask);
	stop_flag = 0;
	sigaction(SIGINT, &sa, &old);
	bench_all(&r);
	sigaction(SIGINT, &old, NULL);
	fill_rows(&r, &k);
	add_costs(&r, &k);
	for (size_t i = 0; i < r.n; i++)
		k.rep.rows[i].note = r.t[i].note;
	code = dc_costing_output(cli, &k.rep, report_arg);
	if (code == 0 && stop_flag)
		code = EXIT_INTERRUPTED;
	else if (code == 0 && r.failed)
		code = DC_EXIT_FAILED;
done:
	free_run(&r, &k);
	return code;
}
