/*
 * Per-thread caches of same-size objects (include/freelist.h). A thread's
 * caches that hold objects are on its own list, so one call frees them all:
 * a pthread key's destructor makes that call when the thread exits, an
 * atexit handler when the process ends (key destructors do not run for the
 * thread that calls exit()).
 *
 * Under AddressSanitizer a held object is poisoned: a use after
 * freelist_put is reported as it would be after free().
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "freelist.h"

#if defined(__SANITIZE_ADDRESS__)
#define FREELIST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FREELIST_ASAN 1
#endif
#endif

#ifdef FREELIST_ASAN
#include <sanitizer/asan_interface.h>
#define HELD(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define TAKEN(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define HELD(p, n) ((void)(p), (void)(n))
#define TAKEN(p, n) ((void)(p), (void)(n))
#endif

struct node {
	struct node *next;
};

static __thread struct freelist *held; /* this thread's caches with objects */
static pthread_key_t exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;
static bool exit_key_ok;

static void drain_at_thread_exit(void *unused)
{
	freelist_drain();
}

static void drain_at_exit(void)
{
	freelist_drain();
}

static void exit_hooks(void)
{
	exit_key_ok = pthread_key_create(&exit_key, drain_at_thread_exit) == 0;
	atexit(drain_at_exit);
}

/* List fl among the thread's caches with objects; false: no exit hook, so do not hold any. */
static bool list(struct freelist *fl)
{
	if (fl->listed)
		return true;
	pthread_once(&exit_once, exit_hooks);
	/* a non-NULL value is what makes the key's destructor run at thread exit */
	if (!exit_key_ok || pthread_setspecific(exit_key, (void *)1))
		return false;
	fl->next_held = held;
	held = fl;
	fl->listed = true;
	return true;
}

/* The most recently held object, or NULL. */
static void *pop(struct freelist *fl)
{
	struct node *n = fl->head;

	if (!n)
		return NULL;
	TAKEN(n, fl->size);
	fl->head = n->next;
	fl->n--;
	return n;
}

void *freelist_get(struct freelist *fl)
{
	void *p = pop(fl);

	return p ? memset(p, 0, fl->size) : calloc(1, fl->size);
}

void *freelist_take(struct freelist *fl)
{
	void *p = pop(fl);

	return p ? p : malloc(fl->size);
}

void freelist_put(struct freelist *fl, void *p)
{
	struct node *n = p;

	if (!n)
		return;
	if (fl->n >= fl->depth || !list(fl)) {
		free(n);
		return;
	}
	n->next = fl->head;
	fl->head = n;
	fl->n++;
	HELD(n, fl->size);
}

static void empty(struct freelist *fl)
{
	while (fl->head) {
		struct node *n = fl->head;

		TAKEN(n, fl->size);
		fl->head = n->next;
		free(n);
	}
	fl->n = 0;
}

void freelist_drain(void)
{
	while (held) {
		struct freelist *fl = held;

		held = fl->next_held;
		empty(fl);
		fl->next_held = NULL;
		fl->listed = false;
	}
}
