/* What bench reads from AWS: Lambda REPORT lines from CloudWatch Logs
 * (dc_lambda_report_parse, one per input line) and a GetProducts answer's
 * PriceList (dc_pricing_pick). Input: a mode byte, then the log lines or
 * the answer's JSON. */
#include "fuzz.h"

#include <stdlib.h>

#include "bench/lambda.h"
#include "bench/pricing.h"
#include "bench/report.h"

static void reports(struct fuzz_in *in)
{
	struct dc_lambda_usage u = { 0 };
	const uint8_t *line;
	size_t n;
	while (fuzz_part(in, '\n', &line, &n)) {
		char *s = fuzz_strndup(line, n);
		struct dc_lambda_report r;
		if (dc_lambda_report_parse(&r, s) == 0)
			dc_lambda_usage_add(&u, &r);
		free(s);
	}
	json_decref(dc_lambda_usage_json(&u));
}

static void prices(struct fuzz_in *in)
{
	static const char *const units[] = { "Requests", "Lambda-GB-Second", "Hrs", "GB-Mo" };
	json_t *doc = json_loadb((const char *)in->p, in->n, 0, NULL);
	json_t *list = json_object_get(doc, "PriceList");
	for (size_t i = 0; list && i < 4; i++) {
		double p = 0;
		int found = 0;
		if (dc_pricing_pick(&p, &found, list, units[i]) == 0 && (found < 0 || p < 0))
			__builtin_trap();
	}
	json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct fuzz_in in = FUZZ_IN(data + 1, size - 1);
	if (data[0] & 1)
		prices(&in);
	else
		reports(&in);
	return 0;
}
