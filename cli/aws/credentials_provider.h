/* The providers of the credential chain (credentials.c runs them in
 * order). Internal to the credentials module and its tests.
 *
 * Every provider returns 1 with *out filled when it found credentials, 0
 * when it is not configured (the chain goes on), or -1 with a dc_error when
 * it is configured but broken: the chain then stops, as botocore's does,
 * rather than quietly using some other identity. */
#ifndef DC_CREDENTIALS_PROVIDER_H
#define DC_CREDENTIALS_PROVIDER_H

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

/* Run one credential_process command line (split like shlex, no shell)
 * and parse its reply; `profile` is for messages. 0 or -1. */
int dc_credentials_process_run(struct dc_credentials *out, const char *command,
			       const char *profile, long timeout_ms);

/* Fill out with copies of the strings (token may be NULL). */
void dc_credentials_set(struct dc_credentials *out, const char *access_key_id,
			const char *secret_access_key, const char *session_token);

/* An ISO 8601 UTC time as AWS writes it ("2024-05-01T12:00:00Z", with
 * optional fraction and "+hh:mm" offset) as a time_t. 0 or -1 (no message:
 * the caller names the field). */
int dc_credentials_parse_time(time_t *out, const char *s);

#endif
