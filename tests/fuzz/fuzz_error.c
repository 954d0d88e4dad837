/* The error answers of every protocol (dc_protocol_error): query and EC2
 * XML, S3's REST-XML, JSON and REST-JSON bodies, with the headers that
 * carry the code and request id. Input: protocol byte, status byte, then
 * "Name: value" header lines up to an empty line, then the body. */
#include "fuzz.h"

#include <string.h>

#include "aws/http.h"
#include "aws/protocol.h"
#include "aws/service.h"
#include "util/error.h"

static const char *const services[] = { "iam", "ec2", "dynamodb", "lambda", "s3" };
static const long statuses[] = { 400, 403, 404, 409, 500, 503, 301, 413 };

static void read_headers(struct dc_http_response *res, struct fuzz_in *in)
{
	const uint8_t *line;
	size_t n;
	while (!in->done && fuzz_part(in, '\n', &line, &n)) {
		if (n && line[n - 1] == '\r')
			n--;
		if (n == 0)
			return;
		char *s = fuzz_strndup(line, n);
		dc_headers_add_line(&res->headers, s);
		free(s);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	const struct dc_service *svc = dc_service_find(services[data[0] % 5]);
	struct dc_http_response res;
	dc_http_response_init(&res);
	res.status = statuses[data[1] % 8];
	struct fuzz_in in = FUZZ_IN(data + 2, size - 2);
	read_headers(&res, &in);
	if (!in.done)
		dc_buf_put(&res.body, in.p, in.n);
	char code[128];
	int rc = dc_protocol_error(svc, &res, code, sizeof(code));
	if ((rc != -1 && rc != DC_ENOTFOUND) || !dc_error_last()->message[0])
		__builtin_trap();
	dc_http_response_dispose(&res);
	return 0;
}
