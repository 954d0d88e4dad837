/* s3.object: one object, from a file beside the template or an inline
 * string. prepare() adds the content's sha256 to the props, so a changed
 * file is a changed resource; update() puts it again. */
#include <limits.h>
#include <strings.h>

#include "aws/sigv4.h"
#include "resources/resource.h"
#include "resources/s3_common.h"
#include "util/error.h"
#include "util/xalloc.h"

struct object_spec {
	const char *bucket;
	const char *key;
	const char *content_type;
	struct dc_buf body;
	char sha256[65];
};

static const char *type_of(const char *path)
{
	static const char *const types[][2] = {
		{ "html", "text/html; charset=utf-8" },
		{ "htm", "text/html; charset=utf-8" },
		{ "js", "text/javascript; charset=utf-8" },
		{ "mjs", "text/javascript; charset=utf-8" },
		{ "css", "text/css; charset=utf-8" },
		{ "json", "application/json" },
		{ "txt", "text/plain; charset=utf-8" },
	};
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(slash ? slash : path, '.');
	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(dot + 1, types[i][0]) == 0)
			return types[i][1];
	return NULL;
}

/* The file `source` names, which must lie inside the templates tree (the
 * parent of the template's own directory, so "../common/x" is fine), even
 * through symbolic links. */
static int read_source(struct dc_buf *out, const struct dc_res_ctx *ctx, const char *source)
{
	char root[PATH_MAX], real[PATH_MAX];
	if (!*source || source[0] == '/')
		return dc_error_set("object '%s': \"source\" '%s' must be a path relative to the "
				    "template's directory", ctx->logical_id, source);
	char *up = dc_xasprintf("%s/..", ctx->template_dir);
	char *path = dc_xasprintf("%s/%s", ctx->template_dir, source);
	int rc = 0;
	if (!realpath(up, root) || !realpath(path, real))
		rc = dc_error_set("object '%s': cannot find \"source\" '%s'", ctx->logical_id,
				  source);
	else if (strncmp(real, root, strlen(root)) != 0 || real[strlen(root)] != '/')
		rc = dc_error_set("object '%s': \"source\" '%s' lies outside the templates "
				  "directory", ctx->logical_id, source);
	else
		rc = dc_buf_read_file(out, real);
	free(up);
	free(path);
	return rc;
}

/* content_type, else by the key's extension, else by the source's. */
static const char *content_type_of(const json_t *props)
{
	const char *given = json_string_value(json_object_get(props, "content_type"));
	const char *key = json_string_value(json_object_get(props, "key"));
	const char *source = json_string_value(json_object_get(props, "source"));
	const char *t = given ? given : key ? type_of(key) : NULL;
	if (!t && source)
		t = type_of(source);
	return t ? t : "application/octet-stream";
}

static int load_body(struct object_spec *s, const struct dc_res_ctx *ctx, const json_t *props)
{
	const json_t *source = json_object_get(props, "source");
	const json_t *content = json_object_get(props, "content");
	if (!source == !content || (source && !json_is_string(source)) ||
	    (content && !json_is_string(content)))
		return dc_error_set("object '%s': give either \"source\" (a file) or \"content\" "
				    "(a string)", ctx->logical_id);
	if (content)
		return dc_buf_put(&s->body, json_string_value(content),
				  json_string_length(content));
	return read_source(&s->body, ctx, json_string_value(source));
}

static void spec_dispose(struct object_spec *s)
{
	dc_buf_dispose(&s->body);
}

/* Check the props and read the content, before any call is made. */
static int spec_init(struct object_spec *s, const struct dc_res_ctx *ctx, const json_t *props)
{
	*s = (struct object_spec){ .body = DC_BUF_INIT(DC_MAX_FILE) };
	s->bucket = json_string_value(json_object_get(props, "bucket"));
	s->key = json_string_value(json_object_get(props, "key"));
	s->content_type = content_type_of(props);
	if (!s->bucket || !*s->bucket || !s->key || !*s->key)
		return dc_error_set("object '%s': \"bucket\" and \"key\" are required",
				    ctx->logical_id);
	if (load_body(s, ctx, props) < 0)
		return -1;
	dc_sha256_hex(s->sha256, dc_buf_cstr(&s->body), s->body.len);
	return 0;
}

static int object_prepare(struct dc_res_ctx *ctx, const json_t *props, json_t **out)
{
	struct object_spec s;
	int rc = spec_init(&s, ctx, props);
	*out = NULL;
	if (rc == 0) {
		*out = json_deep_copy(props);
		json_object_set_new(*out, "sha256", json_string(s.sha256));
	}
	spec_dispose(&s);
	return rc;
}

/* ETag without its quotes. */
static char *etag_of(const struct dc_http_response *res)
{
	const char *e = dc_headers_get(&res->headers, "ETag");
	size_t n = e ? strlen(e) : 0;
	if (n >= 2 && e[0] == '"' && e[n - 1] == '"')
		return dc_xstrndup(e + 1, n - 2);
	return dc_xstrdup(e ? e : "");
}

static int put_object(struct dc_res_ctx *ctx, const struct object_spec *s, char **etag)
{
	struct dc_s3_request r = { .method = "PUT", .bucket = s->bucket, .key = s->key,
				   .content_type = s->content_type,
				   .body = dc_buf_cstr(&s->body), .body_len = s->body.len };
	struct dc_http_response res;
	dc_http_response_init(&res);
	int rc = dc_s3_send(ctx->aws, &r, &res);
	*etag = rc == 0 ? etag_of(&res) : NULL;
	dc_http_response_dispose(&res);
	if (rc < 0)
		dc_error_prefix("putting object '%s/%s'", s->bucket, s->key);
	return rc;
}

static json_t *object_attrs(const char *bucket, const char *key, const char *etag,
			    const char *sha256)
{
	char *id = dc_xasprintf("%s/%s", bucket, key);
	json_t *attrs = json_pack("{s:s, s:s}", "id", id, "etag", etag);
	if (sha256)
		json_object_set_new(attrs, "sha256", json_string(sha256));
	free(id);
	return attrs;
}

/* A put replaces whatever a crashed run left under the key, so there is
 * nothing to adopt. */
static int object_create(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	struct object_spec s;
	char *etag = NULL;
	int rc = spec_init(&s, ctx, props);
	*attrs = NULL;
	if (rc == 0)
		rc = put_object(ctx, &s, &etag);
	if (rc == 0) {
		*attrs = object_attrs(s.bucket, s.key, etag, s.sha256);
		rc = ctx->record(ctx, *attrs);
	}
	if (rc < 0) {
		json_decref(*attrs);
		*attrs = NULL;
	}
	free(etag);
	spec_dispose(&s);
	return rc;
}

static int same_string(const json_t *a, const json_t *b, const char *name)
{
	const char *x = json_string_value(json_object_get(a, name));
	const char *y = json_string_value(json_object_get(b, name));
	return x && y && strcmp(x, y) == 0;
}

/* Another bucket or key is another object; new content or content type is
 * put again. What was put is known by its hash in attrs. */
static int object_update(struct dc_res_ctx *ctx, const json_t *old_props,
			 const json_t *new_props, json_t *attrs)
{
	struct object_spec s;
	char *etag = NULL;
	if (!same_string(old_props, new_props, "bucket") ||
	    !same_string(old_props, new_props, "key"))
		return DC_EREPLACE;
	int rc = spec_init(&s, ctx, new_props);
	const char *put_sha = json_string_value(json_object_get(attrs, "sha256"));
	if (rc == 0 && (!put_sha || strcmp(put_sha, s.sha256) != 0 ||
			strcmp(content_type_of(old_props), s.content_type) != 0))
		rc = put_object(ctx, &s, &etag);
	if (rc == 0 && etag) {
		json_object_set_new(attrs, "etag", json_string(etag));
		json_object_set_new(attrs, "sha256", json_string(s.sha256));
	}
	free(etag);
	spec_dispose(&s);
	return rc;
}

/* "bucket/key": bucket names hold no '/'. */
static int split_id(const json_t *attrs, char **bucket, const char **key)
{
	const char *id = json_string_value(json_object_get(attrs, "id"));
	const char *slash = id ? strchr(id, '/') : NULL;
	if (!slash || slash == id || !slash[1])
		return dc_error_set("object: state holds no \"bucket/key\" id");
	*bucket = dc_xstrndup(id, (size_t)(slash - id));
	*key = slash + 1;
	return 0;
}

static int object_delete(struct dc_res_ctx *ctx, const json_t *attrs)
{
	char *bucket = NULL;
	const char *key = NULL;
	if (split_id(attrs, &bucket, &key) < 0)
		return -1;
	struct dc_s3_request r = { .method = "DELETE", .bucket = bucket, .key = key };
	int rc = dc_s3_call(ctx->aws, &r, NULL);
	if (rc < 0 && rc != DC_ENOTFOUND)
		dc_error_prefix("deleting object '%s/%s'", bucket, key);
	free(bucket);
	return rc == DC_ENOTFOUND ? 0 : rc;
}

/* Objects carry no tags of ours: found by bucket and key alone. */
static int object_find(struct dc_res_ctx *ctx, const json_t *props, json_t **found)
{
	const char *bucket = json_string_value(json_object_get(props, "bucket"));
	const char *key = json_string_value(json_object_get(props, "key"));
	struct dc_s3_request r = { .method = "HEAD", .bucket = bucket, .key = key };
	struct dc_http_response res;
	*found = NULL;
	/* Swept without state, the bucket is unknown: the object goes when the
	 * bucket is emptied and deleted. */
	if (!bucket || !key) {
		*found = json_array();
		return 0;
	}
	dc_http_response_init(&res);
	int rc = dc_s3_send(ctx->aws, &r, &res);
	if (rc == 0 || rc == DC_ENOTFOUND)
		*found = json_array();
	if (rc == 0) {
		char *etag = etag_of(&res);
		json_array_append_new(*found, object_attrs(bucket, key, etag, NULL));
		free(etag);
	}
	dc_http_response_dispose(&res);
	return rc == DC_ENOTFOUND ? 0 : rc;
}

const struct dc_resource_type dc_type_s3_object = {
	.name = "s3.object",
	.prepare = object_prepare,
	.create = object_create,
	.update = object_update,
	.delete = object_delete,
	.find = object_find,
};
