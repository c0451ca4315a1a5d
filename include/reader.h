/*
 * Bounds-checked byte reader for wire formats (in the spirit of Packetbeat's
 * streambuf). Every read checks the remaining length; a failed read sets
 * r->err and returns 0, so a parser can read a whole header and check once.
 */
#ifndef XDPBEAT_READER_H
#define XDPBEAT_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct reader {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	bool err;
};

static inline void rd_init(struct reader *r, const uint8_t *buf, size_t len)
{
	r->buf = buf;
	r->len = len;
	r->pos = 0;
	r->err = false;
}

static inline size_t rd_left(const struct reader *r)
{
	return r->err ? 0 : r->len - r->pos;
}

static inline bool rd_has(struct reader *r, size_t n)
{
	if (r->err || r->len - r->pos < n) {
		r->err = true;
		return false;
	}
	return true;
}

static inline const uint8_t *rd_ptr(const struct reader *r)
{
	return r->buf + r->pos;
}

static inline bool rd_skip(struct reader *r, size_t n)
{
	if (!rd_has(r, n))
		return false;
	r->pos += n;
	return true;
}

/* Pointer to the next n bytes (and advance), or NULL. */
static inline const uint8_t *rd_bytes(struct reader *r, size_t n)
{
	const uint8_t *p;

	if (!rd_has(r, n))
		return NULL;
	p = r->buf + r->pos;
	r->pos += n;
	return p;
}

static inline uint8_t rd_u8(struct reader *r)
{
	const uint8_t *p = rd_bytes(r, 1);

	return p ? p[0] : 0;
}

static inline uint16_t rd_be16(struct reader *r)
{
	const uint8_t *p = rd_bytes(r, 2);

	return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

static inline uint32_t rd_be24(struct reader *r)
{
	const uint8_t *p = rd_bytes(r, 3);

	return p ? (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2] : 0;
}

static inline uint32_t rd_be32(struct reader *r)
{
	const uint8_t *p = rd_bytes(r, 4);

	return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : 0;
}

static inline uint64_t rd_be64(struct reader *r)
{
	uint64_t hi = rd_be32(r);

	return hi << 32 | rd_be32(r);
}

static inline uint16_t rd_le16(struct reader *r)
{
	const uint8_t *p = rd_bytes(r, 2);

	return p ? (uint16_t)(p[1] << 8 | p[0]) : 0;
}

static inline uint32_t rd_le24(struct reader *r)
{
	const uint8_t *p = rd_bytes(r, 3);

	return p ? (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0] : 0;
}

static inline uint32_t rd_le32(struct reader *r)
{
	const uint8_t *p = rd_bytes(r, 4);

	return p ? (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0] : 0;
}

static inline uint64_t rd_le64(struct reader *r)
{
	uint64_t lo = rd_le32(r);

	return lo | (uint64_t)rd_le32(r) << 32;
}

/*
 * Find "\r\n" from the current position. Returns the line length (without
 * CRLF) and sets *line, advancing past the CRLF; returns -1 when no full
 * line is buffered yet (position unchanged, err not set).
 */
static inline long rd_line(struct reader *r, const uint8_t **line)
{
	size_t i;

	if (r->err)
		return -1;
	for (i = r->pos; i + 1 < r->len; i++) {
		const uint8_t *cr = memchr(r->buf + i, '\r', r->len - 1 - i); /* a CR with a byte after it */

		if (!cr)
			break;
		i = (size_t)(cr - r->buf);
		if (r->buf[i + 1] == '\n') {
			long n = (long)(i - r->pos);

			*line = r->buf + r->pos;
			r->pos = i + 2;
			return n;
		}
	}
	return -1;
}

/*
 * As rd_line, but a line ends at LF with or without a CR before it (RFC 9112
 * 2.2: a recipient may accept a bare LF; scripts and small servers send it).
 */
static inline long rd_line_lf(struct reader *r, const uint8_t **line)
{
	const uint8_t *lf;
	size_t end;

	if (r->err || r->pos >= r->len)
		return -1;
	lf = memchr(r->buf + r->pos, '\n', r->len - r->pos);
	if (!lf)
		return -1;
	end = (size_t)(lf - r->buf);
	*line = r->buf + r->pos;
	r->pos = end + 1;
	if (end > (size_t)(*line - r->buf) && lf[-1] == '\r')
		end--;
	return (long)(end - (size_t)(*line - r->buf));
}

/* NUL-terminated string of at most max bytes (without the NUL); NULL if none. */
static inline const char *rd_cstr(struct reader *r, size_t max, size_t *len)
{
	size_t left = rd_left(r);
	const uint8_t *p = rd_ptr(r);
	const uint8_t *nul;

	if (left > max + 1)
		left = max + 1;
	nul = memchr(p, 0, left);
	if (!nul) {
		r->err = true;
		return NULL;
	}
	*len = (size_t)(nul - p);
	r->pos += *len + 1;
	return (const char *)p;
}

/* Value of a base64 digit (RFC 4648 alphabet), or -1. */
static inline int base64_digit(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	return c == '/' ? 63 : -1;
}

/* Value of a hexadecimal digit, or -1. */
static inline int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
