/*
 * libFuzzer target: the ring-buffer record decoder (what the BPF programs
 * write), on a record copied into an exact-size allocation.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture_int.h"
#include "lf_util.h"
#include "packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *rec = malloc(size ? size : 1);
	struct packet pkt;

	memcpy(rec, data, size);
	if (capture_record_to_packet(rec, size, 0, &pkt) == 0)
		lf_touch_payload(&pkt);
	free(rec);
	return 0;
}
