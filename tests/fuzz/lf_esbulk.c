/*
 * libFuzzer target: the Elasticsearch _bulk reply reader. Byte 0 gives the
 * number of items sent and the op; the rest is the body, copied into an
 * exact-size allocation.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "output/es/es.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct es_item items[16];
	char summary[300], *body;
	size_t n;

	if (size < 1)
		return 0;
	n = (data[0] & 0x0f) + 1;
	body = malloc(size - 1 ? size - 1 : 1);
	memcpy(body, data + 1, size - 1);
	if (es_bulk_parse(body, size - 1, data[0] & 0x10 ? ES_OP_CREATE : ES_OP_INDEX, items, n) == 0)
		for (size_t i = 0; i < n; i++)
			if (strnlen(items[i].type, sizeof(items[i].type)) == sizeof(items[i].type) ||
			    strnlen(items[i].reason, sizeof(items[i].reason)) == sizeof(items[i].reason))
				abort(); /* strings stay terminated */
	es_error_summary(body, size - 1, summary, sizeof(summary));
	if (strnlen(summary, sizeof(summary)) == sizeof(summary))
		abort();
	free(body);
	return 0;
}
