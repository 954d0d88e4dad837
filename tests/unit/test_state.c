/* The state store, checked against git itself (git log, ls-files, fsck,
 * checkout through the command-line tool) rather than against libgit2. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "opt.h"
#include "stack/state.h"
#include "support_env.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"

#define has(hay, needle) check(strstr((hay), (needle)) != NULL)
#define lacks(hay, needle) check(strstr((hay), (needle)) == NULL)

/* Output of a shell command (stderr merged), and its exit status. */
static char *sh(int *status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *sh(int *status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *cmd = dc_xvasprintf(fmt, ap);
	va_end(ap);
	char *full = dc_xasprintf("%s 2>&1", cmd);
	struct dc_buf out = DC_BUF_INIT(DC_MAX_FILE);
	FILE *p = popen(full, "r");
	char chunk[4096];
	size_t n;
	while (p && (n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		dc_buf_put(&out, chunk, n);
	int st = p ? pclose(p) : -1;
	if (status)
		*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	free(cmd);
	free(full);
	if (!out.ptr)
		return dc_xstrdup("");
	return dc_buf_take(&out);
}

static char *state_dir(void)
{
	return dc_xasprintf("%s/st", dc_test_tmpdir());
}

static json_t *stack_doc(const char *name, const char *table)
{
	return json_pack("{s:i, s:s, s:s, s:s, s:{s:{s:s, s:s, s:{s:s}, s:{s:s, s:s}}}, s:{}}",
			 "version", 1, "name", name, "target", "aws", "region", "eu-west-2",
			 "resources", "table", "type", "dynamodb.table", "status", "created",
			 "props", "hash_key", "id", "attrs", "id", table, "arn",
			 "arn:aws:dynamodb:eu-west-2:123456789012:table/x", "outputs");
}

static int save_table(struct dc_state *st, const char *stack, const char *table,
		      const char *message)
{
	json_t *doc = stack_doc(stack, table);
	int rc = dc_state_save(st, stack, doc, message);
	json_decref(doc);
	return rc;
}

static char *read_text(const char *path)
{
	struct dc_buf b = DC_BUF_INIT(DC_MAX_FILE);
	if (dc_buf_read_file(&b, path) < 0 || !b.ptr) {
		dc_buf_dispose(&b);
		return dc_xstrdup("");
	}
	return dc_buf_take(&b);
}

void test_state__open_creates_repository(void)
{
	char *dir = state_dir();
	struct dc_state *st = NULL;
	check_int(dc_state_open(&st, dir), 0);
	check_str(dc_state_dir(st), dir);
	char *log = sh(NULL, "git -C %s log --format='%%an <%%ae>|%%cn|%%s'", dir);
	check_str(log,
		  "deployctl <deployctl@localhost>|deployctl|deployctl: state directory created\n");
	/* Lock files and temporary files are ignored; nothing else is there. */
	struct dc_state_lock *lock = NULL;
	check_int(dc_state_lock(&lock, st, "demo"), 0);
	free(dc_test_write_file("st/stacks/demo.json.tmp", "x", 0644));
	char *status = sh(NULL,
			  "git -C %s status --porcelain; git -C %s check-ignore "
			  "locks/demo.lock stacks/demo.json.tmp stacks/demo.json .gitignore",
			  dir, dir);
	check_str(status, "locks/demo.lock\nstacks/demo.json.tmp\n");
	dc_state_unlock(lock);
	char *ignore = sh(NULL, "git -C %s show HEAD:.gitignore", dir);
	has(ignore, "\nlocks/\n");
	has(ignore, "\n*.tmp\n");
	dc_state_free(st);

	/* Opening again finds the same repository: no second commit. */
	check_int(dc_state_open(&st, dir), 0);
	char *log2 = sh(NULL, "git -C %s rev-list --count HEAD", dir);
	check_str(log2, "1\n");
	dc_state_free(st);
	free(log);
	free(log2);
	free(status);
	free(ignore);
	free(dir);
}

void test_state__open_uses_environment_and_empty_directory(void)
{
	char *dir = state_dir();
	check_int(mkdir(dir, 0755), 0);
	char *saved =
	    getenv("DEPLOYCTL_STATE_DIR") ? dc_xstrdup(getenv("DEPLOYCTL_STATE_DIR")) : NULL;
	setenv("DEPLOYCTL_STATE_DIR", dir, 1);
	struct dc_state *st = NULL;
	check_int(dc_state_open(&st, NULL), 0);
	if (st)
		check_str(dc_state_dir(st), dir);
	dc_state_free(st);
	if (saved)
		setenv("DEPLOYCTL_STATE_DIR", saved, 1);
	else
		unsetenv("DEPLOYCTL_STATE_DIR");
	char *count = sh(NULL, "git -C %s rev-list --count HEAD", dir);
	check_str(count, "1\n");
	free(count);
	free(saved);
	free(dir);
}

void test_state__open_refuses_what_is_not_a_state_directory(void)
{
	struct dc_state *st = NULL;
	char *file = dc_test_write_file("plain", "x\n", 0644);
	check_int(dc_state_open(&st, file), -1);
	check(st == NULL);
	has(dc_error_last()->message, file);
	has(dc_error_last()->message, "is not a directory");

	char *other = dc_test_write_file("other/notes.txt", "mine\n", 0644);
	char *odir = dc_xasprintf("%s/other", dc_test_tmpdir());
	check_int(dc_state_open(&st, odir), -1);
	char *want = dc_xasprintf("'%s' is not a deployctl state directory (it is not a git "
				  "repository); use another --state-dir",
				  odir);
	check_str(dc_error_last()->message, want);
	free(want);
	char *notes = read_text(other);
	check_str(notes, "mine\n");

	int status;
	free(sh(&status, "git init -q %s", odir));
	check_int(status, 0);
	check_int(dc_state_open(&st, odir), -1);
	has(dc_error_last()->message, "is a git repository but not a deployctl state directory");

	char *missing = dc_xasprintf("%s/no/such/parent", dc_test_tmpdir());
	check_int(dc_state_open(&st, missing), -1);
	has(dc_error_last()->message, missing);
	has(dc_error_last()->message, "No such file or directory");
	free(file);
	free(other);
	free(odir);
	free(notes);
	free(missing);
}

void test_state__save_load_round_trip(void)
{
	char *dir = state_dir();
	struct dc_state *st = NULL;
	check_int(dc_state_open(&st, dir), 0);
	json_t *doc = stack_doc("demo", "demo-table");
	json_object_set_new(doc, "params",
			    json_pack("{s:s, s:i, s:b}", "é", "ünï", "n", 3, "t", 1));
	check_int(dc_state_save(st, "demo", doc, "demo: created table (dynamodb.table demo-table)"),
		  0);
	json_t *back = NULL;
	check_int(dc_state_load(&back, st, "demo"), 0);
	check(back && json_equal(doc, back));

	/* The file is indented JSON with sorted keys and a final newline, as
	 * python's json module writes it with sort_keys and indent 2. */
	char *path = dc_xasprintf("%s/stacks/demo.json", dir);
	char *text = read_text(path);
	char *code =
	    dc_xasprintf("import json; d = json.load(open('%s')); "
			 "print(json.dumps(d, indent=2, sort_keys=True, ensure_ascii=False))",
			 path);
	char *want = dc_test_python(code);
	char *want_nl = dc_xasprintf("%s\n", want ? want : "");
	check_str(text, want_nl);

	char *committed = sh(NULL, "git -C %s show HEAD:stacks/demo.json", dir);
	check_str(committed, text);
	json_decref(doc);
	json_decref(back);
	dc_state_free(st);
	free(path);
	free(text);
	free(code);
	free(want);
	free(want_nl);
	free(committed);
	free(dir);
}

void test_state__each_save_is_one_commit(void)
{
	char *dir = state_dir();
	struct dc_state *st = NULL;
	check_int(dc_state_open(&st, dir), 0);
	check_int(save_table(st, "demo", "t1", "demo: created table (dynamodb.table t1)"), 0);
	check_int(save_table(st, "demo", "t2", "demo: replaced table"), 0);
	check_int(save_table(st, "other", "t3", "other: created table"), 0);
	/* An unchanged document is still an event worth its commit. */
	check_int(save_table(st, "other", "t3", "other: checked table"), 0);
	char *log = sh(NULL, "git -C %s log --format=%%s", dir);
	check_str(log,
		  "other: checked table\nother: created table\ndemo: replaced table\n"
		  "demo: created table (dynamodb.table t1)\ndeployctl: state directory created\n");
	char *files = sh(NULL, "git -C %s ls-files", dir);
	check_str(files, ".gitignore\nstacks/demo.json\nstacks/other.json\n");
	/* The index matches HEAD and the work tree, so git sees nothing to do. */
	char *status = sh(NULL, "git -C %s status --porcelain", dir);
	check_str(status, "");

	check_int(save_table(st, "demo", "t4", "two\nlines"), -1);
	has(dc_error_last()->message, "one non-empty line");
	dc_state_free(st);
	free(log);
	free(files);
	free(status);
	free(dir);
}

struct collected {
	struct dc_buf ids;
	struct dc_buf messages;
	int count;
	int stop_after;
	time_t earliest;
};

static int collect(const struct dc_state_entry *e, void *arg)
{
	struct collected *c = arg;
	dc_buf_printf(&c->ids, "%s\n", e->commit);
	dc_buf_printf(&c->messages, "%s\n", e->message);
	if (e->when < c->earliest || e->when > time(NULL) + 1)
		dc_buf_puts(&c->messages, "(bad time)\n");
	c->count++;
	return c->stop_after && c->count >= c->stop_after;
}

static void history_of(struct collected *c, struct dc_state *st, const char *stack, int stop_after)
{
	memset(c, 0, sizeof(*c));
	dc_buf_init(&c->ids, DC_MAX_FILE);
	dc_buf_init(&c->messages, DC_MAX_FILE);
	c->stop_after = stop_after;
	c->earliest = time(NULL) - 60;
	check_int(dc_state_history(st, stack, collect, c), 0);
}

static void collected_dispose(struct collected *c)
{
	dc_buf_dispose(&c->ids);
	dc_buf_dispose(&c->messages);
}

void test_state__history_of_one_stack_and_of_all(void)
{
	char *dir = state_dir();
	struct dc_state *st = NULL;
	check_int(dc_state_open(&st, dir), 0);
	check_int(save_table(st, "a", "t1", "a: created"), 0);
	check_int(save_table(st, "b", "t2", "b: created"), 0);
	check_int(save_table(st, "a", "t3", "a: changed"), 0);
	check_int(dc_state_remove(st, "b", "b: destroyed"), 0);

	struct collected all, a, b, first;
	history_of(&all, st, NULL, 0);
	check_str(dc_buf_cstr(&all.messages), "b: destroyed\na: changed\nb: created\na: created\n"
					      "deployctl: state directory created\n");
	char *git_all = sh(NULL, "git -C %s log --format=%%H", dir);
	check_str(dc_buf_cstr(&all.ids), git_all);

	history_of(&a, st, "a", 0);
	check_str(dc_buf_cstr(&a.messages), "a: changed\na: created\n");
	char *git_a = sh(NULL, "git -C %s log --format=%%H -- stacks/a.json", dir);
	check_str(dc_buf_cstr(&a.ids), git_a);

	history_of(&b, st, "b", 0);
	check_str(dc_buf_cstr(&b.messages), "b: destroyed\nb: created\n");
	char *git_b = sh(NULL, "git -C %s log --format=%%H -- stacks/b.json", dir);
	check_str(dc_buf_cstr(&b.ids), git_b);

	history_of(&first, st, NULL, 2);
	check_int(first.count, 2);
	check_str(dc_buf_cstr(&first.messages), "b: destroyed\na: changed\n");

	struct collected none;
	history_of(&none, st, "never", 0);
	check_int(none.count, 0);
	check_int(dc_state_history(st, "Bad/Name", collect, &none), -1);

	collected_dispose(&all);
	collected_dispose(&a);
	collected_dispose(&b);
	collected_dispose(&first);
	collected_dispose(&none);
	dc_state_free(st);
	free(git_all);
	free(git_a);
	free(git_b);
	free(dir);
}

void test_state__remove(void)
{
	char *dir = state_dir();
	struct dc_state *st = NULL;
	check_int(dc_state_open(&st, dir), 0);
	check_int(save_table(st, "demo", "t1", "demo: created"), 0);
	check_int(dc_state_remove(st, "demo", "demo: destroyed"), 0);
	json_t *doc = NULL;
	check_int(dc_state_load(&doc, st, "demo"), DC_ENOTFOUND);
	check(doc == NULL);
	has(dc_error_last()->message, "no stack 'demo'");
	check_int(dc_state_remove(st, "demo", "demo: destroyed again"), DC_ENOTFOUND);
	char *files = sh(NULL, "git -C %s ls-files", dir);
	check_str(files, ".gitignore\n");
	char *log = sh(NULL, "git -C %s log -1 --format=%%s --name-status", dir);
	check_str(log, "demo: destroyed\n\nD\tstacks/demo.json\n");
	dc_state_free(st);
	free(files);
	free(log);
	free(dir);
}

void test_state__list_is_sorted_and_skips_other_files(void)
{
	char *dir = state_dir();
	struct dc_state *st = NULL;
	check_int(dc_state_open(&st, dir), 0);
	struct dc_strlist names = {0};
	check_int(dc_state_list(st, &names), 0);
	check_int(names.n, 0);
	check_int(save_table(st, "web", "t", "web: created"), 0);
	check_int(save_table(st, "api-2", "t", "api-2: created"), 0);
	check_int(save_table(st, "api", "t", "api: created"), 0);
	free(dc_test_write_file("st/stacks/NOTES.json", "{}", 0644));
	free(dc_test_write_file("st/stacks/readme.txt", "x", 0644));
	free(dc_test_write_file("st/stacks/zz.json.tmp", "x", 0644));
	check_int(dc_state_list(st, &names), 0);
	check_int(names.n, 3);
	if (names.n == 3) {
		check_str(names.v[0], "api");
		check_str(names.v[1], "api-2");
		check_str(names.v[2], "web");
	}
	for (size_t i = 0; i < names.n; i++)
		free((char *)names.v[i]);
	dc_strlist_dispose(&names);
	dc_state_free(st);
	free(dir);
}

void test_state__bad_stack_names_are_refused(void)
{
	char *dir = state_dir();
	struct dc_state *st = NULL;
	check_int(dc_state_open(&st, dir), 0);
	const char *bad[] = {"",    "Demo", "-demo",
			     "a/b", "../x", "a.b",
			     "a_b", "dé",   "a23456789012345678901234567890123456789x1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		json_t *doc = stack_doc(bad[i], "t");
		check_int(dc_state_save(st, bad[i], doc, "x: created"), -1);
		char *quoted = dc_xasprintf("invalid stack name '%s'", bad[i]);
		has(dc_error_last()->message, quoted);
		json_t *out = NULL;
		check_int(dc_state_load(&out, st, bad[i]), -1);
		struct dc_state_lock *lock = NULL;
		check_int(dc_state_lock(&lock, st, bad[i]), -1);
		free(quoted);
		json_decref(doc);
	}
	const char *max = "a23456789012345678901234567890123456789x";
	check_int(save_table(st, max, "t", "long: created"), 0);
	check_int(save_table(st, "0", "t", "0: created"), 0);
	char *files = sh(NULL, "git -C %s ls-files stacks", dir);
	check_str(files, "stacks/0.json\nstacks/a23456789012345678901234567890123456789x.json\n");
	dc_state_free(st);
	free(files);
	free(dir);
}

/* Fork a child that takes the lock of `stack`, says so on a pipe and waits
 * to be killed. */
static pid_t locked_child(struct dc_state *st, const char *stack)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		struct dc_state_lock *lock = NULL;
		char ok = dc_state_lock(&lock, st, stack) == 0 ? 'y' : 'n';
		if (write(p[1], &ok, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	char ok = 0;
	if (read(p[0], &ok, 1) != 1 || ok != 'y')
		pid = -1;
	close(p[0]);
	return pid;
}

void test_state__lock_contention_and_takeover(void)
{
	char *dir = state_dir();
	struct dc_state *st = NULL;
	check_int(dc_state_open(&st, dir), 0);
	pid_t child = locked_child(st, "demo");
	check(child > 0);
	struct dc_state_lock *lock = NULL;
	check_int(dc_state_lock(&lock, st, "demo"), -1);
	check(lock == NULL);
	char *want = dc_xasprintf("stack 'demo' is locked by another deployctl run (pid %ld); "
				  "wait for it to finish",
				  (long)child);
	check_str(dc_error_last()->message, want);

	/* Another stack is free meanwhile. */
	struct dc_state_lock *other = NULL;
	check_int(dc_state_lock(&other, st, "other"), 0);
	dc_state_unlock(other);

	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	check_int(dc_state_lock(&lock, st, "demo"), 0);
	char *path = dc_xasprintf("%s/locks/demo.lock", dir);
	char *text = read_text(path);
	char *mine = dc_xasprintf("%ld\n", (long)getpid());
	check_str(text, mine);

	/* Held by this run: a second take fails even from the same process. */
	struct dc_state_lock *again = NULL;
	check_int(dc_state_lock(&again, st, "demo"), -1);
	char *self = dc_xasprintf("(pid %ld)", (long)getpid());
	has(dc_error_last()->message, self);
	free(self);
	dc_state_unlock(lock);
	char *status = sh(NULL, "git -C %s status --porcelain", dir);
	check_str(status, "");
	dc_state_free(st);
	free(want);
	free(path);
	free(text);
	free(mine);
	free(status);
	free(dir);
}

void test_state__stale_lock_file_is_taken(void)
{
	char *dir = state_dir();
	struct dc_state *st = NULL;
	check_int(dc_state_open(&st, dir), 0);
	/* What a killed run leaves: its pid, but no flock. */
	free(dc_test_write_file("st/locks/demo.lock", "999999999\n", 0644));
	struct dc_state_lock *lock = NULL;
	check_int(dc_state_lock(&lock, st, "demo"), 0);
	char *path = dc_xasprintf("%s/locks/demo.lock", dir);
	char *text = read_text(path);
	char *mine = dc_xasprintf("%ld\n", (long)getpid());
	check_str(text, mine);
	dc_state_unlock(lock);
	dc_state_free(st);
	free(path);
	free(text);
	free(mine);
	free(dir);
}

/* The command after "restore it with '" up to the closing quote. */
static char *restore_command(const char *message)
{
	const char *start = strstr(message, "restore it with '");
	if (!start)
		return dc_xstrdup("false");
	start += strlen("restore it with '");
	const char *end = strrchr(start, '\'');
	return end ? dc_xstrndup(start, (size_t)(end - start)) : dc_xstrdup("false");
}

void test_state__corrupt_file_names_last_good_commit(void)
{
	char *dir = state_dir();
	struct dc_state *st = NULL;
	check_int(dc_state_open(&st, dir), 0);
	check_int(save_table(st, "demo", "t1", "demo: created table"), 0);
	check_int(save_table(st, "demo", "t2", "demo: created function"), 0);
	char *good = sh(NULL, "git -C %s rev-parse --short=7 HEAD", dir);
	good[strcspn(good, "\n")] = '\0';
	char *path = dc_xasprintf("%s/stacks/demo.json", dir);
	free(dc_test_write_file("st/stacks/demo.json", "{\n  \"version\": 1,\n  oops\n}\n", 0644));

	json_t *doc = NULL;
	check_int(dc_state_load(&doc, st, "demo"), -1);
	check(doc == NULL);
	const char *msg = dc_error_last()->message;
	char *head = dc_xasprintf("state file '%s' is corrupt (line 3: ", path);
	has(msg, head);
	char *tail =
	    dc_xasprintf("); the last good version is commit %s ('demo: created function'): "
			 "restore it with 'git -C %s checkout %s -- stacks/demo.json'",
			 good, dir, good);
	has(msg, tail);

	/* Doing what the message says brings the stack back. */
	char *cmd = restore_command(msg);
	int status;
	free(sh(&status, "%s", cmd));
	check_int(status, 0);
	check_int(dc_state_load(&doc, st, "demo"), 0);
	check_str(json_string_value(json_object_get(
		      json_object_get(json_object_get(json_object_get(doc, "resources"), "table"),
				      "attrs"),
		      "id")),
		  "t2");
	json_decref(doc);
	free(head);
	free(tail);
	free(cmd);
	free(good);
	free(path);
	dc_state_free(st);
	free(dir);
}

void test_state__committed_corruption_is_skipped(void)
{
	char *dir = state_dir();
	struct dc_state *st = NULL;
	check_int(dc_state_open(&st, dir), 0);
	check_int(save_table(st, "demo", "t1", "demo: created table"), 0);
	char *good = sh(NULL, "git -C %s rev-parse --short=7 HEAD", dir);
	good[strcspn(good, "\n")] = '\0';
	check_int(save_table(st, "other", "t1", "other: created table"), 0);
	/* Someone edits by hand and commits a file lacking "resources". */
	free(dc_test_write_file("st/stacks/demo.json", "{\"version\": 1, \"name\": \"demo\"}\n",
				0644));
	int status;
	free(
	    sh(&status, "git -C %s -c user.name=x -c user.email=x@y commit -qam 'hand edit'", dir));
	check_int(status, 0);
	json_t *doc = NULL;
	check_int(dc_state_load(&doc, st, "demo"), -1);
	const char *msg = dc_error_last()->message;
	has(msg, "is corrupt (no \"resources\" object)");
	char *tail = dc_xasprintf("last good version is commit %s ('demo: created table')", good);
	has(msg, tail);
	if (!strstr(msg, tail))
		fprintf(stderr, "    %s\n", msg);

	/* With no good version anywhere, the message says so. */
	free(dc_test_write_file("st/stacks/fresh.json", "[]", 0644));
	check_int(dc_state_load(&doc, st, "fresh"), -1);
	has(dc_error_last()->message, "no committed version of it is readable");
	free(tail);
	free(good);
	dc_state_free(st);
	free(dir);
}

void test_state__newer_version_is_refused(void)
{
	char *dir = state_dir();
	struct dc_state *st = NULL;
	check_int(dc_state_open(&st, dir), 0);
	free(dc_test_write_file("st/stacks/demo.json",
				"{\"version\": 2, \"name\": \"demo\", \"resources\": {}}\n", 0644));
	json_t *doc = NULL;
	check_int(dc_state_load(&doc, st, "demo"), -1);
	char *want = dc_xasprintf("state file '%s/stacks/demo.json' has version 2, newer than this "
				  "deployctl reads (1); upgrade deployctl",
				  dir);
	check_str(dc_error_last()->message, want);

	json_t *newer = json_pack("{s:i, s:s, s:{}}", "version", 2, "name", "demo", "resources");
	check_int(dc_state_save(st, "demo", newer, "demo: created"), -1);
	has(dc_error_last()->message, "refusing to save stack 'demo'");
	/* The newer file is left alone. */
	char *path = dc_xasprintf("%s/stacks/demo.json", dir);
	char *text = read_text(path);
	has(text, "\"version\": 2");
	json_decref(newer);
	dc_state_free(st);
	free(want);
	free(path);
	free(text);
	free(dir);
}

static void check_refused(struct dc_state *st, const char *dir, json_t *doc, const char *where,
			  const char *secret)
{
	check_int(dc_state_save(st, "demo", doc, "demo: created"), -1);
	const char *msg = dc_error_last()->message;
	char *quoted = dc_xasprintf("'%s' looks like a secret", where);
	has(msg, quoted);
	lacks(msg, secret);
	char *path = dc_xasprintf("%s/stacks/demo.json", dir);
	struct stat sb;
	check(stat(path, &sb) < 0);
	free(quoted);
	free(path);
	json_decref(doc);
}

void test_state__secrets_are_refused(void)
{
	char *dir = state_dir();
	struct dc_state *st = NULL;
	check_int(dc_state_open(&st, dir), 0);
	json_t *doc = stack_doc("demo", "t");
	json_object_set_new(
	    json_object_get(json_object_get(doc, "resources"), "table"), "props",
	    json_pack("{s:{s:s, s:s}}", "env", "TABLE", "t", "DB_PASSWORD", "hunter2hunter2"));
	check_refused(st, dir, doc, "resources.table.props.env.DB_PASSWORD", "hunter2");

	doc = stack_doc("demo", "t");
	json_object_set_new(
	    doc, "outputs",
	    json_pack("{s:[s, s]}", "list", "fine", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"));
	check_refused(st, dir, doc, "outputs.list[1]", "wJalrXUtnFEMI");

	doc = stack_doc("demo", "t");
	json_object_set_new(doc, "params", json_pack("{s:s}", "SessionToken", "abc"));
	check_refused(st, dir, doc, "params.SessionToken", "abc\"");

	/* Tokens that page or make a call idempotent, names and ARNs of
	 * secrets, and hex digests are not secrets. */
	doc = stack_doc("demo", "t");
	json_object_set_new(
	    doc, "params",
	    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "NextToken", "abc", "ClientToken",
		      "demo-table-1", "SecretArn", "arn:aws:secretsmanager:eu-west-2:1:secret:x",
		      "AuthorizationType", "AWS_IAM", "password", "", "sha",
		      "0123456789abcdef0123456789abcdef01234567", "CreationToken", "demo-efs"));
	check_int(dc_state_save(st, "demo", doc, "demo: created"), 0);
	json_decref(doc);
	char *log = sh(NULL, "git -C %s log --format=%%s", dir);
	check_str(log, "demo: created\ndeployctl: state directory created\n");
	dc_state_free(st);
	free(log);
	free(dir);
}

void test_state__failed_rename_leaves_no_partial_file(void)
{
	char *dir = state_dir();
	struct dc_state *st = NULL;
	check_int(dc_state_open(&st, dir), 0);
	char *target = dc_xasprintf("%s/stacks/demo.json", dir);
	check_int(mkdir(target, 0755), 0);
	check_int(save_table(st, "demo", "t1", "demo: created"), -1);
	char *want = dc_xasprintf("cannot write state file '%s': Is a directory", target);
	check_str(dc_error_last()->message, want);
	char *listing = sh(NULL, "ls -A %s/stacks", dir);
	check_str(listing, "demo.json\n");
	char *count = sh(NULL, "git -C %s rev-list --count HEAD", dir);
	check_str(count, "1\n");
	dc_state_free(st);
	free(target);
	free(want);
	free(listing);
	free(count);
	free(dir);
}

/* A full disk, as far as one process can tell: RLIMIT_FSIZE makes write(2)
 * fail with EFBIG past the limit, even for root. */
void test_state__write_failure_keeps_the_old_file(void)
{
	char *dir = state_dir();
	struct dc_state *st = NULL;
	check_int(dc_state_open(&st, dir), 0);
	check_int(save_table(st, "demo", "t1", "demo: created"), 0);
	char *path = dc_xasprintf("%s/stacks/demo.json", dir);
	char *before = read_text(path);
	int p[2];
	check_int(pipe(p), 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		signal(SIGXFSZ, SIG_IGN);
		struct rlimit rl = {1024, 1024};
		setrlimit(RLIMIT_FSIZE, &rl);
		json_t *doc = stack_doc("demo", "t2");
		char big[8192];
		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		json_object_set_new(doc, "outputs", json_pack("{s:s}", "big", big));
		int rc = dc_state_save(st, "demo", doc, "demo: grew");
		const char *msg = dc_error_last()->message;
		if (write(p[1], msg, strlen(msg)) < 0)
			rc = 0;
		/* Free what the parent made too: valgrind checks the child. */
		json_decref(doc);
		dc_state_free(st);
		free(path);
		free(before);
		free(dir);
		_exit(rc == -1 ? 0 : 1);
	}
	close(p[1]);
	char msg[1024] = "";
	ssize_t n = read(p[0], msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(p[0]);
	int wstatus;
	waitpid(pid, &wstatus, 0);
	check(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
	char *want = dc_xasprintf("cannot write state file '%s': File too large", path);
	check_str(msg, want);
	char *after = read_text(path);
	check_str(after, before);
	char *listing = sh(NULL, "ls -A %s/stacks", dir);
	check_str(listing, "demo.json\n");
	char *log = sh(NULL, "git -C %s log --format=%%s", dir);
	check_str(log, "demo: created\ndeployctl: state directory created\n");
	dc_state_free(st);
	free(path);
	free(before);
	free(after);
	free(want);
	free(listing);
	free(log);
	free(dir);
}

#define SAVES 20

/* One run: open the state itself, lock its stack, save SAVES times. */
static int saving_run(const char *dir, const char *stack)
{
	struct dc_state *st = NULL;
	struct dc_state_lock *lock = NULL;
	if (dc_state_open(&st, dir) < 0 || dc_state_lock(&lock, st, stack) < 0)
		return 1;
	int failed = 0;
	for (int i = 0; i < SAVES && !failed; i++) {
		char table[32], message[64];
		snprintf(table, sizeof(table), "t%d", i);
		snprintf(message, sizeof(message), "%s: save %d", stack, i);
		failed = save_table(st, stack, table, message) < 0;
	}
	if (failed)
		fprintf(stderr, "    %s: %s\n", stack, dc_error_last()->message);
	dc_state_unlock(lock);
	dc_state_free(st);
	return failed;
}

static void check_repository_after_two_runs(const char *dir)
{
	char *count = sh(NULL, "git -C %s rev-list --count HEAD", dir);
	char *want = dc_xasprintf("%d\n", 2 * SAVES + 1);
	check_str(count, want);
	for (int k = 1; k <= 2; k++) {
		char *log = sh(NULL, "git -C %s log --format=%%s -- stacks/s%d.json", dir, k);
		struct dc_buf expect = DC_BUF_INIT(DC_MAX_FILE);
		for (int i = SAVES - 1; i >= 0; i--)
			dc_buf_printf(&expect, "s%d: save %d\n", k, i);
		check_str(log, dc_buf_cstr(&expect));
		dc_buf_dispose(&expect);
		free(log);
	}
	int status;
	char *fsck = sh(&status, "git -C %s fsck --strict --no-dangling", dir);
	check_int(status, 0);
	check_str(fsck, "");
	char *porcelain = sh(NULL, "git -C %s status --porcelain", dir);
	check_str(porcelain, "");
	free(count);
	free(want);
	free(fsck);
	free(porcelain);
}

void test_state__two_processes_save_different_stacks(void)
{
	char *dir = state_dir();
	struct dc_state *st = NULL;
	check_int(dc_state_open(&st, dir), 0);
	dc_state_free(st);
	pid_t pids[2];
	for (int k = 0; k < 2; k++) {
		pids[k] = fork();
		if (pids[k] == 0) {
			int rc = saving_run(dir, k == 0 ? "s1" : "s2");
			free(dir);
			_exit(rc);
		}
	}
	for (int k = 0; k < 2; k++) {
		int wstatus = -1;
		waitpid(pids[k], &wstatus, 0);
		check(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
	}
	check_repository_after_two_runs(dir);
	free(dir);
}

struct thread_run {
	struct dc_state *st;
	const char *stack;
	int failed;
};

static void *saving_thread(void *arg)
{
	struct thread_run *r = arg;
	for (int i = 0; i < SAVES && !r->failed; i++) {
		char table[32], message[64];
		snprintf(table, sizeof(table), "t%d", i);
		snprintf(message, sizeof(message), "%s: save %d", r->stack, i);
		r->failed = save_table(r->st, r->stack, table, message) < 0;
	}
	return NULL;
}

void test_state__two_threads_share_one_state(void)
{
	char *dir = state_dir();
	struct dc_state *st = NULL;
	check_int(dc_state_open(&st, dir), 0);
	struct thread_run runs[2] = {{st, "s1", 0}, {st, "s2", 0}};
	pthread_t t[2];
	for (int k = 0; k < 2; k++)
		pthread_create(&t[k], NULL, saving_thread, &runs[k]);
	for (int k = 0; k < 2; k++) {
		pthread_join(t[k], NULL);
		check_int(runs[k].failed, 0);
	}
	dc_state_free(st);
	check_repository_after_two_runs(dir);
	free(dir);
}

/* Two runs starting at once in a directory that does not exist yet: both
 * open it, and there is one repository with one first commit. */
void test_state__two_processes_create_at_once(void)
{
	char *dir = state_dir();
	pid_t pids[4];
	for (int k = 0; k < 4; k++) {
		pids[k] = fork();
		if (pids[k] == 0) {
			struct dc_state *st = NULL;
			int rc = dc_state_open(&st, dir);
			if (rc < 0)
				fprintf(stderr, "    %s\n", dc_error_last()->message);
			dc_state_free(st);
			free(dir);
			_exit(rc < 0);
		}
	}
	for (int k = 0; k < 4; k++) {
		int wstatus = -1;
		waitpid(pids[k], &wstatus, 0);
		check(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
	}
	char *count = sh(NULL, "git -C %s rev-list --count HEAD", dir);
	check_str(count, "1\n");
	char *left = sh(NULL, "ls -A %s", dc_test_tmpdir());
	check_str(left, "st\n");
	free(count);
	free(left);
	free(dir);
}
