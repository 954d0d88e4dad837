/* deployctl api: one signed request to any AWS API, like awscurl. PATH goes
 * on the wire as given (the caller encodes it); the answer's body goes to
 * stdout. */
#include <strings.h>
#include <unistd.h>

#include "aws/client.h"
#include "commands/commands.h"
#include "util/error.h"

static struct dc_strlist header_args;
static const char *data_arg;
static int include_flag;
static int dry_run_flag;

const struct dc_opt api_opts[] = {
	{ DC_OPT_LIST, "header", 'H', &header_args, "'NAME: VALUE'", "add a request header (repeatable)" },
	{ DC_OPT_STRING, "data", 'd', &data_arg, "DATA|@FILE", "request body, or @FILE to read it from FILE" },
	{ DC_OPT_FLAG, "include", 'i', &include_flag, NULL, "print the status line and headers before the body" },
	{ DC_OPT_FLAG, "dry-run", 0, &dry_run_flag, NULL, "print the signed request instead of sending it" },
	DC_OPT_TABLE_END
};

static int read_body(struct dc_buf *body, const char *arg)
{
	if (!arg)
		return 0;
	if (arg[0] == '@')
		return dc_buf_read_file(body, arg + 1);
	return dc_buf_puts(body, arg);
}

static int build_request(struct dc_http_request *req, const struct dc_strlist *args)
{
	const char *method = args->v[1];
	const char *path = args->v[2];
	if (path[0] != '/')
		return dc_error_set("PATH must start with '/', not '%s'", path);
	dc_http_request_init(req, method, path);
	for (size_t i = 0; i < header_args.n; i++)
		if (dc_headers_add_line(&req->headers, header_args.v[i]) < 0)
			return -1;
	return read_body(&req->body, data_arg);
}

/* The signed request as it would go out; the session token is a secret and
 * stays hidden, as in --debug. */
static void print_request(const struct dc_http_request *req)
{
	printf("%s %s HTTP/1.1\n", req->method, req->url);
	for (size_t i = 0; i < req->headers.n; i++) {
		const struct dc_header *h = &req->headers.v[i];
		int secret = strcasecmp(h->name, "X-Amz-Security-Token") == 0;
		printf("%s: %s\n", h->name, secret ? "[redacted]" : h->value);
	}
	putchar('\n');
	fwrite(req->body.ptr ? req->body.ptr : "", 1, req->body.len, stdout);
}

static void print_response(const struct dc_http_response *res)
{
	if (include_flag) {
		printf("HTTP/1.1 %ld\n", res->status);
		for (size_t i = 0; i < res->headers.n; i++)
			printf("%s: %s\n", res->headers.v[i].name, res->headers.v[i].value);
		putchar('\n');
	}
	fwrite(res->body.ptr ? res->body.ptr : "", 1, res->body.len, stdout);
	/* On a terminal, end the body's line so the prompt or an error line
	 * does not run into it; a pipe gets the bytes exactly. */
	if (res->body.len && res->body.ptr[res->body.len - 1] != '\n' && isatty(STDOUT_FILENO))
		putchar('\n');
}

int cmd_api(struct dc_cli *cli, const struct dc_strlist *args)
{
	if (args->n != 3)
		return dc_cli_usage_error("api needs SERVICE METHOD PATH; see 'deployctl help api'");
	const struct dc_service *svc = dc_service_find(args->v[0]);
	if (!svc)
		return dc_cli_usage_error("unknown AWS service '%s'; see 'deployctl help api'",
					  args->v[0]);

	struct dc_http_request req = { 0 };
	struct dc_http_response res;
	dc_http_response_init(&res);
	int code = DC_EXIT_OK;
	if (build_request(&req, args) < 0) {
		code = dc_cli_fail(DC_EXIT_USAGE);
	} else if (dry_run_flag) {
		if (dc_aws_sign(cli->aws, svc, &req) < 0)
			code = dc_cli_fail(DC_EXIT_FAILED);
		else
			print_request(&req);
	} else {
		int rc = dc_aws_send(cli->aws, svc, &req, &res);
		print_response(&res);
		if (rc < 0)
			code = dc_cli_fail(DC_EXIT_FAILED);
	}
	if (req.method)
		dc_http_request_dispose(&req);
	dc_http_response_dispose(&res);
	dc_strlist_dispose(&header_args);
	return code;
}
