/*
 * The per-thread object caches (include/freelist.h): reuse, the depth
 * bound, and that what a cache holds is freed by freelist_drain and when
 * its thread exits.
 */
#include <criterion/criterion.h>
#include <malloc.h>
#include <pthread.h>
#include <string.h>

#include "freelist.h"
#include "msg.h"

#define OBJ 4096
#define DEPTH 4

static __thread struct freelist cache = FREELIST_INIT(OBJ, DEPTH);

Test(freelist, a_freed_object_is_reused_zeroed)
{
	char *a = freelist_get(&cache), *b;

	cr_assert_not_null(a);
	memset(a, 0x5a, OBJ);
	freelist_put(&cache, a);
	cr_assert_eq(cache.n, 1);
	b = freelist_get(&cache);
	cr_assert_eq(b, a, "the cached object comes back");
	cr_assert_eq(cache.n, 0);
	for (size_t i = 0; i < OBJ; i++)
		cr_assert_eq(b[i], 0, "byte %zu not zeroed", i);
	freelist_put(&cache, b);
	freelist_put(&cache, NULL);
	cr_assert_eq(cache.n, 1, "NULL is ignored");
	freelist_drain();
}

/* take: the cached object as it was put back (its user fills it), a fresh one when none is held. */
Test(freelist, take_reuses_without_zeroing)
{
	char *a = freelist_take(&cache), *b;

	cr_assert_not_null(a);
	memset(a, 0x5a, OBJ);
	freelist_put(&cache, a);
	b = freelist_take(&cache);
	cr_assert_eq(b, a, "the cached object comes back");
	cr_assert_eq(cache.n, 0);
	cr_assert_eq(b[OBJ - 1], 0x5a, "not zeroed");
	freelist_put(&cache, b);
	freelist_drain();
	cr_assert_eq(cache.n, 0);
}

Test(freelist, holds_at_most_its_depth)
{
	void *p[DEPTH + 3];

	for (size_t i = 0; i < DEPTH + 3; i++)
		cr_assert_not_null(p[i] = freelist_get(&cache));
	for (size_t i = 0; i < DEPTH + 3; i++)
		freelist_put(&cache, p[i]); /* past the depth: freed */
	cr_assert_eq(cache.n, DEPTH);
	for (size_t i = 0; i < DEPTH; i++) {
		void *q = freelist_get(&cache);

		cr_assert_eq(q, p[DEPTH - 1 - i], "the first ones put back are kept, the last comes out first");
		free(q);
	}
	cr_assert_eq(cache.n, 0);
}

Test(freelist, drain_frees_what_the_thread_holds)
{
	static __thread struct freelist other = FREELIST_INIT(64, DEPTH);
	void *a = freelist_get(&cache), *b = freelist_get(&other);

	freelist_put(&cache, a);
	freelist_put(&other, b);
	freelist_drain();
	cr_assert_eq(cache.n, 0);
	cr_assert_null(cache.head);
	cr_assert_eq(other.n, 0);
	cr_assert_null(other.head);
	/* the caches work again after a drain */
	freelist_put(&cache, freelist_get(&cache));
	cr_assert_eq(cache.n, 1);
	freelist_drain();
}

/* A worker that gets back objects made elsewhere, holds them, and exits. */
static void *hold_and_exit(void *objs)
{
	void **p = objs;

	for (size_t i = 0; i < DEPTH; i++)
		freelist_put(&cache, p[i]);
	return (void *)(uintptr_t)cache.n;
}

/* Bytes malloc has handed out and not got back, over all arenas. */
static size_t in_use(void)
{
	return mallinfo2().uordblks;
}

Test(freelist, objects_held_by_a_thread_are_freed_when_it_exits)
{
	void *p[DEPTH];
	pthread_t th;
	void *held;
	size_t before = in_use();
	bool counted;

	for (size_t i = 0; i < DEPTH; i++)
		p[i] = freelist_get(&cache);
	/* ASan's allocator leaves mallinfo2 at zero: there its leak check at exit does the job */
	counted = in_use() >= before + DEPTH * OBJ;
	cr_assert_eq(pthread_create(&th, NULL, hold_and_exit, p), 0);
	cr_assert_eq(pthread_join(th, &held), 0);
	cr_assert_eq((uintptr_t)held, DEPTH, "the thread cached them");
	cr_assert_eq(cache.n, 0, "in its own cache, not this thread's");
	if (counted)
		cr_assert_lt(in_use(), before + OBJ, "%zu bytes still in use after the thread exited",
			     in_use() - before);
}

Test(freelist, a_reused_message_starts_empty)
{
	struct msg *m = msg_new(7), *n;

	m->bytes = 100;
	m->status = MSG_SERVER_ERROR;
	msg_note(m, "note");
	msg_set_raw(m, "raw", 3);
	msg_set_id(m, 9);
	msg_free(m);
	n = msg_new(8);
	cr_assert_eq(n->ts, 8);
	cr_assert_eq(n->bytes, 0);
	cr_assert_eq(n->status, MSG_OK);
	cr_assert_eq(n->nnotes, 0);
	cr_assert_null(n->raw);
	cr_assert_not(n->has_id);
	cr_assert_null(n->priv);
	msg_free(n);
}
