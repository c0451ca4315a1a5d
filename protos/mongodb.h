/*
 * MongoDB parser internals shared by protos/mongodb*.c (not a public
 * interface). mongodb_bson.c is a bounds-checked BSON reader (validation
 * with depth and size limits, iteration, lookup, relaxed Extended JSON
 * rendering cut at a length); mongodb_wire.c decodes one whole wire message
 * (every opcode, OP_COMPRESSED inflated first) into a struct mongodb_msg;
 * mongodb.c frames the stream, pairs requests and replies by requestID /
 * responseTo and writes the events.
 */
#ifndef XDPBEAT_PROTOS_MONGODB_H
#define XDPBEAT_PROTOS_MONGODB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json_buf.h"
#include "reader.h"

#define MONGODB_DEFAULT_PORT 27017
#define MONGODB_HEADER_LEN 16
#define MONGODB_MSG_MAX (48u * 1000 * 1000) /* the server's maxMessageSizeBytes: longer is not MongoDB */
#define MONGODB_BUFFER_MAX (8u << 20) /* messages decoded whole; longer ones are skipped (counted) */
#define MONGODB_INFLATE_MAX (16u << 20) /* OP_COMPRESSED: the decompressed size it may claim */
#define MONGODB_TEXT_MAX (4u << 20) /* request/response text kept per message */
#define BSON_DEPTH_MAX 100 /* nested documents (the server's maxBSONDepth) */

/* Opcodes. */
enum {
	MONGODB_OP_REPLY = 1,
	MONGODB_OP_UPDATE = 2001,
	MONGODB_OP_INSERT = 2002,
	MONGODB_OP_QUERY = 2004,
	MONGODB_OP_GET_MORE = 2005,
	MONGODB_OP_DELETE = 2006,
	MONGODB_OP_KILL_CURSORS = 2007,
	MONGODB_OP_COMPRESSED = 2012,
	MONGODB_OP_MSG = 2013,
};

/* OP_MSG flag bits. */
#define MONGODB_MSG_CHECKSUM 0x1u
#define MONGODB_MSG_MORE_TO_COME 0x2u
#define MONGODB_MSG_EXHAUST 0x10000u

/* A little-endian int32 at p (the caller checked the 4 bytes are there). */
static inline uint32_t mongodb_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- BSON (mongodb_bson.c) ---- */

enum bson_type {
	BSON_DOUBLE = 0x01,
	BSON_STRING = 0x02,
	BSON_DOC = 0x03,
	BSON_ARRAY = 0x04,
	BSON_BINARY = 0x05,
	BSON_UNDEFINED = 0x06,
	BSON_OID = 0x07,
	BSON_BOOL = 0x08,
	BSON_DATE = 0x09,
	BSON_NULL = 0x0a,
	BSON_REGEX = 0x0b,
	BSON_DBPOINTER = 0x0c,
	BSON_CODE = 0x0d,
	BSON_SYMBOL = 0x0e,
	BSON_CODE_W_SCOPE = 0x0f,
	BSON_INT32 = 0x10,
	BSON_TIMESTAMP = 0x11,
	BSON_INT64 = 0x12,
	BSON_DECIMAL128 = 0x13,
	BSON_MAXKEY = 0x7f,
	BSON_MINKEY = 0xff,
};

/* One element of a document: points into the document. */
struct bson_elem {
	uint8_t type;
	const char *key;
	size_t klen;
	const uint8_t *val;
	size_t vlen;
};

struct bson_iter {
	struct reader r; /* the elements, without the length and the final NUL */
};

/* Length of the document at p if its length field fits avail and it ends with NUL, else 0. */
size_t bson_doc_len(const uint8_t *p, size_t avail);
/* Every element of the len-byte document well-formed, nested at most BSON_DEPTH_MAX deep. */
bool bson_valid(const uint8_t *doc, size_t len);
/* Iterate a document whose length bson_doc_len accepted. */
void bson_iter_init(struct bson_iter *it, const uint8_t *doc, size_t len);
/* 1: *e is the next element; 0: end; -1: malformed. */
int bson_iter_next(struct bson_iter *it, struct bson_elem *e);
/* The first element named key (NUL-terminated), or false. */
bool bson_find(const uint8_t *doc, size_t len, const char *key, struct bson_elem *e);
bool bson_key_is(const struct bson_elem *e, const char *key);
/* Numeric value (int32, int64, integral double, bool) as an integer. */
bool bson_int(const struct bson_elem *e, int64_t *v);
/* String value (string, symbol) without its NUL. */
bool bson_str(const struct bson_elem *e, const char **s, size_t *n);
/* Embedded document or array. */
bool bson_sub(const struct bson_elem *e, const uint8_t **doc, size_t *len);
/*
 * Append the document (or array) as relaxed Extended JSON. Rendering stops
 * once b->len passes limit (the caller cuts the text there).
 */
void bson_json_doc(struct json_buf *b, const uint8_t *doc, size_t len, bool array, size_t limit);
void bson_json_value(struct json_buf *b, const struct bson_elem *e, size_t limit);

/* ---- OP_COMPRESSED (mongodb_compress.c) ---- */

enum {
	MONGODB_COMPRESSOR_NOOP = 0,
	MONGODB_COMPRESSOR_SNAPPY = 1,
	MONGODB_COMPRESSOR_ZLIB = 2,
	MONGODB_COMPRESSOR_ZSTD = 3,
};

/* Uncompress n bytes at src into exactly want bytes at out: 0, -EINVAL (malformed, other size, unknown id) or -ENOMEM. */
int mongodb_uncompress(uint8_t id, const uint8_t *src, size_t n, uint8_t *out, size_t want);

/* ---- messages (mongodb_wire.c) ---- */

/* How documents become text (the protocol's settings). */
struct mongodb_text_opts {
	int64_t max_docs; /* 0: all */
	int64_t max_doc_length; /* 0: whole */
	bool want_docs; /* render the documents (send_request / send_response) */
};

enum mongodb_has {
	MH_SKIP = 1u << 0,
	MH_TO_RETURN = 1u << 1,
	MH_RETURNED = 1u << 2,
	MH_STARTING = 1u << 3,
	MH_CURSOR = 1u << 4,
	MH_CODE = 1u << 5,
};

/* A decoded message: what an event needs of it (msg->priv). Strings are malloc'ed, NUL-terminated. */
struct mongodb_msg {
	int32_t opcode; /* the original one of an OP_COMPRESSED message */
	bool compressed;
	bool reply; /* OP_REPLY, or an OP_MSG that answers (responseTo != 0) */
	bool noreply; /* no reply comes: legacy writes, OP_KILL_CURSORS, moreToCome */
	bool more_to_come; /* a reply with moreToCome: more replies follow (exhaust) */
	bool error;
	uint32_t flags;
	char *method, *resource, *query; /* generic members */
	char *docs; /* request / response text (documents one per line) */
	size_t docs_len;
	bool docs_cut; /* docs reached MONGODB_TEXT_MAX */
	/* mongodb.* */
	char *full_collection_name, *mquery, *return_fields, *selector, *update, *errmsg, *code_name;
	unsigned has; /* MH_* */
	int64_t number_to_skip, number_to_return, number_returned, starting_from, cursor_id, code;
	size_t mem; /* bytes the strings keep */
};

/*
 * Decode the whole message data[0..len) (its header included) that a client
 * (reply false) or a server sent; 0, -EINVAL (malformed, or compressed by a
 * compressor not decoded) or -ENOMEM. On error m holds nothing.
 */
int mongodb_decode(const uint8_t *data, size_t len, bool reply, const struct mongodb_text_opts *o,
		   struct mongodb_msg *m);
void mongodb_msg_clear(struct mongodb_msg *m);
const char *mongodb_opcode_name(int32_t op);
/* An opcode a client or server sends. */
bool mongodb_opcode_known(int32_t op);

#endif
