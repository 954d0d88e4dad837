/* Loading prices and profiles for bench and cost, live prices included. */
#include <errno.h>
#include <time.h>

#include "aws/client.h"
#include "bench/pricing.h"
#include "bench/report.h"
#include "commands/costing.h"
#include "stack/template.h"
#include "util/error.h"
#include "util/xalloc.h"

/* The Price List Query API answers in us-east-1 (and two others). */
#define PRICING_REGION "us-east-1"

const char *dc_costing_default_region(const struct dc_cli *cli)
{
	const char *env[] = { "AWS_REGION", "AWS_DEFAULT_REGION" };
	if (cli->region && *cli->region)
		return cli->region;
	for (size_t i = 0; i < 2; i++)
		if (getenv(env[i]) && *getenv(env[i]))
			return getenv(env[i]);
	return "us-east-1";
}

static int parse_params(json_t *out, const struct dc_strlist *args)
{
	for (size_t i = 0; args && i < args->n; i++) {
		const char *eq = strchr(args->v[i], '=');
		if (!eq || eq == args->v[i])
			return dc_error_set("--param needs NAME=VALUE, not '%s'", args->v[i]);
		char *name = dc_xstrndup(args->v[i], (size_t)(eq - args->v[i]));
		json_object_set_new(out, name, dc_cost_param_value(eq + 1));
		free(name);
	}
	return 0;
}

static int fetch_live(struct dc_costing *c, const struct dc_cli *cli, const char *root)
{
	char *path = dc_xasprintf("%s/prices/live.json", root);
	json_t *live = NULL;
	struct dc_aws *aws = NULL;
	struct dc_aws_options opt = {
		.config = { cli->profile, PRICING_REGION, cli->endpoint_url },
		.debug = cli->debug ? stderr : NULL,
		.connect_timeout_ms = cli->connect_timeout_ms,
		.read_timeout_ms = cli->read_timeout_ms,
	};
	int rc = dc_cost_read_json(&live, path);
	if (rc == 0)
		rc = dc_aws_new(&aws, &opt);
	if (rc == 0 && !cli->quiet)
		fprintf(stderr, "fetching %s prices from the AWS Price List Query API...\n",
			c->region);
	if (rc == 0)
		rc = dc_pricing_fetch(c->prices, aws, json_object_get(live, "queries"), c->region,
				      time(NULL));
	if (rc == 0) {
		free(c->label);
		c->label = dc_xasprintf("live from the AWS Price List Query API at %s, the rest "
					"from %s/prices/%s.json",
					json_string_value(json_object_get(c->prices, "fetched_at")),
					root, c->region);
	}
	dc_aws_free(aws);
	json_decref(live);
	free(path);
	return rc;
}

int dc_costing_open(struct dc_costing *out, const struct dc_cli *cli, const char *prices_arg,
		    const char *region, const struct dc_strlist *param_args)
{
	memset(out, 0, sizeof(*out));
	const char *root = dc_template_root();
	int live = prices_arg && strcmp(prices_arg, "live") == 0;
	const char *set = prices_arg && !live ? prices_arg : region;
	out->region = dc_xstrdup(region);
	out->params = json_object();
	int rc = parse_params(out->params, param_args);
	if (rc == 0)
		rc = dc_cost_load_profiles(&out->profiles, root);
	if (rc == 0 && (rc = dc_cost_load_prices(&out->prices, root, set)) == 0) {
		const char *r = json_string_value(json_object_get(out->prices, "region"));
		free(out->region);
		out->region = dc_xstrdup(r ? r : region);
		out->label = strchr(set, '/') ? dc_xstrdup(set)
					      : dc_xasprintf("%s/prices/%s.json", root, set);
	}
	if (rc == 0 && live)
		rc = fetch_live(out, cli, root);
	out->in = (struct dc_cost_inputs){ out->profiles, out->prices, root, out->params };
	if (rc < 0)
		dc_costing_close(out);
	return rc;
}

void dc_costing_close(struct dc_costing *c)
{
	json_decref(c->profiles);
	json_decref(c->prices);
	json_decref(c->params);
	free(c->label);
	free(c->region);
	memset(c, 0, sizeof(*c));
}

void dc_costing_free(struct dc_cost *c)
{
	if (c)
		dc_cost_dispose(c);
	free(c);
}

int dc_costing_arch(struct dc_costing *c, const char *arch, const json_t *measured,
		    struct dc_cost **cost, struct dc_cost **original)
{
	*cost = dc_xcalloc(1, sizeof(**cost));
	*original = NULL;
	if (dc_cost_compute(*cost, &c->in, arch, measured) < 0) {
		free(*cost);
		*cost = NULL;
		return -1;
	}
	const json_t *orig = json_object_get(
		json_object_get(json_object_get(c->prices, "original"), "params"), arch);
	if (!orig)
		return 0;
	/* The original's way: its own assumptions, not this user's params. */
	struct dc_cost_inputs in = c->in;
	in.params = NULL;
	*original = dc_xcalloc(1, sizeof(**original));
	if (dc_cost_compute(*original, &in, arch, orig) < 0) {
		dc_costing_free(*cost);
		free(*original);
		*cost = *original = NULL;
		return -1;
	}
	return 0;
}

int dc_costing_output(const struct dc_cli *cli, const struct dc_report *rep,
		      const char *html_path)
{
	if (cli->output == DC_OUTPUT_JSON) {
		json_t *j = dc_report_json(rep);
		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
		putchar('\n');
		json_decref(j);
	} else if (cli->output == DC_OUTPUT_CSV) {
		dc_report_csv(stdout, rep);
	} else {
		dc_report_text(stdout, rep);
	}
	if (!html_path)
		return DC_EXIT_OK;
	FILE *f = fopen(html_path, "w");
	if (!f) {
		dc_error_set("cannot write '%s': %s", html_path, strerror(errno));
		return dc_cli_fail(DC_EXIT_FAILED);
	}
	dc_report_html(f, rep);
	if (fclose(f) != 0) {
		dc_error_set("cannot write '%s': %s", html_path, strerror(errno));
		return dc_cli_fail(DC_EXIT_FAILED);
	}
	if (!cli->quiet)
		fprintf(stderr, "report written to %s\n", html_path);
	return DC_EXIT_OK;
}

int dc_cli_parse_count(double *out, const char *arg, const char *what, double min)
{
	char *end;
	double v = strtod(arg, &end);
	if (!*arg || *end || !(v >= min) || v > 1e15)
		return dc_cli_usage_error("%s must be a number of at least %g, not '%s'", what, min,
					  arg);
	*out = v;
	return 0;
}
