#include "harness.h"
#include "support_httpd.h"
#include "aws/http.h"
#include "util/error.h"
#include "util/xalloc.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* Short timeouts keep the fault tests fast; the server answers at once. */
static const struct dc_http_options fast = { .connect_timeout_ms = 2000, .timeout_ms = 5000 };

static int contains(const char *haystack, const char *needle)
{
	if (strstr(haystack, needle))
		return 1;
	dc_test_fail(__FILE__, __LINE__, "'%s' not found in:\n%s", needle, haystack);
	return 0;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Send method path [body] to d with http; the response is left in *res. */
static int send_to(struct dc_http *http, struct dc_httpd *d, const char *method,
		   const char *path, const char *body, struct dc_http_response *res)
{
	struct dc_http_request req;
	char *url = dc_httpd_url(d, path);
	dc_http_request_init(&req, method, url);
	if (body)
		dc_buf_puts(&req.body, body);
	int rc = dc_http_send(http, &req, res);
	dc_http_request_dispose(&req);
	free(url);
	return rc;
}

/* Expected head of a request to d: request line, then Host. */
static char *head(struct dc_httpd *d, const char *line, const char *rest)
{
	return dc_xasprintf("%s\r\nHost: %s\r\n%s", line, dc_httpd_authority(d), rest);
}

void test_http__post_goes_out_byte_for_byte(void)
{
	struct dc_httpd *d = dc_httpd_start();
	struct dc_http *http = dc_http_new(&fast);
	struct dc_http_request req;
	struct dc_http_response res;
	/* Encoded, dot segments, a reserved character escaped: all as given. */
	char *url = dc_httpd_url(d, "/a%2Fb/./c/../d%20e?x=a%2Bb&y=~&z=%7E");
	dc_httpd_respond(d, 200, NULL, "{}");
	dc_http_request_init(&req, "POST", url);
	dc_http_response_init(&res);
	dc_headers_add(&req.headers, "X-Amz-Date", "20150830T123600Z");
	dc_headers_add(&req.headers, "Content-Type", "application/x-amz-json-1.1");
	dc_headers_add(&req.headers, "X-Amz-Target", "DynamoDB_20120810.ListTables");
	dc_headers_add(&req.headers, "Authorization", "AWS4-HMAC-SHA256 Credential=x");
	dc_buf_puts(&req.body, "{\"Limit\":1}");
	check_int(dc_http_send(http, &req, &res), 0);
	check_int(dc_httpd_requests(d), 1);
	const struct dc_httpd_request *got = dc_httpd_request(d, 0);
	char *want = head(d, "POST /a%2Fb/./c/../d%20e?x=a%2Bb&y=~&z=%7E HTTP/1.1",
			  "X-Amz-Date: 20150830T123600Z\r\n"
			  "Content-Type: application/x-amz-json-1.1\r\n"
			  "X-Amz-Target: DynamoDB_20120810.ListTables\r\n"
			  "Authorization: AWS4-HMAC-SHA256 Credential=x\r\n"
			  "Content-Length: 11\r\n"
			  "\r\n"
			  "{\"Limit\":1}");
	check_str(got->raw, want);
	check_str(got->path, "/a%2Fb/./c/../d%20e?x=a%2Bb&y=~&z=%7E");
	check_str(dc_buf_cstr(&res.body), "{}");
	free(want);
	free(url);
	dc_http_request_dispose(&req);
	dc_http_response_dispose(&res);
	dc_http_free(http);
	dc_httpd_stop(d);
}

void test_http__get_adds_nothing(void)
{
	struct dc_httpd *d = dc_httpd_start();
	struct dc_http *http = dc_http_new(&fast);
	struct dc_http_response res;
	dc_http_response_init(&res);
	dc_httpd_respond(d, 200, NULL, "ok");
	check_int(send_to(http, d, "GET", "/", NULL, &res), 0);
	char *want = head(d, "GET / HTTP/1.1", "\r\n");
	check_str(dc_httpd_request(d, 0)->raw, want);
	free(want);
	dc_http_response_dispose(&res);
	dc_http_free(http);
	dc_httpd_stop(d);
}

void test_http__empty_post_says_content_length_0(void)
{
	struct dc_httpd *d = dc_httpd_start();
	struct dc_http *http = dc_http_new(&fast);
	struct dc_http_response res;
	dc_http_response_init(&res);
	dc_httpd_respond(d, 200, NULL, NULL);
	dc_httpd_respond(d, 200, NULL, NULL);
	check_int(send_to(http, d, "POST", "/p", NULL, &res), 0);
	check_int(send_to(http, d, "PUT", "/q", "", &res), 0);
	char *want = head(d, "POST /p HTTP/1.1", "Content-Length: 0\r\n\r\n");
	check_str(dc_httpd_request(d, 0)->raw, want);
	free(want);
	want = head(d, "PUT /q HTTP/1.1", "Content-Length: 0\r\n\r\n");
	check_str(dc_httpd_request(d, 1)->raw, want);
	free(want);
	dc_http_response_dispose(&res);
	dc_http_free(http);
	dc_httpd_stop(d);
}

void test_http__body_on_get_and_delete(void)
{
	struct dc_httpd *d = dc_httpd_start();
	struct dc_http *http = dc_http_new(&fast);
	struct dc_http_response res;
	dc_http_response_init(&res);
	dc_httpd_respond(d, 200, NULL, NULL);
	dc_httpd_respond(d, 204, NULL, NULL);
	dc_httpd_respond(d, 200, NULL, NULL);
	check_int(send_to(http, d, "GET", "/g", "{\"a\":1}", &res), 0);
	check_int(send_to(http, d, "DELETE", "/d", "<x/>", &res), 0);
	check_int(res.status, 204);
	check_int(send_to(http, d, "DELETE", "/e", NULL, &res), 0);
	char *want = head(d, "GET /g HTTP/1.1", "Content-Length: 7\r\n\r\n{\"a\":1}");
	check_str(dc_httpd_request(d, 0)->raw, want);
	free(want);
	want = head(d, "DELETE /d HTTP/1.1", "Content-Length: 4\r\n\r\n<x/>");
	check_str(dc_httpd_request(d, 1)->raw, want);
	free(want);
	want = head(d, "DELETE /e HTTP/1.1", "\r\n");
	check_str(dc_httpd_request(d, 2)->raw, want);
	free(want);
	dc_http_response_dispose(&res);
	dc_http_free(http);
	dc_httpd_stop(d);
}

void test_http__large_upload_has_no_expect(void)
{
	struct dc_httpd *d = dc_httpd_start();
	struct dc_http *http = dc_http_new(&fast);
	struct dc_http_request req;
	struct dc_http_response res;
	size_t n = (size_t)3 << 20;
	char *url = dc_httpd_url(d, "/big");
	char *body = dc_xmalloc(n);
	for (size_t i = 0; i < n; i++)
		body[i] = (char)(i * 7 + (i >> 11)); /* NUL bytes included */
	dc_httpd_respond(d, 200, NULL, NULL);
	dc_http_request_init(&req, "PUT", url);
	dc_http_response_init(&res);
	dc_buf_put(&req.body, body, n);
	check_int(dc_http_send(http, &req, &res), 0);
	const struct dc_httpd_request *got = dc_httpd_request(d, 0);
	check(got != NULL);
	if (got) {
		check(dc_headers_get(&got->headers, "Expect") == NULL);
		check(dc_headers_get(&got->headers, "Content-Type") == NULL);
		check(dc_headers_get(&got->headers, "Transfer-Encoding") == NULL);
		check_str(dc_headers_get(&got->headers, "Content-Length"), "3145728");
		dc_test_mem_eq(__FILE__, __LINE__, "body", got->body, got->body_len, body, n);
	}
	free(body);
	free(url);
	dc_http_request_dispose(&req);
	dc_http_response_dispose(&res);
	dc_http_free(http);
	dc_httpd_stop(d);
}

void test_http__empty_header_value_and_injection(void)
{
	struct dc_httpd *d = dc_httpd_start();
	struct dc_http *http = dc_http_new(&fast);
	struct dc_http_request req;
	struct dc_http_response res;
	char *url = dc_httpd_url(d, "/h");
	dc_httpd_respond(d, 200, NULL, NULL);
	dc_http_request_init(&req, "GET", url);
	dc_http_response_init(&res);
	dc_headers_add(&req.headers, "X-Empty", "");
	dc_headers_add(&req.headers, "Accept", "application/json");
	check_int(dc_http_send(http, &req, &res), 0);
	char *want = head(d, "GET /h HTTP/1.1", "X-Empty:\r\nAccept: application/json\r\n\r\n");
	check_str(dc_httpd_request(d, 0)->raw, want);
	free(want);
	/* A line break would smuggle a field past the signature. */
	dc_headers_set(&req.headers, "X-Evil", "a\r\nX-Injected: 1");
	check_int(dc_http_send(http, &req, &res), -1);
	contains(dc_error_last()->message, "header 'X-Evil' is not a valid HTTP field");
	check_int(dc_httpd_requests(d), 1);
	free(url);
	dc_http_request_dispose(&req);
	dc_http_response_dispose(&res);
	dc_http_free(http);
	dc_httpd_stop(d);
}

void test_http__one_connection_for_three_requests(void)
{
	struct dc_httpd *d = dc_httpd_start();
	struct dc_http *http = dc_http_new(&fast);
	struct dc_http_response res;
	dc_http_response_init(&res);
	for (int i = 0; i < 3; i++)
		dc_httpd_respond(d, 200, NULL, "x");
	check_int(send_to(http, d, "GET", "/1", NULL, &res), 0);
	check_int(send_to(http, d, "POST", "/2", "b", &res), 0);
	check_int(send_to(http, d, "HEAD", "/3", NULL, &res), 0);
	check_int(dc_httpd_requests(d), 3);
	check_int(dc_httpd_connections(d), 1);
	check_str(dc_httpd_request(d, 2)->method, "HEAD");
	check_int(res.body.len, 0);
	dc_http_response_dispose(&res);
	dc_http_free(http);
	dc_httpd_stop(d);
}

void test_http__status_and_headers_read_back(void)
{
	struct dc_httpd *d = dc_httpd_start();
	struct dc_http *http = dc_http_new(&fast);
	struct dc_http_response res;
	dc_http_response_init(&res);
	dc_httpd_respond(d, 409,
			 "x-amzn-RequestId: abc-123\r\n"
			 "X-Multi: one\r\n"
			 "Set-Cookie: a=1\r\n"
			 "X-Multi: two, three\r\n"
			 "X-Folded: first\r\n"
			 "   second\r\n"
			 "X-Blank:\r\n",
			 "{\"__type\":\"ResourceInUseException\"}");
	check_int(send_to(http, d, "GET", "/", NULL, &res), 0);
	check_int(res.status, 409);
	check_int(res.headers.n, 7);
	static const char *const want[][2] = {
		{ "x-amzn-RequestId", "abc-123" }, { "X-Multi", "one" },
		{ "Set-Cookie", "a=1" },	   { "X-Multi", "two, three" },
		{ "X-Folded", "first second" },	   { "X-Blank", "" },
		{ "Content-Length", "35" },
	};
	for (size_t i = 0; i < res.headers.n && i < 7; i++) {
		check_str(res.headers.v[i].name, want[i][0]);
		check_str(res.headers.v[i].value, want[i][1]);
	}
	check_str(dc_buf_cstr(&res.body), "{\"__type\":\"ResourceInUseException\"}");
	/* The response is emptied before it is used again. */
	dc_httpd_respond(d, 200, NULL, NULL);
	check_int(send_to(http, d, "GET", "/", NULL, &res), 0);
	check_int(res.status, 200);
	check_int(res.headers.n, 1);
	check_int(res.body.len, 0);
	dc_http_response_dispose(&res);
	dc_http_free(http);
	dc_httpd_stop(d);
}

void test_http__large_response_arrives_whole(void)
{
	struct dc_httpd *d = dc_httpd_start();
	struct dc_http *http = dc_http_new(&fast);
	struct dc_http_response res;
	size_t n = (size_t)5 << 20;
	char *body = dc_xmalloc(n);
	for (size_t i = 0; i < n; i++)
		body[i] = (char)(i % 251);
	dc_http_response_init(&res);
	dc_httpd_push(d, &(struct dc_httpd_action){ .body = body, .body_len = n });
	check_int(send_to(http, d, "GET", "/", NULL, &res), 0);
	dc_test_mem_eq(__FILE__, __LINE__, "body", res.body.ptr, res.body.len, body, n);
	free(body);
	dc_http_response_dispose(&res);
	dc_http_free(http);
	dc_httpd_stop(d);
}

void test_http__response_over_the_cap_fails(void)
{
	struct dc_httpd *d = dc_httpd_start();
	struct dc_http_options opt = fast;
	opt.max_response = 1000;
	struct dc_http *http = dc_http_new(&opt);
	struct dc_http *real = dc_http_new(&fast);
	struct dc_http_response res;
	char big[2001];
	memset(big, 'a', 2000);
	big[2000] = '\0';
	dc_http_response_init(&res);
	/* Announced by Content-Length. */
	dc_httpd_respond(d, 200, NULL, big);
	check_int(send_to(http, d, "GET", "/", NULL, &res), -1);
	contains(dc_error_last()->message, "larger than the 1000-byte limit");
	contains(dc_error_last()->message, dc_httpd_authority(d));
	/* Found out while reading: chunked, so no length up front. */
	char *chunked = dc_xasprintf("7d0\r\n%s\r\n0\r\n\r\n", big);
	dc_httpd_respond(d, 200, "Transfer-Encoding: chunked\r\n", chunked);
	check_int(send_to(http, d, "GET", "/", NULL, &res), -1);
	contains(dc_error_last()->message, "larger than the 1000-byte limit");
	/* The real cap, announced: refused without reading 64 MiB. */
	dc_httpd_respond(d, 200, "Content-Length: 67108865\r\nConnection: close\r\n", "x");
	check_int(send_to(real, d, "GET", "/", NULL, &res), -1);
	contains(dc_error_last()->message, "larger than the 67108864-byte limit");
	free(chunked);
	dc_http_response_dispose(&res);
	dc_http_free(http);
	dc_http_free(real);
	dc_httpd_stop(d);
}

/* A port on which nothing listens. */
static int closed_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	getsockname(fd, (struct sockaddr *)&sa, &len);
	close(fd);
	return ntohs(sa.sin_port);
}

void test_http__refused_connection_is_a_network_error(void)
{
	struct dc_http *http = dc_http_new(&fast);
	struct dc_http_request req;
	struct dc_http_response res;
	int port = closed_port();
	char *url = dc_xasprintf("http://127.0.0.1:%d/x", port);
	char *want = dc_xasprintf("cannot connect to '127.0.0.1:%d': Connection refused", port);
	dc_http_request_init(&req, "GET", url);
	dc_http_response_init(&res);
	check_int(dc_http_send(http, &req, &res), DC_ENETWORK);
	check_str(dc_error_last()->message, want);
	check_int(res.timed_out, 0);
	free(url);
	free(want);
	dc_http_request_dispose(&req);
	dc_http_response_dispose(&res);
	dc_http_free(http);
}

/* Run one fault on a fresh transport; check the code and the message, then
 * that the same transport still works. */
static void check_fault(const struct dc_httpd_action *a, const struct dc_http_options *opt,
			const char *message)
{
	struct dc_httpd *d = dc_httpd_start();
	struct dc_http *http = dc_http_new(opt);
	struct dc_http_response res;
	dc_http_response_init(&res);
	dc_httpd_push(d, a);
	dc_httpd_respond(d, 200, NULL, "fine");
	check_int(send_to(http, d, "GET", "/", NULL, &res), DC_ENETWORK);
	contains(dc_error_last()->message, message);
	contains(dc_error_last()->message, dc_httpd_authority(d));
	check_int(send_to(http, d, "GET", "/", NULL, &res), 0);
	check_str(dc_buf_cstr(&res.body), "fine");
	dc_http_response_dispose(&res);
	dc_http_free(http);
	dc_httpd_stop(d);
}

void test_http__reset_is_a_network_error(void)
{
	check_fault(&(struct dc_httpd_action){ .kind = DC_HTTPD_RESET }, &fast,
		    "Connection reset by peer");
}

void test_http__closed_without_answer_is_a_network_error(void)
{
	check_fault(&(struct dc_httpd_action){ .kind = DC_HTTPD_CLOSE }, &fast,
		    "closed the connection without answering");
}

void test_http__truncated_body_is_a_network_error(void)
{
	check_fault(&(struct dc_httpd_action){ .kind = DC_HTTPD_TRUNCATE, .body = "{\"partial\":" },
		    &fast, "was cut short");
}

void test_http__stall_times_out(void)
{
	struct dc_http_options opt = { .connect_timeout_ms = 1000, .timeout_ms = 300 };
	struct dc_httpd *d = dc_httpd_start();
	struct dc_http *http = dc_http_new(&opt);
	struct dc_http_response res;
	dc_http_response_init(&res);
	dc_httpd_push(d, &(struct dc_httpd_action){ .delay_ms = 3000, .body = "late" });
	long start = now_ms();
	check_int(send_to(http, d, "GET", "/", NULL, &res), DC_ENETWORK);
	long took = now_ms() - start;
	check(took >= 250 && took < 2000);
	check_int(res.timed_out, 1);
	contains(dc_error_last()->message, "timed out");
	contains(dc_error_last()->message, dc_httpd_authority(d));
	dc_http_response_dispose(&res);
	dc_http_free(http);
	dc_httpd_stop(d);
}

void test_http__stall_mid_body_fails_before_the_total_timeout(void)
{
	struct dc_http_options opt = { .timeout_ms = 20000, .stall_timeout_ms = 1000 };
	struct dc_httpd *d = dc_httpd_start();
	struct dc_http *http = dc_http_new(&opt);
	struct dc_http_response res;
	dc_http_response_init(&res);
	dc_httpd_push(d, &(struct dc_httpd_action){ .body_delay_ms = 5000, .body = "late" });
	long start = now_ms();
	check_int(send_to(http, d, "GET", "/", NULL, &res), DC_ENETWORK);
	long took = now_ms() - start;
	check(took >= 900 && took < 4000);
	check_int(res.timed_out, 1);
	contains(dc_error_last()->message, "timed out");
	dc_http_response_dispose(&res);
	dc_http_free(http);
	dc_httpd_stop(d);
}

void test_http__unresolvable_host_is_a_network_error(void)
{
	struct dc_http_options opt = { .connect_timeout_ms = 2000, .timeout_ms = 3000 };
	struct dc_http *http = dc_http_new(&opt);
	struct dc_http_request req;
	struct dc_http_response res;
	dc_http_request_init(&req, "GET", "http://no-such-host.invalid/");
	dc_http_response_init(&res);
	check_int(dc_http_send(http, &req, &res), DC_ENETWORK);
	contains(dc_error_last()->message, "'no-such-host.invalid'");
	dc_http_request_dispose(&req);
	dc_http_response_dispose(&res);
	dc_http_free(http);
}

void test_http__bad_url_is_final_and_hides_secrets(void)
{
	struct dc_http *http = dc_http_new(&fast);
	struct dc_http_request req;
	struct dc_http_response res;
	dc_http_request_init(&req, "GET", "gopher://h/x?X-Amz-Signature=deadbeef");
	dc_http_response_init(&res);
	check_int(dc_http_send(http, &req, &res), -1);
	contains(dc_error_last()->message, "bad URL");
	check(strstr(dc_error_last()->message, "deadbeef") == NULL);
	dc_http_request_dispose(&req);
	dc_http_response_dispose(&res);
	dc_http_free(http);
}

void test_http__proxy_from_the_environment(void)
{
	struct dc_httpd *d = dc_httpd_start();
	char *proxy = dc_httpd_url(d, "");
	setenv("http_proxy", proxy, 1);
	struct dc_http *http = dc_http_new(&fast);
	struct dc_http_request req;
	struct dc_http_response res;
	dc_http_request_init(&req, "GET", "http://service.example/p?q=1");
	dc_http_response_init(&res);
	dc_httpd_respond(d, 200, NULL, "via proxy");
	check_int(dc_http_send(http, &req, &res), 0);
	unsetenv("http_proxy");
	check_str(dc_buf_cstr(&res.body), "via proxy");
	check_str(dc_httpd_request(d, 0)->path, "http://service.example/p?q=1");
	free(proxy);
	dc_http_request_dispose(&req);
	dc_http_response_dispose(&res);
	dc_http_free(http);
	dc_httpd_stop(d);
}

static const char *const secrets[] = {
	"5d672d79c15b13162d9279b0855cfba6", "FwoGZXIvYXdzSECRET", "aeeed9bbccd4d02ee5",
	"wJalrXUtnFEMIK7MDENG", "IQoJb3JpZ2luSESSION", "AQAEAIMDSTOKEN",
};

static void check_no_secret(const char *log)
{
	for (size_t i = 0; i < sizeof(secrets) / sizeof(*secrets); i++)
		if (strstr(log, secrets[i]))
			dc_test_fail(__FILE__, __LINE__, "secret '%s' in the log:\n%s", secrets[i],
				     log);
}

void test_http__wire_log_is_redacted(void)
{
	struct dc_httpd *d = dc_httpd_start();
	char *log = NULL;
	size_t log_len = 0;
	struct dc_http_options opt = fast;
	opt.debug = open_memstream(&log, &log_len);
	struct dc_http *http = dc_http_new(&opt);
	struct dc_http_request req;
	struct dc_http_response res;
	char *url = dc_httpd_url(d, "/obj?X-Amz-Expires=60&X-Amz-Signature=aeeed9bbccd4d02ee5");
	dc_http_request_init(&req, "POST", url);
	dc_http_response_init(&res);
	dc_headers_add(&req.headers, "Authorization",
		       "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/sts/aws4_request, "
		       "SignedHeaders=host, Signature=5d672d79c15b13162d9279b0855cfba6");
	dc_headers_add(&req.headers, "X-Amz-Security-Token", "FwoGZXIvYXdzSECRET");
	dc_buf_puts(&req.body, "{\"SecretAccessKey\":\"wJalrXUtnFEMIK7MDENG\",\"Name\":\"n\"}");
	dc_httpd_respond(d, 200, "Content-Type: text/xml\r\n",
			 "<R><AccessKeyId>ASIA1</AccessKeyId>"
			 "<SessionToken>IQoJb3JpZ2luSESSION</SessionToken></R>");
	check_int(dc_http_send(http, &req, &res), 0);
	/* The IMDS token arrives as a bare body. */
	dc_http_request_dispose(&req);
	dc_http_request_init(&req, "PUT", url);
	dc_headers_add(&req.headers, "X-aws-ec2-metadata-token-ttl-seconds", "21600");
	dc_httpd_respond(d, 200, NULL, "AQAEAIMDSTOKEN");
	check_int(dc_http_send(http, &req, &res), 0);
	check_str(dc_buf_cstr(&res.body), "AQAEAIMDSTOKEN");
	/* A failure is logged too. */
	dc_httpd_push(d, &(struct dc_httpd_action){ .kind = DC_HTTPD_TRUNCATE, .body = "x" });
	check_int(dc_http_send(http, &req, &res), DC_ENETWORK);
	fclose(opt.debug);
	check_no_secret(log);
	if (getenv("DC_SHOW_LOG"))
		fputs(log, stderr);
	contains(log, "> POST /obj?X-Amz-Expires=60&X-Amz-Signature=[redacted] HTTP/1.1\n");
	contains(log, "> Authorization: AWS4-HMAC-SHA256 [redacted]\n");
	contains(log, "> X-Amz-Security-Token: [redacted]\n");
	contains(log, "> {\"SecretAccessKey\":\"[redacted]\",\"Name\":\"n\"}\n");
	contains(log, "< HTTP/1.1 200 Scripted\n");
	contains(log, "< Content-Type: text/xml\n");
	contains(log, "< <R><AccessKeyId>ASIA1</AccessKeyId><SessionToken>[redacted]</SessionToken></R>\n");
	contains(log, "< [redacted: 14 bytes]\n");
	contains(log, "* error: response from");
	free(log);
	free(url);
	dc_http_request_dispose(&req);
	dc_http_response_dispose(&res);
	dc_http_free(http);
	dc_httpd_stop(d);
}

void test_http__wire_log_cuts_long_bodies(void)
{
	struct dc_httpd *d = dc_httpd_start();
	char *log = NULL;
	size_t log_len = 0;
	struct dc_http_options opt = fast;
	opt.debug = open_memstream(&log, &log_len);
	struct dc_http *http = dc_http_new(&opt);
	struct dc_http_response res;
	char body[5001];
	memset(body, 'z', 5000);
	body[5000] = '\0';
	dc_http_response_init(&res);
	dc_httpd_respond(d, 200, NULL, body);
	check_int(send_to(http, d, "GET", "/", NULL, &res), 0);
	fclose(opt.debug);
	contains(log, "< [... 2952 more bytes]\n");
	check(strstr(log, "zzz") && !strstr(log, body + 2000 - 100 - 1));
	free(log);
	dc_http_response_dispose(&res);
	dc_http_free(http);
	dc_httpd_stop(d);
}

/* An HTTPS server with a self-signed certificate for 127.0.0.1:
 * `openssl s_server -www`, which answers any GET with 200. */
struct tls_server {
	pid_t pid;
	int port;
	char cert[512];
};

static int run_quiet(const char *cmd)
{
	char *full = dc_xasprintf("%s >/dev/null 2>&1", cmd);
	int rc = system(full);
	free(full);
	return rc;
}

static int wait_listening(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				  .sin_port = htons((uint16_t)port) };
	for (int i = 0; i < 200; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		int ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		close(fd);
		if (ok)
			return 0;
		usleep(20000);
	}
	return -1;
}

static int tls_start(struct tls_server *s)
{
	const char *dir = dc_test_tmpdir();
	char key[512];
	snprintf(s->cert, sizeof(s->cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	char *gen = dc_xasprintf("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
				 "-nodes -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
				 "-keyout %s -out %s", key, s->cert);
	int rc = run_quiet(gen);
	free(gen);
	if (rc != 0)
		return -1;
	s->port = closed_port();
	char accept_arg[32];
	snprintf(accept_arg, sizeof(accept_arg), "127.0.0.1:%d", s->port);
	s->pid = fork();
	if (s->pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execlp("openssl", "openssl", "s_server", "-accept", accept_arg, "-cert", s->cert,
		       "-key", key, "-www", "-quiet", (char *)NULL);
		_exit(127);
	}
	return s->pid > 0 ? wait_listening(s->port) : -1;
}

static void tls_stop(struct tls_server *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
	}
}

static int get(const struct dc_http_options *opt, const char *url, struct dc_http_response *res)
{
	struct dc_http *http = dc_http_new(opt);
	struct dc_http_request req;
	dc_http_request_init(&req, "GET", url);
	int rc = dc_http_send(http, &req, res);
	dc_http_request_dispose(&req);
	dc_http_free(http);
	return rc;
}

void test_http__tls_is_verified(void)
{
	struct tls_server s = { 0 };
	struct dc_http_response res;
	if (tls_start(&s) < 0) {
		dc_test_fail(__FILE__, __LINE__, "cannot start 'openssl s_server'");
		tls_stop(&s);
		return;
	}
	dc_http_response_init(&res);
	char *url = dc_xasprintf("https://127.0.0.1:%d/", s.port);
	char *by_name = dc_xasprintf("https://localhost:%d/", s.port);
	char *want = dc_xasprintf("TLS verification of '127.0.0.1:%d' failed: ", s.port);

	/* Unknown issuer: refused, and the message says what to do. */
	check_int(get(&fast, url, &res), -1);
	contains(dc_error_last()->message, want);
	contains(dc_error_last()->message, "; set AWS_CA_BUNDLE if you use a private CA");

	/* The bundle makes the issuer known... */
	struct dc_http_options opt = fast;
	opt.ca_bundle = s.cert;
	check_int(get(&opt, url, &res), 0);
	check_int(res.status, 200);

	/* ...but the name must still match the certificate. */
	check_int(get(&opt, by_name, &res), -1);
	contains(dc_error_last()->message, "TLS verification of 'localhost:");

	opt.ca_bundle = "/nonexistent/ca.pem";
	check_int(get(&opt, url, &res), -1);
	contains(dc_error_last()->message, "'/nonexistent/ca.pem'");

	free(url);
	free(by_name);
	free(want);
	dc_http_response_dispose(&res);
	tls_stop(&s);
}
