/* Helpers of the processor and condition tests. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc_testutil.h"

static char text[8192];

static const char *wrap(const char *yaml)
{
	snprintf(text, sizeof(text), "output.console.enabled: true\nprocessors:\n%s\n", yaml);
	return text;
}

struct config *pt_config(const char *yaml)
{
	struct cfg_err err = { { 0 } };
	const char *t = wrap(yaml);
	struct config *c = config_load_string(t, strlen(t), "p.yml", NULL, 0, &err);

	cr_assert_not_null(c, "config error: %s\n%s", err.msg, t);
	return c;
}

const char *pt_config_error(const char *yaml)
{
	static struct cfg_err err;
	const char *t = wrap(yaml);
	struct config *c;

	memset(&err, 0, sizeof(err));
	c = config_load_string(t, strlen(t), "p.yml", NULL, 0, &err);
	cr_assert_null(c, "expected an error for:\n%s", t);
	return err.msg;
}

json_t *pt_json(const char *s)
{
	json_error_t e;
	json_t *v = json_loads(s, 0, &e);

	cr_assert(json_is_object(v), "bad test JSON %s: %s", s, e.text);
	return v;
}

enum proc_verdict pt_run(const struct config *cfg, json_t *ev, struct stats *st)
{
	return proc_chain_run(cfg->processors, ev, st);
}

int pt_cond(const char *when_yaml, const char *event)
{
	char yaml[4096];
	struct config *c;
	json_t *ev = pt_json(event);
	enum proc_verdict v;

	snprintf(yaml, sizeof(yaml), "  - drop_event:\n      when:\n%s", when_yaml);
	c = pt_config(yaml);
	v = pt_run(c, ev, NULL);
	json_decref(ev);
	config_free(c);
	return v == PROC_DROP;
}

const char *pt_str(json_t *ev, const char *path)
{
	json_t *v = ev;
	char buf[256], *save = NULL, *seg;

	snprintf(buf, sizeof(buf), "%s", path);
	for (seg = strtok_r(buf, ".", &save); seg && v; seg = strtok_r(NULL, ".", &save))
		v = json_object_get(v, seg);
	return json_is_string(v) ? json_string_value(v) : "";
}
