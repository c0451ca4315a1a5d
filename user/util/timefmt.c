/* UTC timestamps: the event's @timestamp/event.start/end, Elasticsearch index dates. */
#include <string.h>
#include <time.h>

#include "util/timefmt.h"

/* "YYYY-MM-DDTHH:MM:SS" of ns into out, from the cache when the second is the last one asked for. */
static size_t seconds(struct timefmt *tf, uint64_t ns, char *out)
{
	uint64_t sec = ns / 1000000000u;

	if (sec != tf->sec || !tf->sec_len) {
		time_t t = (time_t)sec;
		struct tm tm;

		gmtime_r(&t, &tm);
		tf->sec_len = strftime(tf->sec_str, sizeof(tf->sec_str), "%Y-%m-%dT%H:%M:%S", &tm);
		tf->sec = sec;
	}
	memcpy(out, tf->sec_str, tf->sec_len);
	return tf->sec_len;
}

/* ".ddd[ddd[ddd]]Z": digits of frac (ndigits of them, the most significant first). */
static size_t fraction(uint32_t frac, unsigned ndigits, char *out)
{
	out[0] = '.';
	for (unsigned i = ndigits; i > 0; i--) {
		out[i] = (char)('0' + frac % 10);
		frac /= 10;
	}
	out[ndigits + 1] = 'Z';
	return ndigits + 2;
}

size_t timefmt_iso(struct timefmt *tf, uint64_t ns, char *out)
{
	size_t n = seconds(tf, ns, out);

	return n + fraction((uint32_t)(ns / 1000000u % 1000u), 3, out + n);
}

size_t timefmt_iso_fine(struct timefmt *tf, uint64_t ns, char *out)
{
	uint32_t frac = (uint32_t)(ns % 1000000000u);
	unsigned digits = 9;
	size_t n = seconds(tf, ns, out);

	while (digits > 3 && frac % 1000 == 0) {
		frac /= 1000;
		digits -= 3;
	}
	return n + fraction(frac, digits, out + n);
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
