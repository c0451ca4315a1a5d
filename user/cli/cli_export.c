/* xdpbeat export config (secrets masked) | template, and test output. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "output.h"

static const struct output_cfg *es_output(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->noutputs; i++)
		if (cfg->outputs[i].ops->template_body)
			return &cfg->outputs[i];
	return NULL;
}

/* The template of the configured output, else of a default Elasticsearch output with this setup.template. */
static int export_template(const struct config *cfg)
{
	const struct output_cfg *oc = es_output(cfg);
	const struct output_ops *ops = output_find("elasticsearch");
	struct cfg_err err;
	const char *body;
	void *priv;
	int rc = 1;

	if (oc) {
		body = oc->ops->template_body(oc->priv);
		printf("%s\n", body ? body : "{}");
		return body ? 0 : 1;
	}
	if (!ops || !(priv = ops->cfg_new()))
		return 1;
	if (ops->check(priv, cfg, &err))
		fprintf(stderr, "xdpbeat: %s\n", err.msg);
	else if ((body = ops->template_body(priv)))
		rc = printf("%s\n", body) < 0;
	else
		fprintf(stderr, "xdpbeat: setup.template.enabled is false: no template\n");
	ops->cfg_free(priv);
	return rc;
}

int cli_export(const struct opts *o, const struct config *cfg)
{
	if (!strcmp(o->args[1], "template"))
		return export_template(cfg);
	cfg_write_yaml(stdout, cfg->tree, true);
	return 0;
}

int cli_test_output(const struct opts *o, const struct config *cfg)
{
	int rc = 0;

	for (size_t i = 0; i < cfg->noutputs; i++) {
		const struct output_cfg *oc = &cfg->outputs[i];

		if (!oc->ops->test) {
			printf("%s: this output doesn't support testing (nothing to connect to)\n", oc->ops->name);
			continue;
		}
		rc |= oc->ops->test(oc->priv, stdout);
	}
	return rc ? 1 : 0;
}
