#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "resources/resource.h"
#include "stack/refs.h"
#include "stack/template.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"

#ifndef DC_DATADIR
#define DC_DATADIR "/usr/local/share/deployctl"
#endif

static const char *const builtins[] = { "stack", "region", "account", NULL };

static int is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *dc_template_root(void)
{
	static char found[PATH_MAX];
	const char *env = getenv("DEPLOYCTL_TEMPLATES");
	if (env && *env)
		return env;
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		/* ./deployctl in the tree, or build/<kind>/deployctl. */
		static const char *const rel[] = { "/templates", "/../../templates", NULL };
		for (const char *const *r = rel; *r; r++) {
			snprintf(found, sizeof(found), "%s%s", exe, *r);
			if (is_dir(found))
				return found;
		}
	}
	return DC_DATADIR "/templates";
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int dc_template_list(struct dc_strlist *out, const char *root)
{
	DIR *d = opendir(root);
	if (!d)
		return dc_error_set("cannot read the templates in '%s'", root);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char *path = dc_xasprintf("%s/%s/stack.json", root, e->d_name);
		if (access(path, R_OK) == 0)
			dc_strlist_push(out, dc_xstrdup(e->d_name));
		free(path);
	}
	closedir(d);
	qsort(out->v, out->n, sizeof(*out->v), cmp_str);
	return 0;
}

const struct dc_template_resource *dc_template_find(const struct dc_template *t, const char *id)
{
	for (size_t i = 0; i < t->nres; i++)
		if (strcmp(t->res[i].id, id) == 0)
			return &t->res[i];
	return NULL;
}

void dc_template_free(struct dc_template *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nres; i++)
		free(t->res[i].deps);
	free(t->res);
	json_decref(t->params);
	json_decref(t->doc);
	free(t->arch);
	free(t->dir);
	free(t);
}

static int read_doc(struct dc_template *t, const char *path)
{
	struct dc_buf b = DC_BUF_INIT(DC_MAX_FILE);
	json_error_t err;
	if (dc_buf_read_file(&b, path) < 0) {
		dc_buf_dispose(&b);
		return -1;
	}
	t->doc = json_loadb(dc_buf_cstr(&b), b.len, 0, &err);
	dc_buf_dispose(&b);
	if (!t->doc)
		return dc_error_set("template '%s' line %d: %s", path, err.line, err.text);
	if (!json_is_object(t->doc))
		return dc_error_set("template '%s' is not a JSON object", path);
	return 0;
}

/* "k=v": v is JSON when it parses as JSON (numbers, true), else a string. */
static int apply_override(struct dc_template *t, const char *kv)
{
	const char *eq = strchr(kv, '=');
	if (!eq || eq == kv)
		return dc_error_set("--param '%s' is not of the form NAME=VALUE", kv);
	char *name = dc_xstrndup(kv, (size_t)(eq - kv));
	json_t *def = json_object_get(t->params, name);
	json_t *val = json_loads(eq + 1, JSON_DECODE_ANY, NULL);
	int rc = 0;
	if (!def)
		rc = dc_error_set("'%s' has no param '%s'", t->arch, name);
	else if (json_is_number(def) && !json_is_number(val))
		rc = dc_error_set("param '%s' must be a number, not '%s'", name, eq + 1);
	else if (json_is_string(def) || !val)
		json_object_set_new(t->params, name, json_string(eq + 1));
	else
		json_object_set(t->params, name, val);
	json_decref(val);
	free(name);
	return rc;
}

static int read_resources(struct dc_template *t, const char *path)
{
	json_t *res = json_object_get(t->doc, "resources");
	if (!json_is_object(res) || json_object_size(res) == 0)
		return dc_error_set("template '%s' has no \"resources\" object", path);
	t->res = dc_xcalloc(json_object_size(res), sizeof(*t->res));
	const char *id;
	json_t *r;
	json_object_foreach(res, id, r) {
		struct dc_template_resource *tr = &t->res[t->nres++];
		tr->id = id;
		tr->type = json_string_value(json_object_get(r, "type"));
		tr->props = json_object_get(r, "props");
		if (!tr->type)
			return dc_error_set("template '%s': resource '%s' has no \"type\"", path, id);
		if (!dc_resource_type_find(tr->type))
			return dc_error_set("template '%s': resource '%s' has unknown type '%s'",
					    path, id, tr->type);
		if (tr->props && !json_is_object(tr->props))
			return dc_error_set("template '%s': '%s.props' is not an object", path, id);
	}
	return 0;
}

struct check_ctx {
	struct dc_template *t;
	struct dc_template_resource *self; /* NULL while checking outputs */
	const char *path;
};

static int index_of(const struct dc_template *t, const char *id)
{
	for (size_t i = 0; i < t->nres; i++)
		if (strcmp(t->res[i].id, id) == 0)
			return (int)i;
	return -1;
}

static void add_dep(struct dc_template_resource *r, size_t dep)
{
	for (size_t i = 0; i < r->ndeps; i++)
		if (r->deps[i] == dep)
			return;
	r->deps = dc_xrealloc(r->deps, (r->ndeps + 1) * sizeof(*r->deps));
	r->deps[r->ndeps++] = dep;
}

static int check_ref(void *arg, const char *id, const char *name, const char *where)
{
	struct check_ctx *c = arg;
	if (!id) {
		for (const char *const *b = builtins; *b; b++)
			if (strcmp(*b, name) == 0)
				return 0;
		if (json_object_get(c->t->params, name))
			return 0;
		return dc_error_set("%s names unknown param '%s'", where, name);
	}
	int i = index_of(c->t, id);
	if (i < 0)
		return dc_error_set("%s references unknown resource '%s'", where, id);
	if (c->self && &c->t->res[i] == c->self)
		return dc_error_set("%s references its own resource", where);
	if (c->self)
		add_dep(c->self, (size_t)i);
	return 0;
}

/* Every message, of a reference's syntax or of what it names, says which
 * template it is about. */
static int check_refs(struct dc_template *t, const char *path)
{
	struct check_ctx c = { t, NULL, path };
	int rc = 0;
	for (size_t i = 0; i < t->nres && rc == 0; i++) {
		c.self = &t->res[i];
		char *where = dc_xasprintf("%s.props", t->res[i].id);
		rc = t->res[i].props ? dc_refs_visit(t->res[i].props, where, check_ref, &c) : 0;
		free(where);
	}
	c.self = NULL;
	if (rc == 0 && t->outputs)
		rc = dc_refs_visit(t->outputs, "outputs", check_ref, &c);
	if (rc < 0)
		dc_error_prefix("template '%s'", path);
	return rc;
}

/* Order resources so that each comes after what it references (Kahn's
 * algorithm); what is left unplaced is a cycle. deps are remapped. */
static int order(struct dc_template *t, const char *path)
{
	size_t n = t->nres, placed = 0;
	size_t *pos = dc_xmalloc(n * sizeof(*pos));
	int *done = dc_xcalloc(n, sizeof(*done));
	struct dc_template_resource *sorted = dc_xcalloc(n, sizeof(*sorted));
	for (int progress = 1; progress && placed < n;) {
		progress = 0;
		for (size_t i = 0; i < n; i++) {
			size_t d = 0;
			while (!done[i] && d < t->res[i].ndeps && done[t->res[i].deps[d]])
				d++;
			if (done[i] || d < t->res[i].ndeps)
				continue;
			pos[i] = placed;
			sorted[placed++] = t->res[i];
			done[i] = progress = 1;
		}
	}
	int rc = 0;
	if (placed < n) {
		struct dc_buf names = DC_BUF_INIT(DC_MAX_SMALL);
		for (size_t i = 0; i < n; i++)
			if (!done[i])
				dc_buf_printf(&names, "%s'%s'", names.len ? ", " : "", t->res[i].id);
		rc = dc_error_set("template '%s': resources %s reference each other in a cycle",
				  path, dc_buf_cstr(&names));
		dc_buf_dispose(&names);
		free(sorted);
	} else {
		for (size_t i = 0; i < n; i++)
			for (size_t d = 0; d < sorted[i].ndeps; d++)
				sorted[i].deps[d] = pos[sorted[i].deps[d]];
		free(t->res);
		t->res = sorted;
	}
	free(pos);
	free(done);
	return rc;
}

static int load(struct dc_template *t, const char *path, const struct dc_strlist *overrides)
{
	if (read_doc(t, path) < 0)
		return -1;
	const char *arch = json_string_value(json_object_get(t->doc, "arch"));
	if (!arch || strcmp(arch, t->arch) != 0)
		return dc_error_set("template '%s': \"arch\" must be \"%s\"", path, t->arch);
	json_t *params = json_object_get(t->doc, "params");
	t->params = params ? json_deep_copy(params) : json_object();
	if (!json_is_object(t->params))
		return dc_error_set("template '%s': \"params\" is not an object", path);
	for (size_t i = 0; overrides && i < overrides->n; i++)
		if (apply_override(t, overrides->v[i]) < 0)
			return -1;
	t->summary = json_string_value(json_object_get(t->doc, "summary"));
	t->outputs = json_object_get(t->doc, "outputs");
	if (read_resources(t, path) < 0 || check_refs(t, path) < 0)
		return -1;
	return order(t, path);
}

int dc_template_load(struct dc_template **out, const char *root, const char *arch,
		     const struct dc_strlist *overrides)
{
	*out = NULL;
	for (const char *p = arch; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return dc_error_set("'%s' is not an architecture name", arch);
	struct dc_template *t = dc_xcalloc(1, sizeof(*t));
	t->arch = dc_xstrdup(arch);
	t->dir = dc_xasprintf("%s/%s", root, arch);
	char *path = dc_xasprintf("%s/stack.json", t->dir);
	int rc;
	if (access(path, R_OK) != 0)
		rc = dc_error_set("no architecture '%s' (no '%s'); see 'deployctl list'", arch, path);
	else
		rc = load(t, path, overrides);
	free(path);
	if (rc < 0)
		dc_template_free(t);
	else
		*out = t;
	return rc;
}
