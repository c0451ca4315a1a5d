/* Parsed messages handed from the parsers to the correlator. */
#include <stdlib.h>
#include <string.h>

#include "proto.h"

struct msg *msg_new(uint64_t ts)
{
	struct msg *m = calloc(1, sizeof(*m));

	if (m)
		m->ts = ts;
	return m;
}

void msg_free(struct msg *m)
{
	if (!m)
		return;
	json_decref(m->fields);
	free(m->raw);
	if (m->priv_free)
		m->priv_free(m->priv);
	else
		free(m->priv);
	free(m);
}

void msg_set_raw(struct msg *m, const void *data, size_t len)
{
	char *raw = malloc(len + 1);

	if (!raw)
		return;
	memcpy(raw, data, len);
	raw[len] = '\0';
	free(m->raw);
	m->raw = raw;
	m->raw_len = len;
}
