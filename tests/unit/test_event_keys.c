/*
 * The processors plan once per protocol from the members its events can
 * hold (event_may_have: the event writer's own and ops->event_keys): every
 * top-level member of every golden event must be one of them. The unit
 * tests run in tests/ (make unit).
 */
#include <criterion/criterion.h>
#include <glob.h>
#include <jansson.h>
#include <string.h>

#include "config.h"
#include "event/event.h"
#include "proto.h"

Test(event_keys, every_golden_event_member_is_one_its_protocol_declares)
{
	glob_t g;
	size_t events = 0;

	cr_assert_eq(glob("golden/*.ndjson", 0, NULL, &g), 0, "run from tests/");
	for (size_t i = 0; i < g.gl_pathc; i++) {
		FILE *f;
		char line[1 << 16];

		if (strstr(g.gl_pathv[i], "processors-")) /* its keys are the processors' */
			continue;
		cr_assert_not_null(f = fopen(g.gl_pathv[i], "r"));
		while (fgets(line, sizeof(line), f)) {
			json_t *doc = json_loads(line, 0, NULL), *v;
			const char *type = json_string_value(json_object_get(doc, "type")), *key;
			struct proto_cfg pc = { .send_request = true, .send_response = true };

			cr_assert(doc && type, "%s: %s", g.gl_pathv[i], line);
			cr_assert_not_null(pc.ops = proto_find(type), "%s", type);
			json_object_foreach(doc, key, v) {
				if (!strcmp(key, "@metadata")) /* the console output's */
					continue;
				cr_assert(event_may_have(&pc, key, strlen(key)),
					  "%s: top-level \"%s\" of a %s event is not in ops->event_keys", g.gl_pathv[i],
					  key, type);
			}
			events++;
			json_decref(doc);
		}
		fclose(f);
	}
	globfree(&g);
	cr_assert_gt(events, 500, "%zu golden events", events);
}

Test(event_keys, what_no_event_writes_is_not_allowed)
{
	struct proto_cfg pc = { .ops = proto_find("http") };

	cr_assert(event_may_have(&pc, "http", 4) && event_may_have(&pc, "@timestamp", 10));
	cr_assert_not(event_may_have(&pc, "host", 4));
	cr_assert_not(event_may_have(&pc, "tags", 4));
	cr_assert_not(event_may_have(&pc, "request", 7), "raw text only with send_request");
	pc.send_request = true;
	cr_assert(event_may_have(&pc, "request", 7));
	cr_assert_not(event_may_have(&pc, "htt", 3), "whole keys only");
}
