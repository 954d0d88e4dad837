/* The wire log's redaction (--debug), which reads every answer's head and
 * body: dc_redact_body, dc_redact_header_value, dc_redact_url. Input: a
 * mode byte, then the body, or "name NUL value", or the URL. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "aws/redact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct fuzz_in in = FUZZ_IN(data + 1, size - 1);
	char *out = NULL, *a = NULL, *b = NULL;
	const uint8_t *p;
	size_t n;
	switch (data[0] % 3) {
	case 0:
		/* http.c hands over the bytes, not a C string. */
		a = fuzz_strndup(in.p, in.n);
		out = dc_redact_body(a, in.n);
		break;
	case 1:
		fuzz_part(&in, '\0', &p, &n);
		a = fuzz_strndup(p, n);
		b = in.done ? strdup("") : fuzz_strndup(in.p, in.n);
		out = dc_redact_header_value(a, b);
		dc_redact_name_is_secret(a, strlen(a));
		break;
	default:
		a = fuzz_strndup(in.p, in.n);
		out = dc_redact_url(a);
		break;
	}
	if (!out)
		__builtin_trap();
	free(out);
	free(a);
	free(b);
	return 0;
}
