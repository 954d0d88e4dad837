#include "aws.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace aws {

namespace {

size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	static_cast<std::string *>(arg)->append(data, size * n);
	return size * n;
}

size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	auto *headers = static_cast<std::map<std::string, std::string> *>(arg);
	std::string line(data, size * n);
	size_t colon = line.find(':');
	if (colon != std::string::npos) {
		std::string name = line.substr(0, colon);
		std::transform(name.begin(), name.end(), name.begin(), ::tolower);
		size_t start = line.find_first_not_of(" \t", colon + 1);
		size_t end = line.find_last_not_of(" \t\r\n");
		(*headers)[name] = start == std::string::npos || end < start
					   ? ""
					   : line.substr(start, end - start + 1);
	}
	return size * n;
}

std::string hex(const unsigned char *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	std::string out;
	out.reserve(2 * n);
	for (size_t i = 0; i < n; i++) {
		out += digits[p[i] >> 4];
		out += digits[p[i] & 15];
	}
	return out;
}

void hmac(unsigned char out[32], const void *key, size_t key_len, const std::string &data)
{
	unsigned int len = 32;
	HMAC(EVP_sha256(), key, int(key_len), reinterpret_cast<const unsigned char *>(data.data()),
	     data.size(), out, &len);
}

std::string lower(std::string s)
{
	std::transform(s.begin(), s.end(), s.begin(), ::tolower);
	return s;
}

// A header value as SigV4 signs it: outer space trimmed, inner runs of
// space collapsed.
std::string trim_value(const std::string &v)
{
	std::string out;
	bool space = false;
	for (char c : v) {
		if (c == ' ' || c == '\t') {
			space = !out.empty();
			continue;
		}
		if (space)
			out += ' ';
		space = false;
		out += c;
	}
	return out;
}

} // namespace

Http::Http() : h_(curl_easy_init())
{
	if (!h_)
		throw HttpError("curl_easy_init failed");
	curl_easy_setopt(h_, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h_, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h_, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
	std::string ca = ca_bundle();
	if (!ca.empty())
		curl_easy_setopt(h_, CURLOPT_CAINFO, ca.c_str());
}

Http::~Http()
{
	curl_easy_cleanup(h_);
}

Response Http::request(const std::string &method, const std::string &url,
		       const std::vector<std::string> &headers, const std::string &body,
		       long timeout_ms)
{
	Response r;
	curl_slist *list = nullptr;
	for (const auto &hd : headers)
		list = curl_slist_append(list, hd.c_str());
	// libcurl would otherwise add its own for a POST body.
	list = curl_slist_append(list, "Expect:");
	if (method == "POST" && std::none_of(headers.begin(), headers.end(), [](const std::string &h) {
		    return lower(h.substr(0, 13)) == "content-type:";
	    }))
		list = curl_slist_append(list, "Content-Type:");
	curl_easy_setopt(h_, CURLOPT_URL, url.c_str());
	curl_easy_setopt(h_, CURLOPT_HTTPHEADER, list);
	if (method == "GET") {
		curl_easy_setopt(h_, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(h_, CURLOPT_POST, 1L);
		curl_easy_setopt(h_, CURLOPT_POSTFIELDS, body.data());
		curl_easy_setopt(h_, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.size()));
	}
	curl_easy_setopt(h_, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h_, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h_, CURLOPT_WRITEDATA, &r.body);
	curl_easy_setopt(h_, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h_, CURLOPT_HEADERDATA, &r.headers);
	CURLcode rc = curl_easy_perform(h_);
	curl_slist_free_all(list);
	curl_easy_setopt(h_, CURLOPT_HTTPHEADER, nullptr);
	if (rc != CURLE_OK)
		throw HttpError(std::string(method) + " " + Url::parse(url).authority + ": " +
				curl_easy_strerror(rc));
	curl_easy_getinfo(h_, CURLINFO_RESPONSE_CODE, &r.status);
	return r;
}

std::string ca_bundle()
{
	const char *env = getenv("SSL_CERT_FILE");
	if (env && *env && access(env, R_OK) == 0)
		return env;
	static const char *const known[] = {
		"/etc/pki/tls/certs/ca-bundle.crt",   // Amazon Linux, Fedora, RHEL
		"/etc/ssl/certs/ca-certificates.crt", // Debian, Ubuntu, Alpine
		"/etc/ssl/certs/ca-bundle.crt",
		"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
		"/etc/ssl/ca-bundle.pem",             // openSUSE
		"/etc/ssl/cert.pem",
	};
	for (const char *p : known)
		if (access(p, R_OK) == 0)
			return p;
	return "";
}

Credentials Credentials::from_env()
{
	const char *id = getenv("AWS_ACCESS_KEY_ID");
	const char *secret = getenv("AWS_SECRET_ACCESS_KEY");
	const char *token = getenv("AWS_SESSION_TOKEN");
	if (!id || !*id || !secret || !*secret)
		throw std::runtime_error("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set");
	return Credentials{id, secret, token ? token : ""};
}

Url Url::parse(const std::string &url)
{
	Url u;
	size_t sep = url.find("://");
	if (sep == std::string::npos)
		throw std::runtime_error("not a URL: '" + url + "'");
	u.scheme = lower(url.substr(0, sep));
	size_t host = sep + 3;
	size_t slash = url.find('/', host);
	u.authority = lower(url.substr(host, slash == std::string::npos ? std::string::npos
									 : slash - host));
	u.path = slash == std::string::npos ? "/" : url.substr(slash);
	const std::string dflt = u.scheme == "https" ? ":443" : ":80";
	if (u.authority.size() > dflt.size() &&
	    u.authority.compare(u.authority.size() - dflt.size(), dflt.size(), dflt) == 0)
		u.authority.resize(u.authority.size() - dflt.size());
	return u;
}

std::string endpoint_override(const std::string &env_name)
{
	for (std::string name : {"AWS_ENDPOINT_URL_" + env_name, std::string("AWS_ENDPOINT_URL")}) {
		const char *v = getenv(name.c_str());
		if (v && *v) {
			std::string s = v;
			while (!s.empty() && s.back() == '/')
				s.pop_back();
			return s;
		}
	}
	return "";
}

std::string uri_encode(const std::string &s, bool keep_slash)
{
	static const char digits[] = "0123456789ABCDEF";
	std::string out;
	for (unsigned char c : s) {
		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
			out += char(c);
		} else {
			out += '%';
			out += digits[c >> 4];
			out += digits[c & 15];
		}
	}
	return out;
}

std::string sha256_hex(const std::string &data)
{
	unsigned char md[32];
	unsigned int len = 0;
	EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
	return hex(md, len);
}

Signer::Signer(Credentials creds, std::string region, std::string service, bool s3)
    : creds_(std::move(creds)), region_(std::move(region)), service_(std::move(service)), s3_(s3)
{
	memset(key_, 0, sizeof(key_));
}

const unsigned char *Signer::key_for(const std::string &date)
{
	// Derived once a day, not once a request.
	if (date != key_date_) {
		std::string k = "AWS4" + creds_.secret;
		unsigned char a[32], b[32], c[32];
		hmac(a, k.data(), k.size(), date);
		hmac(b, a, 32, region_);
		hmac(c, b, 32, service_);
		hmac(key_, c, 32, "aws4_request");
		key_date_ = date;
	}
	return key_;
}

std::vector<std::string> Signer::sign(const std::string &method, const Url &url,
				      const std::vector<std::string> &headers,
				      const std::string &body, std::time_t now)
{
	struct tm tm;
	gmtime_r(&now, &tm);
	char stamp[17];
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	const std::string amz_date = stamp, date = amz_date.substr(0, 8);
	const std::string payload = sha256_hex(body);

	std::vector<std::string> out = headers;
	out.push_back("X-Amz-Date: " + amz_date);
	if (!creds_.token.empty())
		out.push_back("X-Amz-Security-Token: " + creds_.token);
	if (s3_)
		out.push_back("X-Amz-Content-SHA256: " + payload);

	std::map<std::string, std::string> canon{{"host", url.authority}};
	for (const auto &h : out) {
		size_t colon = h.find(':');
		canon[lower(h.substr(0, colon))] = trim_value(h.substr(colon + 1));
	}
	std::string names, lines;
	for (const auto &kv : canon) {
		names += (names.empty() ? "" : ";") + kv.first;
		lines += kv.first + ":" + kv.second + "\n";
	}
	// S3 paths are signed as sent; other services encode them once more.
	const std::string path = s3_ ? url.path : uri_encode(url.path, true);
	const std::string request =
		method + "\n" + path + "\n\n" + lines + "\n" + names + "\n" + payload;
	const std::string scope = date + "/" + region_ + "/" + service_ + "/aws4_request";
	const std::string to_sign =
		"AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" + sha256_hex(request);
	unsigned char sig[32];
	hmac(sig, key_for(date), 32, to_sign);
	out.push_back("Authorization: AWS4-HMAC-SHA256 Credential=" + creds_.key_id + "/" + scope +
		      ", SignedHeaders=" + names + ", Signature=" + hex(sig, 32));
	return out;
}

} // namespace aws
