/*
 * The `processors` settings: the global list and each protocol's, handed to
 * the processor chain parser (user/processors/, include/processors.h).
 */
#include "config.h"
#include "config_priv.h"
#include "processors.h"

int config_set_processors(void *base, const struct cfg_node *n, struct cfg_err *err)
{
	struct config *c = base;

	proc_chain_free(c->processors);
	return proc_chain_parse(n, &c->processors, err);
}

int config_set_proto_processors(void *base, const struct cfg_node *n, struct cfg_err *err)
{
	struct proto_cfg *pc = base;

	proc_chain_free(pc->processors);
	return proc_chain_parse(n, &pc->processors, err);
}
