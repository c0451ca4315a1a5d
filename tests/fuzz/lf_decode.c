/*
 * libFuzzer target: the packet decoder. Byte 0 picks the link type, byte 1
 * how much of the frame was captured (snaplen cut); the rest is the frame,
 * copied into an exact-size allocation.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lf_util.h"
#include "packet.h"

static const int links[] = { LINK_NULL,	     LINK_ETHERNET, LINK_RAW,  LINK_LOOP,
			     LINK_LINUX_SLL, LINK_IPV4,	    LINK_IPV6, LINK_LINUX_SLL2 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct packet pkt;
	size_t n, cap;
	uint8_t *f;

	if (size < 2)
		return 0;
	n = size - 2;
	cap = data[1] == 0 ? n : n * data[1] / 255;
	f = malloc(cap ? cap : 1);
	memcpy(f, data + 2, cap);
	if (decode_frame(links[data[0] % (sizeof(links) / sizeof(links[0]))], f, (uint32_t)cap, (uint32_t)n, &pkt) == 0)
		lf_touch_payload(&pkt); /* the payload must lie inside the captured bytes */
	free(f);
	return 0;
}
