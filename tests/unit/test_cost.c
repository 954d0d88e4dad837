/* The cost model against arithmetic done by hand from ../shared/PRICES.md:
 * every architecture with today's us-east-1 prices, the original table's
 * figures with the December 2021 London set and its assumptions, and the
 * break-even traffic. */
#include <math.h>

#include "bench/cost.h"
#include "harness.h"
#include "stack/template.h"
#include "util/error.h"
#include "util/xalloc.h"

#define check_money(got, want)                                                           \
	do {                                                                             \
		double g_ = (got), w_ = (want);                                          \
		if (fabs(g_ - w_) > 1e-6)                                                \
			dc_test_fail(__FILE__, __LINE__, "%s: got %.6f, want %.6f", #got, g_, \
				     w_);                                                \
	} while (0)

struct model {
	json_t *profiles, *prices;
	struct dc_cost_inputs in;
};

static void load(struct model *m, const char *set)
{
	const char *root = dc_template_root();
	check(dc_cost_load_profiles(&m->profiles, root) == 0);
	check(dc_cost_load_prices(&m->prices, root, set) == 0);
	m->in = (struct dc_cost_inputs){ m->profiles, m->prices, root, NULL };
}

static void unload(struct model *m)
{
	json_decref(m->profiles);
	json_decref(m->prices);
}

static const struct dc_cost_line *line(const struct dc_cost *c, const char *prefix)
{
	for (size_t i = 0; i < c->nfixed; i++)
		if (strncmp(c->fixed[i].name, prefix, strlen(prefix)) == 0)
			return &c->fixed[i];
	for (size_t i = 0; i < c->ncalls; i++)
		if (strncmp(c->calls[i].name, prefix, strlen(prefix)) == 0)
			return &c->calls[i];
	dc_test_fail(__FILE__, __LINE__, "%s has no line '%s'", c->arch, prefix);
	static const struct dc_cost_line none = { 0 };
	return &none;
}

static void compute(struct dc_cost *c, struct model *m, const char *arch, const json_t *extra)
{
	if (dc_cost_compute(c, &m->in, arch, extra) < 0)
		dc_test_fail(__FILE__, __LINE__, "%s: %s", arch, dc_error_last()->message);
}

/* Lambda per million calls, us-east-1: API Gateway 1.00 + requests 0.20 +
 * 128/1024 GB x ms/1000 x 0.0000166667 x 1e6 + logs 330 B / 2^30 x 0.50 x 1e6. */
static double lambda_us(double billed_ms)
{
	return 1.00 + 0.20 + 0.125 * billed_ms / 1000 * 0.0000166667 * 1e6 +
	       330.0 / 1073741824.0 * 0.50 * 1e6;
}

void test_cost__every_architecture_us_east_1(void)
{
	struct model m;
	load(&m, "us-east-1");
	struct dc_cost c;
	compute(&c, &m, "fastapi-ec2", NULL);
	/* 730 x 0.0104 = 7.592; 8 GB x 0.08; 730 x 0.005 public IPv4. */
	check_money(line(&c, "instance t3.micro")->amount, 7.59);
	check_money(line(&c, "root volume 8 GB gp3")->amount, 0.64);
	check_money(c.monthly, 7.59 + 0.64 + 3.65);
	check_money(c.per_million, 0);
	check(!c.serverless);
	dc_cost_dispose(&c);

	compute(&c, &m, "lambda-python-dynamodb", NULL);
	check(c.serverless);
	check_money(c.monthly, 0);
	check_money(c.per_million, lambda_us(60) + 0.625);
	check_money(line(&c, "Lambda duration: 128 MB x 60 ms")->amount, 0.125 * 0.060 * 16.6667);
	dc_cost_dispose(&c);
	compute(&c, &m, "lambda-python-s3", NULL);
	check_money(c.per_million, lambda_us(60) + 0.0004 * 1000 + 0.005 * 1000);
	dc_cost_dispose(&c);
	compute(&c, &m, "lambda-js-dynamodb", NULL);
	check_money(c.per_million, lambda_us(105) + 0.625);
	dc_cost_dispose(&c);
	compute(&c, &m, "lambda-cpp-dynamodb", NULL);
	check_money(c.per_million, lambda_us(23) + 0.625);
	dc_cost_dispose(&c);
	compute(&c, &m, "lambda-rust-dynamodb", NULL);
	check_money(c.per_million, lambda_us(26) + 0.625);
	dc_cost_dispose(&c);

	compute(&c, &m, "fargate-ecs", NULL);
	/* 0.25 x 730 x 0.04048 x 0.3 = 2.216; 0.5 x 730 x 0.004445 x 0.3 = 0.487;
	 * 730 x 0.0225 = 16.425; 3 x 730 x 0.005 = 10.95. */
	check_money(c.monthly, 2.22 + 0.49 + 16.43 + 10.95);
	check_money(c.per_million, 1e6 / 90000.0 * 0.008);
	dc_cost_dispose(&c);

	compute(&c, &m, "k8s", NULL);
	/* k3s server t3.small 730 x 0.0208 = 15.184, 8 GB gp3, one public IPv4. */
	check_money(c.monthly, 15.18 + 0.64 + 3.65);
	check_int(c.nfixed, 3);
	dc_cost_dispose(&c);
	unload(&m);
}

/* With the December 2021 London set and the original's assumptions, the
 * original table's figures. */
void test_cost__original_2021_figures(void)
{
	struct model m;
	load(&m, "eu-west-2-2021-12");
	const json_t *orig = json_object_get(json_object_get(m.prices, "original"), "params");
	struct dc_cost c;
	compute(&c, &m, "fastapi-ec2", json_object_get(orig, "fastapi-ec2"));
	check_money(line(&c, "instance t2.micro")->amount, 9.64);
	check_money(line(&c, "root volume 8 GB gp2")->amount, 0.93);
	check_money(c.monthly, 10.57);
	dc_cost_dispose(&c);

	compute(&c, &m, "fargate-ecs", json_object_get(orig, "fargate-ecs"));
	check_money(line(&c, "load balancer (ALB) hours")->amount, 19.32);
	check_money(line(&c, "Fargate Spot task vCPU")->amount +
			    line(&c, "Fargate Spot task memory")->amount, 3.11);
	check_money(c.per_million, 0);
	dc_cost_dispose(&c);

	compute(&c, &m, "k8s", json_object_get(orig, "k8s"));
	check_money(line(&c, "kOps control node volumes")->amount, 12.06);
	check_money(c.monthly, 22.63);
	dc_cost_dispose(&c);

	json_t *eks = json_pack("{s:s}", "control_plane", "eks");
	compute(&c, &m, "k8s", eks);
	check_money(line(&c, "EKS control plane")->amount, 73.00);
	dc_cost_dispose(&c);
	json_decref(eks);

	/* 1.16 + 0.20 + 0.25 GB x 0.060 s x 0.0000166667 x 1e6 + 1 x 1.4846 + 0.5 x 0.297 */
	compute(&c, &m, "lambda-python-dynamodb", json_object_get(orig, "lambda-python-dynamodb"));
	check_money(c.per_million, 1.16 + 0.20 + 0.25 * 0.060 * 16.6667 + 1.4846 + 0.1485);
	dc_cost_dispose(&c);
	/* deployctl's handler with the same prices: one UpdateItem, 128 MB. */
	compute(&c, &m, "lambda-python-dynamodb", NULL);
	check_money(c.per_million, 1.16 + 0.20 + 0.125 * 0.060 * 16.6667 + 1.4846 +
					   330.0 / 1073741824.0 * 0.5985 * 1e6);
	dc_cost_dispose(&c);
	unload(&m);
}

void test_cost__break_even(void)
{
	struct model m;
	load(&m, "us-east-1");
	struct dc_cost ec2, lam;
	compute(&ec2, &m, "fastapi-ec2", NULL);
	compute(&lam, &m, "lambda-python-dynamodb", NULL);
	double n = dc_cost_break_even(&ec2, &lam);
	double want = 11.88 / (lambda_us(60) + 0.625) * 1e6; /* about 4.4 million calls */
	check(fabs(n - want) < 1);
	check(fabs(dc_cost_total(&ec2, n) - dc_cost_total(&lam, n)) < 1e-6);
	check(dc_cost_total(&lam, n * 0.99) < dc_cost_total(&ec2, n * 0.99));
	check(dc_cost_total(&ec2, n * 1.01) < dc_cost_total(&lam, n * 1.01));
	/* A serverless one is never dearer per call than itself: no break-even. */
	check(dc_cost_break_even(&lam, &lam) < 0);
	dc_cost_dispose(&ec2);
	dc_cost_dispose(&lam);
	unload(&m);
}

/* Every price set costs every architecture: no price key is missing. */
void test_cost__every_set_costs_every_architecture(void)
{
	static const char *const sets[] = { "us-east-1", "eu-west-2", "eu-west-2-2021-12", NULL };
	for (const char *const *s = sets; *s; s++) {
		struct model m;
		load(&m, *s);
		const char *arch;
		json_t *p;
		int n = 0;
		json_object_foreach(m.profiles, arch, p) {
			struct dc_cost c;
			compute(&c, &m, arch, NULL);
			dc_cost_dispose(&c);
			n++;
		}
		check_int(n, 8);
		unload(&m);
	}
}

void test_cost__measured_params_and_refusals(void)
{
	struct model m;
	load(&m, "us-east-1");
	struct dc_cost c;
	json_t *measured = json_pack("{s:f,s:f}", "billed_ms", 7.0, "memory_mb", 512.0);
	compute(&c, &m, "lambda-rust-dynamodb", measured);
	check_money(line(&c, "Lambda duration: 512 MB x 7 ms")->amount, 0.5 * 0.007 * 16.6667);
	dc_cost_dispose(&c);
	json_decref(measured);
	check(dc_cost_compute(&c, &m.in, "lambda-cobol", NULL) < 0);
	check_str(dc_error_last()->message, "no cost profile for architecture 'lambda-cobol'");
	json_t *bad = json_pack("{s:s}", "instance_type", "t3.nano");
	check(dc_cost_compute(&c, &m.in, "fastapi-ec2", bad) < 0);
	check(strstr(dc_error_last()->message, "no price 'ec2.t3.nano'") != NULL);
	json_decref(bad);
	unload(&m);

	char *path = dc_xasprintf("%s/p.json", dc_test_tmpdir());
	FILE *f = fopen(path, "w");
	fputs("{\"hours_per_month\": 730, \"prices\": {\"x\": {\"price\": 1, \"per\": 1, "
	      "\"unit\": \"hour\", \"as_of\": \"2024\"}}}", f);
	fclose(f);
	json_t *set;
	check(dc_cost_load_prices(&set, NULL, path) < 0);
	check(strstr(dc_error_last()->message, "price 'x'") &&
	      strstr(dc_error_last()->message, "\"source\""));
	free(path);
}
