/*
 * Event text storage for the publisher: events are copied back to back into
 * 256 KiB slabs instead of one malloc each (a malloc/free pair per event,
 * freed on another thread, cost more than writing the event). A slab counts
 * the queued events in it, plus one while the producer still fills it; the
 * last release hands it back as the spare the producer takes next, or frees
 * it. One producer thread; releases may come from any thread.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

#define SLAB_BYTES (256 * 1024)
/* An event longer than this gets an allocation of its own. */
#define SLAB_BIG (SLAB_BYTES / 8)

struct slab {
	atomic_size_t refs;
	_Atomic(struct slab *) *spare; /* where the last release parks it */
	size_t used;
	char data[SLAB_BYTES];
};

struct event_arena {
	struct slab *cur; /* producer only */
	_Atomic(struct slab *) spare;
};

struct event_arena *event_arena_new(void)
{
	return calloc(1, sizeof(struct event_arena));
}

void event_slab_release(void *slab)
{
	struct slab *s = slab, *none = NULL;

	if (atomic_fetch_sub(&s->refs, 1) != 1)
		return;
	s->used = 0;
	if (!atomic_compare_exchange_strong(s->spare, &none, s))
		free(s);
}

static struct slab *slab_get(struct event_arena *a)
{
	struct slab *s = atomic_exchange(&a->spare, NULL);

	if (!s) {
		s = malloc(sizeof(*s));
		if (!s)
			return NULL;
		s->spare = &a->spare;
	}
	s->used = 0;
	atomic_store(&s->refs, 1); /* the producer's */
	return s;
}

int event_arena_copy(struct event_arena *a, struct event *e, const char *text, size_t len)
{
	struct slab *s = a->cur;
	char *line;

	if (len > SLAB_BIG) {
		line = malloc(len + 1);
		if (!line)
			return -1;
		e->slab = NULL;
	} else {
		if (!s || SLAB_BYTES - s->used < len + 1) {
			if (s)
				event_slab_release(s); /* full: the producer lets go of it */
			s = a->cur = slab_get(a);
			if (!s)
				return -1;
		}
		line = s->data + s->used;
		s->used += len + 1;
		atomic_fetch_add(&s->refs, 1);
		e->slab = s;
	}
	memcpy(line, text, len);
	line[len] = '\0';
	e->line = line;
	e->len = len;
	return 0;
}

void event_arena_free(struct event_arena *a)
{
	if (!a)
		return;
	if (a->cur)
		event_slab_release(a->cur);
	free(atomic_exchange(&a->spare, NULL));
	free(a);
}
