/* AWS credentials and the provider chain, in botocore's order
 * (create_credential_resolver): environment (skipped when --profile was
 * given, as the AWS CLI does), assume-role profile, web identity, shared
 * credentials file, credential_process, shared config file, container (ECS)
 * credentials, EC2 instance metadata (IMDSv2 only). IAM Identity Center
 * (SSO) is not supported: a profile that configures it is an error, not a
 * silent fall-through. Secrets live only in memory: never logged, never
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
	char source[96];       /* where they came from, for `whoami`: "environment",
				* "shared credentials file (profile dev)",
				* "credential_process (profile dev)",
				* "shared config file (profile dev)",
				* "assume-role ARN (profile dev)",
				* "web identity ARN",
				* "container credentials (HOST)",
				* "EC2 instance metadata (role NAME)" */
};

void dc_credentials_dispose(struct dc_credentials *c);
/* Copy src into *dst (strings duplicated); *dst's old content is not freed. */
void dc_credentials_copy(struct dc_credentials *dst, const struct dc_credentials *src);

/* Resolve credentials through the chain for the profile selected in cfg.
 * `aws` is used for the STS calls of assume-role and web identity and may
 * be NULL (those providers then fail). Container and instance metadata
 * use a transport of their own, with short timeouts. Returns -1 with a message naming
 * what was tried and what to do when nothing provides credentials, or when a
 * configured provider fails (the chain stops there, as botocore's does).
 * *out is overwritten (not freed first) and is empty after a failure. */
int dc_credentials_resolve(struct dc_credentials *out, const struct dc_config *cfg,
			   struct dc_aws *aws);

/* True when c expires within `margin` seconds of `now` (never for c->expiration == 0). */
int dc_credentials_expiring(const struct dc_credentials *c, time_t now, long margin);

#endif
