/* The publisher's event text arena (user/event_arena.c): content survives slab turns, releases from another thread. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "output.h"

/* Text of event i: its number, then filler up to a length that varies (some over the slab's big-event limit). */
static size_t make_text(size_t i, char *buf, size_t cap)
{
	size_t len = (i * 7919) % 3000 + 16;

	if (i % 997 == 0)
		len = 40000; /* an event of its own allocation */
	if (len >= cap)
		len = cap - 1;
	memset(buf, 'a' + (int)(i % 26), len);
	snprintf(buf, 16, "%010zu", i);
	buf[10] = ':';
	return len;
}

static void check_event(const struct event *e, size_t i)
{
	static char want[64 * 1024];
	size_t len = make_text(i, want, sizeof(want));

	cr_assert_eq(e->len, len, "event %zu", i);
	cr_assert_eq(memcmp(e->line, want, len), 0, "event %zu", i);
	cr_assert_eq(e->line[len], '\0');
}

Test(event_arena, single_thread_content_and_reuse)
{
	static struct event ev[4000];
	static char text[64 * 1024];
	struct event_arena *a = event_arena_new();

	cr_assert_not_null(a);
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < 4000; i++) {
			size_t len = make_text(i, text, sizeof(text));

			cr_assert_eq(event_arena_copy(a, &ev[i], text, len), 0);
		}
		for (size_t i = 0; i < 4000; i++) {
			check_event(&ev[i], i);
			event_clear(&ev[i]);
		}
	}
	event_arena_free(a);
}

/* A bounded FIFO between a producer (copies into the arena) and a consumer (checks and clears). */
#define FIFO 512
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct event ev[FIFO];
	size_t head, count, total;
} q = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static void *consumer(void *arg)
{
	size_t n = *(size_t *)arg;

	for (size_t i = 0; i < n; i++) {
		struct event e;

		pthread_mutex_lock(&q.mu);
		while (!q.count)
			pthread_cond_wait(&q.cv, &q.mu);
		e = q.ev[q.head];
		q.head = (q.head + 1) % FIFO;
		q.count--;
		pthread_cond_broadcast(&q.cv);
		pthread_mutex_unlock(&q.mu);
		check_event(&e, i);
		event_clear(&e);
	}
	return NULL;
}

Test(event_arena, released_on_another_thread)
{
	static char text[64 * 1024];
	size_t n = 100000;
	struct event_arena *a = event_arena_new();
	pthread_t t;

	cr_assert_not_null(a);
	pthread_create(&t, NULL, consumer, &n);
	for (size_t i = 0; i < n; i++) {
		struct event e = { 0 };
		size_t len = make_text(i, text, sizeof(text));

		cr_assert_eq(event_arena_copy(a, &e, text, len), 0);
		pthread_mutex_lock(&q.mu);
		while (q.count == FIFO)
			pthread_cond_wait(&q.cv, &q.mu);
		q.ev[(q.head + q.count) % FIFO] = e;
		q.count++;
		pthread_cond_broadcast(&q.cv);
		pthread_mutex_unlock(&q.mu);
	}
	pthread_join(t, NULL);
	event_arena_free(a);
}
