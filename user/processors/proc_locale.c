/*
 * add_locale: event.timezone from the local time zone at the event, as an
 * offset ("+02:00", the default format) or its abbreviation ("CEST").
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proc.h"

struct locale {
	char *format;
	bool abbreviation;
};

/* clang-format off */
static const struct cfg_field locale_fields[] = {
	{ .key = "format", .type = CFG_STRING, .offset = offsetof(struct locale, format) },
	{ 0 },
};
/* clang-format on */

static void locale_free(void *state)
{
	struct locale *l = state;

	if (!l)
		return;
	free(l->format);
	free(l);
}

static int locale_parse(const struct cfg_node *args, void **state, struct cfg_err *err)
{
	struct locale *l = calloc(1, sizeof(*l));
	const struct cfg_node *f = args->kind == CFG_N_MAP ? cfg_get(args, "format") : NULL;

	if (!l)
		return cfg_error(err, args, "out of memory");
	if (proc_args("add_locale", locale_fields, l, args, err))
		goto fail;
	if (l->format && strcmp(l->format, "offset") && strcmp(l->format, "abbreviation")) {
		cfg_error(err, f, "expected offset or abbreviation, got \"%s\"", l->format);
		goto fail;
	}
	l->abbreviation = l->format && !strcmp(l->format, "abbreviation");
	*state = l;
	return 0;
fail:
	locale_free(l);
	return -EINVAL;
}

/* "+05:30" / "-07:00" for a UTC offset in seconds. */
void proc_tz_offset(long gmtoff, char *buf, size_t len)
{
	long a = gmtoff < 0 ? -gmtoff : gmtoff;

	snprintf(buf, len, "%c%02ld:%02ld", gmtoff < 0 ? '-' : '+', a / 3600, a / 60 % 60);
}

static int locale_run(void *state, json_t *ev)
{
	struct locale *l = state;
	time_t now = time(NULL);
	struct tm tm;
	char buf[64];

	if (!localtime_r(&now, &tm))
		return -EINVAL;
	if (l->abbreviation)
		snprintf(buf, sizeof(buf), "%s", tm.tm_zone ? tm.tm_zone : "UTC");
	else
		proc_tz_offset(tm.tm_gmtoff, buf, sizeof(buf));
	return field_put(ev, "event.timezone", json_string(buf)) ? -ENOMEM : PROC_KEEP;
}

const struct proc_ops proc_add_locale = {
	.name = "add_locale",
	.parse = locale_parse,
	.run = locale_run,
	.free = locale_free,
};
