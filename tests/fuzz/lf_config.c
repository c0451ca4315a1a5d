/*
 * libFuzzer target: the config loader. The input is YAML text, then after
 * each NUL byte one -E override ("a.b=value"); every piece is copied into
 * its own exact-size allocation.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define MAX_OVERRIDES 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *end = data + size, *nul = memchr(data, 0, size);
	size_t ylen = nul ? (size_t)(nul - data) : size, nover = 0;
	char *yaml = malloc(ylen ? ylen : 1), *over[MAX_OVERRIDES];
	struct cfg_err err = { 0 };
	struct config *c;

	memcpy(yaml, data, ylen);
	for (const uint8_t *p = nul; p && p < end && nover < MAX_OVERRIDES;) {
		const uint8_t *s = p + 1, *e = memchr(s, 0, (size_t)(end - s));
		size_t n = e ? (size_t)(e - s) : (size_t)(end - s);

		over[nover] = malloc(n + 1);
		memcpy(over[nover], s, n);
		over[nover++][n] = 0;
		p = e;
	}
	c = config_load_string(yaml, ylen, "fuzz.yml", over, nover, &err);
	if (c)
		config_free(c);
	else if (!err.msg[0])
		abort(); /* a rejected config says why */
	for (size_t i = 0; i < nover; i++)
		free(over[i]);
	free(yaml);
	return 0;
}
