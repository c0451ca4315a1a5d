/*
 * What the pipeline promises about an event's text, checked by the test
 * and fuzz sinks: each top-level member is one event_may_have allows for
 * the event's protocol (the processors plan on that), or one of extra
 * (NULL-terminated: what the config's processors add), and a plain event
 * has no @metadata.
 */
#ifndef XDPBEAT_TESTS_EVENT_CHECK_H
#define XDPBEAT_TESTS_EVENT_CHECK_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "event/event.h"

/* NULL, or what is wrong (a static buffer). */
static inline const char *event_check(const struct config *cfg, const json_t *doc, bool plain, const char *const *extra)
{
	static char why[160];
	const char *type = json_string_value(json_object_get(doc, "type")), *key;
	const struct proto_cfg *pc = NULL;
	json_t *v;

	if (plain && json_object_get(doc, "@metadata"))
		return "a plain event has @metadata";
	for (size_t i = 0; type && i < cfg->nprotos; i++)
		if (!strcmp(cfg->protos[i].ops->name, type))
			pc = &cfg->protos[i];
	if (!pc)
		return "no protocol of that type";
	json_object_foreach((json_t *)doc, key, v) {
		bool ok = event_may_have((void *)pc, key, strlen(key));

		for (size_t i = 0; !ok && extra && extra[i]; i++)
			ok = !strcmp(extra[i], key);
		if (!ok) {
			snprintf(why, sizeof(why),
				 "top-level \"%s\" is not among the %s event's keys (ops->event_keys)", key, type);
			return why;
		}
	}
	return NULL;
}

#endif
