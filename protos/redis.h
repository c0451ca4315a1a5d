/*
 * Redis parser internals shared by protos/redis*.c (not a public
 * interface). redis_resp.c is an incremental RESP2/RESP3 parser, one per
 * direction, that renders each message as text while it consumes it (no
 * value is buffered whole); redis.c turns the finished messages into
 * requests and replies, pairs them and writes the events.
 */
#ifndef XDPBEAT_PROTOS_REDIS_H
#define XDPBEAT_PROTOS_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto.h"

#define REDIS_DEFAULT_PORT 6379
#define REDIS_LINE_MAX (64u << 10) /* a header or inline line (redis: PROTO_INLINE_MAX_SIZE) */
#define REDIS_BULK_MAX (512ull << 20) /* longest bulk string (redis: proto-max-bulk-len) */
#define REDIS_DEPTH_MAX 64 /* nested aggregates */
#define REDIS_COUNT_MAX (1u << 24) /* elements announced by one aggregate */
#define REDIS_TEXT_MAX (1u << 20) /* rendered text kept per message; the rest is counted, not kept */
#define REDIS_NARGS 3 /* top-level elements whose place in the text is remembered */

#define REDIS_FRAMES_INLINE 8 /* nesting held in the parser; deeper frames are allocated when needed */

/* One open aggregate. */
struct redis_frame {
	uint32_t left; /* elements still to come (at most 2 * REDIS_COUNT_MAX) */
	uint32_t idx; /* elements done */
	char type; /* '*', '%', '~', '>', '|' (attribute), 'R' (a request's multibulk) */
};

enum redis_state {
	REDIS_ST_VALUE, /* at a type line (or an inline command) */
	REDIS_ST_BULK, /* inside a bulk payload */
	REDIS_ST_BULK_CR, /* the CR after it */
	REDIS_ST_BULK_LF, /* the LF after it */
};

/* A finished message as the parser hands it over (valid during the callback only). */
struct redis_done {
	const char *text; /* rendered: query ("SET k v") or reply ("[a, b]"), NUL-terminated */
	size_t len;
	uint64_t full_len; /* length of the whole rendering (len is capped at REDIS_TEXT_MAX) */
	bool truncated; /* text cut at REDIS_TEXT_MAX or missing bytes lost in a gap */
	char type; /* top-level type byte ('*', '+', '>', ...; 'i' for an inline command) */
	bool error; /* top-level error reply ('-' or '!') */
	uint64_t nelems; /* elements of a top-level aggregate (arguments of a request) */
	uint8_t nargs; /* elements with a known place in text (<= REDIS_NARGS) */
	uint32_t arg_off[REDIS_NARGS], arg_len[REDIS_NARGS];
	char arg_type[REDIS_NARGS];
	uint64_t ts, ts_end, bytes;
};

typedef void (*redis_emit_fn)(void *arg, enum dir dir, const struct redis_done *d);

/* Parse state of one direction. */
struct redis_parser {
	enum redis_state st;
	struct redis_frame inl[REDIS_FRAMES_INLINE]; /* frames 0 .. REDIS_FRAMES_INLINE - 1 */
	struct redis_frame *deep; /* frames REDIS_FRAMES_INLINE .. REDIS_DEPTH_MAX - 1, or NULL */
	unsigned depth;
	unsigned silent; /* attribute frames open: nothing inside them is rendered */
	uint64_t left; /* bulk payload bytes still to come */
	unsigned skip; /* of which the first ones are not rendered (verbatim "txt:") */
	size_t scanned; /* bytes of an unfinished line already searched */
	/* the message being assembled */
	bool open;
	struct redis_done d;
	uint64_t lost; /* of d.bytes, lost in gaps */
	char *text; /* scratch for d.text, reused */
	size_t cap;
};

/* Feed bytes of dir: returns bytes consumed, or PARSE_ERROR (the parser is then reset). */
ssize_t redis_feed(struct redis_parser *p, enum dir dir, const uint8_t *data, size_t len, uint64_t ts,
		   redis_emit_fn emit, void *arg);
/* nbytes of dir were lost: true when the parser could skip them (inside a bulk payload). */
bool redis_lose(struct redis_parser *p, size_t nbytes);
/*
 * Heads-only capture: payload bytes of the open bulk that the message's
 * text has no room for (it is full at REDIS_TEXT_MAX, or inside an
 * attribute, which is not rendered), 0 if none. redis_skip_unkept takes n
 * of them as read without their bytes (false: not that many announced).
 */
uint64_t redis_unkept(const struct redis_parser *p);
bool redis_skip_unkept(struct redis_parser *p, size_t n);
/* Bytes taken into the message being assembled (proto_ops.pending). */
uint64_t redis_held(const struct redis_parser *p);
/* Forget the message being parsed (the scratch buffer is kept unless large). */
void redis_parser_reset(struct redis_parser *p);
void redis_parser_free(struct redis_parser *p);

#endif
