/*
 * Scalars shown as Packetbeat (Go) shows them: strings through
 * strconv.Quote, or in hex when they are not valid UTF-8; doubles through
 * strconv.FormatFloat(v, 'f', -1, 64): the fewest digits that read back as
 * the same number, never an exponent.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "thrift.h"

/* Length of the UTF-8 sequence at s (as Go's utf8.ValidString accepts it), 0 when invalid; *cp its code point. */
static size_t utf8_seq(const uint8_t *s, size_t n, uint32_t *cp)
{
	uint32_t c = s[0], min;
	size_t len;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xe0) == 0xc0)
		len = 2, c &= 0x1f, min = 0x80;
	else if ((c & 0xf0) == 0xe0)
		len = 3, c &= 0x0f, min = 0x800;
	else if ((c & 0xf8) == 0xf0)
		len = 4, c &= 0x07, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

static bool utf8_valid(const uint8_t *s, size_t n)
{
	uint32_t cp;

	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq(s + i, n - i, &cp);

		if (!k)
			return false;
		i += k;
	}
	return true;
}

/* Code points Go's strconv.Quote escapes besides ASCII controls (its IsPrint is false for them). */
static bool unicode_unprintable(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0xa0) || cp == 0xad || cp == 0x2028 || cp == 0x2029 || cp == 0xfeff ||
	       (cp >= 0xfff9 && cp <= 0xfffb) || (cp >= 0xe000 && cp <= 0xf8ff);
}

static void quote_ascii(struct json_buf *b, uint8_t c)
{
	static const char esc[] = {
		['\a'] = 'a', ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't', ['\v'] = 'v'
	};
	char buf[8];

	if (c == '"' || c == '\\') {
		buf[0] = '\\';
		buf[1] = (char)c;
		json_buf_put(b, buf, 2);
	} else if (c < sizeof(esc) && esc[c]) {
		buf[0] = '\\';
		buf[1] = esc[c];
		json_buf_put(b, buf, 2);
	} else if (c < 0x20 || c == 0x7f) {
		snprintf(buf, sizeof(buf), "\\x%02x", c);
		json_buf_put(b, buf, 4);
	} else {
		json_buf_put(b, &c, 1);
	}
}

/* s (valid UTF-8) in double quotes, Go-escaped. */
static void quote(struct json_buf *b, const uint8_t *s, size_t n)
{
	char buf[16];
	uint32_t cp;

	json_buf_lit(b, "\"");
	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq(s + i, n - i, &cp);

		if (k == 1)
			quote_ascii(b, s[i]);
		else if (unicode_unprintable(cp))
			json_buf_put(b, buf, (size_t)snprintf(buf, sizeof(buf), "\\u%04x", cp));
		else
			json_buf_put(b, s + i, k);
		i += k;
	}
	json_buf_lit(b, "\"");
}

static void hex(struct json_buf *b, const uint8_t *s, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char pair[2];

	for (size_t i = 0; i < n; i++) {
		pair[0] = digits[s[i] >> 4];
		pair[1] = digits[s[i] & 0x0f];
		json_buf_put(b, pair, 2);
	}
}

int thrift_put_string(struct json_buf *b, const uint8_t *s, size_t n, const struct thrift_render *rd)
{
	size_t shown = n > rd->string_max ? rd->string_max : n;
	uint8_t *tmp;

	if (n == 0)
		return json_buf_lit(b, "\"\"");
	if (rd->obfuscate)
		return json_buf_lit(b, "\"*\"");
	tmp = malloc(shown + 3); /* the shown bytes and "..." are judged together, as Packetbeat does */
	if (!tmp) {
		b->err = -ENOMEM;
		return -ENOMEM;
	}
	memcpy(tmp, s, shown);
	if (shown < n)
		memcpy(tmp + shown, "...", 3);
	shown += shown < n ? 3 : 0;
	if (utf8_valid(tmp, shown))
		quote(b, tmp, shown);
	else
		hex(b, tmp, shown);
	free(tmp);
	return b->err;
}

/* Fixed notation of the digits d (no dot) of a number d[0].d[1..] * 10^exp. */
static void fixed(struct json_buf *b, const char *d, size_t nd, int exp)
{
	if (exp < 0) {
		json_buf_lit(b, "0.");
		for (int i = -1; i > exp; i--)
			json_buf_lit(b, "0");
		json_buf_put(b, d, nd);
		return;
	}
	for (size_t i = 0; i <= (size_t)exp; i++)
		json_buf_put(b, i < nd ? d + i : "0", 1);
	if (nd > (size_t)exp + 1) {
		json_buf_lit(b, ".");
		json_buf_put(b, d + exp + 1, nd - (size_t)exp - 1);
	}
}

int thrift_put_double(struct json_buf *b, double v)
{
	char e[40], digits[24];
	size_t nd = 0;
	int prec, exp;
	char *p;

	if (isnan(v))
		return json_buf_lit(b, "NaN");
	if (isinf(v))
		return v > 0 ? json_buf_lit(b, "+Inf") : json_buf_lit(b, "-Inf");
	for (prec = 1; prec < 17; prec++) {
		snprintf(e, sizeof(e), "%.*e", prec - 1, v);
		if (strtod(e, NULL) == v)
			break;
	}
	snprintf(e, sizeof(e), "%.*e", prec - 1, v);
	p = e;
	if (*p == '-') {
		json_buf_lit(b, "-");
		p++;
	}
	for (; *p && *p != 'e'; p++)
		if (*p != '.')
			digits[nd++] = *p;
	exp = *p == 'e' ? atoi(p + 1) : 0;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	fixed(b, digits, nd, exp);
	return b->err;
}
