/*
 * OP_COMPRESSED payloads: noop, snappy (the raw block format, decoded here
 * with every length and offset checked), zlib and zstd (Debian's libraries).
 * The caller gives the exact decompressed size the message claims, already
 * capped (MONGODB_INFLATE_MAX); a payload that decodes to more or fewer
 * bytes, or that is malformed, is -EINVAL, so a decompression bomb costs at
 * most that buffer.
 */
#include <errno.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "mongodb.h"

static int inflate_zlib(const uint8_t *src, size_t n, uint8_t *out, size_t want)
{
	z_stream z = { 0 };
	int rc;

	if (inflateInit(&z) != Z_OK)
		return -ENOMEM;
	z.next_in = (Bytef *)src;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)want;
	rc = inflate(&z, Z_FINISH);
	inflateEnd(&z);
	return rc == Z_STREAM_END && z.total_out == want ? 0 : -EINVAL;
}

static int inflate_zstd(const uint8_t *src, size_t n, uint8_t *out, size_t want)
{
	size_t got = ZSTD_decompress(out, want, src, n);

	return !ZSTD_isError(got) && got == want ? 0 : -EINVAL;
}

/* A snappy varint (at most 5 bytes, 32 bits) at *p; false when cut or too long. */
static bool snappy_varint(const uint8_t **p, const uint8_t *end, uint32_t *v)
{
	uint32_t x = 0;

	for (unsigned shift = 0; shift < 35 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;

		if (shift == 28 && b > 0x0f)
			return false;
		x |= (uint32_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = x;
			return true;
		}
	}
	return false;
}

/* n little-endian bytes (1..4) at *p. */
static bool snappy_le(const uint8_t **p, const uint8_t *end, unsigned n, uint32_t *v)
{
	if ((size_t)(end - *p) < n)
		return false;
	*v = 0;
	for (unsigned i = 0; i < n; i++)
		*v |= (uint32_t)(*p)[i] << (8 * i);
	*p += n;
	return true;
}

static int inflate_snappy(const uint8_t *src, size_t n, uint8_t *out, size_t want)
{
	const uint8_t *p = src, *end = src + n;
	size_t o = 0;
	uint32_t total, len, off;

	if (!snappy_varint(&p, end, &total) || total != want)
		return -EINVAL;
	while (p < end) {
		uint8_t tag = *p++;

		if ((tag & 3) == 0) { /* literal: length - 1 in the tag, or in 1..4 bytes after it */
			len = tag >> 2;
			if (len >= 60 && !snappy_le(&p, end, len - 59, &len))
				return -EINVAL;
			if ((uint64_t)len + 1 > (size_t)(end - p) || (uint64_t)len + 1 > want - o)
				return -EINVAL;
			memcpy(out + o, p, (size_t)len + 1);
			p += (size_t)len + 1;
			o += (size_t)len + 1;
			continue;
		}
		if ((tag & 3) == 1) { /* copy, 11-bit offset */
			len = 4 + ((tag >> 2) & 7);
			if (!snappy_le(&p, end, 1, &off))
				return -EINVAL;
			off |= (uint32_t)(tag >> 5) << 8;
		} else {
			len = 1 + (tag >> 2);
			if (!snappy_le(&p, end, (tag & 3) == 2 ? 2 : 4, &off))
				return -EINVAL;
		}
		if (off == 0 || off > o || len > want - o)
			return -EINVAL;
		for (uint32_t i = 0; i < len; i++, o++) /* may overlap what it writes */
			out[o] = out[o - off];
	}
	return o == want ? 0 : -EINVAL;
}

int mongodb_uncompress(uint8_t id, const uint8_t *src, size_t n, uint8_t *out, size_t want)
{
	switch (id) {
	case MONGODB_COMPRESSOR_NOOP:
		if (n != want)
			return -EINVAL;
		memcpy(out, src, n);
		return 0;
	case MONGODB_COMPRESSOR_SNAPPY:
		return inflate_snappy(src, n, out, want);
	case MONGODB_COMPRESSOR_ZLIB:
		return inflate_zlib(src, n, out, want);
	case MONGODB_COMPRESSOR_ZSTD:
		return inflate_zstd(src, n, out, want);
	}
	return -EINVAL;
}
