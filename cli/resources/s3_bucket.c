/* s3.bucket: a private bucket (Block Public Access all on, SSE-S3 by
 * default, tagged), emptied of every object version before it is deleted. */
#include "aws/protocol.h"
#include "aws/sigv4.h"
#include "resources/resource.h"
#include "resources/s3_common.h"
#include "util/error.h"
#include "util/xalloc.h"

#define BUCKET_NAME_MAX 63
#define HASH_LEN 10
#define VISIBLE_LIMIT_S 60

static const char public_access_block[] =
	"<PublicAccessBlockConfiguration xmlns=\"" DC_S3_XMLNS "\">"
	"<BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>true</IgnorePublicAcls>"
	"<BlockPublicPolicy>true</BlockPublicPolicy>"
	"<RestrictPublicBuckets>true</RestrictPublicBuckets>"
	"</PublicAccessBlockConfiguration>";

static const char default_encryption[] =
	"<ServerSideEncryptionConfiguration xmlns=\"" DC_S3_XMLNS "\"><Rule>"
	"<ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm>"
	"</ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>";

/* "<stack>-<logical>-<10 hex>": bucket names are global, so the account and
 * region are hashed in to keep two accounts' stacks of one name apart. */
static char *bucket_name(const struct dc_res_ctx *ctx)
{
	char hash[65];
	char *scope = dc_xasprintf("%s:%s", ctx->account, ctx->region);
	dc_sha256_hex(hash, scope, strlen(scope));
	free(scope);
	char *prefix = dc_resource_name(ctx, BUCKET_NAME_MAX - HASH_LEN - 1);
	char *name = dc_xasprintf("%s-%.*s", prefix, HASH_LEN, hash);
	free(prefix);
	return name;
}

static json_t *bucket_attrs(const struct dc_res_ctx *ctx, const char *name)
{
	const char *partition = dc_endpoint_partition(ctx->region);
	const char *suffix = partition ? dc_endpoint_dns_suffix(partition) : NULL;
	char *arn = dc_xasprintf("arn:%s:s3:::%s", partition ? partition : "aws", name);
	char *domain = dc_xasprintf("%s.s3.%s.%s", name, ctx->region,
				    suffix ? suffix : "amazonaws.com");
	json_t *attrs = json_pack("{s:s, s:s, s:s, s:s}", "id", name, "name", name, "arn", arn,
				  "domain", domain);
	free(arn);
	free(domain);
	return attrs;
}

/* One bucket-level request with an optional XML body. doc may be NULL. */
static int s3(struct dc_res_ctx *ctx, const char *method, const char *bucket, const char *query,
	      const char *body, xmlDocPtr *doc)
{
	struct dc_s3_request r = { .method = method, .bucket = bucket, .query = query };
	if (body) {
		r.content_type = "application/xml";
		r.body = body;
		r.body_len = strlen(body);
	}
	return dc_s3_call(ctx->aws, &r, doc);
}

static char *tagging_xml(const struct dc_res_ctx *ctx)
{
	struct dc_buf b = DC_BUF_INIT(DC_MAX_SMALL);
	json_t *tags = dc_resource_tags(ctx), *v;
	const char *k;
	dc_buf_puts(&b, "<Tagging xmlns=\"" DC_S3_XMLNS "\"><TagSet>");
	json_object_foreach(tags, k, v) {
		dc_buf_puts(&b, "<Tag><Key>");
		dc_s3_xml_escape(&b, k);
		dc_buf_puts(&b, "</Key><Value>");
		dc_s3_xml_escape(&b, json_string_value(v));
		dc_buf_puts(&b, "</Value></Tag>");
	}
	dc_buf_puts(&b, "</TagSet></Tagging>");
	json_decref(tags);
	return dc_buf_take(&b);
}

/* Public access blocked, encrypted by default, tagged: whatever the bucket
 * had before (an adopted one may have been changed by hand). */
static int converge(struct dc_res_ctx *ctx, const char *name)
{
	char *tagging = tagging_xml(ctx);
	int rc = s3(ctx, "PUT", name, "publicAccessBlock", public_access_block, NULL);
	if (rc == 0)
		rc = s3(ctx, "PUT", name, "encryption", default_encryption, NULL);
	if (rc == 0)
		rc = s3(ctx, "PUT", name, "tagging", tagging, NULL);
	free(tagging);
	if (rc < 0)
		dc_error_prefix("bucket '%s'", name);
	return rc;
}

/* us-east-1 is the one region CreateBucket must not name. */
static char *create_body(const struct dc_res_ctx *ctx)
{
	if (strcmp(ctx->region, "us-east-1") == 0)
		return NULL;
	return dc_xasprintf("<CreateBucketConfiguration xmlns=\"" DC_S3_XMLNS "\">"
			    "<LocationConstraint>%s</LocationConstraint>"
			    "</CreateBucketConfiguration>",
			    ctx->region);
}

static int create_or_adopt(struct dc_res_ctx *ctx, const char *name, json_t **attrs)
{
	char *body = create_body(ctx);
	int rc = s3(ctx, "PUT", name, NULL, body, NULL);
	free(body);
	if (rc < 0 && dc_resource_error_is("BucketAlreadyOwnedByYou")) {
		rc = s3(ctx, "HEAD", name, NULL, NULL, NULL);
		if (rc == 0)
			*attrs = bucket_attrs(ctx, name);
		return rc;
	}
	if (rc < 0 && dc_resource_error_is("BucketAlreadyExists"))
		dc_error_prefix("bucket name '%s' belongs to another AWS account", name);
	if (rc < 0)
		return rc;
	*attrs = bucket_attrs(ctx, name);
	return ctx->record(ctx, *attrs);
}

static int bucket_visible(struct dc_res_ctx *ctx, void *name)
{
	int rc = s3(ctx, "HEAD", name, NULL, NULL, NULL);
	return rc == DC_ENOTFOUND ? 0 : rc == 0 ? 1 : rc;
}

static int bucket_create(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	char *name = bucket_name(ctx);
	*attrs = NULL;
	int rc = create_or_adopt(ctx, name, attrs);
	if (rc == 0)
		rc = converge(ctx, name);
	if (rc == 0) {
		char *what = dc_xasprintf("bucket '%s' to become visible", name);
		rc = dc_resource_wait(ctx, what, VISIBLE_LIMIT_S, bucket_visible, name);
		free(what);
	}
	if (rc < 0) {
		json_decref(*attrs);
		*attrs = NULL;
	}
	free(name);
	return rc;
}

static int bucket_update(struct dc_res_ctx *ctx, const json_t *old_props,
			 const json_t *new_props, json_t *attrs)
{
	const char *name = json_string_value(json_object_get(attrs, "id"));
	if (!name)
		return dc_error_set("bucket: state holds no id");
	return converge(ctx, name);
}

/* ---- delete ----------------------------------------------------------- */

static void add_object(struct dc_buf *b, const json_t *item)
{
	const char *key = json_string_value(json_object_get(item, "Key"));
	const char *version = json_string_value(json_object_get(item, "VersionId"));
	dc_buf_puts(b, "<Object><Key>");
	dc_s3_xml_escape(b, key ? key : "");
	dc_buf_puts(b, "</Key>");
	if (version) {
		dc_buf_puts(b, "<VersionId>");
		dc_s3_xml_escape(b, version);
		dc_buf_puts(b, "</VersionId>");
	}
	dc_buf_puts(b, "</Object>");
}

/* DeleteObjects for one listed page (at most 1000, as S3 allows). Quiet:
 * the answer names only the failures. */
static int delete_batch(struct dc_res_ctx *ctx, const char *name, const json_t *items)
{
	struct dc_buf b = DC_BUF_INIT(DC_MAX_FILE);
	xmlDocPtr doc = NULL;
	size_t i;
	json_t *item;
	dc_buf_puts(&b, "<Delete xmlns=\"" DC_S3_XMLNS "\"><Quiet>true</Quiet>");
	json_array_foreach(items, i, item)
		add_object(&b, item);
	int rc = dc_buf_puts(&b, "</Delete>");
	if (rc == 0)
		rc = s3(ctx, "POST", name, "delete", dc_buf_cstr(&b), &doc);
	dc_buf_dispose(&b);
	json_t *errors = dc_resource_xml_list(doc, "Error");
	json_t *first = json_array_get(errors, 0);
	if (rc == 0 && first)
		rc = dc_error_set("cannot delete '%s' from bucket '%s': %s",
				  json_string_value(json_object_get(first, "Key")), name,
				  json_string_value(json_object_get(first, "Code")));
	json_decref(errors);
	xmlFreeDoc(doc);
	return rc;
}

/* Every version and delete marker, page by page; each page is deleted
 * before the next listing, so listing from the start always moves on. */
static int empty_bucket(struct dc_res_ctx *ctx, const char *name)
{
	for (;;) {
		xmlDocPtr doc;
		int rc = s3(ctx, "GET", name, "max-keys=1000&versions", NULL, &doc);
		if (rc < 0)
			return rc;
		json_t *items = dc_resource_xml_list(doc, "Version");
		json_t *markers = dc_resource_xml_list(doc, "DeleteMarker");
		xmlFreeDoc(doc);
		json_array_extend(items, markers);
		json_decref(markers);
		if (json_array_size(items) > 0)
			rc = delete_batch(ctx, name, items);
		size_t n = json_array_size(items);
		json_decref(items);
		if (rc < 0 || n == 0)
			return rc;
	}
}

static int bucket_delete(struct dc_res_ctx *ctx, const json_t *attrs)
{
	const char *name = json_string_value(json_object_get(attrs, "id"));
	if (!name)
		return dc_error_set("bucket: state holds no id");
	int rc = empty_bucket(ctx, name);
	if (rc == 0)
		rc = s3(ctx, "DELETE", name, NULL, NULL, NULL);
	if (rc == DC_ENOTFOUND)
		return 0;
	if (rc < 0)
		dc_error_prefix("deleting bucket '%s'", name);
	return rc;
}

/* ---- find ------------------------------------------------------------- */

static int bucket_find(struct dc_res_ctx *ctx, const json_t *props, json_t **found)
{
	char *name = bucket_name(ctx);
	xmlDocPtr doc = NULL;
	int rc = s3(ctx, "GET", name, "tagging", NULL, &doc);
	int untagged = rc < 0 && dc_resource_error_is("NoSuchTagSet");
	*found = NULL;
	if (rc == DC_ENOTFOUND || untagged)
		rc = 0; /* no bucket, or one without tags: ours only if state says so */
	if (rc == 0) {
		json_t *tags = dc_resource_xml_list(doc, "TagSet/Tag");
		*found = json_array();
		if ((doc || untagged) && dc_resource_tagged(ctx, tags))
			json_array_append_new(*found, bucket_attrs(ctx, name));
		json_decref(tags);
	}
	xmlFreeDoc(doc);
	free(name);
	return rc;
}

const struct dc_resource_type dc_type_s3_bucket = {
	.name = "s3.bucket",
	.create = bucket_create,
	.update = bucket_update,
	.delete = bucket_delete,
	.find = bucket_find,
};
