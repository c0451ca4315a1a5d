/* Printing and looking up the daemon's counters. */
#include <inttypes.h>
#include <string.h>

#include "proto.h"
#include "stats.h"

static const char *const stat_names[] = {
#define X(id, name) name,
	STAT_LIST(X)
#undef X
};

static const char *const pstat_names[] = {
#define X(id, name) name,
	PSTAT_LIST(X)
#undef X
};

static const char *proto_name(int id)
{
	for (size_t i = 0; proto_registry[i]; i++)
		if ((int)proto_registry[i]->id == id)
			return proto_registry[i]->name;
	return NULL;
}

void stats_log(const struct stats *s, FILE *f, const char *label)
{
	fprintf(f, "xdpbeat stats (%s):", label);
	for (int i = 0; i < STAT_MAX; i++) {
		uint64_t v = stats_get(s, i);

		if (v)
			fprintf(f, " %s=%" PRIu64, stat_names[i], v);
	}
	for (int p = 1; p < PROTO_MAX; p++) {
		const char *name = proto_name(p);

		for (int i = 0; name && i < PSTAT_MAX; i++) {
			uint64_t v = __atomic_load_n(&s->proto[p][i], __ATOMIC_RELAXED);

			if (v)
				fprintf(f, " %s.%s=%" PRIu64, name, pstat_names[i], v);
		}
	}
	fputc('\n', f);
	fflush(f);
}

int64_t stats_lookup(const struct stats *s, const char *name)
{
	const char *dot;

	for (int i = 0; i < STAT_MAX; i++)
		if (strcmp(stat_names[i], name) == 0)
			return (int64_t)stats_get(s, i);
	dot = strchr(name, '.');
	for (int p = 1; dot && p < PROTO_MAX; p++) {
		const char *pn = proto_name(p);

		if (!pn || strlen(pn) != (size_t)(dot - name) || strncmp(pn, name, dot - name) != 0)
			continue;
		for (int i = 0; i < PSTAT_MAX; i++)
			if (strcmp(pstat_names[i], dot + 1) == 0)
				return (int64_t)__atomic_load_n(&s->proto[p][i], __ATOMIC_RELAXED);
	}
	return -1;
}
