/*
 * setup.*: setup.template is the Elasticsearch output's index template
 * (its keys are checked here, with or without that output); Beats' ILM,
 * DLM, Kibana and dashboards setup is accepted with a warning.
 */
#include <string.h>

#include "config_priv.h"
#include "output/es/es.h"

static int check_template(const struct cfg_node *n, struct cfg_err *err)
{
	struct es_template_cfg t;
	int rc;

	memset(&t, 0, sizeof(t));
	rc = cfg_apply(es_template_fields, &t, n, err);
	cfg_fields_free(es_template_fields, &t);
	return rc;
}

static const char *const unused_setup[] = { "ilm", "dlm", "kibana", "dashboards", NULL };

int config_set_setup(void *base, const struct cfg_node *n, struct cfg_err *err)
{
	struct config *c = base;
	char got[96];

	if (cfg_is_null(n))
		return 0;
	if (n->kind != CFG_N_MAP)
		return cfg_error(err, n, "expected a map of settings, got %s", cfg_describe(n, got, sizeof(got)));
	for (const struct cfg_node *k = n->child; k; k = k->next) {
		bool unused = false;

		if (!strcmp(k->key, "template")) {
			if (!cfg_is_null(k) && check_template(k, err))
				return -EINVAL;
			continue;
		}
		for (size_t i = 0; unused_setup[i]; i++)
			unused = unused || !strcmp(k->key, unused_setup[i]);
		if (!unused)
			return cfg_error(err, k,
					 "unknown setting, expected one of: template, ilm, dlm, kibana, dashboards");
		config_warn(c, k,
			    "accepted for Packetbeat compatibility, not used by xdpbeat (it installs only the index "
			    "template, setup.template)");
	}
	/* The tree is owned by the config; outputs read the subtree later. */
	c->setup = (struct cfg_node *)n;
	return 0;
}
