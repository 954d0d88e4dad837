/* Assume-role profiles, as botocore's AssumeRoleProvider resolves them:
 * role_arn plus either source_profile (whose own credentials may come from
 * another assume-role profile: a chain) or credential_source (Environment,
 * Ec2InstanceMetadata, EcsContainer), then STS AssumeRole signed with those
 * source credentials. The client caches the result and asks again when it
 * is about to expire, so there is no cache here. MFA is refused: it needs a
 * code typed at a terminal, and a deploy tool must not sit waiting for one. */
#include <libxml/tree.h>

#include "aws/config.h"
#include "aws/credentials_provider.h"
#include "aws/protocol.h"
#include "aws/uri.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"

/* Longer chains of source profiles than this are surely a mistake; loops
 * are found long before. */
#define MAX_CHAIN 16

struct role {
	const char *profile;
	const char *arn;
	const char *source_profile;
	const char *credential_source;
	const char *session_name;
	const char *external_id;
	long duration;          /* 0: STS's default */
};

/* The profiles visited so far, to find a source_profile loop. */
struct visited {
	const char *names[MAX_CHAIN];
	size_t n;
};

static const struct {
	const char *name;
	dc_credentials_provider_fn fn;
} sources[] = {
	{ "Environment", dc_credentials_from_env },
	{ "Ec2InstanceMetadata", dc_credentials_from_imds },
	{ "EcsContainer", dc_credentials_from_container },
};

static int assume(struct dc_credentials *out, const struct dc_config *cfg, struct dc_aws *aws,
		  struct visited *seen);

/* cfg as seen from another profile: every provider reads cfg->profile.
 * Shares cfg's memory. profile_option is set because botocore resolves a
 * source profile without looking at the environment. */
static struct dc_config view_of(const struct dc_config *cfg, const char *profile)
{
	struct dc_config v = *cfg;
	v.profile = (char *)profile;
	v.profile_option = 1;
	return v;
}

static int has_static_keys(const struct dc_config *cfg)
{
	return dc_config_get(cfg, "aws_access_key_id") || dc_config_get(cfg, "aws_secret_access_key");
}

/* A web identity profile has a role_arn too, and belongs to that provider. */
static int has_role(const struct dc_config *cfg)
{
	return dc_config_get(cfg, "role_arn") && !dc_config_get(cfg, "web_identity_token_file");
}

/* As botocore's build_profile_map: "[profile NAME]" (or "[default]") in the
 * config file, "[NAME]" in the credentials file. */
static int profile_exists(const struct dc_config *cfg, const char *name)
{
	if (dc_ini_has_section(cfg->credentials, name))
		return 1;
	for (size_t i = 0; i < dc_ini_section_count(cfg->config); i++) {
		const char *sec = dc_ini_section_name(cfg->config, i);
		char **w = NULL;
		int n = dc_ini_split_words(&w, sec);
		int found = (n == 1 && !strcmp(sec, "default") && !strcmp(name, "default")) ||
			    (n == 2 && !strcmp(w[0], "profile") && !strcmp(w[1], name));
		dc_ini_words_free(w);
		if (found)
			return 1;
	}
	return 0;
}

static int loop_error(const struct visited *seen, const char *next)
{
	struct dc_buf path = DC_BUF_INIT(DC_MAX_SMALL);
	for (size_t i = 0; i < seen->n; i++)
		dc_buf_printf(&path, "%s -> ", seen->names[i]);
	dc_buf_puts(&path, next);
	dc_error_set("source_profile settings form a loop (%s): one profile in it needs "
		     "aws_access_key_id and aws_secret_access_key, or a credential_source",
		     dc_buf_cstr(&path));
	dc_buf_dispose(&path);
	return -1;
}

/* botocore's _validate_source_profile: a profile may name itself (to keep
 * its keys and its role together), as long as it has keys. */
static int check_source_profile(const struct dc_config *cfg, const char *source,
				const struct visited *seen)
{
	if (!profile_exists(cfg, source))
		return dc_error_set("source_profile '%s' of profile '%s' is not in '%s' or '%s'",
				    source, cfg->profile, cfg->config_name, cfg->credentials_name);
	int visited = 0;
	for (size_t i = 0; i < seen->n; i++)
		visited |= !strcmp(seen->names[i], source);
	if (!visited)
		return 0;
	struct dc_config src = view_of(cfg, source);
	if (!strcmp(source, cfg->profile) && has_static_keys(&src))
		return 0;
	return loop_error(seen, source);
}

static int check_credential_source(const struct dc_config *cfg, const char *source)
{
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
		if (!strcmp(source, sources[i].name))
			return 0;
	return dc_error_set("credential_source '%s' of profile '%s' is not one of Environment, "
			    "Ec2InstanceMetadata, EcsContainer",
			    source, cfg->profile);
}

/* botocore's _get_role_config, plus the MFA refusal. */
static int role_config(struct role *r, const struct dc_config *cfg, const struct visited *seen)
{
	const char *duration = dc_config_get(cfg, "duration_seconds");
	char *end;
	*r = (struct role){
		.profile = cfg->profile,
		.arn = dc_config_get(cfg, "role_arn"),
		.source_profile = dc_config_get(cfg, "source_profile"),
		.credential_source = dc_config_get(cfg, "credential_source"),
		.session_name = dc_config_get(cfg, "role_session_name"),
		.external_id = dc_config_get(cfg, "external_id"),
	};
	/* botocore drops a duration_seconds that is not a number. */
	if (duration && *duration) {
		long d = strtol(duration, &end, 10);
		r->duration = *end == '\0' && d > 0 ? d : 0;
	}
	if (r->source_profile && r->credential_source)
		return dc_error_set("profile '%s' sets both source_profile and credential_source: "
				    "keep one", cfg->profile);
	if (!r->source_profile && !r->credential_source)
		return dc_error_set("profile '%s' has role_arn but neither source_profile nor "
				    "credential_source", cfg->profile);
	int rc = r->credential_source ? check_credential_source(cfg, r->credential_source)
				      : check_source_profile(cfg, r->source_profile, seen);
	if (rc == 0 && dc_config_get(cfg, "mfa_serial"))
		rc = dc_error_set("profile '%s' sets mfa_serial, and deployctl cannot ask for an MFA "
				  "code: put the keys from 'aws configure export-credentials "
				  "--profile %s --format env' (which asks for it) in the environment",
				  cfg->profile, cfg->profile);
	return rc;
}

static int from_credential_source(struct dc_credentials *out, const struct role *r,
				  const struct dc_config *cfg, struct dc_aws *aws)
{
	int rc = 0;
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
		if (!strcmp(r->credential_source, sources[i].name))
			rc = sources[i].fn(out, cfg, aws);
	if (rc == 0)
		return dc_error_set("credential_source '%s' of profile '%s' found no credentials",
				    r->credential_source, r->profile);
	return rc < 0 ? -1 : 0;
}

/* botocore's _resolve_credentials_from_profile: static keys (or any other
 * provider of that profile) first, else that profile's own role. */
static int from_source_profile(struct dc_credentials *out, const struct role *r,
			       const struct dc_config *cfg, struct dc_aws *aws,
			       struct visited *seen)
{
	struct dc_config src = view_of(cfg, r->source_profile);
	if (seen->n == MAX_CHAIN)
		return dc_error_set("profile '%s' is more than %d source_profile steps away from "
				    "credentials", seen->names[0], MAX_CHAIN);
	seen->names[seen->n++] = r->source_profile;
	if (!has_static_keys(&src) && has_role(&src))
		return assume(out, &src, aws, seen);
	int rc = dc_credentials_from_profile_chain(out, &src, aws);
	if (rc == 0)
		return dc_error_set("source_profile '%s' of profile '%s' has no credentials",
				    r->source_profile, r->profile);
	return rc < 0 ? -1 : 0;
}

static int call_assume_role(struct dc_credentials *out, const struct role *r,
			    const struct dc_credentials *src, struct dc_aws *aws)
{
	struct dc_buf form = DC_BUF_INIT(DC_MAX_SMALL);
	char session[64], duration[32];
	/* botocore's default name is "botocore-session-<epoch>". */
	snprintf(session, sizeof(session), "deployctl-session-%lld", (long long)time(NULL));
	snprintf(duration, sizeof(duration), "%ld", r->duration);
	int rc = dc_form_add(&form, "RoleArn", r->arn);
	if (rc == 0)
		rc = dc_form_add(&form, "RoleSessionName", r->session_name ? r->session_name : session);
	if (rc == 0 && r->duration)
		rc = dc_form_add(&form, "DurationSeconds", duration);
	if (rc == 0 && r->external_id)
		rc = dc_form_add(&form, "ExternalId", r->external_id);
	if (rc == 0)
		rc = dc_credentials_sts(out, aws, src, "AssumeRole", dc_buf_cstr(&form));
	if (rc < 0)
		dc_error_prefix("assuming role '%s' of profile '%s'", r->arn, r->profile);
	else
		snprintf(out->source, sizeof(out->source), "assume-role %s (profile %s)", r->arn,
			 r->profile);
	dc_buf_dispose(&form);
	return rc;
}

static int assume(struct dc_credentials *out, const struct dc_config *cfg, struct dc_aws *aws,
		  struct visited *seen)
{
	struct dc_credentials src = { 0 };
	struct role r;
	int rc = role_config(&r, cfg, seen);
	if (rc == 0)
		rc = r.credential_source ? from_credential_source(&src, &r, cfg, aws)
					 : from_source_profile(&src, &r, cfg, aws, seen);
	if (rc == 0)
		rc = call_assume_role(out, &r, &src, aws);
	dc_credentials_dispose(&src);
	return rc;
}

int dc_credentials_from_assume_role(struct dc_credentials *out, const struct dc_config *cfg,
				    struct dc_aws *aws)
{
	if (!has_role(cfg))
		return 0;
	struct visited seen = { { cfg->profile }, 1 };
	return assume(out, cfg, aws, &seen) < 0 ? -1 : 1;
}

/* ---- STS ---- */

static char *field(xmlDocPtr doc, const char *action, const char *name)
{
	char *path = dc_xasprintf("%sResult/Credentials/%s", action, name);
	char *v = dc_xml_text(doc, path);
	free(path);
	if (v && !*v) {
		free(v);
		v = NULL;
	}
	return v;
}

static void free_secret(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

int dc_credentials_parse_sts(struct dc_credentials *out, xmlDocPtr doc, const char *action)
{
	static const char *const names[] = { "AccessKeyId", "SecretAccessKey", "SessionToken",
					     "Expiration" };
	char *v[4];
	time_t expiration = 0;
	int rc = 0;
	for (size_t i = 0; i < 4; i++)
		v[i] = field(doc, action, names[i]);
	for (size_t i = 0; i < 4 && rc == 0; i++)
		if (!v[i])
			rc = dc_error_set("STS %s answered without Credentials/%s", action, names[i]);
	if (rc == 0 && dc_credentials_parse_time(&expiration, v[3]) < 0)
		rc = dc_error_set("STS %s answered with an Expiration that is not a time like "
				  "'2024-05-01T12:00:00Z'",
				  action);
	if (rc == 0) {
		memset(out, 0, sizeof(*out));
		out->access_key_id = v[0];
		out->secret_access_key = v[1];
		out->session_token = v[2];
		out->expiration = expiration;
		v[0] = v[1] = v[2] = NULL;
	}
	for (size_t i = 0; i < 4; i++)
		free_secret(v[i]);
	return rc;
}

int dc_credentials_sts(struct dc_credentials *out, struct dc_aws *aws,
		       const struct dc_credentials *creds, const char *action, const char *form)
{
	xmlDocPtr doc = NULL;
	if (!aws)
		return dc_error_set("STS %s needs an AWS client, and none was given", action);
	if (dc_aws_query_as(aws, creds, "sts", action, form, &doc) < 0)
		return -1;
	int rc = dc_credentials_parse_sts(out, doc, action);
	xmlFreeDoc(doc);
	return rc;
}
