/* An instance's user data: a cloud-init shell script from the template, with
 * the template's values set first (NAME='value', single-quoted), then the
 * template files it names, each written by a heredoc with a quoted
 * delimiter, so the file on the instance is byte for byte the template's. */
#include <ctype.h>

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

static int is_shell_name(const char *s)
{
	if (!*s || isdigit((unsigned char)*s))
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == strlen(s);
}

/* One NAME='value' line; a value is a string or a whole number, without
 * quotes or line breaks, so that single quotes keep it literal. */
static int add_var(struct dc_buf *out, const struct dc_res_ctx *ctx, const char *name,
		   const json_t *v)
{
	if (!is_shell_name(name))
		return dc_error_set("instance '%s': user_data_env name '%s' must be upper-case "
				    "letters, digits and '_'", ctx->logical_id, name);
	if (json_is_integer(v))
		return dc_buf_printf(out, "%s='%lld'\n", name, (long long)json_integer_value(v));
	const char *s = json_string_value(v);
	if (!s || strpbrk(s, "'\n\r"))
		return dc_error_set("instance '%s': user_data_env '%s' must be a string without "
				    "quotes or line breaks, or a whole number",
				    ctx->logical_id, name);
	return dc_buf_printf(out, "%s='%s'\n", name, s);
}

static int add_vars(struct dc_buf *out, const struct dc_res_ctx *ctx, const json_t *vars)
{
	const char *name;
	json_t *v;
	if (vars && !json_is_object(vars))
		return dc_error_set("instance '%s': \"user_data_env\" must map names to values",
				    ctx->logical_id);
	if (json_object_size(vars) == 0)
		return 0;
	int rc = dc_buf_puts(out, "# values from the template, set by deployctl\n");
	json_object_foreach((json_t *)vars, name, v)
		if (rc == 0)
			rc = add_var(out, ctx, name, v);
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
	const json_t *vars = json_object_get(props, "user_data_env");
	int rc = script_text(&script, ctx, props);
	const char *s = dc_buf_cstr(&script);
	/* Values and files go right after the "#!" line, before anything that
	 * uses them. */
	size_t head = strncmp(s, "#!", 2) == 0 ? strcspn(s, "\n") : 0;
	if (head && s[head] == '\n')
		head++;
	if (rc == 0 && (files || vars) && !head)
		rc = dc_error_set("instance '%s': user data with files or values must start "
				  "with \"#!\"", ctx->logical_id);
	if (rc == 0)
		rc = dc_buf_put(out, s, head);
	if (rc == 0)
		rc = add_vars(out, ctx, vars);
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
