/* Substring search for short needles in event-sized texts. */
#include <stdint.h>
#include <string.h>

#include "memfind.h"

typedef unsigned char bytes16 __attribute__((vector_size(16)));

/*
 * 16 positions at a time: those whose second, second-to-last and last bytes
 * match are compared whole (the byte filter of SIMD substring search, with
 * GCC vector extensions, so any target). The inner bytes are the ones a
 * JSON key pattern `"key":` shares least with other keys.
 */
bool mem_contains(const char *s, size_t len, const char *pat, size_t m)
{
	size_t last = m - 1, i = 0;
	bytes16 p1, pl1, pl;

	if (m > len)
		return false;
	if (m < 3)
		return !m || memmem(s, len, pat, m);
	memset(&p1, pat[1], sizeof(p1));
	memset(&pl1, pat[last - 1], sizeof(pl1));
	memset(&pl, pat[last], sizeof(pl));
	for (; i + last + sizeof(bytes16) <= len; i += sizeof(bytes16)) {
		bytes16 a, b, c, hit;
		uint64_t w[2];

		memcpy(&a, s + i + 1, sizeof(a));
		memcpy(&b, s + i + last - 1, sizeof(b));
		memcpy(&c, s + i + last, sizeof(c));
		hit = (bytes16)((a == p1) & (b == pl1) & (c == pl));
		memcpy(w, &hit, sizeof(w));
		if (!(w[0] | w[1]))
			continue;
		for (size_t j = 0; j < sizeof(bytes16); j++)
			if (hit[j] && !memcmp(s + i + j, pat, m))
				return true;
	}
	for (; i + m <= len; i++)
		if (s[i + last] == pat[last] && !memcmp(s + i, pat, m))
			return true;
	return false;
}
