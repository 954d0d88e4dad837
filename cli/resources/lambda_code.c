/* Zipping a function's code folder in memory, reproducibly: the zip's bytes
 * depend only on the files' paths, contents and execute bits, never on
 * timestamps, owners, the order readdir gives or the time zone. */
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <zip.h>

#include "resources/lambda_code.h"
#include "util/error.h"
#include "util/xalloc.h"

/* Lambda's own limits: 250 MB unzipped; 50 MB zipped when sent in the
 * request, which carries it base64-encoded (4/3 larger) within our cap. */
#define MAX_UNZIPPED ((size_t)250 * 1000 * 1000)
#define MAX_ZIPPED ((size_t)45 << 20)
#define MAX_FILES 20000
#define MAX_DEPTH 32
/* DOS date of 1980-01-01 (day 1, month 1, year 0), time 00:00:00. */
#define FIXED_DOSDATE ((1 << 5) | 1)
#define FIXED_DOSTIME 0

struct walk {
	struct dc_lambda_code *code;
	size_t cap;
	size_t total;
};

static int skipped(const char *name)
{
	return strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strcmp(name, ".git") == 0 ||
	       strcmp(name, "__pycache__") == 0;
}

static int add_file(struct walk *w, const char *full, const char *rel, const struct stat *st)
{
	struct dc_lambda_code *c = w->code;
	if (c->n >= MAX_FILES)
		return dc_error_set("code folder has more than %d files", MAX_FILES);
	struct dc_buf b = DC_BUF_INIT(DC_MAX_FILE);
	if (dc_buf_read_file(&b, full) < 0)
		return -1;
	w->total += b.len;
	if (w->total > MAX_UNZIPPED) {
		dc_buf_dispose(&b);
		return dc_error_set("code folder holds more than Lambda's %zu bytes", MAX_UNZIPPED);
	}
	dc_xgrow((void **)&c->files, &w->cap, c->n + 1, sizeof(*c->files));
	struct dc_lambda_file *f = &c->files[c->n++];
	f->len = b.len;
	f->data = dc_buf_take(&b);
	f->path = dc_xstrdup(rel);
	f->exec = (st->st_mode & 0111) != 0;
	return 0;
}

static int walk_dir(struct walk *w, const char *dir, const char *rel, int depth);

static int walk_entry(struct walk *w, const char *dir, const char *rel, const char *name,
		      int depth)
{
	char *full = dc_xasprintf("%s/%s", dir, name);
	char *sub = *rel ? dc_xasprintf("%s/%s", rel, name) : dc_xstrdup(name);
	struct stat st;
	int rc = 0;
	if (stat(full, &st) < 0)
		rc = dc_error_set("cannot read '%s': %s", full, strerror(errno));
	else if (S_ISDIR(st.st_mode))
		rc = walk_dir(w, full, sub, depth + 1);
	else if (S_ISREG(st.st_mode))
		rc = add_file(w, full, sub, &st);
	free(full);
	free(sub);
	return rc;
}

static int walk_dir(struct walk *w, const char *dir, const char *rel, int depth)
{
	if (depth > MAX_DEPTH)
		return dc_error_set("code folder '%s' is nested more than %d deep", dir, MAX_DEPTH);
	DIR *d = opendir(dir);
	if (!d)
		return dc_error_set("cannot open code folder '%s': %s", dir, strerror(errno));
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (e = readdir(d)) != NULL)
		if (!skipped(e->d_name))
			rc = walk_entry(w, dir, rel, e->d_name, depth);
	closedir(d);
	return rc;
}

static int by_path(const void *a, const void *b)
{
	const struct dc_lambda_file *x = a, *y = b;
	return strcmp(x->path, y->path);
}

int dc_lambda_code_read(struct dc_lambda_code *out, const char *dir)
{
	out->files = NULL;
	out->n = 0;
	struct walk w = { out, 0, 0 };
	if (walk_dir(&w, dir, "", 0) < 0)
		return -1;
	if (out->n == 0)
		return dc_error_set("code folder '%s' has no files", dir);
	qsort(out->files, out->n, sizeof(*out->files), by_path);
	return 0;
}

void dc_lambda_code_dispose(struct dc_lambda_code *code)
{
	for (size_t i = 0; i < code->n; i++) {
		free(code->files[i].path);
		free(code->files[i].data);
	}
	free(code->files);
	code->files = NULL;
	code->n = 0;
}

void dc_lambda_code_hash(char out[65], const struct dc_lambda_code *code)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md)
		abort();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	for (size_t i = 0; i < code->n; i++) {
		const struct dc_lambda_file *f = &code->files[i];
		/* Path, mode and length first, each ended by a NUL, so no two
		 * different folders can feed the digest the same bytes. */
		char head[64];
		int n = snprintf(head, sizeof(head), "%c%s%c%zu%c", '\0', f->exec ? "755" : "644",
				 '\0', f->len, '\0');
		EVP_DigestUpdate(md, f->path, strlen(f->path));
		EVP_DigestUpdate(md, head, (size_t)n);
		EVP_DigestUpdate(md, f->data, f->len);
	}
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_DigestFinal_ex(md, digest, &len);
	EVP_MD_CTX_free(md);
	for (unsigned int i = 0; i < len; i++)
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

int dc_lambda_code_hash_dir(char out[65], const char *dir)
{
	struct dc_lambda_code code;
	int rc = dc_lambda_code_read(&code, dir);
	if (rc == 0)
		dc_lambda_code_hash(out, &code);
	dc_lambda_code_dispose(&code);
	return rc;
}

static int zip_fail(zip_t *za, const char *what)
{
	return dc_error_set("cannot zip the code (%s): %s", what, zip_strerror(za));
}

static int add_entry(zip_t *za, const struct dc_lambda_file *f)
{
	zip_source_t *src = zip_source_buffer(za, f->data, f->len, 0);
	if (!src)
		return zip_fail(za, f->path);
	zip_int64_t idx = zip_file_add(za, f->path, src, ZIP_FL_ENC_UTF_8);
	if (idx < 0) {
		zip_source_free(src);
		return zip_fail(za, f->path);
	}
	zip_uint32_t mode = 0100000u | (f->exec ? 0755u : 0644u);
	zip_uint64_t i = (zip_uint64_t)idx;
	if (zip_file_set_dostime(za, i, FIXED_DOSTIME, FIXED_DOSDATE, 0) < 0 ||
	    zip_file_set_external_attributes(za, i, 0, ZIP_OPSYS_UNIX, mode << 16) < 0 ||
	    zip_set_file_compression(za, i, ZIP_CM_DEFLATE, 9) < 0)
		return zip_fail(za, f->path);
	return 0;
}

/* Copy what zip_close wrote into the memory source out to the buffer. */
static int take_source(struct dc_buf *out, zip_source_t *src)
{
	zip_stat_t st;
	if (zip_source_stat(src, &st) < 0 || !(st.valid & ZIP_STAT_SIZE))
		return dc_error_set("cannot zip the code: the archive has no size");
	if (st.size > MAX_ZIPPED)
		return dc_error_set("the zipped code is %llu bytes, more than the %zu Lambda takes "
				    "in a request", (unsigned long long)st.size, MAX_ZIPPED);
	if (zip_source_open(src) < 0)
		return dc_error_set("cannot zip the code: cannot reopen the archive");
	int rc = 0;
	char chunk[65536];
	zip_int64_t n;
	while (rc == 0 && (n = zip_source_read(src, chunk, sizeof(chunk))) > 0)
		rc = dc_buf_put(out, chunk, (size_t)n);
	if (rc == 0 && n < 0)
		rc = dc_error_set("cannot zip the code: reading the archive failed");
	zip_source_close(src);
	return rc;
}

int dc_lambda_code_zip(struct dc_buf *out, const struct dc_lambda_code *code)
{
	zip_error_t ze;
	zip_error_init(&ze);
	zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &ze);
	zip_t *za = src ? zip_open_from_source(src, ZIP_TRUNCATE, &ze) : NULL;
	if (!za) {
		int rc = dc_error_set("cannot zip the code: %s", zip_error_strerror(&ze));
		zip_error_fini(&ze);
		if (src)
			zip_source_free(src);
		return rc;
	}
	zip_error_fini(&ze);
	/* Keep the memory source alive past zip_close, which writes to it. */
	zip_source_keep(src);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < code->n; i++)
		rc = add_entry(za, &code->files[i]);
	if (rc == 0 && zip_close(za) < 0)
		rc = zip_fail(za, "writing");
	if (rc < 0)
		zip_discard(za);
	else
		rc = take_source(out, src);
	zip_source_free(src);
	return rc;
}
