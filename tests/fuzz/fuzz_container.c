/* Container credentials (ECS task role, EKS Pod Identity): the endpoint's
 * JSON answer (dc_credentials_container_parse). */
#include "fuzz.h"

#include "aws/credentials_provider.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dc_credentials c = { 0 };
	if (dc_credentials_container_parse(&c, (const char *)data, size, "169.254.170.2") == 0 &&
	    (!c.access_key_id || !c.secret_access_key || !c.session_token))
		__builtin_trap();
	dc_credentials_dispose(&c);
	return 0;
}
