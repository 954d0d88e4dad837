/* deployctl whoami: who the configured credentials are (STS
 * GetCallerIdentity), in which region, and where they came from. */
#include <jansson.h>
#include <libxml/tree.h>

#include "aws/client.h"
#include "aws/protocol.h"
#include "commands/commands.h"
#include "util/error.h"

const struct dc_opt whoami_opts[] = { DC_OPT_TABLE_END };

struct identity {
	char *account;
	char *arn;
	char *user_id;
};

static void identity_dispose(struct identity *id)
{
	free(id->account);
	free(id->arn);
	free(id->user_id);
}

static int get_identity(struct identity *out, struct dc_aws *aws)
{
	xmlDocPtr doc;
	if (dc_aws_query(aws, "sts", "GetCallerIdentity", NULL, &doc) < 0)
		return -1;
	out->account = dc_xml_text(doc, "GetCallerIdentityResult/Account");
	out->arn = dc_xml_text(doc, "GetCallerIdentityResult/Arn");
	out->user_id = dc_xml_text(doc, "GetCallerIdentityResult/UserId");
	xmlFreeDoc(doc);
	if (!out->account || !out->arn)
		return dc_error_set("STS GetCallerIdentity answered without an account or ARN");
	return 0;
}

static void print_text(const struct identity *id, const char *region, const char *source)
{
	printf("account  %s\n", id->account);
	printf("arn      %s\n", id->arn);
	printf("user id  %s\n", id->user_id ? id->user_id : "");
	printf("region   %s\n", region);
	printf("source   %s\n", source);
}

static void print_json(const struct identity *id, const char *region, const char *source)
{
	json_t *o = json_pack("{s:s, s:s, s:s?, s:s, s:s}", "account", id->account, "arn",
			      id->arn, "user_id", id->user_id, "region", region,
			      "credentials_source", source);
	json_dumpf(o, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(o);
}

int cmd_whoami(struct dc_cli *cli, const struct dc_strlist *args)
{
	struct identity id = { 0 };
	const struct dc_credentials *creds;
	if (args->n > 0)
		return dc_cli_usage_error("whoami takes no arguments");
	if (dc_aws_credentials(cli->aws, &creds) < 0 || get_identity(&id, cli->aws) < 0) {
		identity_dispose(&id);
		return dc_cli_fail(DC_EXIT_FAILED);
	}
	/* Credentials may have been refreshed by the call: ask again. */
	dc_aws_credentials(cli->aws, &creds);
	if (cli->output == DC_OUTPUT_JSON)
		print_json(&id, dc_aws_region(cli->aws), creds->source);
	else
		print_text(&id, dc_aws_region(cli->aws), creds->source);
	identity_dispose(&id);
	return DC_EXIT_OK;
}
