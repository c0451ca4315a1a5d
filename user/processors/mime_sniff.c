/*
 * Content sniffing in the manner of Go's http.DetectContentType (the WHATWG
 * MIME Sniffing algorithm): the first 512 bytes against a table of
 * signatures, in order; then text/plain if no byte is binary, else
 * application/octet-stream. Our own table, written from the algorithm.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proc.h"

#define SNIFF_LEN 512

enum sig_kind {
	SIG_EXACT, /* pat matches the start */
	SIG_MASKED, /* (byte & mask) == pat */
	SIG_HTML, /* case-insensitive tag, then space or '>' (leading white space skipped) */
};

struct sig {
	enum sig_kind kind;
	const char *pat, *mask;
	size_t len;
	bool skip_ws;
	const char *type;
};

/* clang-format off */
#define EXACT(p, t) { SIG_EXACT, p, NULL, sizeof(p) - 1, false, t }
#define MASKED(p, m, ws, t) { SIG_MASKED, p, m, sizeof(p) - 1, ws, t }
#define HTML(p) { SIG_HTML, p, NULL, sizeof(p) - 1, true, "text/html; charset=utf-8" }
static const struct sig sigs[] = {
	HTML("<!DOCTYPE HTML"), HTML("<HTML"), HTML("<HEAD"), HTML("<SCRIPT"), HTML("<IFRAME"), HTML("<H1"),
	HTML("<DIV"), HTML("<FONT"), HTML("<TABLE"), HTML("<A"), HTML("<STYLE"), HTML("<TITLE"), HTML("<B"),
	HTML("<BODY"), HTML("<BR"), HTML("<P"), HTML("<!--"),
	MASKED("<?xml", "\xff\xff\xff\xff\xff", true, "text/xml; charset=utf-8"),
	EXACT("%PDF-", "application/pdf"),
	EXACT("%!PS-Adobe-", "application/postscript"),
	MASKED("\xfe\xff\x00\x00", "\xff\xff\x00\x00", false, "text/plain; charset=utf-16be"),
	MASKED("\xff\xfe\x00\x00", "\xff\xff\x00\x00", false, "text/plain; charset=utf-16le"),
	MASKED("\xef\xbb\xbf\x00", "\xff\xff\xff\x00", false, "text/plain; charset=utf-8"),
	EXACT("\x00\x00\x01\x00", "image/x-icon"),
	EXACT("\x00\x00\x02\x00", "image/x-icon"),
	EXACT("BM", "image/bmp"),
	EXACT("GIF87a", "image/gif"),
	EXACT("GIF89a", "image/gif"),
	MASKED("RIFF\x00\x00\x00\x00WEBPVP", "\xff\xff\xff\xff\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff", false,
	       "image/webp"),
	EXACT("\x89PNG\x0d\x0a\x1a\x0a", "image/png"),
	EXACT("\xff\xd8\xff", "image/jpeg"),
	MASKED("FORM\x00\x00\x00\x00" "AIFF", "\xff\xff\xff\xff\x00\x00\x00\x00\xff\xff\xff\xff", false, "audio/aiff"),
	EXACT("ID3", "audio/mpeg"),
	EXACT("OggS\x00", "application/ogg"),
	EXACT("MThd\x00\x00\x00\x06", "audio/midi"),
	MASKED("RIFF\x00\x00\x00\x00" "AVI ", "\xff\xff\xff\xff\x00\x00\x00\x00\xff\xff\xff\xff", false, "video/avi"),
	MASKED("RIFF\x00\x00\x00\x00WAVE", "\xff\xff\xff\xff\x00\x00\x00\x00\xff\xff\xff\xff", false, "audio/wave"),
	EXACT("\x1a\x45\xdf\xa3", "video/webm"),
	EXACT("\x00\x01\x00\x00", "font/ttf"),
	EXACT("OTTO", "font/otf"),
	EXACT("ttcf", "font/collection"),
	EXACT("wOFF", "font/woff"),
	EXACT("wOF2", "font/woff2"),
	EXACT("\x1f\x8b\x08", "application/x-gzip"),
	EXACT("PK\x03\x04", "application/zip"),
	EXACT("Rar!\x1a\x07\x00", "application/x-rar-compressed"),
	EXACT("Rar!\x1a\x07\x01\x00", "application/x-rar-compressed"),
	EXACT("\x00" "asm", "application/wasm"),
};
#undef EXACT
#undef MASKED
#undef HTML
/* clang-format on */

static bool is_ws(uint8_t c)
{
	return c == '\t' || c == '\n' || c == '\x0c' || c == '\r' || c == ' ';
}

static bool sig_match(const struct sig *s, const uint8_t *d, size_t n)
{
	if (s->skip_ws)
		while (n && is_ws(*d))
			d++, n--;
	switch (s->kind) {
	case SIG_EXACT:
		return n >= s->len && !memcmp(d, s->pat, s->len);
	case SIG_MASKED:
		if (n < s->len)
			return false;
		for (size_t i = 0; i < s->len; i++)
			if ((d[i] & (uint8_t)s->mask[i]) != (uint8_t)s->pat[i])
				return false;
		return true;
	case SIG_HTML:
		if (n < s->len + 1)
			return false;
		for (size_t i = 0; i < s->len; i++) {
			uint8_t c = d[i];

			if (isalpha((unsigned char)s->pat[i]))
				c &= 0xdf; /* upper case */
			if (c != (uint8_t)s->pat[i])
				return false;
		}
		return d[s->len] == ' ' || d[s->len] == '>';
	}
	return false;
}

/* ISO BMFF with an "mp4" brand in its ftyp box. */
static bool is_mp4(const uint8_t *d, size_t n)
{
	uint32_t box;

	if (n < 12)
		return false;
	box = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
	if (n < box || box % 4 || memcmp(d + 4, "ftyp", 4))
		return false;
	for (uint32_t st = 8; st + 3 <= box; st += 4) {
		if (st == 12)
			continue; /* the minor version */
		if (!memcmp(d + st, "mp4", 3))
			return true;
	}
	return false;
}

static bool is_binary(uint8_t c)
{
	return c <= 0x08 || c == 0x0b || (c >= 0x0e && c <= 0x1a) || (c >= 0x1c && c <= 0x1f);
}

const char *mime_sniff(const void *data, size_t len)
{
	const uint8_t *d = data;

	if (len > SNIFF_LEN)
		len = SNIFF_LEN;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sig_match(&sigs[i], d, len))
			return sigs[i].type;
	if (is_mp4(d, len))
		return "video/mp4";
	for (size_t i = 0; i < len; i++)
		if (is_binary(d[i]))
			return "application/octet-stream";
	return "text/plain; charset=utf-8";
}
