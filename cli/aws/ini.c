/* The AWS flavour of INI, as botocore reads it: Python's RawConfigParser
 * (strict, "=" or ":" delimiters, "#" and ";" full-line comments, no inline
 * comments, option names lowercased, section names kept as written, values
 * continued on deeper-indented lines, a [DEFAULT] section that every other
 * section inherits) plus botocore's own rule that a key with an empty value
 * followed by indented "k = v" lines holds sub-keys. Sticking to that
 * parser means a file the AWS CLI accepts means the same thing here. */
#include "aws/config.h"

#include <ctype.h>
#include <stdarg.h>
#include <strings.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"

struct ini_pair {
	char *key;
	char *value;
};

struct ini_entry {
	char *key;   /* lowercased, as configparser's optionxform does */
	char *value; /* "" for a key that holds sub-keys */
	int nested;  /* first-line value was empty: continuation lines are sub-keys */
	struct ini_pair *subs;
	size_t nsubs, subcap;
};

struct ini_section {
	char *name;
	struct ini_entry *entries;
	size_t n, cap;
};

struct dc_ini {
	struct ini_section *sections;
	size_t n, cap;
};

struct parser {
	struct dc_ini *ini;
	const char *name;
	int lineno;
	long sect;          /* index of the current section, -1 before the first */
	long entry;         /* index of the current entry in it, -1 after a header */
	size_t indent;      /* indentation of the last header or key line */
	int pending_blank;  /* blank lines inside a value, kept only if more follows */
};

__attribute__((format(printf, 2, 3)))
static int syntax_error(const struct parser *p, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return dc_error_set("'%s' line %d: %s", p->name, p->lineno, what);
}

static void trim(const char **s, const char **e)
{
	while (*s < *e && isspace((unsigned char)**s))
		(*s)++;
	while (*e > *s && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

static struct ini_section *find_section(const struct dc_ini *ini, const char *name)
{
	for (size_t i = 0; i < ini->n; i++)
		if (!strcmp(ini->sections[i].name, name))
			return &ini->sections[i];
	return NULL;
}

static struct ini_entry *find_entry(const struct ini_section *s, const char *key)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcasecmp(s->entries[i].key, key))
			return &s->entries[i];
	return NULL;
}

static int parse_header(struct parser *p, const char *s, const char *e)
{
	/* configparser's "\[(.+)\]" is greedy and not anchored at the end:
	 * the name runs to the last ']' and anything after it is ignored. */
	const char *close = NULL;
	for (const char *q = s + 1; q < e; q++)
		if (*q == ']')
			close = q;
	if (!close)
		return syntax_error(p, "section header is missing its ']'");
	if (close == s + 1)
		return syntax_error(p, "section header has no name");
	char *name = dc_xstrndup(s + 1, (size_t)(close - s - 1));
	if (find_section(p->ini, name)) {
		int rc = syntax_error(p, "section '%s' appears twice", name);
		free(name);
		return rc;
	}
	struct dc_ini *ini = p->ini;
	dc_xgrow((void **)&ini->sections, &ini->cap, ini->n + 1, sizeof(*ini->sections));
	ini->sections[ini->n] = (struct ini_section){ .name = name };
	p->sect = (long)ini->n++;
	p->entry = -1;
	return 0;
}

static int parse_option(struct parser *p, const char *s, const char *e)
{
	const char *delim = s;
	while (delim < e && *delim != '=' && *delim != ':')
		delim++;
	const char *ke = delim;
	trim(&s, &ke);
	if (delim == e || ke == s)
		return syntax_error(p, "expected 'key = value'");
	char *key = dc_xstrndup(s, (size_t)(ke - s));
	for (char *c = key; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	struct ini_section *sec = &p->ini->sections[p->sect];
	if (find_entry(sec, key)) {
		int rc = syntax_error(p, "key '%s' appears twice in section '%s'", key, sec->name);
		free(key);
		return rc;
	}
	const char *vs = delim + 1;
	trim(&vs, &e);
	dc_xgrow((void **)&sec->entries, &sec->cap, sec->n + 1, sizeof(*sec->entries));
	sec->entries[sec->n] = (struct ini_entry){
		.key = key, .value = dc_xstrndup(vs, (size_t)(e - vs)), .nested = vs == e
	};
	p->entry = (long)sec->n++;
	p->pending_blank = 0;
	return 0;
}

static int add_sub(struct parser *p, struct ini_entry *ent, const char *s, const char *e)
{
	const char *eq = memchr(s, '=', (size_t)(e - s));
	if (!eq)
		return syntax_error(p, "expected 'key = value' in an indented block");
	const char *ke = eq, *vs = eq + 1;
	trim(&s, &ke);
	trim(&vs, &e);
	char *key = dc_xstrndup(s, (size_t)(ke - s));
	char *value = dc_xstrndup(vs, (size_t)(e - vs));
	/* botocore builds a dict from these lines, so a repeated key wins. */
	for (size_t i = 0; i < ent->nsubs; i++) {
		if (!strcmp(ent->subs[i].key, key)) {
			free(key);
			free(ent->subs[i].value);
			ent->subs[i].value = value;
			return 0;
		}
	}
	dc_xgrow((void **)&ent->subs, &ent->subcap, ent->nsubs + 1, sizeof(*ent->subs));
	ent->subs[ent->nsubs++] = (struct ini_pair){ key, value };
	return 0;
}

static int continue_value(struct parser *p, const char *s, const char *e)
{
	struct ini_entry *ent = &p->ini->sections[p->sect].entries[p->entry];
	if (ent->nested)
		return add_sub(p, ent, s, e);
	/* A multi-line value keeps its inner blank lines, as configparser does. */
	size_t old = strlen(ent->value), add = (size_t)p->pending_blank + 1 + (size_t)(e - s);
	ent->value = dc_xrealloc(ent->value, old + add + 1);
	memset(ent->value + old, '\n', (size_t)p->pending_blank + 1);
	memcpy(ent->value + old + p->pending_blank + 1, s, (size_t)(e - s));
	ent->value[old + add] = '\0';
	p->pending_blank = 0;
	return 0;
}

static int parse_line(struct parser *p, const char *line, const char *end)
{
	const char *s = line, *e = end;
	trim(&s, &e);
	if (s < e && (*s == '#' || *s == ';'))
		return 0;
	if (s == e) {
		if (p->entry >= 0)
			p->pending_blank++;
		return 0;
	}
	size_t indent = (size_t)(s - line);
	if (p->sect >= 0 && p->entry >= 0 && indent > p->indent)
		return continue_value(p, s, e);
	p->indent = indent;
	if (*s == '[')
		return parse_header(p, s, e);
	if (p->sect < 0)
		return syntax_error(p, "expected a section header such as '[default]' first");
	return parse_option(p, s, e);
}

int dc_ini_parse(struct dc_ini **out, const char *text, const char *name)
{
	struct parser p = { .ini = dc_xcalloc(1, sizeof(struct dc_ini)), .name = name,
			    .sect = -1, .entry = -1 };
	const char *line = text;
	*out = NULL;
	while (*line) {
		/* Python reads text files with universal newlines: \n, \r\n or \r. */
		const char *end = line + strcspn(line, "\r\n");
		p.lineno++;
		if (parse_line(&p, line, end) < 0) {
			dc_ini_free(p.ini);
			return -1;
		}
		line = end;
		if (*line == '\r')
			line++;
		if (*line == '\n')
			line++;
	}
	*out = p.ini;
	return 0;
}

void dc_ini_free(struct dc_ini *ini)
{
	if (!ini)
		return;
	for (size_t i = 0; i < ini->n; i++) {
		struct ini_section *s = &ini->sections[i];
		for (size_t j = 0; j < s->n; j++) {
			struct ini_entry *ent = &s->entries[j];
			for (size_t k = 0; k < ent->nsubs; k++) {
				free(ent->subs[k].key);
				free(ent->subs[k].value);
			}
			free(ent->subs);
			free(ent->key);
			free(ent->value);
		}
		free(s->entries);
		free(s->name);
	}
	free(ini->sections);
	free(ini);
}

static const char *section_get(const struct ini_section *s, const char *sub, const char *key)
{
	const struct ini_entry *ent = find_entry(s, sub ? sub : key);
	if (!ent)
		return NULL;
	if (!sub)
		return ent->value;
	for (size_t i = 0; i < ent->nsubs; i++)
		if (!strcmp(ent->subs[i].key, key))
			return ent->subs[i].value;
	return NULL;
}

const char *dc_ini_get(const struct dc_ini *ini, const char *section, const char *sub,
		       const char *key)
{
	if (!ini || !dc_ini_has_section(ini, section))
		return NULL;
	const char *v = section_get(find_section(ini, section), sub, key);
	if (v)
		return v;
	/* configparser gives every section the keys of [DEFAULT]. */
	const struct ini_section *defaults = find_section(ini, "DEFAULT");
	return defaults ? section_get(defaults, sub, key) : NULL;
}

int dc_ini_has_section(const struct dc_ini *ini, const char *section)
{
	return ini && strcmp(section, "DEFAULT") != 0 && find_section(ini, section) != NULL;
}

size_t dc_ini_section_count(const struct dc_ini *ini)
{
	return ini ? ini->n : 0;
}

const char *dc_ini_section_name(const struct dc_ini *ini, size_t i)
{
	return ini && i < ini->n ? ini->sections[i].name : NULL;
}

/* Python's shlex.split in POSIX mode: whitespace separates words, '...'
 * is literal, "..." lets a backslash escape only '"' and '\', and outside
 * quotes a backslash escapes any character. */
static int split_word(struct dc_buf *w, const char **sp)
{
	const char *s = *sp;
	char quote = 0;
	for (; *s && (quote || !isspace((unsigned char)*s)); s++) {
		if (quote == '\'' && *s != '\'') {
			dc_buf_putc(w, *s);
		} else if (*s == quote) {
			quote = 0;
		} else if (!quote && (*s == '\'' || *s == '"')) {
			quote = *s;
		} else if (*s == '\\' && (!quote || s[1] == '"' || s[1] == '\\')) {
			if (!*++s)
				return -1;
			dc_buf_putc(w, *s);
		} else {
			dc_buf_putc(w, *s);
		}
	}
	*sp = s;
	return quote ? -1 : 0;
}

int dc_ini_split_words(char ***out, const char *s)
{
	char **words = NULL;
	size_t n = 0, cap = 0;
	*out = NULL;
	for (;;) {
		while (isspace((unsigned char)*s))
			s++;
		dc_xgrow((void **)&words, &cap, n + 1, sizeof(*words));
		words[n] = NULL;
		if (!*s)
			break;
		struct dc_buf w = DC_BUF_INIT(DC_MAX_FILE);
		if (split_word(&w, &s) < 0) {
			dc_buf_dispose(&w);
			dc_ini_words_free(words);
			return -1;
		}
		words[n++] = dc_buf_take(&w);
	}
	*out = words;
	return (int)n;
}

void dc_ini_words_free(char **words)
{
	if (!words)
		return;
	for (char **w = words; *w; w++)
		free(*w);
	free(words);
}
