/*
 * Keystore values never reach a message: a config error names the file,
 * line and key, and where it would quote a value that came from the
 * keystore (the node or one below it) it shows "xxxxx", as export config
 * masks it.
 */
#include <string.h>

#include "config_priv.h"

#define CFG_MASK "xxxxx"

/* Replace every occurrence of secret in msg (NUL-terminated, in a buffer of cap bytes) by the mask. */
static void scrub_one(char *msg, size_t cap, const char *secret)
{
	size_t sl = strlen(secret), ml = strlen(CFG_MASK);
	char *p = msg;

	if (!sl)
		return;
	while ((p = strstr(p, secret))) {
		size_t tail = strlen(p + sl);

		if ((size_t)(p - msg) + ml + tail >= cap)
			tail = cap - 1 - (size_t)(p - msg) - ml; /* the mask is shorter or the tail is cut */
		memmove(p + ml, p + sl, tail);
		p[ml + tail] = '\0';
		memcpy(p, CFG_MASK, ml);
		p += ml;
	}
}

void cfg_scrub_secrets(char *msg, size_t cap, const struct cfg_node *n)
{
	if (!n)
		return;
	if (n->secret && n->kind == CFG_N_SCALAR && n->value)
		scrub_one(msg, cap, n->value);
	for (const struct cfg_node *c = n->child; c; c = c->next)
		cfg_scrub_secrets(msg, cap, c);
}
