/* Console output: one JSON event per line on stdout. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "output.h"

struct console_cfg {
	bool pretty;
};

struct console_out {
	bool pretty;
	struct stats *st;
};

static const struct cfg_field console_fields[] = {
	{ .key = "pretty", .type = CFG_BOOL, .offset = offsetof(struct console_cfg, pretty) },
	{ 0 },
};

static void *console_cfg_new(void)
{
	return calloc(1, sizeof(struct console_cfg));
}

static void console_cfg_free(void *priv)
{
	free(priv);
}

static void *console_open(const void *priv, const struct config *cfg, struct stats *st)
{
	const struct console_cfg *cc = priv;
	struct console_out *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->pretty = cc->pretty;
	o->st = st;
	return o;
}

static size_t console_publish(void *out, struct event *ev, size_t n, const atomic_bool *stop)
{
	struct console_out *o = out;
	size_t bad = 0;

	for (size_t i = 0; i < n; i++) {
		if (o->pretty && event_line(&ev[i])) {
			json_t *doc = json_loadb(ev[i].line, ev[i].len, 0, NULL);

			if (!doc || event_add_metadata(doc) ||
			    json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER))
				bad++;
			fputc('\n', stdout);
			json_decref(doc);
		} else if (!event_line(&ev[i]) || event_write_line(stdout, ev[i].line, ev[i].len, ev[i].plain, NULL)) {
			bad++;
		}
	}
	if (fflush(stdout) != 0)
		bad = n;
	if (bad) {
		stats_add(o->st, STAT_OUTPUT_ERRORS, 1);
		stats_add(o->st, STAT_EVENTS_FAILED, bad);
	}
	stats_add(o->st, STAT_EVENTS_ACKED, n - bad);
	return n;
}

static void console_close(void *out)
{
	free(out);
}

const struct output_ops console_output_ops = {
	.name = "console",
	.cfg_fields = console_fields,
	.cfg_new = console_cfg_new,
	.cfg_free = console_cfg_free,
	.open = console_open,
	.publish = console_publish,
	.close = console_close,
};
