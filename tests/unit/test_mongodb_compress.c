/*
 * OP_COMPRESSED payloads (protos/mongodb_compress.c): snappy decoded by hand
 * (literals, the three copy forms, copies that overlap what they write) and
 * every way a snappy block can lie; zstd and zlib through their libraries;
 * payloads that decode to more or fewer bytes than the message claims (a
 * decompression bomb) refused without writing past the claimed size.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "mongodb.h"

static int unsnap(const uint8_t *in, size_t n, uint8_t *out, size_t want)
{
	return mongodb_uncompress(MONGODB_COMPRESSOR_SNAPPY, in, n, out, want);
}

Test(mongodb_compress, snappy_literals_and_overlapping_copy)
{
	/* 13 = "abc", copy 9 bytes from 3 back (overlapping), "X" */
	static const uint8_t in[] = { 13, 0x08, 'a', 'b', 'c', 0x15, 3, 0x00, 'X' };
	uint8_t out[13 + 1] = { 0 };

	cr_assert_eq(unsnap(in, sizeof(in), out, 13), 0);
	cr_assert_eq(memcmp(out, "abcabcabcabcX", 13), 0);
	cr_assert_eq(out[13], 0, "nothing written past the claimed size");
}

Test(mongodb_compress, snappy_two_and_four_byte_offsets_and_long_literal)
{
	uint8_t in[128], out[100], want[100];
	size_t n = 0;

	memset(want, 0, sizeof(want));
	for (int i = 0; i < 70; i++)
		want[i] = (uint8_t)('A' + i % 26);
	memcpy(want + 70, want, 20); /* copy 20 from 70 back: two-byte offset */
	memcpy(want + 90, want + 5, 10); /* copy 10 from 85 back: four-byte offset */
	in[n++] = 100;
	in[n++] = 60 << 2; /* literal, length - 1 in the next byte */
	in[n++] = 69;
	memcpy(in + n, want, 70);
	n += 70;
	in[n++] = (uint8_t)(((20 - 1) << 2) | 2);
	in[n++] = 70;
	in[n++] = 0;
	in[n++] = (uint8_t)(((10 - 1) << 2) | 3);
	in[n++] = 85;
	in[n++] = 0;
	in[n++] = 0;
	in[n++] = 0;
	cr_assert_eq(unsnap(in, n, out, 100), 0);
	cr_assert_eq(memcmp(out, want, 100), 0);
}

Test(mongodb_compress, snappy_blocks_that_lie_are_refused)
{
	uint8_t out[64];
	static const struct {
		const char *why;
		uint8_t in[12];
		size_t n, want;
	} bad[] = {
		{ "size other than claimed", { 4, 0x0c, 'a', 'b', 'c', 'd' }, 6, 5 },
		{ "literal past the input", { 4, 0x0c, 'a', 'b' }, 4, 4 },
		{ "literal past the output", { 2, 0x0c, 'a', 'b', 'c', 'd' }, 6, 2 },
		{ "copy offset 0", { 5, 0x00, 'a', 0x01, 0 }, 5, 5 },
		{ "copy from before the start", { 5, 0x00, 'a', 0x01, 2 }, 5, 5 },
		{ "copy past the output", { 6, 0x00, 'a', 0x1d, 1 }, 5, 6 },
		{ "copy offset cut", { 5, 0x00, 'a', 0x02, 1 }, 5, 5 },
		{ "varint too long", { 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 }, 6, 1 },
		{ "varint cut", { 0x80 }, 1, 1 },
		{ "long literal length cut", { 8, 0xf0 }, 2, 8 },
		{ "short of the claimed size", { 8, 0x00, 'a' }, 3, 8 },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(unsnap(bad[i].in, bad[i].n, out, bad[i].want), -EINVAL, "%s", bad[i].why);
}

Test(mongodb_compress, zstd_and_zlib_round_trip)
{
	static uint8_t src[5000], packed[6000], out[5000];
	size_t n;
	uLongf zn = sizeof(packed);

	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 7 % 251);
	n = ZSTD_compress(packed, sizeof(packed), src, sizeof(src), 3);
	cr_assert(!ZSTD_isError(n));
	cr_assert_eq(mongodb_uncompress(MONGODB_COMPRESSOR_ZSTD, packed, n, out, sizeof(out)), 0);
	cr_assert_eq(memcmp(out, src, sizeof(src)), 0);
	packed[0] ^= 0xff; /* the frame magic */
	cr_assert_eq(mongodb_uncompress(MONGODB_COMPRESSOR_ZSTD, packed, n, out, sizeof(out)), -EINVAL);
	cr_assert_eq(compress(packed, &zn, src, sizeof(src)), Z_OK);
	cr_assert_eq(mongodb_uncompress(MONGODB_COMPRESSOR_ZLIB, packed, zn, out, sizeof(out)), 0);
	cr_assert_eq(memcmp(out, src, sizeof(src)), 0);
	cr_assert_eq(mongodb_uncompress(MONGODB_COMPRESSOR_NOOP, src, 10, out, 10), 0);
	cr_assert_eq(mongodb_uncompress(MONGODB_COMPRESSOR_NOOP, src, 10, out, 11), -EINVAL);
	cr_assert_eq(mongodb_uncompress(9, src, 10, out, 10), -EINVAL, "unknown compressor");
}

Test(mongodb_compress, bombs_decode_no_further_than_the_claim)
{
	static uint8_t zeros[1 << 20], packed[1 << 16], out[1024 + 16];
	size_t n = ZSTD_compress(packed, sizeof(packed), zeros, sizeof(zeros), 19);
	uLongf zn = sizeof(packed);

	cr_assert(!ZSTD_isError(n) && n < 1024, "1 MiB of zeros packs small (%zu)", n);
	memset(out, 0xaa, sizeof(out));
	cr_assert_eq(mongodb_uncompress(MONGODB_COMPRESSOR_ZSTD, packed, n, out, 1024), -EINVAL);
	cr_assert_eq(out[1024], 0xaa);
	cr_assert_eq(compress2(packed, &zn, zeros, sizeof(zeros), 9), Z_OK);
	cr_assert_eq(mongodb_uncompress(MONGODB_COMPRESSOR_ZLIB, packed, zn, out, 1024), -EINVAL);
	cr_assert_eq(out[1024], 0xaa);
}
