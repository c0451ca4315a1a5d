/* FNV-1a: the hash of the TCP connection table and the UDP correlation table. */
#ifndef XDPBEAT_HASH_H
#define XDPBEAT_HASH_H

#include <stddef.h>
#include <stdint.h>

/* FNV-1a over n bytes, continuing from h (start with FNV_SEED). */
#define FNV_SEED 2166136261u
static inline uint32_t fnv1a(uint32_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

#endif
