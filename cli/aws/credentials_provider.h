/* The providers of the credential chain (credentials.c runs them in
 * order). Internal to the credentials module and its tests.
 *
 * Every provider returns 1 with *out filled when it found credentials, 0
 * when it is not configured (the chain goes on), or -1 with a dc_error when
 * it is configured but broken: the chain then stops, as botocore's does,
 * rather than quietly using some other identity. */
#ifndef DC_CREDENTIALS_PROVIDER_H
#define DC_CREDENTIALS_PROVIDER_H

#include <libxml/tree.h>

#include "aws/credentials.h"

/* credential_process gets this long before it is killed. */
#define DC_CREDENTIAL_PROCESS_TIMEOUT_MS 60000L
/* ... and may print this much on stdout (a reply is well under 4 KiB). */
#define DC_CREDENTIAL_PROCESS_MAX_OUTPUT ((size_t)64 << 10)

typedef int (*dc_credentials_provider_fn)(struct dc_credentials *out,
					  const struct dc_config *cfg, struct dc_aws *aws);

/* AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SECURITY_TOKEN or
 * AWS_SESSION_TOKEN, AWS_CREDENTIAL_EXPIRATION (credentials_env.c). */
int dc_credentials_from_env(struct dc_credentials *out, const struct dc_config *cfg,
			    struct dc_aws *aws);
/* Static keys of the profile in the credentials file, and in the config
 * file (credentials_profile.c). */
int dc_credentials_from_credentials_file(struct dc_credentials *out,
					 const struct dc_config *cfg, struct dc_aws *aws);
int dc_credentials_from_config_file(struct dc_credentials *out, const struct dc_config *cfg,
				    struct dc_aws *aws);
/* credential_process of the profile (credentials_process.c). */
int dc_credentials_from_process(struct dc_credentials *out, const struct dc_config *cfg,
				struct dc_aws *aws);

/* A profile with role_arn (and no web_identity_token_file): STS AssumeRole
 * with the credentials of its source_profile (resolved recursively,
 * chains and loops detected) or credential_source
 * (credentials_assume_role.c). */
int dc_credentials_from_assume_role(struct dc_credentials *out, const struct dc_config *cfg,
				    struct dc_aws *aws);
/* AWS_WEB_IDENTITY_TOKEN_FILE / AWS_ROLE_ARN / AWS_ROLE_SESSION_NAME (not
 * read when cfg->profile_option is set), else the profile's
 * web_identity_token_file / role_arn / role_session_name: unsigned STS
 * AssumeRoleWithWebIdentity; the token file is read on every call
 * (credentials_web_identity.c). */
int dc_credentials_from_web_identity(struct dc_credentials *out, const struct dc_config *cfg,
				     struct dc_aws *aws);
/* AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI, with
 * AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE) (credentials_container.c). */
int dc_credentials_from_container(struct dc_credentials *out, const struct dc_config *cfg,
				  struct dc_aws *aws);
/* EC2 instance metadata, IMDSv2 only (credentials_imds.c). Finds nothing
 * (0) when disabled, unreachable, or when the instance has no role; -1 when
 * the service answered but its credentials are unusable. */
int dc_credentials_from_imds(struct dc_credentials *out, const struct dc_config *cfg,
			     struct dc_aws *aws);
/* False when AWS_EC2_METADATA_DISABLED is "true" (any case). */
int dc_credentials_imds_enabled(void);

/* The providers that read only the profile cfg->profile, in chain order
 * (botocore's ProfileProviderBuilder): web identity, credentials file,
 * credential_process, config file. What a source_profile resolves through,
 * with cfg->profile_option set so that the environment is not read
 * (credentials.c). 1, 0 or -1 like a provider. */
int dc_credentials_from_profile_chain(struct dc_credentials *out, const struct dc_config *cfg,
				      struct dc_aws *aws);

/* Call STS `action` (AssumeRole, AssumeRoleWithWebIdentity) with the
 * url-encoded `form`, signed with creds (NULL: unsigned), and take the
 * credentials of its answer. 0 or -1; aws NULL is an error. */
int dc_credentials_sts(struct dc_credentials *out, struct dc_aws *aws,
		       const struct dc_credentials *creds, const char *action, const char *form);
/* The Credentials of an STS `action` answer
 * (<actionResult><Credentials><AccessKeyId>...), all four fields required.
 * 0 or -1 with a message that names the missing field, never a value. */
int dc_credentials_parse_sts(struct dc_credentials *out, xmlDocPtr doc, const char *action);

/* Whether AWS_CONTAINER_CREDENTIALS_FULL_URI may point at url, as botocore
 * decides: any https URL; http only to a loopback address, 169.254.170.2,
 * 169.254.170.23, fd00:ec2::23 or localhost. 1 or 0. */
int dc_credentials_container_url_allowed(const char *url);

/* Run one credential_process command line (split like shlex, no shell)
 * and parse its reply; `profile` is for messages. 0 or -1. */
int dc_credentials_process_run(struct dc_credentials *out, const char *command,
			       const char *profile, long timeout_ms);

/* The parsing half of dc_credentials_process_run: text (len bytes, need
 * not be NUL-terminated) as the process's stdout; cmd and profile are for
 * messages. Exposed for the fuzz target. 0 or -1. */
int dc_credentials_process_parse(struct dc_credentials *out, const char *text, size_t len,
				  const char *cmd, const char *profile);

/* What the container credentials endpoint answered (body, len bytes) as
 * credentials; host is for messages (credentials_container.c). 0 or -1. */
int dc_credentials_container_parse(struct dc_credentials *out, const char *body, size_t len,
				   const char *host);

/* What IMDS answered (credentials_imds.c): the role name from the first
 * line of the role listing (*out malloc'ed), and the credentials from the
 * role's JSON (body, len bytes). host is for messages. 0 or -1. */
int dc_credentials_imds_parse_role(char **out, const char *host, const char *body);
int dc_credentials_imds_parse(struct dc_credentials *out, const char *host, const char *role,
			      const char *body, size_t len);

/* Fill out with copies of the strings (token may be NULL). */
void dc_credentials_set(struct dc_credentials *out, const char *access_key_id,
			const char *secret_access_key, const char *session_token);

/* An ISO 8601 UTC time as AWS writes it ("2024-05-01T12:00:00Z", with
 * optional fraction and "+hh:mm" offset) as a time_t. 0 or -1 (no message:
 * the caller names the field). */
int dc_credentials_parse_time(time_t *out, const char *s);

#endif
