/*
 * A growing byte buffer, always NUL-terminated after len, capped at 1 GiB,
 * and compact JSON writing into it (user/json_write.c).
 */
#ifndef XDPBEAT_JSON_BUF_H
#define XDPBEAT_JSON_BUF_H

#include <errno.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct json_buf {
	char *p;
	size_t len, cap;
	int err; /* sticky: some append failed (-ENOMEM), the content is incomplete */
};

/* Room for extra more bytes (and the NUL); the slow path of json_buf_reserve. 0 or -ENOMEM. */
int json_buf_grow(struct json_buf *b, size_t extra);

/* The appenders below are inline: events are a few hundred of these calls each. */
static inline int json_buf_reserve(struct json_buf *b, size_t extra)
{
	if (extra < b->cap && b->len + extra < b->cap) /* no overflow: both below cap */
		return 0;
	return json_buf_grow(b, extra);
}

static inline int json_buf_put(struct json_buf *b, const void *s, size_t n)
{
	if (json_buf_reserve(b, n))
		return -ENOMEM;
	if (n)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

/* A string literal, its length counted by the compiler. */
#define json_buf_lit(b, lit) json_buf_put((b), "" lit, sizeof(lit) - 1)

static inline int json_buf_puts(struct json_buf *b, const char *s)
{
	return json_buf_put(b, s, strlen(s));
}

/* A JSON string literal of n arbitrary bytes, made valid UTF-8 as json_strn() does (user/json_util.c). */
int json_buf_strn(struct json_buf *b, const void *s, size_t n);
/* String from bytes; invalid UTF-8 escaped as json_buf_strn does (user/util/json_util.c). */
json_t *json_strn(const void *s, size_t len);
/* Bytes made valid UTF-8 as json_strn() does: invalid bytes and NUL as the text \xNN; out holds 4 * len bytes. */
size_t utf8_sanitize(char *out, const void *s, size_t len);
/* "key": for a literal key that needs no escaping; comma before unless first. */
static inline int json_buf_key(struct json_buf *b, const char *key, int first)
{
	size_t n = strlen(key);
	char *o;

	if (json_buf_reserve(b, n + 4))
		return -ENOMEM;
	o = b->p + b->len;
	if (!first)
		*o++ = ',';
	*o++ = '"';
	memcpy(o, key, n);
	o += n;
	*o++ = '"';
	*o++ = ':';
	*o = '\0';
	b->len = (size_t)(o - b->p);
	return 0;
}

/* A JSON string literal (quotes, escapes) of n bytes of valid UTF-8. */
int json_buf_str(struct json_buf *b, const char *s, size_t n);
int json_buf_u64(struct json_buf *b, uint64_t v);
/*
 * Members for parsers' write_fields: `,"key":value`, always with the
 * leading comma (a member after the first); the key is a literal that
 * needs no escaping. Strings are made valid UTF-8 (json_buf_strn).
 */
static inline int json_kv_str(struct json_buf *b, const char *key, const void *s, size_t n)
{
	json_buf_key(b, key, 0);
	return json_buf_strn(b, s, n);
}

/* Skipped when s is NULL. */
static inline int json_kv_cstr(struct json_buf *b, const char *key, const char *s)
{
	return s ? json_kv_str(b, key, s, strlen(s)) : 0;
}

static inline int json_kv_u64(struct json_buf *b, const char *key, uint64_t v)
{
	json_buf_key(b, key, 0);
	return json_buf_u64(b, v);
}

int json_buf_i64(struct json_buf *b, int64_t v);
static inline int json_kv_i64(struct json_buf *b, const char *key, int64_t v)
{
	json_buf_key(b, key, 0);
	return json_buf_i64(b, v);
}

static inline int json_kv_bool(struct json_buf *b, const char *key, int v)
{
	json_buf_key(b, key, 0);
	return v ? json_buf_put(b, "true", 4) : json_buf_put(b, "false", 5);
}

/* `,"key":{` (first: no comma); the caller closes it with json_buf_put(b, "}", 1). */
static inline int json_kv_open(struct json_buf *b, const char *key, int first)
{
	json_buf_key(b, key, first);
	return json_buf_put(b, "{", 1);
}

/* Append v as compact JSON. 0 or -ENOMEM. */
int json_write(struct json_buf *b, const json_t *v);
/* Members of object v without the braces, skipping keys in skip (NULL-terminated). */
int json_write_members(struct json_buf *b, const json_t *v, int first, const char *const *skip);
/*
 * v as compact JSON in a malloc'ed string (free() it), or NULL. Use this, not
 * json_dumps(): jansson's own allocations come from its allocator hooks.
 */
char *json_to_string(const json_t *v);
void json_buf_free(struct json_buf *b);

#endif
