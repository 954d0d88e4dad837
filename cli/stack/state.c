/* The state directory: opening or creating it, and every write (save and
 * remove), each committed at once. Reading is in state_read.c, locks in
 * lock.c.
 *
 * Durability: the stack file is fsynced before it is renamed into place and
 * its directory after, so a crash leaves either the old or the new document,
 * never a partial one. Git objects are not fsynced (libgit2's default): that
 * would cost about six more fsyncs, some 30 ms per save on this kind of
 * disk, and the file, which is what a resumed run reads, is safe without
 * them; a file saved but not yet committed is committed by its next save. */
#include "stack/state_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"

/* The first line of the .gitignore every state repository gets: what tells
 * a deployctl state directory from any other git repository. It is tracked,
 * so a clone of the state directory is still recognised. */
#define MARKER "# deployctl state directory"
/* local/: the local target's running files (logs, a control token). */
static const char gitignore_text[] = MARKER "\nlocks/\n*.tmp\nlocal/\n";

int dc_state_git_error(const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	const git_error *e = git_error_last();
	return dc_error_set("%s: %s", what, e && e->message ? e->message : "unknown libgit2 error");
}

const char *dc_state_dir(const struct dc_state *st)
{
	return st->dir;
}

static void remove_tree(const char *path)
{
	DIR *d = opendir(path);
	if (!d) {
		unlink(path);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char *child = dc_xasprintf("%s/%s", path, e->d_name);
		remove_tree(child);
		free(child);
	}
	closedir(d);
	rmdir(path);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	int err = errno;
	close(fd);
	errno = err;
	return rc;
}

/* Write path through path.tmp: fsync, rename, fsync the directory. On
 * failure the temporary file is gone and path is as it was. */
static int write_atomic(const char *dir, const char *path, const char *data, size_t n)
{
	char *tmp = dc_xasprintf("%s.tmp", path);
	int rc = 0;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		rc = dc_error_set("cannot write state file '%s': %s", path, strerror(errno));
		goto done;
	}
	int failed = write_all(fd, data, n) < 0 || fsync(fd) < 0;
	int err = errno;
	if (close(fd) < 0 && !failed) {
		failed = 1;
		err = errno;
	}
	if (!failed && rename(tmp, path) < 0) {
		failed = 1;
		err = errno;
	}
	if (failed) {
		unlink(tmp);
		rc = dc_error_set("cannot write state file '%s': %s", path, strerror(err));
		goto done;
	}
	if (fsync_dir(dir) < 0)
		rc = dc_error_set("cannot sync directory '%s': %s", dir, strerror(errno));
done:
	free(tmp);
	return rc;
}

/* Stage one path of the work tree (or its removal) and write the tree. The
 * index is re-read every time: another process may have committed since,
 * and libgit2's "has it changed" check (mtime, size, inode) can miss a
 * rewrite within one clock tick that reuses the inode. It is a few entries
 * long, so reading it costs microseconds. */
static int stage(git_repository *repo, const char *rel, int removed, git_oid *tree)
{
	git_index *idx = NULL;
	int rc = 0;
	if (git_repository_index(&idx, repo) < 0 || git_index_read(idx, 1) < 0) {
		rc = dc_state_git_error("cannot read the state index");
		goto done;
	}
	int e = removed ? git_index_remove_bypath(idx, rel) : git_index_add_bypath(idx, rel);
	if (e < 0 || git_index_write_tree(tree, idx) < 0 || git_index_write(idx) < 0)
		rc = dc_state_git_error("cannot stage '%s'", rel);
done:
	git_index_free(idx);
	return rc;
}

/* Commit tree on top of HEAD (none when HEAD is unborn), moving HEAD. */
static int commit_tree(git_repository *repo, const git_oid *tree_id, const char *message)
{
	git_commit *parent = NULL;
	git_tree *tree = NULL;
	git_signature *sig = NULL;
	char *text = dc_xasprintf("%s\n", message);
	git_oid head, id;
	int rc = 0;
	int e = git_reference_name_to_id(&head, repo, "HEAD");
	if (e < 0 && e != GIT_ENOTFOUND && e != GIT_EUNBORNBRANCH)
		goto fail;
	if (e == 0 && git_commit_lookup(&parent, repo, &head) < 0)
		goto fail;
	/* A fixed identity: the user's git configuration plays no part. */
	if (git_tree_lookup(&tree, repo, tree_id) < 0 ||
	    git_signature_now(&sig, "deployctl", "deployctl@localhost") < 0)
		goto fail;
	const git_commit *parents[1] = {parent};
	if (git_commit_create(&id, repo, "HEAD", sig, sig, NULL, text, tree, parent ? 1 : 0,
			      parents) < 0)
		goto fail;
	goto done;
fail:
	rc = dc_state_git_error("cannot commit to the state repository");
done:
	git_signature_free(sig);
	git_tree_free(tree);
	git_commit_free(parent);
	free(text);
	return rc;
}

static int commit_path(struct dc_state *st, const char *rel, int removed, const char *message)
{
	int lock;
	if (dc_state_repo_lock(&lock, st) < 0)
		return -1;
	git_oid tree;
	int rc = stage(st->repo, rel, removed, &tree);
	if (rc == 0)
		rc = commit_tree(st->repo, &tree, message);
	dc_state_repo_unlock(lock);
	return rc;
}

/* A new repository in the empty directory path: .gitignore, stacks/,
 * locks/ and a first commit. */
static int init_repo(const char *path, const char *dir)
{
	git_repository_init_options o;
	git_repository_init_options_init(&o, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	o.flags = GIT_REPOSITORY_INIT_NO_REINIT;
	o.initial_head = "main";
	git_repository *repo = NULL;
	char *ignore = dc_xasprintf("%s/.gitignore", path);
	char *stacks = dc_xasprintf("%s/stacks", path);
	char *locks = dc_xasprintf("%s/locks", path);
	int rc = 0;
	if (git_repository_init_ext(&repo, path, &o) < 0) {
		rc = dc_state_git_error("cannot create the state repository in '%s'", dir);
		goto done;
	}
	if (mkdir(stacks, 0777) < 0 || mkdir(locks, 0777) < 0) {
		rc = dc_error_set("cannot create state directory '%s': %s", dir, strerror(errno));
		goto done;
	}
	rc = write_atomic(path, ignore, gitignore_text, strlen(gitignore_text));
	if (rc < 0)
		goto done;
	git_oid tree;
	rc = stage(repo, ".gitignore", 0, &tree);
	if (rc == 0)
		rc = commit_tree(repo, &tree, "deployctl: state directory created");
done:
	git_repository_free(repo);
	free(ignore);
	free(stacks);
	free(locks);
	return rc;
}

/* Build the repository beside dir and rename it into place, so that no one
 * ever sees a half-made state directory, and two runs starting at once
 * agree: the second rename fails and that run uses the first one's. */
static int create_dir(const char *dir)
{
	char *tmp = dc_xasprintf("%s.new-XXXXXX", dir);
	int rc = 0;
	if (!mkdtemp(tmp)) {
		rc = dc_error_set("cannot create state directory '%s': %s", dir, strerror(errno));
		free(tmp);
		return rc;
	}
	rc = init_repo(tmp, dir);
	/* rename(2) replaces an empty directory, and only an empty one. */
	if (rc == 0 && rename(tmp, dir) < 0 && errno != ENOTEMPTY && errno != EEXIST)
		rc = dc_error_set("cannot create state directory '%s': %s", dir, strerror(errno));
	remove_tree(tmp); /* gone already when the rename succeeded */
	free(tmp);
	return rc;
}

/* 1 when dir has no entries, 0 when it has, -1 when it cannot be read. */
static int dir_is_empty(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return dc_error_set("cannot read state directory '%s': %s", dir, strerror(errno));
	struct dirent *e;
	int empty = 1;
	while (empty && (e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			empty = 0;
	closedir(d);
	return empty;
}

static int prepare_dir(const char *dir)
{
	struct stat sb;
	if (stat(dir, &sb) < 0) {
		if (errno != ENOENT)
			return dc_error_set("cannot use state directory '%s': %s", dir,
					    strerror(errno));
		return create_dir(dir);
	}
	if (!S_ISDIR(sb.st_mode))
		return dc_error_set("state directory '%s' is not a directory", dir);
	int empty = dir_is_empty(dir);
	if (empty < 0)
		return -1;
	return empty ? create_dir(dir) : 0;
}

static int has_marker(const char *dir)
{
	char *path = dc_xasprintf("%s/.gitignore", dir);
	FILE *f = fopen(path, "r");
	char line[64] = "";
	if (f) {
		if (!fgets(line, sizeof(line), f))
			line[0] = '\0';
		fclose(f);
	}
	free(path);
	return strncmp(line, MARKER "\n", strlen(MARKER) + 1) == 0;
}

static int open_repo(struct dc_state *st)
{
	int e = git_repository_open_ext(&st->repo, st->dir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
	if (e == GIT_ENOTFOUND)
		return dc_error_set("'%s' is not a deployctl state directory (it is not a git "
				    "repository); use another --state-dir",
				    st->dir);
	if (e < 0)
		return dc_state_git_error("cannot open state directory '%s'", st->dir);
	char real[4096];
	const char *wd = git_repository_workdir(st->repo);
	if (!realpath(st->dir, real))
		return dc_error_set("cannot use state directory '%s': %s", st->dir,
				    strerror(errno));
	if (!wd || strncmp(wd, real, strlen(real)) != 0 || strcmp(wd + strlen(real), "/") != 0 ||
	    !has_marker(st->dir))
		return dc_error_set("'%s' is a git repository but not a deployctl state directory; "
				    "use another --state-dir",
				    st->dir);
	return 0;
}

int dc_state_open(struct dc_state **out, const char *dir)
{
	*out = NULL;
	if (!dir || !*dir)
		dir = getenv("DEPLOYCTL_STATE_DIR");
	if (!dir || !*dir)
		dir = ".deployctl";
	/* Reference-counted and thread-safe in libgit2; dc_state_free pairs
	 * each call with git_libgit2_shutdown, so the last free releases
	 * libgit2's global state. */
	git_libgit2_init();
	struct dc_state *st = dc_xcalloc(1, sizeof(*st));
	/* Recursive, so that a history callback may load a stack. */
	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&st->mu, &ma);
	pthread_mutexattr_destroy(&ma);
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	st->dir = dc_xstrndup(dir, n);
	int rc = prepare_dir(st->dir);
	if (rc == 0)
		rc = open_repo(st);
	if (rc < 0) {
		dc_state_free(st);
		return rc;
	}
	*out = st;
	return 0;
}

void dc_state_free(struct dc_state *st)
{
	if (!st)
		return;
	git_repository_free(st->repo);
	pthread_mutex_destroy(&st->mu);
	free(st->dir);
	free(st);
	git_libgit2_shutdown();
}

static int check_message(const char *message)
{
	if (!message || !*message || strpbrk(message, "\r\n"))
		return dc_error_set("a state commit message must be one non-empty line");
	return 0;
}

static int serialise(struct dc_buf *out, const json_t *doc, const char *stack)
{
	char why[256];
	int k = dc_state_doc_check(doc, stack, why, sizeof(why));
	if (k != DC_DOC_OK)
		return dc_error_set("refusing to save stack '%s': the document has %s", stack, why);
	if (dc_state_doc_secrets(doc, stack) < 0)
		return -1;
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!text)
		return dc_error_set("cannot serialise the state of stack '%s'", stack);
	int rc = dc_buf_puts(out, text);
	if (rc == 0)
		rc = dc_buf_putc(out, '\n');
	free(text);
	if (rc < 0)
		dc_error_prefix("state of stack '%s': ", stack);
	return rc;
}

int dc_state_save(struct dc_state *st, const char *stack, const json_t *doc, const char *message)
{
	if (dc_state_name_check(stack) < 0 || check_message(message) < 0)
		return -1;
	struct dc_buf text = DC_BUF_INIT(DC_MAX_FILE);
	char *rel = dc_xasprintf("stacks/%s.json", stack);
	char *stacks = dc_xasprintf("%s/stacks", st->dir);
	char *path = dc_xasprintf("%s/%s", st->dir, rel);
	int rc = serialise(&text, doc, stack);
	if (rc < 0)
		goto done;
	pthread_mutex_lock(&st->mu);
	if (mkdir(stacks, 0777) < 0 && errno != EEXIST)
		rc = dc_error_set("cannot create '%s': %s", stacks, strerror(errno));
	if (rc == 0)
		rc = write_atomic(stacks, path, text.ptr, text.len);
	if (rc == 0)
		rc = commit_path(st, rel, 0, message);
	pthread_mutex_unlock(&st->mu);
done:
	dc_buf_dispose(&text);
	free(rel);
	free(stacks);
	free(path);
	return rc;
}

int dc_state_remove(struct dc_state *st, const char *stack, const char *message)
{
	if (dc_state_name_check(stack) < 0 || check_message(message) < 0)
		return -1;
	char *rel = dc_xasprintf("stacks/%s.json", stack);
	char *stacks = dc_xasprintf("%s/stacks", st->dir);
	char *path = dc_xasprintf("%s/%s", st->dir, rel);
	int rc = 0;
	pthread_mutex_lock(&st->mu);
	if (unlink(path) < 0) {
		if (errno == ENOENT) {
			dc_error_set("no stack '%s' in state directory '%s'", stack, st->dir);
			rc = DC_ENOTFOUND;
		} else {
			rc = dc_error_set("cannot remove state file '%s': %s", path,
					  strerror(errno));
		}
	}
	if (rc == 0 && fsync_dir(stacks) < 0)
		rc = dc_error_set("cannot sync directory '%s': %s", stacks, strerror(errno));
	if (rc == 0)
		rc = commit_path(st, rel, 1, message);
	pthread_mutex_unlock(&st->mu);
	free(rel);
	free(stacks);
	free(path);
	return rc;
}
