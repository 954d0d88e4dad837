/* State files: stacks/<name>.json through dc_state_load (parse, shape and
 * version checks, and for a corrupt file the walk back through the git
 * history to the last good version), then what reads a loaded document
 * without AWS: the plan of `up --dry-run` against a fixed template (state
 * entries, their status, type, props and attrs as references resolve
 * them) and the secret scan of a save. The input is the file of stack
 * "fuzz" in a state repository on tmpfs whose history holds one good
 * version. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "stack/engine.h"
#include "stack/state_internal.h"
#include "stack/template.h"
#include "util/error.h"
#include "util/xalloc.h"

/* lambda-python-dynamodb without the types whose plan step builds files
 * (lambda.function, s3.object): every other shape of reference is here. */
static const char template_json[] =
	"{\"arch\": \"fuzz\", \"params\": {\"runtime\": \"python3.12\", \"memory_mb\": 128},"
	" \"resources\": {"
	"  \"table\": {\"type\": \"dynamodb.table\", \"props\": {\"hash_key\": \"id\"}},"
	"  \"bucket\": {\"type\": \"s3.bucket\", \"props\": {}},"
	"  \"logs\": {\"type\": \"logs.log_group\", \"props\": {\"name\": \"/aws/lambda/${stack}-fn\","
	"    \"retention_days\": 7}},"
	"  \"role\": {\"type\": \"iam.role\", \"props\": {\"service\": \"lambda.amazonaws.com\","
	"    \"allow\": [{\"action\": \"dynamodb:UpdateItem\", \"resource\": \"${table.arn}\"},"
	"      {\"action\": [\"logs:PutLogEvents\"], \"resource\": \"${logs.arn}:*\"}]}},"
	"  \"api\": {\"type\": \"apigatewayv2.api\", \"props\": {\"protocol\": \"HTTP\"}},"
	"  \"integration\": {\"type\": \"apigatewayv2.integration\", \"props\": {\"api\": \"${api.id}\","
	"    \"type\": \"AWS_PROXY\", \"payload_format\": \"2.0\","
	"    \"uri\": \"arn:aws:lambda:${region}:${account}:function:${stack}-fn\"}},"
	"  \"route\": {\"type\": \"apigatewayv2.route\", \"props\": {\"api\": \"${api.id}\","
	"    \"route_key\": \"GET /\", \"target\": \"integrations/${integration.id}\"}},"
	"  \"stage\": {\"type\": \"apigatewayv2.stage\", \"props\": {\"api\": \"${api.id}\","
	"    \"name\": \"$default\", \"auto_deploy\": true}},"
	"  \"invoke\": {\"type\": \"lambda.permission\", \"props\": {\"function\": \"${stack}-fn\","
	"    \"principal\": \"apigateway.amazonaws.com\","
	"    \"source_arn\": \"arn:aws:execute-api:${region}:${account}:${api.id}/*\"}}},"
	" \"outputs\": {\"url\": \"${api.endpoint}/\"}}";

static struct dc_state *st;
static struct dc_template *tmpl;
static char *file;
static FILE *devnull;

static void die(const char *what)
{
	fprintf(stderr, "fuzz_state: %s: %s\n", what, dc_error_last()->message);
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *root = fuzz_tmpdir();
	char *dir = dc_xasprintf("%s/templates/fuzz", root);
	char *tfile = dc_xasprintf("%s/stack.json", dir);
	char *troot = dc_xasprintf("%s/templates", root);
	char *sdir = dc_xasprintf("%s/state", root);
	mkdir(troot, 0700);
	mkdir(dir, 0700);
	fuzz_write_file(tfile, template_json, sizeof(template_json) - 1);
	if (dc_template_load(&tmpl, troot, "fuzz", NULL) < 0)
		die("template");
	if (dc_state_open(&st, sdir) < 0)
		die("state");
	json_t *good = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:{}, s:{}}", "version", 1,
				 "name", "fuzz", "arch", "fuzz", "target", "aws", "region",
				 "eu-west-2", "account", "123456789012", "params", "resources");
	if (dc_state_save(st, "fuzz", good, "fuzz: a good version") < 0)
		die("save");
	json_decref(good);
	file = dc_xasprintf("%s/stacks/fuzz.json", sdir);
	devnull = fopen("/dev/null", "w");
	free(dir);
	free(tfile);
	free(troot);
	free(sdir);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_write_file(file, data, size);
	json_t *doc = NULL;
	if (dc_state_load(&doc, st, "fuzz") == 0) {
		if (!json_is_object(doc))
			__builtin_trap();
		dc_state_doc_secrets(doc, "fuzz");
	}
	json_decref(doc);
	dc_engine_plan(devnull, st, "fuzz", tmpl);
	return 0;
}
