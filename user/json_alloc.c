/*
 * A small-object cache for jansson. Event building makes and frees a few
 * hundred small jansson allocations per transaction, more of one size than
 * glibc's per-thread cache holds, so most went to the slower arena paths.
 * Here each thread keeps bounded free lists per 16-byte size class (up to
 * 256 bytes); larger blocks go straight to malloc. A block freed by another
 * thread simply joins that thread's list. Lists are freed at thread exit.
 * Not installed under AddressSanitizer, which must see every free.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "internal.h"

#ifndef __SANITIZE_ADDRESS__

#define CLASS_SHIFT 4
#define NCLASSES 16 /* 16..256 bytes */
#define CLASS_KEEP 4096 /* blocks kept per class and thread */

struct block {
	union {
		size_t cls; /* while in use: size class, 0 = plain malloc */
		struct block *next; /* while free */
	};
	size_t pad; /* keeps the payload 16-byte aligned */
};

struct cache {
	struct block *free[NCLASSES + 1];
	unsigned count[NCLASSES + 1];
};

static pthread_key_t cache_key;
static __thread struct cache *tcache;

static void cache_free(void *arg)
{
	struct cache *c = arg;

	for (int i = 1; i <= NCLASSES; i++) {
		while (c->free[i]) {
			struct block *b = c->free[i];

			c->free[i] = b->next;
			free(b);
		}
	}
	free(c);
}

static struct cache *cache_get(void)
{
	if (!tcache) {
		tcache = calloc(1, sizeof(*tcache));
		if (tcache)
			pthread_setspecific(cache_key, tcache);
	}
	return tcache;
}

static void *pool_malloc(size_t n)
{
	size_t cls = (n + (1u << CLASS_SHIFT) - 1) >> CLASS_SHIFT;
	struct cache *c;
	struct block *b;

	if (cls == 0)
		cls = 1;
	if (cls > NCLASSES || !(c = cache_get())) {
		b = malloc(sizeof(*b) + n);
		if (!b)
			return NULL;
		b->cls = 0;
		return b + 1;
	}
	b = c->free[cls];
	if (b) {
		c->free[cls] = b->next;
		c->count[cls]--;
	} else {
		b = malloc(sizeof(*b) + (cls << CLASS_SHIFT));
		if (!b)
			return NULL;
	}
	b->cls = cls;
	return b + 1;
}

static void pool_free(void *p)
{
	struct block *b;
	struct cache *c;
	size_t cls;

	if (!p)
		return;
	b = (struct block *)p - 1;
	cls = b->cls;
	if (cls == 0 || !(c = cache_get()) || c->count[cls] >= CLASS_KEEP) {
		free(b);
		return;
	}
	b->next = c->free[cls];
	c->free[cls] = b;
	c->count[cls]++;
}

void json_alloc_install(void)
{
	if (pthread_key_create(&cache_key, cache_free) != 0)
		return;
	json_set_alloc_funcs(pool_malloc, pool_free);
}

#else /* AddressSanitizer must see every allocation and free */

void json_alloc_install(void)
{
}

#endif
