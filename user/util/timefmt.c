/* UTC timestamps: the event's @timestamp/event.start/end, Elasticsearch index dates. */
#include <string.h>
#include <time.h>

#include "util/timefmt.h"

size_t timefmt_iso(struct timefmt *tf, uint64_t ns, char *out)
{
	uint64_t sec = ns / 1000000000u;
	unsigned ms = (unsigned)(ns / 1000000u % 1000u);
	size_t n;

	if (sec != tf->sec || !tf->sec_len) {
		time_t t = (time_t)sec;
		struct tm tm;

		gmtime_r(&t, &tm);
		tf->sec_len = strftime(tf->sec_str, sizeof(tf->sec_str), "%Y-%m-%dT%H:%M:%S", &tm);
		tf->sec = sec;
	}
	memcpy(out, tf->sec_str, tf->sec_len);
	n = tf->sec_len;
	out[n++] = '.';
	out[n++] = (char)('0' + ms / 100);
	out[n++] = (char)('0' + ms / 10 % 10);
	out[n++] = (char)('0' + ms % 10);
	out[n++] = 'Z';
	return n;
}

void format_timestamp(uint64_t ns, char *buf, size_t len)
{
	struct timefmt tf = { 0 };
	char tmp[TIMEFMT_LEN + 8];
	size_t n = timefmt_iso(&tf, ns, tmp);

	if (!len)
		return;
	if (n >= len)
		n = len - 1;
	memcpy(buf, tmp, n);
	buf[n] = '\0';
}
