/* The memory floor deployctl stands on: load libcurl, initialise it and
 * OpenSSL, hash one byte, nothing else. make bench runs it beside
 * `deployctl whoami` so the peak memory figure can be read against what the
 * shared libraries alone take. */
#include <curl/curl.h>
#include <openssl/evp.h>

int main(void)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	CURL *c = curl_easy_init();
	EVP_Digest("x", 1, digest, &n, EVP_sha256(), NULL);
	curl_easy_cleanup(c);
	curl_global_cleanup();
	return n == 32 ? 0 : 1;
}
