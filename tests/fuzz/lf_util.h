/* Helpers shared by the libFuzzer targets. */
#ifndef XDPBEAT_LF_UTIL_H
#define XDPBEAT_LF_UTIL_H

#include <stdint.h>

#include "packet.h"

/* Read every payload byte a decoder returned: ASan checks it lies inside the input. */
static inline void lf_touch_payload(const struct packet *pkt)
{
	volatile uint8_t sum = 0;

	for (uint32_t i = 0; i < pkt->payload_len; i++)
		sum ^= pkt->payload[i];
	(void)sum;
}

#endif
