/*
 * A per-thread cache of freed objects of one size, so an object made and
 * freed once per message (struct msg, a protocol's decoded message, a UDP
 * correlator entry) is reused instead of going through malloc and free.
 *
 * Each cache is a thread-local variable: a worker owns its pipeline, so its
 * cache needs no lock. An object may be put back on any thread (it then
 * joins that thread's cache): the objects are plain malloc blocks. A cache
 * never holds more than its depth; what a thread holds is freed when it
 * exits and, for the thread that calls exit(), at process end.
 *
 *	static __thread struct freelist msg_cache = FREELIST_INIT(sizeof(struct msg), 64);
 *	struct msg *m = freelist_get(&msg_cache);	(zeroed, like calloc)
 *	freelist_put(&msg_cache, m);
 */
#ifndef XDPBEAT_FREELIST_H
#define XDPBEAT_FREELIST_H

#include <stdbool.h>
#include <stddef.h>

struct freelist {
	size_t size; /* bytes of one object (at least a pointer) */
	unsigned depth; /* most objects held */
	unsigned n; /* objects held */
	void *head; /* held objects, linked through their first bytes */
	struct freelist *next_held; /* this thread's caches that hold objects */
	bool listed; /* on that list */
};

#define FREELIST_INIT(sz, d) { .size = (sz) < sizeof(void *) ? sizeof(void *) : (sz), .depth = (d) }

/* A zeroed object, from the cache or calloc; NULL (errno set) when out of memory. */
void *freelist_get(struct freelist *fl);
/* The same, not zeroed, for an object its user fills whole (a decoded message): malloc when the cache is empty. */
void *freelist_take(struct freelist *fl);
/* Give p back: kept while the cache is below its depth, freed otherwise. NULL is ignored. */
void freelist_put(struct freelist *fl, void *p);
/* Free every object the calling thread's caches hold (also run at thread exit and process end). */
void freelist_drain(void);

#endif
