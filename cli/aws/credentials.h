/* AWS credentials and the provider chain, in botocore's order: environment,
 * assume-role profile, web identity, shared credentials file, shared config
 * file, credential_process, container (ECS) credentials, EC2 instance
 * metadata (IMDSv2). Secrets live only in memory: never logged, never
 * written, never put in an error message. */
#ifndef DC_CREDENTIALS_H
#define DC_CREDENTIALS_H

#include <time.h>

struct dc_config;
struct dc_aws;

struct dc_credentials {
	char *access_key_id;
	char *secret_access_key;
	char *session_token;   /* NULL for long-term keys */
	time_t expiration;     /* 0: does not expire */
	char source[96];       /* where they came from, for `whoami`: "env", "profile dev (shared credentials file)", "assume-role arn:...", "imds" */
};

void dc_credentials_dispose(struct dc_credentials *c);
/* Copy src into *dst (strings duplicated). */
void dc_credentials_copy(struct dc_credentials *dst, const struct dc_credentials *src);

/* Resolve credentials through the chain for the profile selected in cfg.
 * `aws` is used for the STS calls of assume-role and web identity and may
 * be NULL (those providers then fail). Returns -1 with a message naming
 * what was tried and what to do when nothing provides credentials. */
int dc_credentials_resolve(struct dc_credentials *out, const struct dc_config *cfg,
			   struct dc_aws *aws);

/* True when c expires within `margin` seconds of `now` (never for c->expiration == 0). */
int dc_credentials_expiring(const struct dc_credentials *c, time_t now, long margin);

#endif
