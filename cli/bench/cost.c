/* The arithmetic of the cost model; what is costed is in the data files
 * (see cost.h). */
#include <math.h>

#include "bench/cost.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"

static const char *const price_fields[] = { "price", "per", "unit", "source", "as_of", NULL };

int dc_cost_read_json(json_t **out, const char *path)
{
	json_error_t jerr;
	*out = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!*out)
		return dc_error_set("cannot read '%s': %s (line %d)", path, jerr.text, jerr.line);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return dc_error_set("'%s' is not a JSON object", path);
	}
	return 0;
}

int dc_cost_check_prices(const json_t *set, const char *label)
{
	const json_t *prices = json_object_get(set, "prices");
	if (!json_is_object(prices))
		return dc_error_set("price set '%s' has no \"prices\" object", label);
	if (json_number_value(json_object_get(set, "hours_per_month")) <= 0)
		return dc_error_set("price set '%s' has no \"hours_per_month\"", label);
	const char *key;
	const json_t *p;
	json_object_foreach((json_t *)prices, key, p) {
		for (const char *const *f = price_fields; *f; f++)
			if (!json_object_get(p, *f))
				return dc_error_set("price '%s' of set '%s' has no \"%s\"", key, label,
						    *f);
		if (!json_is_number(json_object_get(p, "price")) ||
		    json_number_value(json_object_get(p, "per")) <= 0)
			return dc_error_set("price '%s' of set '%s' needs a number price and a "
					    "positive per", key, label);
	}
	return 0;
}

int dc_cost_load_prices(json_t **out, const char *templates_root, const char *name)
{
	size_t n = strlen(name);
	char *path = strchr(name, '/') || (n > 5 && strcmp(name + n - 5, ".json") == 0)
			     ? dc_xstrdup(name)
			     : dc_xasprintf("%s/prices/%s.json", templates_root, name);
	int rc = dc_cost_read_json(out, path);
	if (rc == 0 && (rc = dc_cost_check_prices(*out, path)) < 0) {
		json_decref(*out);
		*out = NULL;
	}
	free(path);
	return rc;
}

int dc_cost_load_profiles(json_t **out, const char *templates_root)
{
	char *path = dc_xasprintf("%s/prices/architectures.json", templates_root);
	json_t *doc;
	int rc = dc_cost_read_json(&doc, path);
	if (rc == 0) {
		*out = json_incref(json_object_get(doc, "architectures"));
		json_decref(doc);
		if (!json_is_object(*out)) {
			json_decref(*out);
			rc = dc_error_set("'%s' has no \"architectures\" object", path);
		}
	}
	free(path);
	return rc;
}

/* Copy the members of `from` whose names `params` already has. */
static void overlay(json_t *params, const json_t *from)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)from, key, v) {
		if (!json_object_get(params, key))
			continue;
		/* A template param may be { "default": ... }. */
		if (json_is_object(v) && json_object_get(v, "default"))
			v = json_object_get(v, "default");
		if (json_is_string(v) || json_is_number(v))
			json_object_set(params, key, v);
	}
}

static void overlay_template(json_t *params, const char *root, const char *arch)
{
	if (!root)
		return;
	char *path = dc_xasprintf("%s/%s/stack.json", root, arch);
	json_t *doc = json_load_file(path, 0, NULL);
	if (doc)
		overlay(params, json_object_get(doc, "params"));
	json_decref(doc);
	free(path);
}

static json_t *gather_params(const struct dc_cost_inputs *in, const json_t *profile,
			     const char *arch, const json_t *extra)
{
	json_t *params = json_deep_copy(json_object_get(profile, "params"));
	if (!params)
		params = json_object();
	overlay_template(params, in->templates_root, arch);
	overlay(params, json_object_get(json_object_get(in->prices, "assumptions"), arch));
	overlay(params, in->params);
	overlay(params, extra);
	return params;
}

static void put_param(struct dc_buf *b, const json_t *v)
{
	if (json_is_string(v))
		dc_buf_puts(b, json_string_value(v));
	else
		dc_buf_printf(b, "%.10g", json_number_value(v));
}

/* Replace ${name} with the param's value. */
static int expand(char **out, const char *s, const json_t *params)
{
	struct dc_buf b = DC_BUF_INIT(DC_MAX_SMALL);
	const char *p = s, *open;
	while ((open = strstr(p, "${"))) {
		const char *close = strchr(open, '}');
		if (!close)
			break;
		dc_buf_put(&b, p, (size_t)(open - p));
		char *name = dc_xstrndup(open + 2, (size_t)(close - open - 2));
		const json_t *v = json_object_get(params, name);
		if (!v) {
			dc_error_set("'%s' names param '%s', which the architecture does not have", s,
				     name);
			free(name);
			dc_buf_dispose(&b);
			return -1;
		}
		free(name);
		put_param(&b, v);
		p = close + 1;
	}
	dc_buf_puts(&b, p);
	*out = dc_buf_take(&b);
	return 0;
}

/* A "when" object matches when every param it names has that value. */
static int applies(const json_t *comp, const json_t *params)
{
	const json_t *when = json_object_get(comp, "when");
	const char *key;
	json_t *want;
	json_object_foreach((json_t *)when, key, want) {
		const json_t *have = json_object_get(params, key);
		if (!have || !json_equal((json_t *)have, want))
			return 0;
	}
	return 1;
}

struct eval {
	const char *arch;
	const json_t *params;
	const json_t *prices; /* the set's "prices" */
	double hours;
};

static double cents(double x)
{
	return floor(x * 100.0 + 0.5 + 1e-9) / 100.0;
}

static int factor(double *q, const json_t *f, const struct eval *x, const char *comp)
{
	const char *s = json_string_value(f);
	if (json_is_number(f)) {
		*q *= json_number_value(f);
		return 0;
	}
	if (s && strcmp(s, "$hours") == 0) {
		*q *= x->hours;
		return 0;
	}
	const json_t *v = s && s[0] == '$' ? json_object_get(x->params, s + 1) : NULL;
	if (!json_is_number(v))
		return dc_error_set("%s's '%s': quantity '%s' is not a number or a numeric param",
				    x->arch, comp, s ? s : "?");
	*q *= json_number_value(v);
	return 0;
}

static int quantity(double *out, const json_t *comp, const struct eval *x, const char *name)
{
	size_t i;
	json_t *f;
	*out = 1;
	json_array_foreach(json_object_get(comp, "qty"), i, f)
		if (factor(out, f, x, name) < 0)
			return -1;
	return 0;
}

static double unit_price(const json_t *p)
{
	return json_number_value(json_object_get(p, "price")) /
	       json_number_value(json_object_get(p, "per"));
}

static char *describe(double q, const json_t *p, const json_t *disc)
{
	double per = json_number_value(json_object_get(p, "per"));
	char per_s[32] = "";
	if (per != 1)
		snprintf(per_s, sizeof(per_s), "%.10g ", per);
	char disc_s[64] = "";
	if (disc)
		snprintf(disc_s, sizeof(disc_s), " x (1 - %.10g)",
			 json_number_value(json_object_get(disc, "price")));
	return dc_xasprintf("%.10g x %.10g per %s%s%s", q,
			    json_number_value(json_object_get(p, "price")), per_s,
			    json_string_value(json_object_get(p, "unit")), disc_s);
}

static int price_of(const json_t **out, const struct eval *x, const char *key, const char *comp)
{
	*out = json_object_get(x->prices, key);
	if (!*out)
		return dc_error_set("the price set has no price '%s' (for %s's '%s')", key, x->arch,
				    comp);
	return 0;
}

/* Cost one component into *out; 1 when it applies, 0 when skipped. */
static int cost_line(struct dc_cost_line *out, const json_t *comp, const struct eval *x,
		     int per_call)
{
	char *name = NULL, *key = NULL;
	const json_t *p, *disc = NULL;
	const char *disc_key = json_string_value(json_object_get(comp, "discount"));
	double q;
	int rc = -1;
	if (expand(&name, json_string_value(json_object_get(comp, "name")), x->params) < 0 ||
	    expand(&key, json_string_value(json_object_get(comp, "price")), x->params) < 0 ||
	    price_of(&p, x, key, name) < 0 || (disc_key && price_of(&disc, x, disc_key, name) < 0) ||
	    quantity(&q, comp, x, name) < 0)
		goto done;
	rc = 0;
	if (q == 0)
		goto done;
	double amount = unit_price(p) * q * (disc ? 1 - unit_price(disc) : 1);
	*out = (struct dc_cost_line){
		.name = name, .price_key = key,
		.amount = per_call ? amount * 1e6 : cents(amount),
		.detail = describe(q, p, disc),
		.unverified = json_is_true(json_object_get(p, "unverified")) ||
			      (disc && json_is_true(json_object_get(disc, "unverified"))),
	};
	name = key = NULL;
	rc = 1;
done:
	free(name);
	free(key);
	return rc;
}

static int cost_lines(struct dc_cost_line **out, size_t *n, double *sum, const json_t *comps,
		      const struct eval *x, int per_call)
{
	size_t i, cap = 0;
	json_t *comp;
	if (comps && !json_is_array(comps))
		return dc_error_set("%s's components are not a list", x->arch);
	json_array_foreach(comps, i, comp) {
		if (!applies(comp, x->params))
			continue;
		dc_xgrow((void **)out, &cap, *n + 1, sizeof(**out));
		int rc = cost_line(&(*out)[*n], comp, x, per_call);
		if (rc < 0)
			return -1;
		if (rc == 1)
			*sum += (*out)[(*n)++].amount;
	}
	return 0;
}

int dc_cost_compute(struct dc_cost *out, const struct dc_cost_inputs *in, const char *arch,
		    const json_t *extra)
{
	memset(out, 0, sizeof(*out));
	const json_t *profile = json_object_get(in->profiles, arch);
	if (!profile)
		return dc_error_set("no cost profile for architecture '%s'", arch);
	out->arch = dc_xstrdup(arch);
	out->serverless = strcmp(json_string_value(json_object_get(profile, "kind")) ?: "",
				 "serverless") == 0;
	out->params = gather_params(in, profile, arch, extra);
	struct eval x = { arch, out->params, json_object_get(in->prices, "prices"),
			  json_number_value(json_object_get(in->prices, "hours_per_month")) };
	if (cost_lines(&out->fixed, &out->nfixed, &out->monthly, json_object_get(profile, "fixed"),
		       &x, 0) < 0 ||
	    cost_lines(&out->calls, &out->ncalls, &out->per_million,
		       json_object_get(profile, "per_call"), &x, 1) < 0) {
		dc_cost_dispose(out);
		return -1;
	}
	/* The sum of cent-rounded lines, kept free of float dust. */
	out->monthly = cents(out->monthly);
	return 0;
}

static void free_lines(struct dc_cost_line *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(l[i].name);
		free(l[i].price_key);
		free(l[i].detail);
	}
	free(l);
}

void dc_cost_dispose(struct dc_cost *c)
{
	free(c->arch);
	free_lines(c->fixed, c->nfixed);
	free_lines(c->calls, c->ncalls);
	json_decref(c->params);
	memset(c, 0, sizeof(*c));
}

double dc_cost_total(const struct dc_cost *c, double calls)
{
	return c->monthly + c->per_million * calls / 1e6;
}

double dc_cost_break_even(const struct dc_cost *serverful, const struct dc_cost *serverless)
{
	double dp = serverless->per_million - serverful->per_million;
	if (dp <= 0)
		return -1;
	double n = (serverful->monthly - serverless->monthly) / dp * 1e6;
	return n > 0 ? n : 0;
}

json_t *dc_cost_param_value(const char *text)
{
	char *end;
	double v = strtod(text, &end);
	if (*text && !*end && isfinite(v))
		return json_real(v);
	return json_string(text);
}
