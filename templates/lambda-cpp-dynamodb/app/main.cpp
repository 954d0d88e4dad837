// Hit counter behind API Gateway (HTTP API, payload 2.0), counter in
// DynamoDB, as a Lambda custom runtime (provided.al2023): this program is the
// whole runtime, speaking the Lambda Runtime API itself.
//
// GET /hits increments and returns the count, GET /healthz says ok, GET /
// serves the page stored in S3 (read once, then kept); anything else is 404.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <optional>
#include <thread>

#include "aws.hpp"
#include "json.hpp"

namespace {

const char *const COUNTER_ID = "hits";
const long AWS_TIMEOUT_MS = 5000;
const int AWS_ATTEMPTS = 3;

std::string env_or(const char *name, const std::string &fallback)
{
	const char *v = getenv(name);
	return v && *v ? v : fallback;
}

std::string env_required(const char *name)
{
	const char *v = getenv(name);
	if (!v || !*v)
		throw std::runtime_error(std::string(name) + " is not set");
	return v;
}

long long now_ms()
{
	using namespace std::chrono;
	return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// A failure answered to API Gateway as 500, with the reason in the log.
struct Failure : std::runtime_error {
	using std::runtime_error::runtime_error;
};

// An event that is not a JSON object: answered with an invocation error.
struct BadEvent : std::runtime_error {
	using std::runtime_error::runtime_error;
};

std::string response(int status, const std::string &body,
		     const std::string &type = "text/plain; charset=utf-8")
{
	return "{\"statusCode\":" + std::to_string(status) +
	       ",\"headers\":{\"content-type\":" + json::quote(type) +
	       ",\"cache-control\":\"no-store\"},\"body\":" + json::quote(body) + "}";
}

// A short description of an AWS error answer: status, code and message.
std::string describe(const aws::Response &r)
{
	std::string what = "HTTP " + std::to_string(r.status);
	try {
		json::Value v = json::parse(r.body);
		std::string type = v["__type"].str();
		what += " " + type.substr(type.find('#') + 1) + ": " + v["message"].str(v["Message"].str());
	} catch (const json::ParseError &) {
		auto code = r.body.find("<Code>");
		if (code != std::string::npos)
			what += " " + r.body.substr(code + 6, r.body.find("</Code>") - code - 6);
	}
	return what;
}

bool retryable(const aws::Response &r)
{
	return r.status >= 500 || r.body.find("ThrottlingException") != std::string::npos ||
	       r.body.find("ProvisionedThroughputExceeded") != std::string::npos;
}

class App {
public:
	App()
	    : region_(env_or("AWS_REGION", env_or("AWS_DEFAULT_REGION", "us-east-1"))),
	      table_(env_required("TABLE")), page_bucket_(env_required("PAGE_BUCKET")),
	      page_key_(env_or("PAGE_KEY", "index.html")),
	      ddb_sign_(aws::Credentials::from_env(), region_, "dynamodb", false),
	      s3_sign_(aws::Credentials::from_env(), region_, "s3", true)
	{
		std::string ddb = aws::endpoint_override("DYNAMODB");
		ddb_url_ = aws::Url::parse(ddb.empty() ? "https://dynamodb." + region_ + ".amazonaws.com/"
						       : ddb + "/");
		std::string s3 = aws::endpoint_override("S3");
		// A custom endpoint (moto, a local target) is usually a bare host
		// where bucket subdomains do not resolve: path style there.
		std::string key = aws::uri_encode(page_key_, true);
		page_url_ = aws::Url::parse(
			s3.empty() ? "https://" + page_bucket_ + ".s3." + region_ + ".amazonaws.com/" + key
				   : s3 + "/" + page_bucket_ + "/" + key);
		update_body_ = "{\"TableName\":" + json::quote(table_) +
			       ",\"Key\":{\"id\":{\"S\":\"" + COUNTER_ID +
			       "\"}},\"UpdateExpression\":\"ADD #n :one\","
			       "\"ExpressionAttributeNames\":{\"#n\":\"count\"},"
			       "\"ExpressionAttributeValues\":{\":one\":{\"N\":\"1\"}},"
			       "\"ReturnValues\":\"UPDATED_NEW\"}";
	}

	std::string handle(const std::string &payload, long long deadline_ms)
	{
		json::Value event;
		try {
			event = json::parse(payload);
		} catch (const json::ParseError &e) {
			throw BadEvent(std::string("event is not JSON: ") + e.what());
		}
		if (event.kind != json::Value::Object)
			throw BadEvent("event is not a JSON object");
		std::string r = route(event);
		try {
			if (r == "GET /hits")
				return response(200, hits(deadline_ms));
			if (r == "GET /healthz")
				return response(200, "ok");
			if (r == "GET /")
				return response(200, page(deadline_ms), "text/html; charset=utf-8");
		} catch (const std::exception &e) {
			fprintf(stderr, "%s: %s\n", r.c_str(), e.what());
			return response(500, "internal error");
		}
		return response(404, "not found");
	}

private:
	static std::string route(const json::Value &event)
	{
		std::string key = event["routeKey"].str();
		if (!key.empty() && key != "$default")
			return key;
		return event["requestContext"]["http"]["method"].str() + " " + event["rawPath"].str();
	}

	static long timeout(long long deadline_ms)
	{
		long long left = deadline_ms > 0 ? deadline_ms - now_ms() - 200 : AWS_TIMEOUT_MS;
		return long(std::max(100LL, std::min<long long>(left, AWS_TIMEOUT_MS)));
	}

	aws::Response call(aws::Signer &signer, const aws::Url &url, const std::string &method,
			   const std::vector<std::string> &headers, const std::string &body,
			   long long deadline_ms)
	{
		aws::Response r;
		for (int attempt = 1;; attempt++) {
			auto signed_headers = signer.sign(method, url, headers, body, std::time(nullptr));
			try {
				r = http_.request(method, url.str(), signed_headers, body, timeout(deadline_ms));
				if (r.status < 300 || !retryable(r) || attempt == AWS_ATTEMPTS)
					return r;
			} catch (const aws::HttpError &) {
				if (attempt == AWS_ATTEMPTS)
					throw;
			}
			std::this_thread::sleep_for(std::chrono::milliseconds(25 << attempt));
		}
	}

	std::string hits(long long deadline_ms)
	{
		aws::Response r = call(ddb_sign_, ddb_url_, "POST",
				       {"Content-Type: application/x-amz-json-1.0",
					"X-Amz-Target: DynamoDB_20120810.UpdateItem"},
				       update_body_, deadline_ms);
		if (r.status != 200)
			throw Failure("dynamodb UpdateItem on '" + table_ + "': " + describe(r));
		std::string n = json::parse(r.body)["Attributes"]["count"]["N"].str();
		if (n.empty())
			throw Failure("dynamodb UpdateItem answered without the count");
		return n;
	}

	const std::string &page(long long deadline_ms)
	{
		if (!page_) {
			aws::Response r = call(s3_sign_, page_url_, "GET", {}, "", deadline_ms);
			if (r.status != 200)
				throw Failure("s3 GetObject '" + page_bucket_ + "/" + page_key_ +
					      "': " + describe(r));
			page_ = std::move(r.body);
		}
		return *page_;
	}

	std::string region_, table_, page_bucket_, page_key_;
	aws::Signer ddb_sign_, s3_sign_;
	aws::Url ddb_url_, page_url_;
	std::string update_body_;
	aws::Http http_;
	std::optional<std::string> page_;
};

// The Lambda Runtime API (2018-06-01) on its own kept-open connection.
class Runtime {
public:
	explicit Runtime(const std::string &api) : base_("http://" + api + "/2018-06-01/runtime/") {}

	struct Invocation {
		std::string id, event;
		long long deadline_ms = 0;
	};

	Invocation next()
	{
		for (int attempt = 1;; attempt++) {
			try {
				aws::Response r = http_.request("GET", base_ + "invocation/next", {}, "", 0);
				if (r.status == 200)
					return Invocation{r.headers["lambda-runtime-aws-request-id"], r.body,
							  atoll(r.headers["lambda-runtime-deadline-ms"].c_str())};
				fprintf(stderr, "runtime api: invocation/next answered %ld\n", r.status);
			} catch (const aws::HttpError &e) {
				if (attempt >= 3)
					throw;
				fprintf(stderr, "runtime api: %s\n", e.what());
			}
			std::this_thread::sleep_for(std::chrono::milliseconds(100));
		}
	}

	void respond(const std::string &id, const std::string &body)
	{
		post("invocation/" + id + "/response", body, "");
	}

	void error(const std::string &path, const std::string &type, const std::string &message)
	{
		post(path, "{\"errorMessage\":" + json::quote(message) + ",\"errorType\":" +
				   json::quote(type) + ",\"stackTrace\":[]}",
		     type);
	}

private:
	void post(const std::string &path, const std::string &body, const std::string &error_type)
	{
		std::vector<std::string> headers{"Content-Type: application/json"};
		if (!error_type.empty())
			headers.push_back("Lambda-Runtime-Function-Error-Type: " + error_type);
		aws::Response r = http_.request("POST", base_ + path, headers, body, 10000);
		if (r.status != 202)
			fprintf(stderr, "runtime api: %s answered %ld: %s\n", path.c_str(), r.status,
				r.body.c_str());
	}

	std::string base_;
	aws::Http http_;
};

void serve(Runtime &runtime, App &app, const Runtime::Invocation &inv)
{
	const std::string error = "invocation/" + inv.id + "/error";
	try {
		runtime.respond(inv.id, app.handle(inv.event, inv.deadline_ms));
	} catch (const BadEvent &e) {
		fprintf(stderr, "%s\n", e.what());
		runtime.error(error, "Runtime.BadEvent", e.what());
	} catch (const aws::HttpError &) {
		throw;
	} catch (const std::exception &e) {
		fprintf(stderr, "handler: %s\n", e.what());
		runtime.error(error, "Runtime.HandlerError", e.what());
	}
}

} // namespace

int main()
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
	if (!api || !*api) {
		fprintf(stderr, "AWS_LAMBDA_RUNTIME_API is not set: run me as a Lambda custom runtime\n");
		return 2;
	}
	Runtime runtime(api);
	std::unique_ptr<App> app;
	try {
		app = std::make_unique<App>();
	} catch (const std::exception &e) {
		fprintf(stderr, "init: %s\n", e.what());
		runtime.error("init/error", "Runtime.InitError", e.what());
		return 1;
	}
	for (;;) {
		Runtime::Invocation inv;
		try {
			inv = runtime.next();
		} catch (const std::exception &e) {
			fprintf(stderr, "runtime api unreachable: %s\n", e.what());
			return 1;
		}
		try {
			serve(runtime, *app, inv);
		} catch (const aws::HttpError &e) {
			// The answer was lost; Lambda times the invocation out.
			fprintf(stderr, "runtime api: %s\n", e.what());
		}
	}
}
