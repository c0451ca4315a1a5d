/*
 * A growing byte buffer, always NUL-terminated after len, capped at 1 GiB,
 * and compact JSON writing into it (user/json_write.c).
 */
#ifndef XDPBEAT_JSON_BUF_H
#define XDPBEAT_JSON_BUF_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct json_buf {
	char *p;
	size_t len, cap;
	int err; /* sticky: some append failed (-ENOMEM), the content is incomplete */
};

int json_buf_reserve(struct json_buf *b, size_t extra);
int json_buf_put(struct json_buf *b, const void *s, size_t n);
int json_buf_puts(struct json_buf *b, const char *s);
/* A JSON string literal (quotes, escapes) of n bytes of valid UTF-8. */
int json_buf_str(struct json_buf *b, const char *s, size_t n);
/* "key": for a literal key that needs no escaping; comma before unless first. */
int json_buf_key(struct json_buf *b, const char *key, int first);
int json_buf_u64(struct json_buf *b, uint64_t v);
/* Append v as compact JSON. 0 or -ENOMEM. */
int json_write(struct json_buf *b, const json_t *v);
/* Members of object v without the braces, skipping keys in skip (NULL-terminated). */
int json_write_members(struct json_buf *b, const json_t *v, int first, const char *const *skip);
/*
 * Members of a deep-merged with over (either may be NULL), as
 * json_object_update_recursive(a, over) would give, without building it:
 * over's values win, objects present in both are merged.
 */
int json_write_merged(struct json_buf *b, const json_t *a, const json_t *over, int first, const char *const *skip);
/*
 * v as compact JSON in a malloc'ed string (free() it), or NULL. Use this, not
 * json_dumps(): jansson's own allocations come from its allocator hooks.
 */
char *json_to_string(const json_t *v);
void json_buf_free(struct json_buf *b);

#endif
