/* The report as text, JSON and CSV. */
#include <math.h>

#include "bench/report.h"
#include "util/xalloc.h"

const double dc_cdf_percentiles[DC_CDF_POINTS] = {
	1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
	22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42,
	43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63,
	64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84,
	85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 99.5, 99.9, 100
};

void dc_latency_from_bench(struct dc_latency *out, const struct dc_bench_result *r, time_t at)
{
	const struct dc_hist *h = &r->hist;
	memset(out, 0, sizeof(*out));
	out->requests = r->requests;
	out->ok = r->ok;
	memcpy(out->errors, r->errors, sizeof(out->errors));
	out->avg_ms = dc_hist_mean(h) / 1000;
	out->p50_ms = dc_hist_percentile(h, 50) / 1000;
	out->p90_ms = dc_hist_percentile(h, 90) / 1000;
	out->p99_ms = dc_hist_percentile(h, 99) / 1000;
	out->max_ms = (double)h->max / 1000;
	out->stddev_ms = dc_hist_stddev(h) / 1000;
	out->throughput = dc_bench_throughput(r);
	out->first_ms = r->first_ms;
	for (int i = 0; i < DC_CDF_POINTS; i++)
		out->cdf_ms[i] = dc_hist_percentile(h, dc_cdf_percentiles[i]) / 1000;
	struct tm tm;
	gmtime_r(&at, &tm);
	strftime(out->at, sizeof(out->at), "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static double r3(double x)
{
	return round(x * 1000) / 1000;
}

json_t *dc_latency_json(const struct dc_latency *l)
{
	json_t *errs = json_object(), *cdf = json_array();
	for (int i = 0; i < DC_BENCH_ERR_KINDS; i++)
		json_object_set_new(errs, dc_bench_err_name(i), json_integer(l->errors[i]));
	for (int i = 0; i < DC_CDF_POINTS; i++)
		json_array_append_new(cdf, json_real(r3(l->cdf_ms[i])));
	return json_pack("{s:s,s:I,s:I,s:o,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:o}", "at", l->at,
			 "requests", (json_int_t)l->requests, "ok", (json_int_t)l->ok, "errors",
			 errs, "avg_ms", r3(l->avg_ms), "p50_ms", r3(l->p50_ms), "p90_ms",
			 r3(l->p90_ms), "p99_ms", r3(l->p99_ms), "max_ms", r3(l->max_ms),
			 "stddev_ms", r3(l->stddev_ms), "throughput_rps", r3(l->throughput),
			 "first_ms", r3(l->first_ms), "cdf_ms", cdf);
}

static double num(const json_t *j, const char *k)
{
	return json_number_value(json_object_get(j, k));
}

int dc_latency_parse(struct dc_latency *out, const json_t *j)
{
	memset(out, 0, sizeof(*out));
	const json_t *cdf = json_object_get(j, "cdf_ms");
	if (!json_is_object(j) || json_array_size(cdf) != DC_CDF_POINTS)
		return -1;
	out->requests = (long)num(j, "requests");
	out->ok = (long)num(j, "ok");
	for (int i = 0; i < DC_BENCH_ERR_KINDS; i++)
		out->errors[i] = (long)num(json_object_get(j, "errors"), dc_bench_err_name(i));
	out->avg_ms = num(j, "avg_ms");
	out->p50_ms = num(j, "p50_ms");
	out->p90_ms = num(j, "p90_ms");
	out->p99_ms = num(j, "p99_ms");
	out->max_ms = num(j, "max_ms");
	out->stddev_ms = num(j, "stddev_ms");
	out->throughput = num(j, "throughput_rps");
	out->first_ms = num(j, "first_ms");
	for (int i = 0; i < DC_CDF_POINTS; i++)
		out->cdf_ms[i] = json_number_value(json_array_get(cdf, i));
	snprintf(out->at, sizeof(out->at), "%s", json_string_value(json_object_get(j, "at")) ?: "");
	return 0;
}

static long errors_total(const struct dc_latency *l)
{
	long n = 0;
	for (int i = 0; i < DC_BENCH_ERR_KINDS; i++)
		n += l->errors[i];
	return n;
}

/* ---- text ---- */

static void money(char *buf, size_t n, const struct dc_cost *c, int per_million)
{
	if (!c)
		snprintf(buf, n, "-");
	else
		snprintf(buf, n, per_million ? "%.4f" : "%.2f", per_million ? c->per_million : c->monthly);
}

static void ms(char *buf, size_t n, const struct dc_latency *l, double v)
{
	if (!l || l->ok == 0)
		snprintf(buf, n, "-");
	else
		snprintf(buf, n, "%.2f", v);
}

static int has_latency(const struct dc_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->rows[i].lat)
			return 1;
	return 0;
}

static void print_prices_header(FILE *out, const struct dc_report *r)
{
	if (!r->prices)
		return;
	const char *fetched = json_string_value(json_object_get(r->prices, "fetched_at"));
	fprintf(out, "prices: %s, %s (%s); %g hours a month%s%s\n",
		json_string_value(json_object_get(r->prices, "region")) ?: "?",
		json_string_value(json_object_get(r->prices, "description")) ?: "",
		r->prices_label ? r->prices_label : "",
		json_number_value(json_object_get(r->prices, "hours_per_month")),
		fetched ? "; fetched live from the AWS Price List Query API at " : "",
		fetched ? fetched : "");
}

static void print_row(FILE *out, const struct dc_report *r, const struct dc_report_row *row,
		      int lat)
{
	char a[16], p50[16], p90[16], p99[16], mo[16], pm[16];
	const struct dc_latency *l = row->lat;
	money(mo, sizeof(mo), row->cost, 0);
	money(pm, sizeof(pm), row->cost, 1);
	fprintf(out, "%-24s %-24s", row->name, row->arch ? row->arch : "-");
	if (lat) {
		ms(a, sizeof(a), l, l ? l->avg_ms : 0);
		ms(p50, sizeof(p50), l, l ? l->p50_ms : 0);
		ms(p90, sizeof(p90), l, l ? l->p90_ms : 0);
		ms(p99, sizeof(p99), l, l ? l->p99_ms : 0);
		fprintf(out, " %9s %9s %9s %9s", a, p50, p90, p99);
	}
	fprintf(out, " %11s %12s", mo, pm);
	if (r->calls_per_month > 0 && row->cost)
		fprintf(out, " %12.2f", dc_cost_total(row->cost, r->calls_per_month));
	if (row->original)
		fprintf(out, " %9.2f %9.4f", row->original->monthly, row->original->per_million);
	fputc('\n', out);
}

static int has_original(const struct dc_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->rows[i].original)
			return 1;
	return 0;
}

static void print_table(FILE *out, const struct dc_report *r)
{
	int lat = has_latency(r);
	fprintf(out, "%-24s %-24s", lat ? "STACK" : "ARCHITECTURE", lat ? "ARCHITECTURE" : "KIND");
	if (lat)
		fprintf(out, " %9s %9s %9s %9s", "AVG ms", "p50 ms", "p90 ms", "p99 ms");
	fprintf(out, " %11s %12s", "MONTHLY $", "PER 1M $");
	if (r->calls_per_month > 0)
		fprintf(out, " %12s", "TOTAL $");
	if (has_original(r))
		fprintf(out, " %9s %9s", "ORIG MO $", "ORIG 1M $");
	fputc('\n', out);
	for (size_t i = 0; i < r->n; i++) {
		struct dc_report_row row = r->rows[i];
		if (!lat)
			row.arch = row.cost ? (row.cost->serverless ? "serverless" : "serverful") : "-";
		print_row(out, r, &row, lat);
	}
}

static void print_errors(FILE *out, const struct dc_report_row *row)
{
	const struct dc_latency *l = row->lat;
	fprintf(out, "  %ld requests, %ld ok, %ld errors", l->requests, l->ok, errors_total(l));
	for (int k = 0; k < DC_BENCH_ERR_KINDS; k++)
		if (l->errors[k])
			fprintf(out, "; %s %ld", dc_bench_err_name(k), l->errors[k]);
	for (int i = 0; row->bench && i < DC_BENCH_STATUSES && row->bench->statuses[i].n; i++)
		fprintf(out, "%s%d x%ld", i ? ", " : " (", row->bench->statuses[i].status,
			row->bench->statuses[i].n);
	if (row->bench && row->bench->statuses[0].n)
		fputc(')', out);
	fputc('\n', out);
	if (row->bench && row->bench->first_error[0])
		fprintf(out, "  first error: %s\n", row->bench->first_error);
}

static void print_details(FILE *out, const struct dc_report_row *row)
{
	const struct dc_latency *l = row->lat;
	fprintf(out, "%s\n", row->name);
	print_errors(out, row);
	fprintf(out, "  max %.2f ms, stddev %.2f ms, %.1f requests/s; first request %.2f ms "
		     "(new connection); measured %s\n",
		l->max_ms, l->stddev_ms, l->throughput, l->first_ms, l->at);
	if (row->bench && row->bench->interrupted)
		fprintf(out, "  interrupted: these are the requests measured until then\n");
	const struct dc_lambda_usage *u = row->lambda;
	if (u && u->reports)
		fprintf(out, "  Lambda: %ld REPORT lines, billed %.1f ms on average, duration %.1f ms, "
			     "%d MB configured, %d MB max used, %ld cold (init %.1f ms on average)\n",
			u->reports, u->billed_ms_sum / u->reports, u->duration_ms_sum / u->reports,
			u->memory_size_mb, u->max_memory_used_mb, u->cold,
			u->cold ? u->init_ms_sum / u->cold : 0);
	for (size_t i = 0; i < row->ncold; i++)
		fprintf(out, "%s%.2f%s", i ? ", " : "  first call after a fresh environment: ",
			row->cold_ms[i], i + 1 == row->ncold ? " ms\n" : "");
	if (row->note)
		fprintf(out, "  %s\n", row->note);
}

static void print_lines(FILE *out, const char *title, const struct dc_cost_line *l, size_t n,
			int per_call)
{
	if (n)
		fprintf(out, "  %s\n", title);
	for (size_t i = 0; i < n; i++)
		fprintf(out, per_call ? "    %-58s %10.4f  %s%s\n" : "    %-58s %10.2f  %s%s\n",
			l[i].name, l[i].amount, l[i].detail, l[i].unverified ? " *" : "");
}

static void print_notes(FILE *out, const struct dc_report *r, const char *arch)
{
	size_t i;
	json_t *note;
	json_array_foreach(json_object_get(json_object_get(r->profiles, arch), "notes"), i, note)
		fprintf(out, "  - %s\n", json_string_value(note));
}

static void print_explain(FILE *out, const struct dc_report *r, const struct dc_report_row *row)
{
	const struct dc_cost *c = row->cost;
	const char *summary = json_string_value(
		json_object_get(json_object_get(r->profiles, c->arch), "summary"));
	fprintf(out, "\n%s%s%s%s: %.2f a month + %.4f per million calls\n", c->arch,
		summary ? " (" : "", summary ? summary : "", summary ? ")" : "", c->monthly,
		c->per_million);
	print_lines(out, "fixed, USD a month:", c->fixed, c->nfixed, 0);
	print_lines(out, "per call, USD per million calls:", c->calls, c->ncalls, 1);
	print_notes(out, r, c->arch);
	if (row->original) {
		fprintf(out, "  the original's way: %.2f a month + %.4f per million calls\n",
			row->original->monthly, row->original->per_million);
		print_lines(out, "  fixed:", row->original->fixed, row->original->nfixed, 0);
		print_lines(out, "  per call:", row->original->calls, row->original->ncalls, 1);
	}
}

static void human_calls(char *buf, size_t n, double calls)
{
	if (calls >= 1e9)
		snprintf(buf, n, "%.2f billion", calls / 1e9);
	else if (calls >= 1e6)
		snprintf(buf, n, "%.2f million", calls / 1e6);
	else
		snprintf(buf, n, "%.0f", calls);
}

static void print_break_even(FILE *out, const struct dc_report *r)
{
	double hours = json_number_value(json_object_get(r->prices, "hours_per_month"));
	if (hours <= 0)
		hours = 730;
	fprintf(out, "\nbreak-even: calls a month above which the serverful architecture costs less\n");
	for (size_t i = 0; i < r->n; i++) {
		const struct dc_cost *s = r->rows[i].cost;
		for (size_t j = 0; s && !s->serverless && j < r->n; j++) {
			const struct dc_cost *l = r->rows[j].cost;
			if (!l || !l->serverless)
				continue;
			double n = dc_cost_break_even(s, l);
			char h[32];
			human_calls(h, sizeof(h), n);
			if (n < 0)
				fprintf(out, "  %-24s vs %-24s never\n", s->arch, l->arch);
			else
				fprintf(out, "  %-24s vs %-24s %s (%.1f a second)\n", s->arch, l->arch, h,
					n / (hours * 3600.0));
		}
	}
}

static void print_original_note(FILE *out, const struct dc_report *r)
{
	const json_t *orig = json_object_get(r->prices, "original");
	const char *key;
	json_t *v;
	fprintf(out, "\nORIG: %s\n", json_string_value(json_object_get(orig, "note")));
	json_object_foreach(json_object_get(orig, "missing"), key, v)
		fprintf(out, "  %s: %s\n", key, json_string_value(v));
}

void dc_report_text(FILE *out, const struct dc_report *r)
{
	print_prices_header(out, r);
	print_table(out, r);
	for (size_t i = 0; i < r->n; i++)
		if (r->rows[i].lat)
			print_details(out, &r->rows[i]);
	for (size_t i = 0; r->explain && i < r->n; i++)
		if (r->rows[i].cost)
			print_explain(out, r, &r->rows[i]);
	if (r->calls_per_month > 0)
		print_break_even(out, r);
	if (has_original(r))
		print_original_note(out, r);
	if (r->prices)
		fprintf(out, "%s", r->explain ? "\n* unverified price (see the price set's notes)\n"
					       : "");
}

/* ---- JSON and CSV ---- */

static json_t *lines_json(const struct dc_cost_line *l, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s,s:s,s:f,s:s,s:b}", "name", l[i].name,
						   "price", l[i].price_key, "amount", l[i].amount,
						   "detail", l[i].detail, "unverified",
						   l[i].unverified));
	return a;
}

static json_t *cost_json(const struct dc_cost *c, double calls)
{
	json_t *j = json_pack("{s:s,s:s,s:f,s:f,s:o,s:o,s:O}", "arch", c->arch, "kind",
			      c->serverless ? "serverless" : "serverful", "monthly_usd", c->monthly,
			      "per_million_usd", c->per_million, "fixed",
			      lines_json(c->fixed, c->nfixed), "per_call",
			      lines_json(c->calls, c->ncalls), "params", c->params);
	if (calls > 0)
		json_object_set_new(j, "total_usd", json_real(dc_cost_total(c, calls)));
	return j;
}

json_t *dc_lambda_usage_json(const struct dc_lambda_usage *u)
{
	long warm = u->reports - u->cold;
	json_t *j = json_pack("{s:I,s:I,s:f,s:f,s:i,s:i,s:f}", "reports", (json_int_t)u->reports,
			 "cold", (json_int_t)u->cold, "billed_ms_avg",
			 u->reports ? u->billed_ms_sum / u->reports : 0.0, "duration_ms_avg",
			 u->reports ? u->duration_ms_sum / u->reports : 0.0, "memory_size_mb",
			 u->memory_size_mb, "max_memory_used_mb", u->max_memory_used_mb,
			 "init_ms_avg", u->cold ? u->init_ms_sum / u->cold : 0.0);
	if (warm > 0)
		json_object_set_new(j, "billed_ms_warm_avg",
				    json_real((u->billed_ms_sum - u->cold_billed_ms_sum) / warm));
	return j;
}

static json_t *row_json(const struct dc_report *r, const struct dc_report_row *row)
{
	json_t *j = json_pack("{s:s}", "name", row->name);
	if (row->arch)
		json_object_set_new(j, "arch", json_string(row->arch));
	if (row->url)
		json_object_set_new(j, "url", json_string(row->url));
	if (row->lat)
		json_object_set_new(j, "latency", dc_latency_json(row->lat));
	if (row->bench) {
		json_object_set_new(j, "interrupted", json_boolean(row->bench->interrupted));
		if (row->bench->first_error[0])
			json_object_set_new(j, "first_error", json_string(row->bench->first_error));
	}
	if (row->lambda)
		json_object_set_new(j, "lambda", dc_lambda_usage_json(row->lambda));
	if (row->ncold) {
		json_t *a = json_array();
		for (size_t i = 0; i < row->ncold; i++)
			json_array_append_new(a, json_real(row->cold_ms[i]));
		json_object_set_new(j, "cold_ms", a);
	}
	if (row->cost)
		json_object_set_new(j, "cost", cost_json(row->cost, r->calls_per_month));
	if (row->original)
		json_object_set_new(j, "original", cost_json(row->original, r->calls_per_month));
	if (row->note)
		json_object_set_new(j, "note", json_string(row->note));
	return j;
}

static json_t *break_even_json(const struct dc_report *r)
{
	json_t *a = json_array();
	for (size_t i = 0; i < r->n; i++) {
		const struct dc_cost *s = r->rows[i].cost;
		for (size_t j = 0; s && !s->serverless && j < r->n; j++) {
			const struct dc_cost *l = r->rows[j].cost;
			if (!l || !l->serverless)
				continue;
			double n = dc_cost_break_even(s, l);
			json_array_append_new(a, json_pack("{s:s,s:s,s:o}", "serverful", s->arch,
							   "serverless", l->arch, "calls_per_month",
							   n < 0 ? json_null() : json_real(n)));
		}
	}
	return a;
}

json_t *dc_report_json(const struct dc_report *r)
{
	json_t *rows = json_array();
	for (size_t i = 0; i < r->n; i++)
		json_array_append_new(rows, row_json(r, &r->rows[i]));
	json_t *j = json_pack("{s:o}", "rows", rows);
	if (r->prices) {
		json_t *p = json_pack("{s:O,s:O,s:O,s:s}", "region",
				      json_object_get(r->prices, "region") ?: json_null(),
				      "description",
				      json_object_get(r->prices, "description") ?: json_null(),
				      "hours_per_month",
				      json_object_get(r->prices, "hours_per_month") ?: json_null(),
				      "from", r->prices_label ? r->prices_label : "");
		json_t *f = json_object_get(r->prices, "fetched_at");
		if (f)
			json_object_set(p, "fetched_at", f);
		json_object_set_new(j, "prices", p);
	}
	if (r->calls_per_month > 0)
		json_object_set_new(j, "calls_per_month", json_real(r->calls_per_month));
	json_object_set_new(j, "break_even", break_even_json(r));
	return j;
}

static void csv_num(FILE *out, int have, const char *fmt, double v)
{
	fputc(',', out);
	if (have)
		fprintf(out, fmt, v);
}

void dc_report_csv(FILE *out, const struct dc_report *r)
{
	fputs("name,arch,requests,ok,errors,avg_ms,p50_ms,p90_ms,p99_ms,max_ms,stddev_ms,"
	      "throughput_rps,first_ms,monthly_usd,per_million_usd,total_usd\n", out);
	for (size_t i = 0; i < r->n; i++) {
		const struct dc_report_row *row = &r->rows[i];
		const struct dc_latency *l = row->lat;
		const struct dc_cost *c = row->cost;
		/* A name may be a URL: quoted, with its quotes doubled (RFC 4180). */
		fputc('"', out);
		for (const char *p = row->name; *p; p++) {
			if (*p == '"')
				fputc('"', out);
			fputc(*p, out);
		}
		fprintf(out, "\",%s", row->arch ? row->arch : "");
		csv_num(out, l != NULL, "%.0f", l ? (double)l->requests : 0);
		csv_num(out, l != NULL, "%.0f", l ? (double)l->ok : 0);
		csv_num(out, l != NULL, "%.0f", l ? (double)errors_total(l) : 0);
		double v[] = { l ? l->avg_ms : 0, l ? l->p50_ms : 0, l ? l->p90_ms : 0,
			       l ? l->p99_ms : 0, l ? l->max_ms : 0, l ? l->stddev_ms : 0,
			       l ? l->throughput : 0, l ? l->first_ms : 0 };
		for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++)
			csv_num(out, l && l->ok, "%.3f", v[k]);
		csv_num(out, c != NULL, "%.2f", c ? c->monthly : 0);
		csv_num(out, c != NULL, "%.4f", c ? c->per_million : 0);
		csv_num(out, c && r->calls_per_month > 0, "%.2f",
			c ? dc_cost_total(c, r->calls_per_month) : 0);
		fputc('\n', out);
	}
}
