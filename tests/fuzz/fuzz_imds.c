/* EC2 instance metadata: the role listing, then the role's credentials
 * JSON. Input: listing NUL credentials (without a NUL the whole input is
 * tried as both). */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "aws/credentials_provider.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = FUZZ_IN(data, size);
	const uint8_t *listing, *answer;
	size_t ln, an;
	fuzz_part(&in, '\0', &listing, &ln);
	if (!fuzz_part(&in, '\0', &answer, &an)) {
		answer = data;
		an = size;
	}
	char *text = fuzz_strndup(listing, ln), *role = NULL;
	if (dc_credentials_imds_parse_role(&role, "169.254.169.254", text) == 0) {
		if (!role || !*role || strlen(role) > 64)
			__builtin_trap();
	} else {
		role = strdup("fallback");
	}
	struct dc_credentials c = { 0 };
	if (dc_credentials_imds_parse(&c, "169.254.169.254", role, (const char *)answer, an) == 0 &&
	    (!c.access_key_id || !c.secret_access_key || !c.session_token))
		__builtin_trap();
	dc_credentials_dispose(&c);
	free(role);
	free(text);
	return 0;
}
