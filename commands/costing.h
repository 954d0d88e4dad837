/* What bench and cost share: the price set chosen on the command line (a
 * file, a set's name, the region's set, or live from the Price List API),
 * the cost profiles, and the costing of one architecture with measured
 * params and the original comparison's assumptions beside it. */
#ifndef DC_COMMANDS_COSTING_H
#define DC_COMMANDS_COSTING_H

#include "bench/cost.h"
#include "commands/commands.h"

struct dc_costing {
	json_t *profiles;
	json_t *prices;
	char *label;  /* where the prices came from */
	char *region;
	json_t *params; /* --param overrides */
	struct dc_cost_inputs in;
};

/* prices_arg: NULL (the region's set), "live", a set's name or a file.
 * Live prices need AWS credentials; progress goes to stderr unless quiet. */
int dc_costing_open(struct dc_costing *out, const struct dc_cli *cli, const char *prices_arg,
		    const char *region, const struct dc_strlist *param_args);
void dc_costing_close(struct dc_costing *c);

/* Cost `arch` (with `measured` params over the others, may be NULL) into a
 * new *cost, and, when the price set describes the original comparison's
 * assumptions for it, into a new *original (else NULL). */
int dc_costing_arch(struct dc_costing *c, const char *arch, const json_t *measured,
		    struct dc_cost **cost, struct dc_cost **original);
void dc_costing_free(struct dc_cost *c);

/* The region cost uses when none is given: --region, AWS_REGION,
 * AWS_DEFAULT_REGION, else us-east-1. */
const char *dc_costing_default_region(const struct dc_cli *cli);



struct dc_report;
/* Print the report as --output asks, and write the HTML report to
 * html_path when given. Returns an exit code. */
int dc_costing_output(const struct dc_cli *cli, const struct dc_report *rep,
		      const char *html_path);
/* Parse a number of at least `min` for option `what`; else a usage error's
 * exit code. */
int dc_cli_parse_count(double *out, const char *arg, const char *what, double min);
#endif
