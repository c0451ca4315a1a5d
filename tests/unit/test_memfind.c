/* mem_contains() against memmem() over random texts and patterns, every alignment and length. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "util/memfind.h"

Test(memfind, agrees_with_memmem)
{
	char text[300], pat[20];
	unsigned seed = 12345;

	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t)rand_r(&seed) % sizeof(text), m = 1 + (size_t)rand_r(&seed) % sizeof(pat);
		size_t at;

		/* a 3-letter alphabet: many near matches */
		for (size_t i = 0; i < len; i++)
			text[i] = "ab\""[rand_r(&seed) % 3];
		for (size_t i = 0; i < m; i++)
			pat[i] = "ab\""[rand_r(&seed) % 3];
		if (len >= m && rand_r(&seed) % 2) {
			at = (size_t)rand_r(&seed) % (len - m + 1);
			memcpy(text + at, pat, m); /* planted, at any offset, the last one included */
		}
		cr_assert_eq(mem_contains(text, len, pat, m), memmem(text, len, pat, m) != NULL,
			     "round %d: len %zu, m %zu", round, len, m);
	}
}

Test(memfind, edges)
{
	cr_assert(mem_contains("abc", 3, "", 0));
	cr_assert_not(mem_contains("ab", 2, "abc", 3));
	cr_assert(mem_contains("\"tags\":[", 8, "\"tags\":", 7));
	cr_assert_not(mem_contains("\"tags\" :", 8, "\"tags\":", 7));
	cr_assert(mem_contains("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"host\":", 39, "\"host\":", 7), "in the scalar tail");
}
