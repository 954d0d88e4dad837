/* Reading the state directory: a stack's document (with the way back from
 * a corrupt one), the list of stacks, and the history. */
#include "stack/state_internal.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"

/* Parse a stack document: DC_DOC_OK with *out set, or DC_DOC_CORRUPT /
 * DC_DOC_NEWER with the reason in why. */
static int parse_doc(json_t **out, const char *text, size_t n, const char *stack, char *why,
		     size_t wn)
{
	json_error_t je;
	*out = NULL;
	json_t *doc = json_loadb(text, n, JSON_REJECT_DUPLICATES, &je);
	if (!doc) {
		snprintf(why, wn, "line %d: %s", je.line, je.text);
		return DC_DOC_CORRUPT;
	}
	int k = dc_state_doc_check(doc, stack, why, wn);
	if (k == DC_DOC_OK)
		*out = doc;
	else
		json_decref(doc);
	return k;
}

static int blob_parses(git_repository *repo, const git_oid *id, const char *stack)
{
	git_blob *blob = NULL;
	if (git_blob_lookup(&blob, repo, id) < 0)
		return 0;
	json_t *doc;
	char why[256];
	int ok = parse_doc(&doc, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob), stack,
			   why, sizeof(why)) == DC_DOC_OK;
	json_decref(doc);
	git_blob_free(blob);
	return ok;
}

/* The id of path's blob in commit c: 1, or 0 when c has no such file. */
static int path_blob(git_oid *out, const git_commit *c, const char *rel)
{
	git_tree *tree = NULL;
	git_tree_entry *entry = NULL;
	int found = git_commit_tree(&tree, c) == 0 && git_tree_entry_bypath(&entry, tree, rel) == 0;
	if (found)
		git_oid_cpy(out, git_tree_entry_id(entry));
	git_tree_entry_free(entry);
	git_tree_free(tree);
	return found;
}

/* The newest version of rel that parses, named by the commit that wrote it
 * (whose message says what happened), not by a later commit of another
 * stack that merely carries it along: 1 with *out set, or 0. */
static int last_good(git_commit **out, git_repository *repo, const char *rel, const char *stack)
{
	git_revwalk *walk = NULL;
	git_oid id, blob, tried;
	int have_tried = 0, found = 0;
	*out = NULL;
	if (git_revwalk_new(&walk, repo) < 0 || git_revwalk_push_head(walk) < 0)
		goto done;
	git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME);
	while (git_revwalk_next(&id, walk) == 0) {
		git_commit *c = NULL;
		if (git_commit_lookup(&c, repo, &id) < 0)
			break;
		int here = path_blob(&blob, c, rel);
		int same = here && have_tried && git_oid_equal(&blob, &tried);
		if (found && !same) {
			git_commit_free(c);
			break;
		}
		/* The same content is as bad, or as good, in an older commit. */
		if (here && !same) {
			found = blob_parses(repo, &blob, stack);
			git_oid_cpy(&tried, &blob);
			have_tried = 1;
		}
		if (found) {
			git_commit_free(*out);
			*out = c;
		} else {
			git_commit_free(c);
		}
	}
done:
	git_revwalk_free(walk);
	return found;
}

static int corrupt_error(struct dc_state *st, const char *rel, const char *path, const char *stack,
			 const char *why)
{
	git_commit *good = NULL;
	if (!last_good(&good, st->repo, rel, stack))
		return dc_error_set(
		    "state file '%s' is corrupt (%s), and no committed version of it "
		    "is readable; see 'git -C %s log -- %s'",
		    path, why, st->dir, rel);
	char id[8];
	git_oid_tostr(id, sizeof(id), git_commit_id(good));
	int rc = dc_error_set("state file '%s' is corrupt (%s); the last good version is commit "
			      "%s ('%s'): restore it with 'git -C %s checkout %s -- %s'",
			      path, why, id, git_commit_summary(good), st->dir, id, rel);
	git_commit_free(good);
	return rc;
}

static int load_file(json_t **out, struct dc_state *st, const char *stack, const char *rel,
		     const char *path)
{
	struct dc_buf text = DC_BUF_INIT(DC_MAX_FILE);
	struct stat sb;
	char why[256];
	int rc = 0;
	if (stat(path, &sb) < 0 && errno == ENOENT) {
		dc_error_set("no stack '%s' in state directory '%s'", stack, st->dir);
		rc = DC_ENOTFOUND;
		goto done;
	}
	if (dc_buf_read_file(&text, path) < 0) {
		rc = -1;
		goto done;
	}
	int k = parse_doc(out, text.ptr ? text.ptr : "", text.len, stack, why, sizeof(why));
	if (k == DC_DOC_NEWER)
		rc = dc_error_set("state file '%s' has %s, newer than this deployctl reads (%d); "
				  "upgrade deployctl",
				  path, why, DC_STATE_VERSION);
	else if (k == DC_DOC_CORRUPT)
		rc = corrupt_error(st, rel, path, stack, why);
done:
	dc_buf_dispose(&text);
	return rc;
}

int dc_state_load(json_t **out, struct dc_state *st, const char *stack)
{
	*out = NULL;
	if (dc_state_name_check(stack) < 0)
		return -1;
	char *rel = dc_xasprintf("stacks/%s.json", stack);
	char *path = dc_xasprintf("%s/%s", st->dir, rel);
	pthread_mutex_lock(&st->mu);
	int rc = load_file(out, st, stack, rel, path);
	pthread_mutex_unlock(&st->mu);
	free(rel);
	free(path);
	return rc;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int dc_state_list(struct dc_state *st, struct dc_strlist *names)
{
	char *stacks = dc_xasprintf("%s/stacks", st->dir);
	DIR *d = opendir(stacks);
	int rc = 0;
	if (!d) {
		if (errno != ENOENT)
			rc = dc_error_set("cannot read '%s': %s", stacks, strerror(errno));
		free(stacks);
		return rc;
	}
	size_t first = names->n;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n <= 5 || strcmp(e->d_name + n - 5, ".json") != 0)
			continue;
		char *name = dc_xstrndup(e->d_name, n - 5);
		if (dc_state_name_valid(name))
			dc_strlist_push(names, name);
		else
			free(name);
	}
	closedir(d);
	free(stacks);
	if (names->n > first)
		qsort(names->v + first, names->n - first, sizeof(*names->v), compare_names);
	return 0;
}

/* Whether commit c changed rel against its first parent: 1, 0, or -1. */
static int touches(const git_commit *c, const char *rel)
{
	git_oid mine, theirs;
	int here = path_blob(&mine, c, rel);
	if (git_commit_parentcount(c) == 0)
		return here;
	git_commit *parent = NULL;
	if (git_commit_parent(&parent, c, 0) < 0)
		return dc_state_git_error("cannot read the state history");
	int there = path_blob(&theirs, parent, rel);
	git_commit_free(parent);
	if (here != there)
		return 1;
	return here && !git_oid_equal(&mine, &theirs);
}

static int walk_history(git_revwalk *walk, git_repository *repo, const char *rel,
			int (*fn)(const struct dc_state_entry *e, void *arg), void *arg)
{
	git_oid id;
	int rc = 0, stop = 0;
	while (!stop && rc == 0 && git_revwalk_next(&id, walk) == 0) {
		git_commit *c = NULL;
		if (git_commit_lookup(&c, repo, &id) < 0)
			return dc_state_git_error("cannot read the state history");
		int hit = rel ? touches(c, rel) : 1;
		if (hit < 0)
			rc = -1;
		if (hit > 0) {
			struct dc_state_entry e = {.when = git_commit_time(c),
						   .message = git_commit_summary(c)};
			git_oid_tostr(e.commit, sizeof(e.commit), &id);
			if (!e.message)
				e.message = "";
			stop = fn(&e, arg);
		}
		git_commit_free(c);
	}
	return rc;
}

int dc_state_history(struct dc_state *st, const char *stack,
		     int (*fn)(const struct dc_state_entry *e, void *arg), void *arg)
{
	if (stack && dc_state_name_check(stack) < 0)
		return -1;
	char *rel = stack ? dc_xasprintf("stacks/%s.json", stack) : NULL;
	git_revwalk *walk = NULL;
	int rc = 0;
	pthread_mutex_lock(&st->mu);
	if (git_revwalk_new(&walk, st->repo) < 0 || git_revwalk_push_head(walk) < 0) {
		rc = dc_state_git_error("cannot read the state history");
		goto done;
	}
	git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME);
	rc = walk_history(walk, st->repo, rel, fn, arg);
done:
	pthread_mutex_unlock(&st->mu);
	git_revwalk_free(walk);
	free(rel);
	return rc;
}
