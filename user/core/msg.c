/* Parsed messages handed from the parsers to the correlator. */
#include <stdlib.h>
#include <string.h>

#include "freelist.h"
#include "msg.h"

/* A message is made and freed once per request and response: this worker's freed ones are reused. */
static __thread struct freelist msg_cache = FREELIST_INIT(sizeof(struct msg), 64);

struct msg *msg_new(uint64_t ts)
{
	struct msg *m = freelist_get(&msg_cache);

	if (m)
		m->ts = ts;
	return m;
}

static void priv_release(struct msg *m)
{
	if (m->priv_free)
		m->priv_free(m->priv);
	else
		free(m->priv);
	m->priv = NULL;
	m->priv_free = NULL;
	m->mem = 0;
}

void msg_free(struct msg *m)
{
	if (!m)
		return;
	free(m->raw);
	priv_release(m);
	freelist_put(&msg_cache, m);
}

void msg_set_priv(struct msg *m, void *priv, void (*free_fn)(void *), size_t bytes)
{
	if (m->priv)
		priv_release(m);
	m->priv = priv;
	m->priv_free = free_fn;
	m->mem = bytes;
}

void msg_take_raw(struct msg *m, char *data, size_t len)
{
	free(m->raw);
	m->raw = data;
	m->raw_len = data ? len : 0;
}

void msg_set_raw(struct msg *m, const void *data, size_t len)
{
	char *raw = malloc(len + 1);

	if (!raw)
		return;
	memcpy(raw, data, len);
	raw[len] = '\0';
	msg_take_raw(m, raw, len);
}

void msg_note(struct msg *m, const char *note)
{
	if (m->nnotes < MSG_NOTES_MAX)
		m->notes[m->nnotes++] = note;
}

const char *msg_status_str(enum msg_status s)
{
	static const char *const names[] = {
		[MSG_OK] = "OK",
		[MSG_ERROR] = "Error",
		[MSG_CLIENT_ERROR] = "Client Error",
		[MSG_SERVER_ERROR] = "Server Error",
	};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "Error";
}
