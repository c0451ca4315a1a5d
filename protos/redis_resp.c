/*
 * RESP, the Redis serialization protocol (RESP2 and the RESP3 types redis 7
 * sends after HELLO 3), and inline commands, parsed incrementally: one
 * state machine per direction consumes a type line, a bulk payload in any
 * number of pieces, and keeps a stack of the aggregates still open, so a
 * value split at any byte needs no buffering besides one line (at most
 * REDIS_LINE_MAX) in the TCP layer. Each message is rendered as text while
 * it is consumed, the way Packetbeat renders it:
 *   request   its arguments joined by spaces ("SET k v")
 *   reply     simple strings, errors, integers, bulk strings as they are,
 *             null bulk/array "nil", arrays "[a, b, [c]]", and for RESP3:
 *             null "nil", booleans "true"/"false", doubles and big numbers
 *             as sent, verbatim strings without their "txt:" prefix, maps
 *             "{k: v, k2: v2}", sets and pushes like arrays; an attribute
 *             is metadata about the value that follows: parsed, not shown.
 * Lengths and counts past the caps (REDIS_BULK_MAX, REDIS_COUNT_MAX,
 * REDIS_DEPTH_MAX, REDIS_LINE_MAX), unknown type bytes, malformed numbers
 * and a bulk payload not followed by CRLF are parse errors; nothing is
 * allocated from an announced size, and the text kept is capped at
 * REDIS_TEXT_MAX (the rest is counted in full_len, not kept). Streamed
 * RESP3 strings and aggregates ("$?", "*?"), which redis does not send,
 * are parse errors. Heads-only capture: the bulk payload bytes that the
 * text has no room for are never read, so they may go by unseen
 * (redis_unkept, redis_skip_unkept), counted exactly as if rendered.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reader.h"
#include "redis.h"

/* What one feed call works with besides the parser. */
struct rctx {
	struct redis_parser *p;
	enum dir dir;
	uint64_t ts;
	redis_emit_fn emit;
	void *arg;
};

/* ---- text ---- */

/* n more bytes of rendering: counted in full_len; returns how many of them the text has room for. */
static size_t text_count(struct redis_parser *p, size_t n)
{
	size_t room = REDIS_TEXT_MAX - p->d.len;

	p->d.full_len += n;
	if (n <= room)
		return n;
	p->d.truncated = true;
	return room;
}

/* Append n bytes to the message's text (nothing inside an attribute); past REDIS_TEXT_MAX only counted. */
static int text_put(struct redis_parser *p, const void *s, size_t n)
{
	if (p->silent)
		return 0;
	n = text_count(p, n);
	if (n == 0)
		return 0;
	if (p->d.len + n + 1 > p->cap) {
		size_t cap = p->cap ? p->cap : 256;
		char *nb;

		while (cap < p->d.len + n + 1)
			cap *= 2;
		if (cap > REDIS_TEXT_MAX + 1)
			cap = REDIS_TEXT_MAX + 1;
		nb = realloc(p->text, cap);
		if (!nb)
			return -ENOMEM;
		p->text = nb;
		p->cap = cap;
	}
	memcpy(p->text + p->d.len, s, n);
	p->d.len += n;
	p->text[p->d.len] = '\0';
	return 0;
}

static int text_puts(struct redis_parser *p, const char *s)
{
	return text_put(p, s, strlen(s));
}

/* The message is done (emitted or ignored): forget it, give back a big scratch buffer. */
static void message_clear(struct redis_parser *p)
{
	memset(&p->d, 0, sizeof(p->d));
	p->lost = 0;
	p->open = false;
	if (p->cap > 65536) {
		free(p->text);
		p->text = NULL;
		p->cap = 0;
	}
	if (p->text)
		p->text[0] = '\0';
}

void redis_parser_reset(struct redis_parser *p)
{
	message_clear(p);
	p->st = REDIS_ST_VALUE;
	p->depth = 0;
	p->silent = 0;
	p->left = 0;
	p->skip = 0;
	p->scanned = 0;
}

void redis_parser_free(struct redis_parser *p)
{
	free(p->text);
	p->text = NULL;
	p->cap = 0;
	free(p->deep);
	p->deep = NULL;
}

/* ---- numbers ---- */

/* A signed 64-bit decimal integer filling s[0, n): no sign but '-', no spaces. */
static bool parse_i64(const uint8_t *s, size_t n, int64_t *v)
{
	bool neg = n > 0 && s[0] == '-';
	size_t i = neg ? 1 : 0;
	uint64_t x = 0;

	if (i == n || n - i > 19)
		return false;
	for (; i < n; i++) {
		unsigned d = (unsigned)s[i] - '0';

		if (d > 9)
			return false;
		x = x * 10 + d; /* 19 digits fit in 64 bits unsigned */
	}
	if (x > (uint64_t)INT64_MAX + (neg ? 1 : 0))
		return false;
	*v = neg ? (x ? -(int64_t)(x - 1) - 1 : 0) : (int64_t)x;
	return true;
}

/* A RESP3 big number: an optional sign and digits. */
static bool valid_bignum(const uint8_t *s, size_t n)
{
	size_t i = n > 0 && (s[0] == '-' || s[0] == '+') ? 1 : 0;

	if (i == n)
		return false;
	for (; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* ---- values ---- */

/* Frame i of the stack (i < depth). */
static struct redis_frame *frame(struct redis_parser *p, unsigned i)
{
	return i < REDIS_FRAMES_INLINE ? &p->inl[i] : &p->deep[i - REDIS_FRAMES_INLINE];
}

/* A new innermost frame, or NULL past REDIS_DEPTH_MAX (or out of memory). */
static struct redis_frame *frame_push(struct redis_parser *p)
{
	if (p->depth == REDIS_DEPTH_MAX)
		return NULL;
	if (p->depth >= REDIS_FRAMES_INLINE && !p->deep) {
		p->deep = calloc(REDIS_DEPTH_MAX - REDIS_FRAMES_INLINE, sizeof(*p->deep));
		if (!p->deep)
			return NULL;
	}
	return frame(p, p->depth++);
}

/* A value of type t starts: separator inside its aggregate, argument bookkeeping, top-level type. */
static int value_begin(struct redis_parser *p, char t)
{
	struct redis_frame *f;

	if (t == '|')
		return 0; /* an attribute is not an element: the value after it is */
	if (p->depth == 0) {
		p->d.type = t;
		p->d.error = t == '-' || t == '!';
		return 0;
	}
	f = frame(p, p->depth - 1);
	if (f->idx) {
		const char *sep = f->type == 'R' ? " " : f->type == '%' && (f->idx & 1) ? ": " : ", ";

		if (text_puts(p, sep))
			return -ENOMEM;
	}
	if (p->depth == 1 && !p->silent && f->idx < REDIS_NARGS) {
		p->d.arg_off[f->idx] = (uint32_t)p->d.len;
		p->d.arg_len[f->idx] = 0;
		p->d.arg_type[f->idx] = t;
		p->d.nargs = (uint8_t)(f->idx + 1);
	}
	return 0;
}

static void message_finish(struct rctx *x)
{
	struct redis_parser *p = x->p;

	p->d.ts_end = x->ts;
	p->d.text = p->text ? p->text : "";
	x->emit(x->arg, x->dir, &p->d);
	message_clear(p);
}

/* A value is complete: close the aggregates it completes; at the top the message is done. */
static int value_done(struct rctx *x)
{
	struct redis_parser *p = x->p;

	while (p->depth) {
		struct redis_frame *f = frame(p, p->depth - 1);

		if (p->depth == 1 && !p->silent && f->idx < REDIS_NARGS)
			p->d.arg_len[f->idx] = (uint32_t)(p->d.len - p->d.arg_off[f->idx]);
		f->idx++;
		if (--f->left)
			return 0;
		if (f->type == '|') {
			/* attribute read: the value it describes comes next */
			p->silent--;
			p->depth--;
			return 0;
		}
		if (f->type != 'R' && text_puts(p, f->type == '%' ? "}" : "]"))
			return -ENOMEM;
		p->depth--;
	}
	message_finish(x);
	return 0;
}

/* A complete value rendered as s. */
static int scalar(struct rctx *x, char t, const void *s, size_t n)
{
	if (value_begin(x->p, t) || text_put(x->p, s, n))
		return -ENOMEM;
	return value_done(x);
}

/* $ (bulk), = (verbatim), ! (blob error): the payload and CRLF follow. */
static int bulk_header(struct rctx *x, char t, const uint8_t *s, size_t n)
{
	struct redis_parser *p = x->p;
	int64_t len;

	if (!parse_i64(s, n, &len))
		return -EINVAL;
	if (len < 0) {
		if (t != '$' || len != -1)
			return -EINVAL;
		return scalar(x, t, "nil", 3);
	}
	if ((uint64_t)len > REDIS_BULK_MAX)
		return -E2BIG;
	if (value_begin(p, t))
		return -ENOMEM;
	p->left = (uint64_t)len;
	p->skip = t == '=' ? (len < 4 ? (unsigned)len : 4) : 0; /* "txt:" / "mkd:" */
	p->st = len ? REDIS_ST_BULK : REDIS_ST_BULK_CR;
	return 0;
}

/* * % ~ > | : an aggregate of n elements (2n for maps and attributes). */
static int aggregate(struct rctx *x, char t, const uint8_t *s, size_t n)
{
	struct redis_parser *p = x->p;
	bool request = x->dir == DIR_C2S && p->depth == 0;
	int64_t count;
	uint64_t elems;
	struct redis_frame *f;

	if (!parse_i64(s, n, &count))
		return -EINVAL;
	if (count < 0 && t != '*')
		return -EINVAL;
	if (count > (int64_t)REDIS_COUNT_MAX)
		return -E2BIG;
	if (request && count <= 0) {
		/* redis ignores an empty multibulk: no command, no reply */
		message_clear(p);
		return 0;
	}
	if (count < 0)
		return scalar(x, t, "nil", 3);
	elems = (uint64_t)count * (t == '%' || t == '|' ? 2 : 1);
	if (elems == 0) {
		if (t == '|')
			return 0;
		return scalar(x, t, t == '%' ? "{}" : "[]", 2);
	}
	if (p->depth == REDIS_DEPTH_MAX)
		return -E2BIG;
	if (value_begin(p, t))
		return -ENOMEM;
	if (p->depth == 0 && t != '|')
		p->d.nelems = (uint64_t)count;
	if (!request && t != '|' && text_puts(p, t == '%' ? "{" : "["))
		return -ENOMEM;
	f = frame_push(p);
	if (!f)
		return -ENOMEM;
	f->left = (uint32_t)elems;
	f->idx = 0;
	f->type = request ? 'R' : t;
	if (t == '|')
		p->silent++;
	return 0;
}

/* One RESP line without its CRLF: the type byte and what follows it. */
static int resp_line(struct rctx *x, const uint8_t *line, size_t n)
{
	const uint8_t *s = line + 1;
	size_t sn = n - 1;
	char t = (char)line[0];

	switch (t) {
	case '+':
	case '-':
	case ',':
		return scalar(x, t, s, sn);
	case ':': {
		int64_t v;

		if (!parse_i64(s, sn, &v))
			return -EINVAL;
		return scalar(x, t, s, sn);
	}
	case '(':
		if (!valid_bignum(s, sn))
			return -EINVAL;
		return scalar(x, t, s, sn);
	case '#':
		if (sn != 1 || (s[0] != 't' && s[0] != 'f'))
			return -EINVAL;
		return s[0] == 't' ? scalar(x, t, "true", 4) : scalar(x, t, "false", 5);
	case '_':
		if (sn != 0)
			return -EINVAL;
		return scalar(x, t, "nil", 3);
	case '$':
	case '=':
	case '!':
		return bulk_header(x, t, s, sn);
	case '*':
	case '%':
	case '~':
	case '>':
	case '|':
		return aggregate(x, t, s, sn);
	default:
		return -EINVAL;
	}
}

/* ---- inline commands ---- */

static bool is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static uint8_t unescape(uint8_t c)
{
	switch (c) {
	case 'n':
		return '\n';
	case 'r':
		return '\r';
	case 't':
		return '\t';
	case 'b':
		return '\b';
	case 'a':
		return '\a';
	default:
		return c;
	}
}

/*
 * One argument of an inline command starting at s[*i], as redis splits
 * them (sdssplitargs): "..." takes \n \r \t \b \a \xHH and \<any>, '...'
 * takes \', a closing quote must be followed by a blank or the end, and a
 * NUL ends the line. Unquoted bytes into out; -EINVAL on unbalanced quotes.
 */
static ssize_t inline_arg(const uint8_t *s, size_t n, size_t *i, uint8_t *out)
{
	size_t k = *i, o = 0;
	bool dq = false, sq = false;

	for (;;) {
		if (dq || sq) {
			if (k >= n || s[k] == '\0')
				return -EINVAL;
			if (dq && s[k] == '\\' && k + 3 < n && s[k + 1] == 'x' && hex_digit(s[k + 2]) >= 0 &&
			    hex_digit(s[k + 3]) >= 0) {
				out[o++] = (uint8_t)(hex_digit(s[k + 2]) << 4 | hex_digit(s[k + 3]));
				k += 4;
			} else if (dq && s[k] == '\\' && k + 1 < n && s[k + 1] != '\0') {
				out[o++] = unescape(s[k + 1]);
				k += 2;
			} else if (sq && s[k] == '\\' && k + 1 < n && s[k + 1] == '\'') {
				out[o++] = '\'';
				k += 2;
			} else if ((dq && s[k] == '"') || (sq && s[k] == '\'')) {
				if (k + 1 < n && s[k + 1] != '\0' && !is_space(s[k + 1]))
					return -EINVAL;
				*i = k + 1;
				return (ssize_t)o;
			} else {
				out[o++] = s[k++];
			}
			continue;
		}
		if (k >= n || s[k] == ' ' || s[k] == '\n' || s[k] == '\r' || s[k] == '\t' || s[k] == '\0')
			break;
		if (s[k] == '"')
			dq = true;
		else if (s[k] == '\'')
			sq = true;
		else
			out[o++] = s[k];
		k++;
	}
	*i = k;
	return (ssize_t)o;
}

/* An inline command line (without its LF; a CR before it is dropped), rendered like a multibulk one. */
static int inline_cmd(struct rctx *x, const uint8_t *line, size_t n)
{
	struct redis_parser *p = x->p;
	uint8_t *tmp;
	size_t i = 0;
	uint64_t k = 0;
	int rc = 0;

	if (n && line[n - 1] == '\r')
		n--;
	tmp = malloc(n + 1);
	if (!tmp)
		return -ENOMEM;
	p->d.type = 'i';
	for (;;) {
		ssize_t an;

		while (i < n && is_space(line[i]))
			i++;
		if (i == n || line[i] == '\0')
			break;
		an = inline_arg(line, n, &i, tmp);
		if (an < 0) {
			rc = -EINVAL;
			goto out;
		}
		if (k && text_put(p, " ", 1)) {
			rc = -ENOMEM;
			goto out;
		}
		if (k < REDIS_NARGS) {
			p->d.arg_off[k] = (uint32_t)p->d.len;
			p->d.arg_type[k] = '$';
			p->d.nargs = (uint8_t)(k + 1);
		}
		if (text_put(p, tmp, (size_t)an)) {
			rc = -ENOMEM;
			goto out;
		}
		if (k < REDIS_NARGS)
			p->d.arg_len[k] = (uint32_t)(p->d.len - p->d.arg_off[k]);
		k++;
	}
	p->d.nelems = k;
	if (k)
		message_finish(x);
	else
		message_clear(p); /* an empty line: redis ignores it */
out:
	free(tmp);
	return rc;
}

/* ---- the state machine ---- */

/* A whole line at s (ll bytes, the last one LF). */
static int on_line(struct rctx *x, const uint8_t *s, size_t ll)
{
	if (x->dir == DIR_C2S && x->p->depth == 0 && s[0] != '*')
		return inline_cmd(x, s, ll - 1);
	if (ll < 3 || s[ll - 2] != '\r')
		return -EINVAL;
	return resp_line(x, s, ll - 2);
}

/* Bytes of a bulk payload: rendered past the skipped prefix. */
static int bulk_bytes(struct redis_parser *p, const uint8_t *s, size_t n)
{
	size_t sk = p->skip < n ? p->skip : n;

	if (text_put(p, s + sk, n - sk))
		return -ENOMEM;
	p->skip -= (unsigned)sk;
	p->left -= n;
	p->d.bytes += n;
	if (p->left == 0)
		p->st = REDIS_ST_BULK_CR;
	return 0;
}

ssize_t redis_feed(struct redis_parser *p, enum dir dir, const uint8_t *data, size_t len, uint64_t ts,
		   redis_emit_fn emit, void *arg)
{
	struct rctx x = { .p = p, .dir = dir, .ts = ts, .emit = emit, .arg = arg };
	size_t off = 0;

	while (off < len) {
		const uint8_t *s = data + off, *nl;
		size_t avail = len - off, from, ll;

		switch (p->st) {
		case REDIS_ST_VALUE:
			if (!p->open) {
				p->open = true;
				p->d.ts = ts;
			}
			/* the unconsumed tail comes back with more data: search only the new bytes */
			from = off == 0 && p->scanned < avail ? p->scanned : 0;
			nl = memchr(s + from, '\n', avail - from);
			if (!nl) {
				if (avail > REDIS_LINE_MAX)
					goto fail;
				p->scanned = avail;
				return (ssize_t)off;
			}
			ll = (size_t)(nl - s) + 1;
			if (ll > REDIS_LINE_MAX)
				goto fail;
			p->scanned = 0;
			p->d.bytes += ll;
			if (on_line(&x, s, ll))
				goto fail;
			off += ll;
			break;
		case REDIS_ST_BULK:
			ll = p->left < avail ? (size_t)p->left : avail;
			if (bulk_bytes(p, s, ll))
				goto fail;
			off += ll;
			break;
		case REDIS_ST_BULK_CR:
		case REDIS_ST_BULK_LF:
			if (s[0] != (p->st == REDIS_ST_BULK_CR ? '\r' : '\n'))
				goto fail;
			p->d.bytes++;
			off++;
			if (p->st == REDIS_ST_BULK_CR) {
				p->st = REDIS_ST_BULK_LF;
				break;
			}
			p->st = REDIS_ST_VALUE;
			if (value_done(&x))
				goto fail;
			break;
		}
	}
	return (ssize_t)off;
fail:
	redis_parser_reset(p);
	return PARSE_ERROR;
}

/*
 * n payload bytes of the open bulk went by unread (lost in a gap, or left
 * in the kernel): the message counts them, the parser does not hold them.
 */
static void bulk_pass(struct redis_parser *p, size_t n)
{
	p->left -= n;
	p->skip = p->skip > n ? p->skip - (unsigned)n : 0;
	p->d.bytes += n;
	p->lost += n;
	if (p->left == 0)
		p->st = REDIS_ST_BULK_CR;
}

bool redis_lose(struct redis_parser *p, size_t nbytes)
{
	if (!p->open || p->st != REDIS_ST_BULK || nbytes > p->left)
		return false;
	bulk_pass(p, nbytes);
	p->d.truncated = true; /* the text misses them */
	return true;
}

uint64_t redis_unkept(const struct redis_parser *p)
{
	if (!p->open || p->st != REDIS_ST_BULK)
		return 0;
	/* inside an attribute nothing is rendered; else only once the text is full */
	return p->silent || p->d.len >= REDIS_TEXT_MAX ? p->left : 0;
}

bool redis_skip_unkept(struct redis_parser *p, size_t n)
{
	size_t sk = p->skip < n ? p->skip : n;

	if (n == 0 || n > redis_unkept(p))
		return false;
	/* what bulk_bytes does, without the bytes: the text is full (or silent), it only counts them */
	if (!p->silent)
		text_count(p, n - sk);
	bulk_pass(p, n);
	return true;
}

uint64_t redis_held(const struct redis_parser *p)
{
	return p->open ? p->d.bytes - p->lost : 0;
}
