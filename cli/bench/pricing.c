/* GetProducts, page by page, and the price picked out of its answers. */
#include <math.h>

#include "aws/protocol.h"
#include "bench/pricing.h"
#include "util/error.h"
#include "util/xalloc.h"

#define MAX_PAGES 50

static int is_first_tier(const json_t *dim)
{
	const char *begin = json_string_value(json_object_get(dim, "beginRange"));
	return !begin || strtod(begin, NULL) == 0;
}

/* A price as the API writes it ("0.0000166667"); -1 for anything else
 * ("", "abc", "-1", "nan", "inf"), which must not become a cost. */
static int parse_price(double *out, const char *s)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || !isfinite(v) || v < 0)
		return -1;
	*out = v;
	return 0;
}

/* The first-tier USD price of one product in `unit`; 0 when it has one. */
static int product_price(double *out, const json_t *product, const char *unit)
{
	const char *tk, *dk;
	json_t *term, *dim;
	json_object_foreach(json_object_get(json_object_get(product, "terms"), "OnDemand"), tk,
			    term) {
		json_object_foreach(json_object_get(term, "priceDimensions"), dk, dim) {
			const char *u = json_string_value(json_object_get(dim, "unit"));
			const char *usd = json_string_value(
				json_object_get(json_object_get(dim, "pricePerUnit"), "USD"));
			if (u && usd && strcmp(u, unit) == 0 && is_first_tier(dim) &&
			    parse_price(out, usd) == 0)
				return 0;
		}
	}
	return -1;
}

int dc_pricing_pick(double *out, int *found, const json_t *price_list, const char *unit)
{
	size_t i;
	json_t *item;
	json_array_foreach(price_list, i, item) {
		/* Each product arrives as a JSON document inside a string. */
		const char *text = json_string_value(item);
		json_t *product = text ? json_loads(text, 0, NULL) : json_incref(item);
		double p;
		if (product && product_price(&p, product, unit) == 0) {
			if (!*found || p < *out)
				*out = p;
			(*found)++;
		}
		json_decref(product);
	}
	return 0;
}

static json_t *filters(const json_t *q, const char *region)
{
	json_t *list = json_array();
	const char *field;
	json_t *v;
	json_object_foreach(json_object_get(q, "filters"), field, v) {
		const char *value = json_string_value(v);
		if (value && strcmp(value, "${region}") == 0)
			value = region;
		json_array_append_new(list, json_pack("{s:s,s:s,s:s}", "Type", "TERM_MATCH",
						      "Field", field, "Value", value ? value : ""));
	}
	return list;
}

/* Every page of one query, the price picked across all of them. */
static int query(double *out, int *found, struct dc_aws *aws, const json_t *q,
		 const char *region)
{
	json_t *in = json_pack("{s:s,s:o,s:s,s:i}", "ServiceCode",
			       json_string_value(json_object_get(q, "service")) ?: "", "Filters",
			       filters(q, region), "FormatVersion", "aws_v1", "MaxResults", 100);
	const char *unit = json_string_value(json_object_get(q, "unit")) ?: "";
	int rc = 0;
	*found = 0;
	for (int page = 0; rc == 0 && page < MAX_PAGES; page++) {
		json_t *res;
		if ((rc = dc_aws_json(aws, "pricing", "GetProducts", in, &res)) < 0)
			break;
		dc_pricing_pick(out, found, json_object_get(res, "PriceList"), unit);
		const char *next = json_string_value(json_object_get(res, "NextToken"));
		int more = next && *next;
		if (more)
			json_object_set_new(in, "NextToken", json_string(next));
		json_decref(res);
		if (!more)
			break;
	}
	json_decref(in);
	return rc;
}

static void iso_time(char *buf, size_t n, time_t t)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void update(json_t *entry, const json_t *q, double usd, int found, const char *when)
{
	double per = json_number_value(json_object_get(entry, "per"));
	json_object_set_new(entry, "price", json_real(usd * per));
	json_object_set_new(entry, "source",
			    json_sprintf("AWS Price List Query API, GetProducts %s (%d product%s)",
					 json_string_value(json_object_get(q, "service")), found,
					 found == 1 ? "" : "s"));
	json_object_set_new(entry, "as_of", json_string(when));
	json_object_del(entry, "unverified");
	json_object_set_new(entry, "live", json_string("fetched"));
}

int dc_pricing_fetch(json_t *set, struct dc_aws *aws, const json_t *queries, const char *region,
		     time_t now)
{
	char when[32];
	iso_time(when, sizeof(when), now);
	json_t *prices = json_object_get(set, "prices");
	const char *key;
	json_t *entry;
	json_object_foreach(prices, key, entry) {
		const json_t *q = json_object_get(queries, key);
		if (!q)
			continue;
		double usd = 0;
		int found;
		if (query(&usd, &found, aws, q, region) < 0) {
			dc_error_prefix("fetching the price '%s'", key);
			return -1;
		}
		if (found)
			update(entry, q, usd, found, when);
		else
			json_object_set_new(entry, "live", json_string("no product matched"));
	}
	json_object_set_new(set, "fetched_at", json_string(when));
	return 0;
}
