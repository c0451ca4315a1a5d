/* The config tree written back as YAML (export config; the general settings' processors). */
#include <stdio.h>
#include <string.h>

#include "config.h"

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
static void put_scalar(FILE *f, const struct cfg_node *n, bool mask)
{
	bool secret = mask && is_secret(n);
	const char *v = secret ? "xxxxx" : n->value;
	bool quote = n->quoted || secret || !*v || strpbrk(v, ":#{}[],&*?|<>=!%@`'\"\\\n\t") || v[0] == '-' ||
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

static void put_node(FILE *f, const struct cfg_node *n, int depth, bool mask);

static void put_children(FILE *f, const struct cfg_node *n, int depth, bool mask)
{
	for (const struct cfg_node *c = n->child; c; c = c->next) {
		fprintf(f, "%*s", depth * 2, "");
		if (n->kind == CFG_N_SEQ)
			fputs("- ", f);
		else
			fprintf(f, "%s:", c->key);
		put_node(f, c, depth + 1, mask);
	}
}

static void put_node(FILE *f, const struct cfg_node *n, int depth, bool mask)
{
	if (n->kind == CFG_N_SCALAR) {
		if (n->key)
			fputc(' ', f);
		put_scalar(f, n, mask);
		fputc('\n', f);
	} else if (!n->child) {
		fprintf(f, "%s%s\n", n->key ? " " : "", n->kind == CFG_N_MAP ? "{}" : "[]");
	} else {
		fputc('\n', f);
		put_children(f, n, depth, mask);
	}
}

void cfg_write_yaml(FILE *f, const struct cfg_node *map, bool mask)
{
	if (map->kind == CFG_N_SCALAR)
		put_node(f, map, 0, mask);
	else
		put_children(f, map, 0, mask);
}
