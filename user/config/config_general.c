/*
 * Beats' general settings on events: name (agent.name), tags and fields
 * (under "fields", or at the root with fields_under_root), at top level and
 * per protocol, as add_fields / add_tags processors run before the
 * configured ones (a protocol's before its processors, the global ones
 * before the top-level processors), as libbeat does. A protocol's index goes
 * first into @metadata.raw_index, where the Elasticsearch output takes it
 * from (libbeat's per-input index: the client's metadata).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_priv.h"
#include "processors.h"
#include "proto.h"

/* s as a double-quoted YAML scalar and a newline. */
static void put_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (const char *p = s; *p; p++)
		fprintf(f,
			(*p == '"' || *p == '\\')  ? "\\%c"
			: (unsigned char)*p < 0x20 ? "\\x%02x"
						   : "%c",
			(unsigned char)*p);
	fputs("\"\n", f);
}

/* The YAML list of processors for these settings, into a memstream. */
static void put_fields(FILE *f, const struct cfg_node *fields, bool under_root)
{
	char *text = NULL, *line;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);

	if (!m)
		return;
	cfg_write_yaml(m, fields, false);
	fclose(m);
	fprintf(f, "- add_fields:\n    target: \"%s\"\n    fields:\n", under_root ? "" : "fields");
	for (line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		fprintf(f, "      %s\n", line);
	free(text);
}

/* Chain for index / name / tags / fields (any may be empty), prepended to *chain. */
static int general_chain(const char *index, const char *name, const struct strlist *tags, const struct cfg_node *fields,
			 bool under_root, const char *what, struct proc_chain **chain, struct cfg_err *err)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	struct cfg_node *tree;
	struct proc_chain *front = NULL;
	int rc;

	if (!index && !name && !tags->n && !fields)
		return 0;
	if (!(f = open_memstream(&text, &len)))
		return cfg_error(err, NULL, "out of memory");
	fputs("processors:\n", f);
	if (index) {
		fputs("- add_fields:\n    target: \"@metadata\"\n    fields:\n      raw_index: ", f);
		put_quoted(f, index);
	}
	if (name) {
		fputs("- add_fields:\n    target: agent\n    fields:\n      name: ", f);
		put_quoted(f, name);
	}
	if (fields)
		put_fields(f, fields, under_root);
	if (tags->n) {
		fputs("- add_tags:\n    tags:\n", f);
		for (size_t i = 0; i < tags->n; i++) {
			fputs("      - ", f);
			put_quoted(f, tags->v[i]);
		}
	}
	fclose(f);
	tree = cfg_parse_yaml(text, len, what, err);
	free(text);
	if (!tree)
		return -EINVAL;
	rc = proc_chain_parse(cfg_get(tree, "processors"), &front, err);
	cfg_node_free(tree);
	if (!rc && proc_chain_prepend(chain, front)) {
		proc_chain_free(front);
		rc = cfg_error(err, NULL, "out of memory");
	}
	return rc;
}

int config_general_processors(struct config *c, struct cfg_err *err)
{
	if (general_chain(NULL, c->name, &c->tags, c->fields, c->fields_under_root, "name/tags/fields", &c->processors,
			  err))
		return -EINVAL;
	for (size_t i = 0; i < c->nprotos; i++) {
		struct proto_cfg *pc = &c->protos[i];

		if (general_chain(pc->index, NULL, &pc->tags, pc->fields, false, pc->ops->name, &pc->processors, err))
			return -EINVAL;
	}
	return 0;
}
