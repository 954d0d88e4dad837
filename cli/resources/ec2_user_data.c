/* An instance's user data: a cloud-init shell script from the template, with
 * the template files it names written first, each by a heredoc with a quoted
 * delimiter, so the file on the instance is byte for byte the template's. */
#include "resources/ec2_common.h"
#include "util/error.h"
#include "util/xalloc.h"

#define HEREDOC_END "DEPLOYCTL_FILE_END"
/* EC2 refuses user data over 16 KB (before base64). */
#define USER_DATA_MAX (16 * 1024)

static int read_template_file(struct dc_buf *out, const struct dc_res_ctx *ctx, const char *rel)
{
	char *path = dc_xasprintf("%s/%s", ctx->template_dir ? ctx->template_dir : ".", rel);
	int rc = dc_buf_read_file(out, path);
	free(path);
	return rc;
}

/* Paths are put in the script inside single quotes: keep them plain. */
static int safe_path(const char *p)
{
	if (p[0] != '/' || strstr(p, ".."))
		return 0;
	return strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/-") ==
	       strlen(p);
}

/* A heredoc can carry any text that ends with a newline and has no line
 * equal to its delimiter. */
static int heredoc_safe(const struct dc_buf *b, const char *src)
{
	if (memchr(b->ptr, '\0', b->len))
		return dc_error_set("user data file '%s' is not text", src);
	if (b->len == 0 || b->ptr[b->len - 1] != '\n')
		return dc_error_set("user data file '%s' must end with a newline", src);
	const char *s = dc_buf_cstr(b);
	size_t n = strlen(HEREDOC_END);
	for (const char *l = s; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, HEREDOC_END, n) == 0 && (l[n] == '\n' || l[n] == '\0'))
			return dc_error_set("user data file '%s' has a line '%s'", src,
					    HEREDOC_END);
	return 0;
}

static int add_file(struct dc_buf *out, const struct dc_res_ctx *ctx, const char *dest,
		    const char *src)
{
	struct dc_buf content = DC_BUF_INIT(DC_MAX_SMALL);
	if (!safe_path(dest))
		return dc_error_set("user data path '%s' must be absolute, of letters, digits, "
				    "'.', '_', '-' and '/'", dest);
	int rc = read_template_file(&content, ctx, src);
	if (rc == 0)
		rc = heredoc_safe(&content, src);
	const char *slash = strrchr(dest, '/');
	if (rc == 0 && slash != dest)
		rc = dc_buf_printf(out, "mkdir -p '%.*s'\n", (int)(slash - dest), dest);
	if (rc == 0)
		rc = dc_buf_printf(out, "cat > '%s' <<'%s'\n%s%s\n", dest, HEREDOC_END,
				   dc_buf_cstr(&content), HEREDOC_END);
	dc_buf_dispose(&content);
	return rc;
}

static int add_files(struct dc_buf *out, const struct dc_res_ctx *ctx, const json_t *files)
{
	const char *dest;
	json_t *src;
	if (files && !json_is_object(files))
		return dc_error_set("instance '%s': \"user_data_files\" must map instance paths "
				    "to template files", ctx->logical_id);
	if (json_object_size(files) == 0)
		return 0;
	int rc = dc_buf_puts(out, "# files from the template, written by deployctl\n");
	json_object_foreach((json_t *)files, dest, src) {
		if (rc == 0 && !json_is_string(src))
			rc = dc_error_set("user_data_files: '%s' must name a template file", dest);
		if (rc == 0)
			rc = add_file(out, ctx, dest, json_string_value(src));
	}
	return rc;
}

/* The script's text: "user_data", or the template file "user_data_file". */
static int script_text(struct dc_buf *out, const struct dc_res_ctx *ctx, const json_t *props)
{
	const json_t *text = json_object_get(props, "user_data");
	const json_t *file = json_object_get(props, "user_data_file");
	if (text && file)
		return dc_error_set("instance '%s': give \"user_data\" or \"user_data_file\", not "
				    "both", ctx->logical_id);
	if (file && !json_is_string(file))
		return dc_error_set("instance '%s': \"user_data_file\" must be a path",
				    ctx->logical_id);
	if (file)
		return read_template_file(out, ctx, json_string_value(file));
	if (text && !json_is_string(text))
		return dc_error_set("instance '%s': \"user_data\" must be text", ctx->logical_id);
	return dc_buf_puts(out, text ? json_string_value(text) : "");
}

int dc_ec2_user_data(struct dc_buf *out, const struct dc_res_ctx *ctx, const json_t *props)
{
	struct dc_buf script = DC_BUF_INIT(DC_MAX_SMALL);
	const json_t *files = json_object_get(props, "user_data_files");
	int rc = script_text(&script, ctx, props);
	const char *s = dc_buf_cstr(&script);
	/* The files go right after the "#!" line, before anything that uses
	 * them. */
	size_t head = strncmp(s, "#!", 2) == 0 ? strcspn(s, "\n") : 0;
	if (head && s[head] == '\n')
		head++;
	if (rc == 0 && files && !head)
		rc = dc_error_set("instance '%s': user data with files must start with \"#!\"",
				  ctx->logical_id);
	if (rc == 0)
		rc = dc_buf_put(out, s, head);
	if (rc == 0)
		rc = add_files(out, ctx, files);
	if (rc == 0)
		rc = dc_buf_puts(out, s + head);
	if (rc == 0 && out->len > USER_DATA_MAX)
		rc = dc_error_set("instance '%s': user data is %zu bytes, EC2 takes at most %d",
				  ctx->logical_id, out->len, USER_DATA_MAX);
	dc_buf_dispose(&script);
	return rc;
}
