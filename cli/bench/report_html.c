/* The HTML report: one file with inline CSS and SVG, no script and no
 * network, so it opens anywhere and can be mailed. */
#include <math.h>

#include "bench/report.h"

#define W 640
#define H 360
#define ML 70 /* margins: left, right, top, bottom */
#define MR 170
#define MT 20
#define MB 50

static const char *const palette[] = { "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
				       "#9467bd", "#8c564b", "#e377c2", "#17becf" };

static const char *color(size_t i)
{
	return palette[i % (sizeof(palette) / sizeof(palette[0]))];
}

static void esc(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '<')
			fputs("&lt;", out);
		else if (*s == '>')
			fputs("&gt;", out);
		else if (*s == '&')
			fputs("&amp;", out);
		else if (*s == '"')
			fputs("&quot;", out);
		else
			fputc(*s, out);
	}
}

struct axis {
	double lo, hi;
	int log;
};

static double pos(const struct axis *a, double v, double from, double len)
{
	double t = a->log ? (log10(v) - log10(a->lo)) / (log10(a->hi) - log10(a->lo))
			  : (v - a->lo) / (a->hi - a->lo);
	return from + t * len;
}

static double px(const struct axis *x, double v)
{
	return pos(x, v, ML, W - ML - MR);
}

static double py(const struct axis *y, double v)
{
	return H - MB - (pos(y, v, 0, H - MT - MB));
}

/* 1, 2 or 5 times a power of ten, at least x. */
static double nice_step(double x)
{
	double p = pow(10, floor(log10(x)));
	return x <= p ? p : x <= 2 * p ? 2 * p : x <= 5 * p ? 5 * p : 10 * p;
}

/* Round a range out to whole powers of ten (log) or a nice step. */
static void nice(struct axis *a)
{
	if (a->log) {
		a->lo = pow(10, floor(log10(a->lo)));
		a->hi = pow(10, ceil(log10(a->hi)));
		if (a->hi <= a->lo)
			a->hi = a->lo * 10;
		return;
	}
	if (a->hi <= a->lo)
		a->hi = a->lo + 1;
	double step = nice_step((a->hi - a->lo) / 5);
	a->lo = floor(a->lo / step) * step;
	a->hi = ceil(a->hi / step) * step;
}

static void tick_label(char *buf, size_t n, double v)
{
	if (fabs(v) >= 1e9)
		snprintf(buf, n, "%gG", v / 1e9);
	else if (fabs(v) >= 1e6)
		snprintf(buf, n, "%gM", v / 1e6);
	else if (fabs(v) >= 1e4)
		snprintf(buf, n, "%gk", v / 1e3);
	else
		snprintf(buf, n, "%g", v);
}

static void ticks_x(FILE *out, const struct axis *x)
{
	double step = nice_step((x->hi - x->lo) / 5);
	for (int i = 0; i <= 30; i++) {
		double v = x->log ? x->lo * pow(10, i) : x->lo + step * i;
		if (v > x->hi * 1.0001)
			break;
		char b[32];
		tick_label(b, sizeof(b), v);
		fprintf(out, "<line x1='%.1f' x2='%.1f' y1='%d' y2='%d' class='grid'/>"
			     "<text x='%.1f' y='%d' text-anchor='middle'>%s</text>\n",
			px(x, v), px(x, v), MT, H - MB, px(x, v), H - MB + 16, b);
	}
}

static void ticks_y(FILE *out, const struct axis *y)
{
	double step = nice_step((y->hi - y->lo) / 5);
	for (int i = 0; i <= 30; i++) {
		double v = y->log ? y->lo * pow(10, i) : y->lo + step * i;
		if (v > y->hi * 1.0001)
			break;
		char b[32];
		tick_label(b, sizeof(b), v);
		fprintf(out, "<line x1='%d' x2='%d' y1='%.1f' y2='%.1f' class='grid'/>"
			     "<text x='%d' y='%.1f' text-anchor='end'>%s</text>\n",
			ML, W - MR, py(y, v), py(y, v), ML - 6, py(y, v) + 4, b);
	}
}

static void frame(FILE *out, const char *title, const struct axis *x, const struct axis *y,
		  const char *xlabel, const char *ylabel)
{
	fprintf(out, "<h2>");
	esc(out, title);
	fprintf(out, "</h2>\n<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' "
		     "viewBox='0 0 %d %d'>\n<rect x='0' y='0' width='%d' height='%d' fill='#fff'/>\n",
		W, H, W, H, W, H);
	ticks_x(out, x);
	ticks_y(out, y);
	fprintf(out, "<rect x='%d' y='%d' width='%d' height='%d' class='frame'/>\n"
		     "<text x='%d' y='%d' text-anchor='middle'>%s</text>\n"
		     "<text x='14' y='%d' text-anchor='middle' transform='rotate(-90 14 %d)'>%s</text>\n",
		ML, MT, W - ML - MR, H - MT - MB, ML + (W - ML - MR) / 2, H - 10, xlabel,
		MT + (H - MT - MB) / 2, MT + (H - MT - MB) / 2, ylabel);
}

static void legend(FILE *out, size_t i, size_t slot, const char *name)
{
	fprintf(out, "<rect x='%d' y='%zu' width='12' height='12' fill='%s'/>"
		     "<text x='%d' y='%zu'>",
		W - MR + 10, MT + slot * 18, color(i), W - MR + 28, MT + slot * 18 + 11);
	esc(out, name);
	fputs("</text>\n", out);
}

static int benched(const struct dc_report_row *row)
{
	return row->lat && row->lat->ok > 0;
}

static void chart_latency(FILE *out, const struct dc_report *r)
{
	struct axis x = { INFINITY, 0, 0 }, y = { 0, 100, 0 };
	for (size_t i = 0; i < r->n; i++) {
		if (!benched(&r->rows[i]))
			continue;
		x.lo = fmin(x.lo, fmax(r->rows[i].lat->cdf_ms[0], 0.01));
		x.hi = fmax(x.hi, r->rows[i].lat->cdf_ms[DC_CDF_POINTS - 1]);
	}
	if (x.hi <= 0)
		return;
	x.log = x.hi / x.lo > 20;
	if (!x.log)
		x.lo = 0;
	nice(&x);
	frame(out, "Latency distribution per stack", &x, &y, "latency (ms)", "percentile");
	for (size_t i = 0, slot = 0; i < r->n; i++) {
		const struct dc_latency *l = r->rows[i].lat;
		if (!benched(&r->rows[i]))
			continue;
		fprintf(out, "<polyline fill='none' stroke-width='2' stroke='%s' points='", color(i));
		for (int k = 0; k < DC_CDF_POINTS; k++)
			fprintf(out, "%.1f,%.1f ", px(&x, fmax(l->cdf_ms[k], x.lo)),
				py(&y, dc_cdf_percentiles[k]));
		fputs("'/>\n", out);
		legend(out, i, slot++, r->rows[i].name);
	}
	fputs("</svg>\n", out);
}

static double calls_for_charts(const struct dc_report *r)
{
	return r->calls_per_month > 0 ? r->calls_per_month : 1e6;
}

static double per_million_at(const struct dc_cost *c, double calls)
{
	return c->per_million + c->monthly / (calls / 1e6);
}

static void chart_cost_latency(FILE *out, const struct dc_report *r)
{
	double calls = calls_for_charts(r);
	struct axis x = { 0, 0, 0 }, y = { 0, 0, 0 };
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++) {
		if (!benched(&r->rows[i]) || !r->rows[i].cost)
			continue;
		x.hi = fmax(x.hi, r->rows[i].lat->avg_ms * 1.1);
		y.hi = fmax(y.hi, per_million_at(r->rows[i].cost, calls) * 1.1);
		n++;
	}
	if (!n)
		return;
	nice(&x);
	nice(&y);
	char title[128];
	snprintf(title, sizeof(title), "Average latency against cost per million calls, at %g "
		 "million calls a month", calls / 1e6);
	frame(out, title, &x, &y, "average latency (ms)", "USD per million calls");
	for (size_t i = 0, slot = 0; i < r->n; i++) {
		if (!benched(&r->rows[i]) || !r->rows[i].cost)
			continue;
		fprintf(out, "<circle r='6' cx='%.1f' cy='%.1f' fill='%s'/>\n",
			px(&x, r->rows[i].lat->avg_ms),
			py(&y, per_million_at(r->rows[i].cost, calls)), color(i));
		legend(out, i, slot++, r->rows[i].name);
	}
	fputs("</svg>\n", out);
}

static void cost_range(const struct dc_report *r, struct axis *x, struct axis *y)
{
	*x = (struct axis){ 1e4, 1e9, 1 };
	for (size_t i = 0; i < r->n; i++)
		for (size_t j = 0; r->rows[i].cost && j < r->n; j++)
			if (r->rows[j].cost && !r->rows[i].cost->serverless &&
			    r->rows[j].cost->serverless)
				x->hi = fmax(x->hi, dc_cost_break_even(r->rows[i].cost,
								       r->rows[j].cost) * 10);
	x->hi = fmax(x->hi, r->calls_per_month * 10);
	*y = (struct axis){ INFINITY, 0, 1 };
	for (size_t i = 0; i < r->n; i++) {
		const struct dc_cost *c = r->rows[i].cost;
		if (!c)
			continue;
		y->lo = fmin(y->lo, fmax(dc_cost_total(c, x->lo), 0.01));
		y->hi = fmax(y->hi, dc_cost_total(c, x->hi));
	}
	nice(x);
	nice(y);
}

static void break_even_marks(FILE *out, const struct dc_report *r, const struct axis *x,
			     const struct axis *y)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct dc_cost *s = r->rows[i].cost;
		for (size_t j = 0; s && !s->serverless && j < r->n; j++) {
			const struct dc_cost *l = r->rows[j].cost;
			double n = l && l->serverless ? dc_cost_break_even(s, l) : -1;
			if (n < x->lo || n > x->hi || dc_cost_total(s, n) < y->lo)
				continue;
			fprintf(out, "<circle r='5' cx='%.1f' cy='%.1f' fill='none' stroke='#000' "
				     "stroke-width='2'><title>%s = %s at %.3g calls a month</title>"
				     "</circle>\n",
				px(x, n), py(y, dc_cost_total(s, n)), s->arch, l->arch, n);
		}
	}
}

static void chart_cost_calls(FILE *out, const struct dc_report *r)
{
	struct axis x, y;
	cost_range(r, &x, &y);
	if (y.hi <= 0)
		return;
	frame(out, "Monthly cost against calls a month (circles: break-even points)", &x, &y,
	      "calls a month", "USD a month");
	for (size_t i = 0, slot = 0; i < r->n; i++) {
		const struct dc_cost *c = r->rows[i].cost;
		if (!c)
			continue;
		fprintf(out, "<polyline fill='none' stroke-width='2' stroke='%s' points='", color(i));
		for (int k = 0; k <= 60; k++) {
			double calls = x.lo * pow(x.hi / x.lo, k / 60.0);
			fprintf(out, "%.1f,%.1f ", px(&x, calls),
				py(&y, fmax(dc_cost_total(c, calls), y.lo)));
		}
		fputs("'/>\n", out);
		legend(out, i, slot++, r->rows[i].name);
	}
	break_even_marks(out, r, &x, &y);
	fputs("</svg>\n", out);
}

static void cell_num(FILE *out, int have, const char *fmt, double v)
{
	fputs("<td>", out);
	if (have)
		fprintf(out, fmt, v);
	else
		fputs("-", out);
	fputs("</td>", out);
}

static void table(FILE *out, const struct dc_report *r)
{
	fputs("<table>\n<tr><th>stack</th><th>architecture</th><th>avg ms</th><th>p50 ms</th>"
	      "<th>p90 ms</th><th>p99 ms</th><th>requests</th><th>errors</th>"
	      "<th>monthly USD</th><th>USD per million calls</th></tr>\n", out);
	for (size_t i = 0; i < r->n; i++) {
		const struct dc_report_row *row = &r->rows[i];
		const struct dc_latency *l = row->lat;
		long errs = 0;
		for (int k = 0; l && k < DC_BENCH_ERR_KINDS; k++)
			errs += l->errors[k];
		fputs("<tr><td>", out);
		esc(out, row->name);
		fputs("</td><td>", out);
		esc(out, row->arch ? row->arch : "-");
		fputs("</td>", out);
		cell_num(out, benched(row), "%.2f", l ? l->avg_ms : 0);
		cell_num(out, benched(row), "%.2f", l ? l->p50_ms : 0);
		cell_num(out, benched(row), "%.2f", l ? l->p90_ms : 0);
		cell_num(out, benched(row), "%.2f", l ? l->p99_ms : 0);
		cell_num(out, l != NULL, "%.0f", l ? (double)l->requests : 0);
		cell_num(out, l != NULL, "%.0f", (double)errs);
		cell_num(out, row->cost != NULL, "%.2f", row->cost ? row->cost->monthly : 0);
		cell_num(out, row->cost != NULL, "%.4f", row->cost ? row->cost->per_million : 0);
		fputs("</tr>\n", out);
	}
	fputs("</table>\n", out);
}

void dc_report_html(FILE *out, const struct dc_report *r)
{
	fputs("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>\n"
	      "<title>deployctl: latency and cost</title>\n<style>\n"
	      "body{font-family:sans-serif;margin:24px;color:#222}\n"
	      "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;"
	      "text-align:right}td:first-child,td:nth-child(2){text-align:left}\n"
	      "svg text{font-size:12px;fill:#222}.grid{stroke:#e4e4e4}"
	      ".frame{fill:none;stroke:#444}\n</style></head><body>\n"
	      "<h1>Latency and cost</h1>\n", out);
	if (r->prices) {
		fputs("<p>Prices: ", out);
		esc(out, json_string_value(json_object_get(r->prices, "region")));
		fputs(", ", out);
		esc(out, json_string_value(json_object_get(r->prices, "description")));
		const char *f = json_string_value(json_object_get(r->prices, "fetched_at"));
		if (f) {
			fputs("; fetched live at ", out);
			esc(out, f);
		}
		fputs(".</p>\n", out);
	}
	table(out, r);
	chart_latency(out, r);
	chart_cost_latency(out, r);
	chart_cost_calls(out, r);
	fputs("<p>Made by deployctl " DC_VERSION ".</p>\n</body></html>\n", out);
}
