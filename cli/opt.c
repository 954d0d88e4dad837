#include "opt.h"

#include "util/error.h"
#include "util/xalloc.h"

void dc_strlist_push(struct dc_strlist *l, const char *s)
{
	dc_xgrow((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = s;
}

void dc_strlist_dispose(struct dc_strlist *l)
{
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

static const struct dc_opt *find_long(const struct dc_opt *t, const char *name, size_t len)
{
	for (; t && t->kind != DC_OPT_END; t++)
		if (strlen(t->long_name) == len && strncmp(t->long_name, name, len) == 0)
			return t;
	return NULL;
}

static const struct dc_opt *find_short(const struct dc_opt *t, char c)
{
	for (; t && t->kind != DC_OPT_END; t++)
		if (t->short_name && t->short_name == c)
			return t;
	return NULL;
}

static void store(const struct dc_opt *o, const char *value)
{
	if (o->kind == DC_OPT_FLAG)
		*(int *)o->dest = 1;
	else if (o->kind == DC_OPT_STRING)
		*(const char **)o->dest = value;
	else
		dc_strlist_push(o->dest, value);
}

/* Take the option's value from "=value", or from the next argument. */
static int take_value(const struct dc_opt *o, const char *inline_value, const char *shown,
		      int argc, char **argv, int *i)
{
	if (o->kind == DC_OPT_FLAG) {
		if (inline_value)
			return dc_error_set("option '%s' takes no value", shown);
		store(o, NULL);
		return 0;
	}
	if (inline_value) {
		store(o, inline_value);
		return 0;
	}
	if (*i + 1 >= argc)
		return dc_error_set("option '%s' needs a value (%s)", shown, o->arg_name);
	store(o, argv[++*i]);
	return 0;
}

static int parse_one(const struct dc_opt *cmd, const struct dc_opt *global, int argc,
		     char **argv, int *i)
{
	const char *arg = argv[*i];
	const struct dc_opt *o;
	const char *inline_value = NULL;

	if (arg[1] == '-') {
		const char *name = arg + 2;
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		inline_value = eq ? eq + 1 : NULL;
		o = find_long(cmd, name, len);
		if (!o)
			o = find_long(global, name, len);
	} else {
		if (arg[2])
			inline_value = arg + 2;
		o = find_short(cmd, arg[1]);
		if (!o)
			o = find_short(global, arg[1]);
	}
	if (!o)
		return dc_error_set("unknown option '%s'", arg);
	return take_value(o, inline_value, arg, argc, argv, i);
}

int dc_opt_parse(const struct dc_opt *cmd, const struct dc_opt *global, int argc, char **argv,
		 struct dc_strlist *args)
{
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		if (strcmp(arg, "--") == 0) {
			for (i++; i < argc; i++)
				dc_strlist_push(args, argv[i]);
			break;
		}
		if (arg[0] != '-' || arg[1] == '\0') {
			dc_strlist_push(args, arg);
			continue;
		}
		if (parse_one(cmd, global, argc, argv, &i) < 0)
			return -1;
	}
	return 0;
}

void dc_opt_print_help(FILE *out, const struct dc_opt *o)
{
	for (; o && o->kind != DC_OPT_END; o++) {
		char left[64];
		int n = 0;
		if (o->short_name)
			n = snprintf(left, sizeof(left), "-%c, --%s", o->short_name, o->long_name);
		else
			n = snprintf(left, sizeof(left), "    --%s", o->long_name);
		if (o->arg_name && n > 0 && (size_t)n < sizeof(left))
			snprintf(left + n, sizeof(left) - (size_t)n, " %s", o->arg_name);
		fprintf(out, "  %-28s %s\n", left, o->help);
	}
}
