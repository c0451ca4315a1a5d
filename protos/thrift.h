/*
 * Thrift parser internals shared by protos/thrift*.c (not a public
 * interface). thrift_wire.c decodes one message of TBinaryProtocol (strict
 * or not) or TCompactProtocol and renders its fields as Packetbeat does;
 * thrift_idl.c reads IDL files for the names of services, arguments and
 * exceptions; thrift.c frames the stream (buffered or framed transport),
 * pairs calls with replies by seqid and writes the events.
 */
#ifndef XDPBEAT_PROTOS_THRIFT_H
#define XDPBEAT_PROTOS_THRIFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "json_buf.h"

#define THRIFT_DEFAULT_PORT 9090
#define THRIFT_DEPTH_MAX 64 /* nested structs and containers */
#define THRIFT_COUNT_MAX (1u << 24) /* elements one container may announce */
#define THRIFT_TEXT_MAX (64u << 10) /* rendered text kept per message; the rest is cut */
#define THRIFT_MSG_MAX (16u << 20) /* a message (or frame) longer than this is skipped, counted */

/* Message types (the same numbers in both protocols). */
enum thrift_mtype {
	THRIFT_CALL = 1,
	THRIFT_REPLY = 2,
	THRIFT_EXCEPTION = 3, /* a TApplicationException */
	THRIFT_ONEWAY = 4,
};

enum thrift_proto {
	THRIFT_PROTO_AUTO = 0,
	THRIFT_PROTO_BINARY,
	THRIFT_PROTO_COMPACT,
};

enum thrift_transport {
	THRIFT_TRANSPORT_AUTO = 0,
	THRIFT_TRANSPORT_SOCKET, /* buffered: messages back to back */
	THRIFT_TRANSPORT_FRAMED, /* each message behind a 4-byte length */
};

/* How values are rendered (the settings of the same names). */
struct thrift_render {
	size_t string_max; /* bytes of a string shown, then "..." */
	size_t collection_max; /* elements of a container / fields of a struct shown, then "..." */
	size_t struct_fields_max; /* more fields in one struct: the message is malformed */
	bool obfuscate; /* strings as "*" */
};

/* Names of a struct's fields by id (IDL arguments or exceptions). */
struct thrift_names {
	int16_t *ids;
	char **names;
	size_t n;
};

/* What the IDL says about a method. */
struct thrift_method {
	char *name;
	char *service;
	bool oneway;
	struct thrift_names params, exceptions;
};

struct thrift_idl {
	struct thrift_method *methods;
	size_t n, cap;
	size_t nfiles; /* files read (includes too) */
};

/* Parse the IDL files (and their includes); NULL with err filled on error. */
struct thrift_idl *thrift_idl_load(char *const *files, size_t n, char *err, size_t errlen);
/* The same from text (file names the messages; includes resolved from dir). */
int thrift_idl_parse(struct thrift_idl *idl, const char *text, size_t len, const char *file, char *err, size_t errlen);
const struct thrift_method *thrift_idl_find(const struct thrift_idl *idl, const char *name, size_t len);
const char *thrift_names_get(const struct thrift_names *nm, int16_t id);
void thrift_idl_free(struct thrift_idl *idl);

/* A decoded message header. */
struct thrift_head {
	enum thrift_mtype type;
	uint32_t seqid;
	const uint8_t *name; /* into the decoded bytes */
	size_t name_len;
};

enum thrift_rc {
	THRIFT_OK = 0,
	THRIFT_SHORT, /* the message goes on past the bytes given */
	THRIFT_BAD, /* malformed */
};

/* The rendered body of one message. */
struct thrift_body {
	struct json_buf text; /* "(1: 10, 2: \"abc\")" */
	size_t nfields;
	int16_t first_id;
	size_t first_off, first_len; /* the first field's value in text */
	bool cut; /* text stopped at THRIFT_TEXT_MAX */
	size_t want; /* THRIFT_SHORT: bytes from data the message needs at least */
};

/*
 * Decode the header of a message at data (proto BINARY or COMPACT): the
 * bytes it took, or 0 with *rc SHORT / BAD.
 */
size_t thrift_read_head(enum thrift_proto proto, const uint8_t *data, size_t len, struct thrift_head *h,
			enum thrift_rc *rc);
/*
 * Decode the argument/result struct after the header; rendered into body
 * (names from nm when set, ids otherwise) when show, else only skipped.
 * Returns the bytes it took, or 0 with *rc SHORT / BAD.
 */
size_t thrift_read_body(enum thrift_proto proto, const uint8_t *data, size_t len, const struct thrift_render *rd,
			const struct thrift_names *nm, bool show, struct thrift_body *body, enum thrift_rc *rc);
/* A string as Packetbeat shows it: quoted, cut, obfuscated or in hex (invalid UTF-8). */
int thrift_put_string(struct json_buf *b, const uint8_t *s, size_t n, const struct thrift_render *rd);
/* A double as Go's strconv.FormatFloat(v, 'f', -1, 64). */
int thrift_put_double(struct json_buf *b, double v);

#endif
