/*
 * Memcache parser internals shared by protos/memcache*.c (not a public
 * interface). One incremental state machine per direction handles both the
 * text and the binary protocol; TCP feeds it stream bytes, UDP feeds it one
 * reassembled message at a time.
 */
#ifndef XDPBEAT_PROTOS_MEMCACHE_H
#define XDPBEAT_PROTOS_MEMCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto.h"
#include "reader.h"

#define MC_DEFAULT_PORT 11211
#define MC_LINE_MAX 65536 /* longest text line waited for */
#define MC_LIST_MAX 1024 /* keys / stats recorded per message */
#define MC_VALUE_HARD_MAX (1u << 20) /* bytes kept per value whatever maxbytespervalue says */
#define MC_VALUES_TOTAL_MAX (4u << 20) /* bytes of values kept per message */
#define MC_SMALL_MAX 1024 /* counter value, version, stat value, error text */
#define MC_BIN_HEADER 24
#define MC_MAGIC_REQ 0x80
#define MC_MAGIC_RESP 0x81

/* UDP reassembly bounds. */
#define MC_UDP_HEADER 8
#define MC_UDP_MAX_DATAGRAMS 1024 /* per message */
#define MC_UDP_MAX_MSG_BYTES (2u << 20) /* per reassembled message */
#define MC_UDP_MAX_PENDING 256 /* messages being reassembled */
#define MC_UDP_MAX_TOTAL_BYTES (16u << 20) /* over all pending messages */

struct mc_udp;

/* Settings (xdpbeat.protocols[].*) plus the UDP reassembly table. */
struct mc_cfg {
	bool parseunknown;
	int64_t maxvalues; /* 0 none, -1 all, N at most N */
	uint64_t maxbytespervalue; /* 0 = unlimited (MC_VALUE_HARD_MAX) */
	uint64_t udptransactiontimeout; /* ns */
	struct mc_udp *udp;
};

/* Command classification, as Packetbeat's memcache.*.type. */
enum mc_type {
	MC_T_UNKNOWN,
	MC_T_LOAD,
	MC_T_STORE,
	MC_T_DELETE,
	MC_T_COUNTER,
	MC_T_INFO,
	MC_T_SLABCTRL,
	MC_T_LRUCRAWLER,
	MC_T_STATS,
	MC_T_SUCCESS,
	MC_T_FAIL,
	MC_T_AUTH,
};

const char *mc_type_name(enum mc_type t);

/* What the bytes of a value/body are used for. */
enum mc_body {
	MC_B_VALUE, /* a data value: counted, maybe kept (maxvalues) */
	MC_B_COUNTER, /* binary incr/decr response: 8-byte value */
	MC_B_VERSION, /* binary version response */
	MC_B_STAT, /* binary stat response value */
	MC_B_ERROR, /* binary error response text */
	MC_B_SKIP, /* ignored */
};

/* What finishes the message being assembled. */
enum mc_agg {
	MC_A_NONE, /* finished after its own bytes */
	MC_A_VALUES, /* text VALUE ... END */
	MC_A_STATS, /* text STAT ... END */
	MC_A_BINSTATS, /* binary stat responses until the empty key */
};

#define MC_OPAQUE_MAX 32 /* meta opaque token bytes kept (memcached's own limit) */

/*
 * What a meta command or response (mg, ms, ..., VA, HD, ...) says about
 * itself, for pairing quiet requests on TCP.
 */
struct mc_meta {
	char code[3]; /* "mg", "VA", ...; "" = not a meta message */
	bool quiet; /* request: q flag */
	bool error; /* response: ERROR, CLIENT_ERROR, SERVER_ERROR, ... (answers any request) */
	uint8_t opaque_len; /* 0 = no O flag */
	char opaque[MC_OPAQUE_MAX];
};

/* Integer members of memcache.request / memcache.response. */
#define MC_NUM_LIST(X)                  \
	X(OPCODE_VALUE, "opcode_value") \
	X(OPAQUE, "opaque")             \
	X(VBUCKET, "vbucket")           \
	X(STATUS_CODE, "status_code")   \
	X(FLAGS, "flags")               \
	X(EXPTIME, "exptime")           \
	X(CAS_UNIQUE, "cas_unique")     \
	X(DELTA, "delta")               \
	X(INITIAL, "initial")           \
	X(VERBOSITY, "verbosity")       \
	X(VALUE, "value")               \
	X(SLEEP_US, "sleep_us")         \
	X(SOURCE_CLASS, "source_class") \
	X(DEST_CLASS, "dest_class")     \
	X(BYTES, "bytes")               \
	X(COUNT_VALUES, "count_values")

enum mc_num {
#define X(id, name) MC_N_##id,
	MC_NUM_LIST(X)
#undef X
		MC_N_MAX,
};

/* Boolean members. */
#define MC_BOOL_LIST(X)   \
	X(QUIET, "quiet") \
	X(NOREPLY, "noreply")

enum mc_bool {
#define X(id, name) MC_Q_##id,
	MC_BOOL_LIST(X)
#undef X
		MC_Q_MAX,
};

/* String members taken from the wire (written made valid UTF-8). */
#define MC_STR_LIST(X)          \
	X(RAW_ARGS, "raw_args") \
	X(LINE, "line")         \
	X(VERSION, "version")   \
	X(ERROR_MSG, "error_msg")

enum mc_str {
#define X(id, name) MC_S_##id,
	MC_STR_LIST(X)
#undef X
		MC_S_MAX,
};

/* Bytes in mc_event.text. */
struct mc_span {
	size_t off, len;
};

struct mc_stat {
	struct mc_span name, value;
};

/*
 * One decoded message (msg.priv): the members of memcache.request or
 * memcache.response, written by mc_write_fields. Everything from the wire
 * (keys, values as base64, stats, strings) is copied into one growing
 * buffer, text; mc_event_bytes() is what the message keeps besides the struct.
 */
struct mc_event {
	bool binary; /* memcache.protocol_type */
	const char *command, *type; /* static strings */
	const char *opcode, *status; /* binary: static names, or NULL */
	uint32_t has_num; /* bit per enum mc_num */
	int64_t num[MC_N_MAX]; /* as the JSON integer (a uint64 past INT64_MAX wraps, as jansson's json_int_t did) */
	uint8_t has_bool, bools; /* bits per enum mc_bool */
	uint8_t has_str; /* bit per enum mc_str */
	struct mc_span str[MC_S_MAX];
	bool has_automove; /* slabs automove: 0 standby, 1 slow, 2 aggressive, else the number */
	int64_t automove;
	struct mc_span *keys; /* at most MC_LIST_MAX */
	size_t nkeys, keys_cap;
	struct mc_span *values; /* base64 */
	size_t nvalues, values_cap;
	struct mc_stat *stats; /* at most MC_LIST_MAX */
	size_t nstats, stats_cap;
	char *text;
	size_t text_len, text_cap;
	struct mc_meta meta;
	char method[64]; /* requests: the command in capitals (msg.method points here) */
};

/* A message being assembled. */
struct mc_msg {
	struct msg *m; /* NULL when nothing is open */
	struct mc_event *ev; /* m->priv */
	enum mc_agg agg;
	bool quiet;
	uint8_t opcode;
	uint32_t opaque;
	uint32_t count_values;
	uint64_t value_bytes; /* sum of the value lengths */
	uint64_t kept_bytes; /* bytes of values stored in the event */
	uint64_t lost_bytes; /* of m->bytes, lost in gaps or skipped (heads-only) */
};

enum mc_state {
	MC_ST_CMD, /* at a command line / binary header */
	MC_ST_DATA, /* text data block */
	MC_ST_DATA_CR, /* "\r" after a text data block */
	MC_ST_DATA_LF, /* "\n" after a text data block */
	MC_ST_BODY, /* binary value */
};

/* Parse state of one direction. */
struct mc_dir {
	enum mc_state st;
	struct mc_msg cur;
	uint64_t left; /* bytes of the current value still to come */
	enum mc_body body;
	bool lost; /* part of the current value was lost in a gap */
	bool keep; /* the current value goes into the event (maxvalues) */
	bool body_done_ends_msg; /* binary: message is complete after the body */
	bool stat_open; /* binary: the body is the value of the last stats entry */
	size_t scanned; /* bytes of an unfinished text line already searched for CRLF */
	uint8_t *cap; /* capture of the current value (at most cap_want bytes) */
	size_t cap_len, cap_want;
};

struct mc_ctx;
/* Takes ownership of mm->m (mm is reset by the caller). */
typedef void (*mc_emit_fn)(struct mc_ctx *x, struct msg *m, const struct mc_msg *mm);

struct mc_ctx {
	const struct mc_cfg *cfg;
	struct mc_dir *d;
	enum dir dir;
	uint64_t ts;
	size_t unit; /* bytes of the line/header being handled, not yet accounted */
	mc_emit_fn emit;
	void *arg; /* struct conn * (TCP) or struct mc_udp_ctx * (UDP) */
};

/* ---- memcache.c: shared machinery ---- */

/* Run the state machine over data; returns bytes consumed or PARSE_ERROR. */
ssize_t mc_feed(struct mc_ctx *x, const uint8_t *data, size_t len);
void mc_dir_reset(struct mc_dir *d);
/* Start a message (its mc_event attached as msg.priv). */
int mc_msg_open(struct mc_ctx *x, bool binary);
/* Hand the open message to x->emit (finishing counters, accounting x->unit). */
void mc_msg_finish(struct mc_ctx *x);
void mc_msg_drop(struct mc_msg *mm);
/* Keys and stats beyond MC_LIST_MAX are not recorded. 0 or -ENOMEM. */
int mc_add_key(struct mc_msg *mm, const void *key, size_t len);
int mc_add_stat(struct mc_msg *mm, const void *name, size_t nlen, const void *value, size_t vlen);
/* The value of the last stats entry (binary stat responses). 0 or -ENOMEM. */
int mc_set_stat_value(struct mc_msg *mm, const void *value, size_t vlen);
void mc_set_num(struct mc_msg *mm, enum mc_num id, int64_t v);
void mc_set_bool(struct mc_msg *mm, enum mc_bool id, bool v);
/* A string member from wire bytes. 0 or -ENOMEM. */
int mc_set_strn(struct mc_msg *mm, enum mc_str id, const void *s, size_t n);
/* command and type (static strings); for requests also method and event.action. */
void mc_set_command(struct mc_ctx *x, const char *command, enum mc_type type);
/* A value of n bytes follows: set up state st, capture and accounting. */
void mc_begin_value(struct mc_ctx *x, enum mc_state st, uint64_t n, enum mc_body body);

/* ---- memcache_text.c ---- */

/* One text line (without CRLF). 0 or -EINVAL. May start a data block. */
int mc_text_line(struct mc_ctx *x, const uint8_t *line, size_t len);

/* ---- memcache_binary.c ---- */

/* Parse a binary header (+extras+key) at data: >0 consumed, 0 need more, -EINVAL. */
ssize_t mc_bin_header(struct mc_ctx *x, const uint8_t *data, size_t len);
/* The body of the current binary message is complete. */
void mc_bin_body_done(struct mc_ctx *x);
bool mc_bin_opcode_quiet(uint8_t opcode);

/* ---- memcache_udp.c ---- */

struct mc_udp *mc_udp_new(void);
void mc_udp_free(struct mc_udp *u);
void mc_parse_udp(struct conn *c, enum dir dir, const uint8_t *data, size_t len, uint64_t ts);
void mc_expire(struct corr *k, const struct proto_cfg *cfg, uint64_t now);

#endif
