/* credential_process: what the process prints on stdout
 * (dc_credentials_process_parse, the parsing half of
 * dc_credentials_process_run). */
#include "fuzz.h"

#include "aws/credentials_provider.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dc_credentials c = { 0 };
	if (dc_credentials_process_parse(&c, (const char *)data, size, "helper", "dev") == 0 &&
	    (!c.access_key_id || !c.secret_access_key))
		__builtin_trap();
	dc_credentials_dispose(&c);
	return 0;
}
