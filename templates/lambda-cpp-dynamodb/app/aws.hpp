// HTTP over libcurl with the connection kept open, and AWS Signature
// Version 4 with the function's own credentials.
#pragma once

#include <ctime>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <curl/curl.h>

namespace aws {

struct Response {
	long status = 0;
	std::map<std::string, std::string> headers; // names lower-cased
	std::string body;
};

struct HttpError : std::runtime_error {
	using std::runtime_error::runtime_error;
};

// One easy handle: libcurl keeps its connections (and TLS sessions) open
// between requests, so a warm invocation does no handshake.
class Http {
public:
	Http();
	~Http();
	Http(const Http &) = delete;
	Http &operator=(const Http &) = delete;

	// timeout_ms 0: no limit (the Runtime API's long poll). Throws HttpError
	// when no answer came (connection refused, timeout).
	Response request(const std::string &method, const std::string &url,
			 const std::vector<std::string> &headers, const std::string &body,
			 long timeout_ms);

private:
	CURL *h_;
};

// The first CA bundle found among the places Linux distributions keep it
// (SSL_CERT_FILE first; Amazon Linux 2023's /etc/pki/tls/certs/ca-bundle.crt
// among them), or "" when none exists.
std::string ca_bundle();

struct Credentials {
	std::string key_id, secret, token;
	static Credentials from_env(); // throws when the keys are missing
};

struct Url {
	std::string scheme, authority, path; // authority: host[:port], default port dropped
	static Url parse(const std::string &url);
	std::string str() const { return scheme + "://" + authority + path; }
};

// The endpoint for a service: AWS_ENDPOINT_URL_<SERVICE>, then
// AWS_ENDPOINT_URL, else "" (the caller makes the AWS default).
std::string endpoint_override(const std::string &env_name);

// RFC 3986 percent-encoding of everything but unreserved characters (and
// '/' when keep_slash).
std::string uri_encode(const std::string &s, bool keep_slash);

std::string sha256_hex(const std::string &data);

class Signer {
public:
	Signer(Credentials creds, std::string region, std::string service, bool s3);

	// Headers to send (Host excepted, which libcurl sends from the URL)
	// for a request whose other signed headers are `headers` ("name: value").
	std::vector<std::string> sign(const std::string &method, const Url &url,
				      const std::vector<std::string> &headers,
				      const std::string &body, std::time_t now);

private:
	const unsigned char *key_for(const std::string &date);

	Credentials creds_;
	std::string region_, service_;
	bool s3_;
	std::string key_date_; // the day the cached signing key is for
	unsigned char key_[32];
};

} // namespace aws
