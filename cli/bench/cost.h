/* The cost model. What an architecture is made of lives in data, not code:
 * templates/prices/architectures.json gives each architecture's params and
 * its fixed monthly and per-call components; templates/prices/<set>.json
 * gives the prices, each with its source and date. This file only does the
 * arithmetic: a component costs price/per x the product of its quantities x
 * (1 - discount); fixed lines are rounded to cents each (as the AWS Pricing
 * Calculator does, which is how the original table's figures come out), and
 * per-call lines are kept unrounded and shown per million calls. */
#ifndef DC_BENCH_COST_H
#define DC_BENCH_COST_H

#include <jansson.h>

struct dc_cost_line {
	char *name;      /* "instance t3.micro" */
	char *price_key; /* "ec2.t3.micro" */
	double amount;   /* fixed: USD a month (cents); per call: USD per million calls */
	char *detail;    /* "730 x 0.0104 per hour" */
	int unverified;  /* the price is marked unverified in its set */
};

struct dc_cost {
	char *arch;
	int serverless;
	double monthly;     /* sum of the fixed lines */
	double per_million; /* sum of the per-call lines */
	struct dc_cost_line *fixed;
	size_t nfixed;
	struct dc_cost_line *calls;
	size_t ncalls;
	json_t *params; /* the params the figures were computed with */
};

/* What a computation reads: loaded once, borrowed by dc_cost_compute. */
struct dc_cost_inputs {
	const json_t *profiles;     /* architectures.json's "architectures" */
	const json_t *prices;       /* a whole price set document */
	const char *templates_root; /* for templates/<arch>/stack.json params; may be NULL */
	const json_t *params;       /* --param overrides (object), may be NULL */
};

/* Read a JSON document; -1 with a message naming the file. */
int dc_cost_read_json(json_t **out, const char *path);
/* The price set: a path (contains '/' or ends in ".json"), else the name of a
 * set in <templates_root>/prices/ ("eu-west-2", "eu-west-2-2021-12"). Every
 * price must carry price, per, unit, source and as_of: a set missing one is
 * refused with the key named. */
int dc_cost_load_prices(json_t **out, const char *templates_root, const char *name);
int dc_cost_check_prices(const json_t *set, const char *label);
/* <templates_root>/prices/architectures.json's "architectures" object. */
int dc_cost_load_profiles(json_t **out, const char *templates_root);

/* Compute one architecture. `extra` (may be NULL) is applied over every
 * other source of params: measured values, or the original comparison's
 * assumptions. Unknown architecture, missing price or bad param: -1. */
int dc_cost_compute(struct dc_cost *out, const struct dc_cost_inputs *in, const char *arch,
		    const json_t *extra);
void dc_cost_dispose(struct dc_cost *c);

/* Monthly total at `calls` calls a month. */
double dc_cost_total(const struct dc_cost *c, double calls);
/* Calls a month above which `serverful` costs less than `serverless`; -1
 * when it never does (its per-call cost is not lower). */
double dc_cost_break_even(const struct dc_cost *serverful, const struct dc_cost *serverless);

/* "1234567" -> number 1234567, "t3.small" -> string: for --param values. */
json_t *dc_cost_param_value(const char *text);

#endif
