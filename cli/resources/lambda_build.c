/* Compiling a custom-runtime function with the user's toolchain, and making
 * the result independent of the build machine's libraries: Debian's glibc
 * 2.36 symbols must not meet Amazon Linux 2023's glibc 2.34, so the loader
 * and libraries travel with the binary (see lambda_build.h). */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "resources/lambda_build.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"

/* A handler or library read for its ELF headers; stripped release builds
 * stay far below this. */
#define MAX_BINARY ((size_t)256 << 20)
#define MAX_LIBS 256

struct target {
	const char *arch;      /* Lambda's name */
	int machine;           /* ELF e_machine */
	const char *cc;        /* C compiler for the bootstrap launcher */
	const char *cxx;       /* C++ compiler */
	const char *rust;      /* Rust target triple; NULL: the host's */
	const char *install;   /* what to install for a cross build, or NULL */
	const char *libdirs[7];
};

static const struct target targets[] = {
	{ "x86_64", EM_X86_64, "cc", "g++", NULL, NULL,
	  { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib",
	    "/usr/lib", NULL } },
	{ "arm64", EM_AARCH64, "aarch64-linux-gnu-gcc", "aarch64-linux-gnu-g++",
	  "aarch64-unknown-linux-gnu",
	  "install a cross toolchain with 'apt-get install g++-aarch64-linux-gnu' (and for "
	  "rust 'rustup target add aarch64-unknown-linux-gnu')",
	  { "/usr/aarch64-linux-gnu/lib", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
	    "/lib64", "/usr/lib64", NULL } },
};

struct job {
	const struct dc_lambda_build *b;
	const struct target *t;
	const char *dir;  /* the build's folder */
	char *log;        /* dir/build.log */
	char *stage;      /* dir/pkg.tmp, renamed to dir/pkg when complete */
};

/* ---- files ---------------------------------------------------------------- */

static int rm_tree(const char *path);

static int rm_children(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return dc_error_set("cannot open '%s': %s", path, strerror(errno));
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char *sub = dc_xasprintf("%s/%s", path, e->d_name);
		rc = rm_tree(sub);
		free(sub);
	}
	closedir(d);
	return rc;
}

/* Remove path and, for a folder, all it holds (symlinks not followed). */
static int rm_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : dc_error_set("cannot remove '%s': %s", path,
							  strerror(errno));
	if (S_ISDIR(st.st_mode) && rm_children(path) < 0)
		return -1;
	if (remove(path) < 0)
		return dc_error_set("cannot remove '%s': %s", path, strerror(errno));
	return 0;
}

/* mkdir -p */
static int mkdirs(const char *path)
{
	char *p = dc_xstrdup(path);
	int rc = 0;
	for (char *s = strchr(p + 1, '/'); rc == 0; s = strchr(s + 1, '/')) {
		if (s)
			*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			rc = dc_error_set("cannot create folder '%s': %s", p, strerror(errno));
		if (!s)
			break;
		*s = '/';
	}
	free(p);
	return rc;
}

static int write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return dc_error_set("cannot write '%s': %s", path, strerror(errno));
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			return dc_error_set("cannot write '%s': %s", path, strerror(e));
		}
		p += n;
		len -= (size_t)n;
	}
	if (close(fd) < 0)
		return dc_error_set("cannot write '%s': %s", path, strerror(errno));
	return 0;
}

/* The sources, as read and hashed, laid out in dir/src for the compiler. */
static int write_sources(const struct job *j)
{
	char *src = dc_xasprintf("%s/src", j->dir);
	int rc = rm_tree(src);
	for (size_t i = 0; rc == 0 && i < j->b->src->n; i++) {
		const struct dc_lambda_file *f = &j->b->src->files[i];
		char *path = dc_xasprintf("%s/%s", src, f->path);
		char *slash = strrchr(path, '/');
		*slash = '\0';
		rc = mkdirs(path);
		*slash = '/';
		if (rc == 0)
			rc = write_file(path, f->data, f->len, f->exec ? 0755 : 0644);
		free(path);
	}
	free(src);
	return rc;
}

static int copy_file(const char *from, const char *to, mode_t mode)
{
	struct dc_buf b = DC_BUF_INIT(MAX_BINARY);
	int rc = dc_buf_read_file(&b, from);
	if (rc == 0)
		rc = write_file(to, b.ptr, b.len, mode);
	dc_buf_dispose(&b);
	return rc;
}

/* ---- the toolchain ------------------------------------------------------ */

static int on_path(const char *tool)
{
	const char *path = getenv("PATH");
	char *dirs = dc_xstrdup(path ? path : "/usr/bin:/bin");
	char *save = NULL;
	int found = 0;
	for (char *d = strtok_r(dirs, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
		char *full = dc_xasprintf("%s/%s", *d ? d : ".", tool);
		found = access(full, X_OK) == 0;
		free(full);
	}
	free(dirs);
	return found;
}

static int need_tool(const struct job *j, const char *tool, const char *how)
{
	if (on_path(tool))
		return 0;
	if (j->t->install)
		return dc_error_set("building %s for %s needs %s: %s", j->b->who, j->t->arch, tool,
				    j->t->install);
	return dc_error_set("%s needs %s: install it with %s", j->b->who, tool, how);
}

/* The last line of the build log that says "error", else its last line. */
static char *log_summary(const char *log)
{
	struct dc_buf b = DC_BUF_INIT(DC_MAX_FILE);
	char *best = NULL, *last = NULL, *save = NULL;
	if (dc_buf_read_file(&b, log) == 0 && b.len > 0) {
		for (char *l = strtok_r(b.ptr, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			last = l;
			if (strstr(l, "error"))
				best = l;
		}
	}
	char *out = dc_xstrndup(best ? best : last ? last : "", 200);
	dc_buf_dispose(&b);
	return out;
}

/* What a failed build most often lacks, found in its log: development
 * files the compiler or linker did not find. */
static const struct {
	const char *needle;
	const char *what;
	const char *install;
} missing_files[] = {
	{ "fatal error: curl/", "the libcurl development files",
	  "apt-get install libcurl4-openssl-dev" },
	{ "cannot find -lcurl", "the libcurl development files",
	  "apt-get install libcurl4-openssl-dev" },
	{ "fatal error: openssl/", "the OpenSSL development files", "apt-get install libssl-dev" },
	{ "cannot find -lcrypto", "the OpenSSL development files", "apt-get install libssl-dev" },
};

/* Cargo's ways of saying a crate could not be had (offline, no network,
 * no fitting version); the crate's name follows. */
static const char *const missing_crate[] = {
	"no matching package named `",
	"failed to get `",
	"failed to select a version for the requirement `",
};

static char *crate_hint(const struct job *j, const char *name, size_t n)
{
	char *crate = dc_xstrndup(name, n);
	char *deb = dc_xstrdup(crate);
	for (char *p = deb; *p; p++)
		if (*p == '_')
			*p = '-';
	char *hint = dc_xasprintf("%s needs the crate '%s': let cargo reach crates.io, or, offline "
				  "with Debian's crates, 'apt-get install librust-%s-dev'",
				  j->b->who, crate, deb);
	free(deb);
	free(crate);
	return hint;
}

/* A one-line "needs X: install it with Y" for a failure the log explains,
 * else NULL. Caller frees. */
static char *missing_hint(const struct job *j, const char *log)
{
	for (size_t i = 0; i < sizeof(missing_files) / sizeof(*missing_files); i++)
		if (strstr(log, missing_files[i].needle))
			return dc_xasprintf("%s needs %s: install them with '%s'", j->b->who,
					    missing_files[i].what, missing_files[i].install);
	for (size_t i = 0; i < sizeof(missing_crate) / sizeof(*missing_crate); i++) {
		const char *at = strstr(log, missing_crate[i]);
		if (!at)
			continue;
		at += strlen(missing_crate[i]);
		size_t n = strcspn(at, "` \n");
		if (n > 0 && n < 64)
			return crate_hint(j, at, n);
	}
	return NULL;
}

/* Why the build failed, in one line: what to install when the log says,
 * else the log's telling line. Caller frees. */
static char *failure(const struct job *j, const char *tool, int code)
{
	struct dc_buf b = DC_BUF_INIT(DC_MAX_FILE);
	char *hint = NULL;
	if (dc_buf_read_file(&b, j->log) == 0 && b.len > 0)
		hint = missing_hint(j, b.ptr);
	dc_buf_dispose(&b);
	if (hint) {
		char *out = dc_xasprintf("%s (see '%s')", hint, j->log);
		free(hint);
		return out;
	}
	char *why = log_summary(j->log);
	char *out = dc_xasprintf("building %s failed: '%s' exited with %d (%s); see '%s'",
				 j->b->who, tool, code, why, j->log);
	free(why);
	return out;
}

/* In the child between fork and exec: only system calls, as the parent
 * may have other threads holding locks. */
static void child(const struct job *j, char *const argv[])
{
	int null = open("/dev/null", O_RDONLY);
	int log = open(j->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (null < 0 || log < 0 || dup2(null, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0 ||
	    chdir(j->dir) < 0)
		_exit(126);
	execvp(argv[0], argv);
	_exit(127);
}

/* Run argv in the build folder, its output appended to the build log. */
static int run(const struct job *j, char *const argv[])
{
	pid_t pid = fork();
	if (pid < 0)
		return dc_error_set("cannot run '%s': %s", argv[0], strerror(errno));
	if (pid == 0)
		child(j, argv);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return dc_error_set("waiting for '%s': %s", argv[0], strerror(errno));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	char *why = failure(j, argv[0], code);
	int rc = dc_error_set("%s", why);
	free(why);
	return rc;
}

/* ---- ELF: the loader and libraries a binary asks for ------------------- */

struct elf {
	int machine;
	char *interp;           /* PT_INTERP, or NULL for a static binary */
	char *needed[MAX_LIBS]; /* DT_NEEDED */
	size_t n;
};

static void elf_dispose(struct elf *e)
{
	free(e->interp);
	for (size_t i = 0; i < e->n; i++)
		free(e->needed[i]);
}

/* The file offset of virtual address v, from the PT_LOAD that maps it. */
static int vaddr_offset(size_t *out, const Elf64_Phdr *ph, size_t n, Elf64_Addr v)
{
	for (size_t i = 0; i < n; i++) {
		if (ph[i].p_type == PT_LOAD && v >= ph[i].p_vaddr &&
		    v - ph[i].p_vaddr < ph[i].p_filesz) {
			*out = (size_t)(v - ph[i].p_vaddr + ph[i].p_offset);
			return 0;
		}
	}
	return -1;
}

static int elf_string(char **out, const struct dc_buf *b, size_t off)
{
	if (off >= b->len || !memchr(b->ptr + off, '\0', b->len - off))
		return -1;
	*out = dc_xstrdup(b->ptr + off);
	return 0;
}

static int read_dynamic(struct elf *e, const struct dc_buf *b, const Elf64_Phdr *ph, size_t n,
			const Elf64_Phdr *dyn)
{
	if (dyn->p_offset % 8 || dyn->p_offset > b->len || dyn->p_filesz > b->len - dyn->p_offset)
		return -1;
	const Elf64_Dyn *d = (const Elf64_Dyn *)(b->ptr + dyn->p_offset);
	size_t count = dyn->p_filesz / sizeof(*d), strtab = 0;
	for (size_t i = 0; i < count && d[i].d_tag != DT_NULL; i++)
		if (d[i].d_tag == DT_STRTAB && vaddr_offset(&strtab, ph, n, d[i].d_un.d_ptr) < 0)
			return -1;
	for (size_t i = 0; i < count && d[i].d_tag != DT_NULL; i++) {
		if (d[i].d_tag != DT_NEEDED)
			continue;
		if (e->n == MAX_LIBS || !strtab ||
		    elf_string(&e->needed[e->n], b, strtab + d[i].d_un.d_val) < 0)
			return -1;
		e->n++;
	}
	return 0;
}

/* The buffer comes from malloc, and ELF aligns its tables to 8 bytes: a
 * file that does not is refused rather than read misaligned. */
static int parse_elf(struct elf *e, const struct dc_buf *b)
{
	const Elf64_Ehdr *h = (const Elf64_Ehdr *)b->ptr;
	if (b->len < sizeof(*h) || memcmp(h->e_ident, ELFMAG, SELFMAG) != 0 ||
	    h->e_ident[EI_CLASS] != ELFCLASS64 || h->e_ident[EI_DATA] != ELFDATA2LSB ||
	    h->e_phentsize != sizeof(Elf64_Phdr) || h->e_phoff % 8 || h->e_phoff > b->len ||
	    (size_t)h->e_phnum * sizeof(Elf64_Phdr) > b->len - h->e_phoff)
		return -1;
	e->machine = h->e_machine;
	const Elf64_Phdr *ph = (const Elf64_Phdr *)(b->ptr + h->e_phoff);
	for (size_t i = 0; i < h->e_phnum; i++) {
		if (ph[i].p_type == PT_INTERP && !e->interp &&
		    elf_string(&e->interp, b, (size_t)ph[i].p_offset) < 0)
			return -1;
		if (ph[i].p_type == PT_DYNAMIC && read_dynamic(e, b, ph, h->e_phnum, &ph[i]) < 0)
			return -1;
	}
	return 0;
}

/* A 64-bit little-endian ELF file's machine, loader and needed libraries.
 * -1 with a message (and nothing to dispose) when it is not one. */
static int read_elf(struct elf *out, const char *path)
{
	memset(out, 0, sizeof(*out));
	struct dc_buf b = DC_BUF_INIT(MAX_BINARY);
	int rc = dc_buf_read_file(&b, path);
	if (rc == 0 && parse_elf(out, &b) < 0) {
		elf_dispose(out);
		rc = dc_error_set("'%s' is not a 64-bit little-endian ELF file, or is damaged", path);
	}
	dc_buf_dispose(&b);
	return rc;
}

/* The first file called name in the target's library folders that is built
 * for its machine, or NULL. Caller frees. */
static char *find_lib(const struct target *t, const char *name)
{
	for (size_t i = 0; t->libdirs[i]; i++) {
		char *path = dc_xasprintf("%s/%s", t->libdirs[i], name);
		struct elf e;
		if (access(path, R_OK) == 0 && read_elf(&e, path) == 0) {
			int ok = e.machine == t->machine;
			elf_dispose(&e);
			if (ok)
				return path;
		}
		free(path);
	}
	return NULL;
}

struct libset {
	char *names[MAX_LIBS];
	size_t n;
};

static int seen(const struct libset *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->names[i], name) == 0)
			return 1;
	return 0;
}

static int add_lib(struct libset *s, const char *name, const char *who)
{
	if (seen(s, name))
		return 0;
	if (s->n == MAX_LIBS)
		return dc_error_set("building %s: the handler needs more than %d libraries", who,
				    MAX_LIBS);
	s->names[s->n++] = dc_xstrdup(name);
	return 0;
}

/* Copy lib `name` into stage/lib and queue the libraries it needs. */
static int bundle_one(const struct job *j, struct libset *s, const char *name)
{
	char *from = find_lib(j->t, name);
	if (!from)
		return dc_error_set("building %s: library '%s' that the handler needs was not found",
				    j->b->who, name);
	char *to = dc_xasprintf("%s/lib/%s", j->stage, name);
	struct elf e;
	int rc = copy_file(from, to, 0755);
	if (rc == 0 && (rc = read_elf(&e, from)) == 0) {
		for (size_t i = 0; rc == 0 && i < e.n; i++)
			rc = add_lib(s, e.needed[i], j->b->who);
		elf_dispose(&e);
	}
	free(to);
	free(from);
	return rc;
}

/* Every library the handler needs, transitively, and its loader, in
 * stage/lib. */
static int bundle(const struct job *j, const struct elf *handler)
{
	struct libset s = { .n = 0 };
	const char *base = strrchr(handler->interp, '/');
	int rc = add_lib(&s, base ? base + 1 : handler->interp, j->b->who);
	for (size_t i = 0; rc == 0 && i < handler->n; i++)
		rc = add_lib(&s, handler->needed[i], j->b->who);
	for (size_t i = 0; rc == 0 && i < s.n; i++)
		rc = bundle_one(j, &s, s.names[i]);
	for (size_t i = 0; i < s.n; i++)
		free(s.names[i]);
	return rc;
}

/* ---- bootstrap ------------------------------------------------------------ */

/* Static, so it runs anywhere: finds its folder from argv[0] (Lambda starts
 * /var/task/bootstrap), else /proc/self/exe, else LAMBDA_TASK_ROOT, and
 * hands over to the bundled loader with only lib/ searched. */
static const char launcher_fmt[] =
	"#include <limits.h>\n"
	"#include <stdio.h>\n"
	"#include <stdlib.h>\n"
	"#include <string.h>\n"
	"#include <unistd.h>\n"
	"static int here(char *dir, size_t size, const char *argv0)\n"
	"{\n"
	"	const char *slash = argv0 ? strrchr(argv0, '/') : NULL;\n"
	"	if (slash) {\n"
	"		snprintf(dir, size, \"%%.*s\", (int)(slash - argv0), argv0);\n"
	"		return 0;\n"
	"	}\n"
	"	ssize_t n = readlink(\"/proc/self/exe\", dir, size - 1);\n"
	"	if (n > 0) {\n"
	"		dir[n] = 0;\n"
	"		*strrchr(dir, '/') = 0;\n"
	"		return 0;\n"
	"	}\n"
	"	const char *root = getenv(\"LAMBDA_TASK_ROOT\");\n"
	"	return root ? snprintf(dir, size, \"%%s\", root), 0 : -1;\n"
	"}\n"
	"int main(int argc, char **argv)\n"
	"{\n"
	"	static char dir[PATH_MAX], loader[PATH_MAX + 64], lib[PATH_MAX + 8], exe[PATH_MAX + 16];\n"
	"	if (here(dir, sizeof(dir), argv[0]) < 0) {\n"
	"		fputs(\"bootstrap: cannot tell which folder I am in\\n\", stderr);\n"
	"		return 127;\n"
	"	}\n"
	"	snprintf(loader, sizeof(loader), \"%%s/lib/%s\", dir);\n"
	"	snprintf(lib, sizeof(lib), \"%%s/lib\", dir);\n"
	"	snprintf(exe, sizeof(exe), \"%%s/bin/handler\", dir);\n"
	"	char **args = calloc((size_t)argc + 6, sizeof(*args));\n"
	"	int n = 0;\n"
	"	args[n++] = loader;\n"
	"	args[n++] = \"--inhibit-cache\";\n"
	"	args[n++] = \"--library-path\";\n"
	"	args[n++] = lib;\n"
	"	args[n++] = exe;\n"
	"	for (int i = 1; i < argc; i++)\n"
	"		args[n++] = argv[i];\n"
	"	execv(loader, args);\n"
	"	perror(loader);\n"
	"	return 127;\n"
	"}\n";

static int make_launcher(const struct job *j, const char *loader)
{
	const char *base = strrchr(loader, '/');
	char *path = dc_xasprintf("%s/bootstrap.c", j->dir);
	char *src = dc_xasprintf(launcher_fmt, base ? base + 1 : loader);
	char *out = dc_xasprintf("%s/bootstrap", j->stage);
	char *cc = (char *)j->t->cc;
	char *argv[] = { cc, "-static", "-O2", "-s", "-o", out, path, NULL };
	int rc = write_file(path, src, strlen(src), 0644);
	if (rc == 0)
		rc = run(j, argv);
	free(out);
	free(src);
	free(path);
	return rc;
}

/* stage/bin/handler becomes a package: bundled with its loader and
 * libraries behind the launcher, or, when static, the bootstrap itself. */
static int package_handler(const struct job *j)
{
	char *handler = dc_xasprintf("%s/bin/handler", j->stage);
	struct elf e;
	int rc = read_elf(&e, handler);
	if (rc < 0)
		goto done;
	if (e.machine != j->t->machine) {
		rc = dc_error_set("building %s: the handler was built for another machine than %s",
				  j->b->who, j->t->arch);
	} else if (!e.interp) {
		char *boot = dc_xasprintf("%s/bootstrap", j->stage);
		if (rename(handler, boot) < 0)
			rc = dc_error_set("cannot move '%s': %s", handler, strerror(errno));
		free(boot);
	} else {
		rc = bundle(j, &e);
		if (rc == 0)
			rc = make_launcher(j, e.interp);
	}
	elf_dispose(&e);
done:
	free(handler);
	return rc;
}

/* ---- recipes ------------------------------------------------------------- */

static int build_cpp(const struct job *j)
{
	const struct dc_lambda_code *src = j->b->src;
	char *out = dc_xasprintf("%s/bin/handler", j->stage);
	char **argv = dc_xcalloc(src->n + 10, sizeof(*argv));
	size_t n = 0;
	const char *fixed[] = { j->t->cxx, "-std=c++17", "-O2", "-s", "-static-libstdc++",
				"-static-libgcc", "-o", out };
	for (size_t i = 0; i < sizeof(fixed) / sizeof(*fixed); i++)
		argv[n++] = dc_xstrdup(fixed[i]);
	for (size_t i = 0; i < src->n; i++) {
		size_t len = strlen(src->files[i].path);
		if (len > 4 && strcmp(src->files[i].path + len - 4, ".cpp") == 0)
			argv[n++] = dc_xasprintf("src/%s", src->files[i].path);
	}
	int rc = n > 8 ? 0 : dc_error_set("building %s: the code folder has no .cpp file", j->b->who);
	argv[n++] = dc_xstrdup("-lcurl");
	argv[n++] = dc_xstrdup("-lcrypto");
	if (rc == 0)
		rc = run(j, argv);
	for (size_t i = 0; i < n; i++)
		free(argv[i]);
	free(argv);
	free(out);
	return rc;
}

/* Cargo's target folder is shared by every build in the cache, so that a
 * changed handler recompiles the handler and not its dependencies. */
static int build_rust(const struct job *j)
{
	char *target = dc_xasprintf("%s/../cargo-target", j->dir);
	char *linker = j->t->rust ? dc_xasprintf("target.%s.linker=\"%s\"", j->t->rust, j->t->cc)
				  : NULL;
	char *argv[] = { "cargo", "build", "--release", "--manifest-path", "src/Cargo.toml",
			 "--target-dir", target, NULL, NULL, NULL, NULL, NULL };
	if (j->t->rust) {
		argv[7] = "--target";
		argv[8] = (char *)j->t->rust;
		argv[9] = "--config";
		argv[10] = linker;
	}
	char *built = j->t->rust ? dc_xasprintf("%s/%s/release/bootstrap", target, j->t->rust)
				 : dc_xasprintf("%s/release/bootstrap", target);
	char *out = dc_xasprintf("%s/bin/handler", j->stage);
	int rc = run(j, argv);
	if (rc == 0)
		rc = copy_file(built, out, 0755);
	free(out);
	free(built);
	free(linker);
	free(target);
	return rc;
}

struct recipe {
	const char *kind;
	const char *tool;    /* NULL: the target's C++ compiler */
	const char *install; /* how to get the tool */
	int (*build)(const struct job *j);
};

static const struct recipe recipes[] = {
	{ "cpp", NULL, "'apt-get install g++ libcurl4-openssl-dev libssl-dev'", build_cpp },
	{ "rust", "cargo", "'apt-get install cargo' or rustup", build_rust },
};

static const struct recipe *find_recipe(const char *kind)
{
	for (size_t i = 0; i < sizeof(recipes) / sizeof(*recipes); i++)
		if (strcmp(recipes[i].kind, kind) == 0)
			return &recipes[i];
	return NULL;
}

static const struct target *find_target(const char *arch)
{
	for (size_t i = 0; i < sizeof(targets) / sizeof(*targets); i++)
		if (strcmp(targets[i].arch, arch) == 0)
			return &targets[i];
	return NULL;
}

/* ---- public --------------------------------------------------------------- */

int dc_lambda_build_check_kind(const char *kind)
{
	if (!find_recipe(kind))
		return dc_error_set("unknown build '%s' (known: cpp, rust)", kind);
	return 0;
}

char *dc_lambda_build_dir(const struct dc_lambda_build *b)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	if (xdg && xdg[0] == '/')
		return dc_xasprintf("%s/deployctl/build/%s-%s-%s", xdg, b->hash, b->kind, b->arch);
	if (home && *home)
		return dc_xasprintf("%s/.cache/deployctl/build/%s-%s-%s", home, b->hash, b->kind,
				    b->arch);
	dc_error_set("building %s needs a cache folder: set HOME or XDG_CACHE_HOME", b->who);
	return NULL;
}

int dc_lambda_build_done(const char *dir)
{
	char *boot = dc_xasprintf("%s/pkg/bootstrap", dir);
	int done = access(boot, X_OK) == 0;
	free(boot);
	return done;
}

/* The stage folder becomes dir/pkg in one rename; a build that finished
 * first in another process wins. */
static int publish(const struct job *j)
{
	char *pkg = dc_xasprintf("%s/pkg", j->dir);
	int rc = 0;
	if (rename(j->stage, pkg) < 0) {
		if ((errno == ENOTEMPTY || errno == EEXIST) && dc_lambda_build_done(j->dir))
			rc = rm_tree(j->stage);
		else
			rc = dc_error_set("cannot move '%s' to '%s': %s", j->stage, pkg,
					  strerror(errno));
	}
	free(pkg);
	return rc;
}

static int prepare_job(struct job *j)
{
	const struct recipe *r = find_recipe(j->b->kind);
	if (!r)
		return dc_lambda_build_check_kind(j->b->kind);
	if (!j->t)
		return dc_error_set("building %s: unknown architecture '%s' (x86_64 or arm64)",
				    j->b->who, j->b->arch);
	if (need_tool(j, r->tool ? r->tool : j->t->cxx, r->install) < 0 ||
	    need_tool(j, j->t->cc, "'apt-get install gcc'") < 0)
		return -1;
	char *bin = dc_xasprintf("%s/bin", j->stage);
	char *lib = dc_xasprintf("%s/lib", j->stage);
	int rc = mkdirs(j->dir);
	if (rc == 0)
		rc = rm_tree(j->stage);
	if (rc == 0)
		rc = mkdirs(bin);
	if (rc == 0)
		rc = mkdirs(lib);
	if (rc == 0)
		rc = write_sources(j);
	free(lib);
	free(bin);
	return rc;
}

int dc_lambda_build_run(char **out, const struct dc_lambda_build *b, const char *dir)
{
	*out = NULL;
	struct job j = { b, find_target(b->arch), dir, dc_xasprintf("%s/build.log", dir),
			 dc_xasprintf("%s/pkg.tmp", dir) };
	int rc = 0;
	if (!dc_lambda_build_done(dir)) {
		rc = prepare_job(&j);
		unlink(j.log);
		if (rc == 0)
			rc = find_recipe(b->kind)->build(&j);
		if (rc == 0)
			rc = package_handler(&j);
		if (rc == 0)
			rc = publish(&j);
	}
	if (rc == 0)
		*out = dc_xasprintf("%s/pkg", dir);
	free(j.stage);
	free(j.log);
	return rc;
}
