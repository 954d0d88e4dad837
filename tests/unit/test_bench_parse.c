/* What bench reads from AWS: Lambda REPORT lines as CloudWatch Logs holds
 * them, and the price out of a GetProducts answer (tiers, units, products
 * as JSON inside strings), shaped as the API references show them. */
#include <math.h>

#include "bench/lambda.h"
#include "bench/pricing.h"
#include "bench/report.h"
#include "harness.h"
#include "util/xalloc.h"

void test_bench_parse__report_line_warm_and_cold(void)
{
	struct dc_lambda_report r;
	check(dc_lambda_report_parse(&r, "REPORT RequestId: 8f5b1c2e-1111-2222-3333-444455556666\t"
					 "Duration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\t"
					 "Max Memory Used: 70 MB\t\n") == 0);
	check(r.duration_ms == 12.34 && r.billed_ms == 13 && r.memory_size_mb == 128 &&
	      r.max_memory_used_mb == 70 && r.init_ms == 0);
	check(dc_lambda_report_parse(&r, "REPORT RequestId: x\tDuration: 1.10 ms\tBilled Duration: "
					 "151 ms\tMemory Size: 256 MB\tMax Memory Used: 80 MB\tInit "
					 "Duration: 149.71 ms\t") == 0);
	check(r.billed_ms == 151 && r.init_ms == 149.71 && r.duration_ms == 1.10);
	check(dc_lambda_report_parse(&r, "START RequestId: x Version: $LATEST") < 0);
	check(dc_lambda_report_parse(&r, "REPORT RequestId: x\tsomething else") < 0);
	struct dc_lambda_usage u = { 0 };
	struct dc_lambda_report warm = { 3, 4, 128, 60, 0 }, cold = { 3, 150, 128, 65, 140 };
	dc_lambda_usage_add(&u, &warm);
	dc_lambda_usage_add(&u, &cold);
	dc_lambda_usage_add(&u, &warm);
	check_int(u.reports, 3);
	check_int(u.cold, 1);
	check_int(u.max_memory_used_mb, 65);
	json_t *j = dc_lambda_usage_json(&u);
	check(json_number_value(json_object_get(j, "billed_ms_warm_avg")) == 4.0);
	json_decref(j);
}

static json_t *product(const char *dims)
{
	char *doc = dc_xasprintf("{\"product\":{\"sku\":\"S\"},\"terms\":{\"OnDemand\":{\"S.T\":"
				 "{\"priceDimensions\":{%s}}}}}", dims);
	json_t *s = json_string(doc);
	free(doc);
	return s;
}

void test_bench_parse__pricing_first_tier_lowest_product(void)
{
	json_t *list = json_array();
	json_array_append_new(list, product(
		"\"a\":{\"unit\":\"Requests\",\"beginRange\":\"300000000\",\"endRange\":\"Inf\","
		"\"pricePerUnit\":{\"USD\":\"0.0000009000\"}},"
		"\"b\":{\"unit\":\"Requests\",\"beginRange\":\"0\",\"endRange\":\"300000000\","
		"\"pricePerUnit\":{\"USD\":\"0.0000010000\"}}"));
	json_array_append_new(list, product(
		"\"c\":{\"unit\":\"Messages\",\"beginRange\":\"0\",\"pricePerUnit\":{\"USD\":\"0.1\"}}"));
	json_array_append_new(list, product(
		"\"d\":{\"unit\":\"Requests\",\"beginRange\":\"0\",\"pricePerUnit\":{\"USD\":\"0.0000035000\"}}"));
	double p = 0;
	int found = 0;
	check(dc_pricing_pick(&p, &found, list, "Requests") == 0);
	check_int(found, 2);
	check(fabs(p - 0.000001) < 1e-15);
	found = 0;
	dc_pricing_pick(&p, &found, list, "Hrs");
	check_int(found, 0);
	json_decref(list);
}

void test_bench_parse__latency_summary_round_trip(void)
{
	struct dc_bench_result *r = calloc(1, sizeof(*r));
	dc_hist_init(&r->hist);
	for (int i = 1; i <= 1000; i++)
		dc_hist_record(&r->hist, (uint64_t)i * 100);
	r->requests = 1003;
	r->ok = 1000;
	r->errors[DC_BENCH_ERR_HTTP] = 3;
	r->elapsed_s = 2;
	struct dc_latency a, b;
	dc_latency_from_bench(&a, r, 0);
	check_str(a.at, "1970-01-01T00:00:00Z");
	check(fabs(a.p50_ms - 50.0) <= 50.0 * DC_HIST_REL_ERROR);
	check(fabs(a.throughput - 501.5) < 1e-9);
	json_t *j = dc_latency_json(&a);
	check(dc_latency_parse(&b, j) == 0);
	check_int(b.errors[DC_BENCH_ERR_HTTP], 3);
	check(fabs(b.cdf_ms[DC_CDF_POINTS - 1] - 100.0) < 1e-9);
	check(fabs(b.p99_ms - a.p99_ms) < 0.001);
	json_decref(j);
	free(r);
}
