/* xdpbeat export config (secrets masked) | template, and test output. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "output.h"

static const char *const secret_keys[] = { "password", "api_key", "passphrase", "key_passphrase", "token", NULL };

static bool is_secret(const struct cfg_node *n)
{
	if (n->secret)
		return true;
	for (size_t i = 0; n->key && secret_keys[i]; i++)
		if (!strcmp(n->key, secret_keys[i]))
			return true;
	return false;
}

/* A scalar as YAML: double-quoted (JSON escapes) when it was quoted or needs it. */
static void put_scalar(FILE *f, const struct cfg_node *n)
{
	const char *v = is_secret(n) ? "xxxxx" : n->value;
	bool quote = n->quoted || is_secret(n) || !*v || strpbrk(v, ":#{}[],&*?|<>=!%@`'\"\\\n\t") || v[0] == '-' ||
		     v[0] == ' ' || v[strlen(v) - 1] == ' ';

	if (!quote) {
		fputs(v, f);
		return;
	}
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void put_node(FILE *f, const struct cfg_node *n, int depth);

static void put_children(FILE *f, const struct cfg_node *n, int depth)
{
	for (const struct cfg_node *c = n->child; c; c = c->next) {
		fprintf(f, "%*s", depth * 2, "");
		if (n->kind == CFG_N_SEQ)
			fputs("- ", f);
		else
			fprintf(f, "%s:", c->key);
		put_node(f, c, depth + 1);
	}
}

static void put_node(FILE *f, const struct cfg_node *n, int depth)
{
	if (n->kind == CFG_N_SCALAR) {
		if (n->key)
			fputc(' ', f);
		put_scalar(f, n);
		fputc('\n', f);
	} else if (!n->child) {
		fprintf(f, "%s%s\n", n->key ? " " : "", n->kind == CFG_N_MAP ? "{}" : "[]");
	} else {
		fputc('\n', f);
		put_children(f, n, depth);
	}
}

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
	put_children(stdout, cfg->tree, 0);
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
