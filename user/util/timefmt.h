/*
 * UTC timestamps as ISO 8601 with milliseconds ("2026-11-25T14:18:09.123Z"),
 * or with all the precision the time has ("...09.123456Z").
 */
#ifndef XDPBEAT_TIMEFMT_H
#define XDPBEAT_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#define TIMEFMT_LEN 24 /* 24 characters, no NUL */
#define TIMEFMT_FINE_MAX 30 /* timefmt_iso_fine: at most 30 characters, no NUL */

/*
 * Formats once per second: the date and time of the last second asked for
 * are kept, only the fraction is written anew. Zero it to start.
 */
struct timefmt {
	uint64_t sec;
	char sec_str[20];
	size_t sec_len; /* 0: nothing kept */
};

/* ns since the epoch into out (TIMEFMT_LEN bytes, no NUL); returns TIMEFMT_LEN. */
size_t timefmt_iso(struct timefmt *tf, uint64_t ns, char *out);
/*
 * The same with 3, 6 or 9 fraction digits: trailing groups of three zeros
 * dropped, as Beats writes nanosecond timestamps (a pcap's microseconds
 * give 6). Returns the length.
 */
size_t timefmt_iso_fine(struct timefmt *tf, uint64_t ns, char *out);
/* timefmt_iso, NUL-terminated into buf of len bytes (at least TIMEFMT_LEN + 1), without a cache. */
void format_timestamp(uint64_t ns, char *buf, size_t len);

#endif
