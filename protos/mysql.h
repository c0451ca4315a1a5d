/*
 * MySQL/MariaDB parser internals shared by protos/mysql*.c (not a public
 * interface). mysql.c frames packets, follows the connection phase and
 * turns commands into requests; mysql_resp.c follows a command's response
 * (OK, ERR, EOF, text and binary result sets, PREPARE_OK) packet by packet;
 * mysql_stmt.c keeps the prepared statements of a connection and decodes
 * binary-protocol values (EXECUTE parameters, binary rows).
 */
#ifndef XDPBEAT_PROTOS_MYSQL_H
#define XDPBEAT_PROTOS_MYSQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto.h"
#include "reader.h"

#define MYSQL_HDR 4
#define MYSQL_PKT_FULL 0xffffffu /* a payload of this length continues in the next packet */
#define MYSQL_PKT_PREFIX (64u << 10) /* payload bytes of a packet looked at; the rest is skipped */
#define MYSQL_QUERY_MAX (64u << 10) /* statement text kept (a longer one is cut, counted) */
#define MYSQL_NAME_MAX 255 /* user, database, server version */
#define MYSQL_PATH_MAX 1024 /* "db.table, db.table2" */
#define MYSQL_PARAMS_MAX (64u << 10) /* rendered parameters of one EXECUTE */
#define MYSQL_VALUE_MAX 1024 /* one rendered parameter */
#define MYSQL_STMTS_MAX 1024 /* prepared statements kept per connection */
#define MYSQL_TYPES_MAX 4096 /* parameter / column types kept per statement */
#define MYSQL_CSV_MAX (1u << 20) /* response CSV, whatever max_rows * max_row_length says */

/* Commands (the first payload byte of a client packet with sequence 0). */
enum mysql_cmd {
	MYSQL_COM_QUIT = 0x01,
	MYSQL_COM_INIT_DB = 0x02,
	MYSQL_COM_QUERY = 0x03,
	MYSQL_COM_FIELD_LIST = 0x04,
	MYSQL_COM_STATISTICS = 0x09,
	MYSQL_COM_PROCESS_INFO = 0x0a,
	MYSQL_COM_PING = 0x0e,
	MYSQL_COM_CHANGE_USER = 0x11,
	MYSQL_COM_STMT_PREPARE = 0x16,
	MYSQL_COM_STMT_EXECUTE = 0x17,
	MYSQL_COM_STMT_SEND_LONG_DATA = 0x18,
	MYSQL_COM_STMT_CLOSE = 0x19,
	MYSQL_COM_STMT_RESET = 0x1a,
	MYSQL_COM_SET_OPTION = 0x1b,
	MYSQL_COM_STMT_FETCH = 0x1c,
	MYSQL_COM_RESET_CONNECTION = 0x1f,
	MYSQL_COM_MAX = 0x20,
};

/* Capability flags. */
#define MYSQL_CLIENT_CONNECT_WITH_DB 0x00000008u
#define MYSQL_CLIENT_COMPRESS 0x00000020u
#define MYSQL_CLIENT_PROTOCOL_41 0x00000200u
#define MYSQL_CLIENT_SSL 0x00000800u
#define MYSQL_CLIENT_SECURE_CONNECTION 0x00008000u
#define MYSQL_CLIENT_PLUGIN_AUTH 0x00080000u
#define MYSQL_CLIENT_PLUGIN_AUTH_LENENC 0x00200000u
#define MYSQL_CLIENT_DEPRECATE_EOF 0x01000000u

/* Server status flags. */
#define MYSQL_STATUS_CURSOR_EXISTS 0x0040u
#define MYSQL_STATUS_MORE_RESULTS 0x0008u

/* Settings besides the common ones. */
struct mysql_cfg {
	int64_t max_rows; /* rows in the response CSV */
	int64_t max_row_length; /* bytes of one row in it */
	uint64_t statement_timeout; /* ns a prepared statement is kept unused */
};

/* A capped text being built; bytes past max are counted in cut, not kept. */
struct mysql_text {
	char *p;
	size_t len, cap, max;
	bool cut;
};

void mysql_text_init(struct mysql_text *t, size_t max);
void mysql_text_put(struct mysql_text *t, const void *s, size_t n);
void mysql_text_puts(struct mysql_text *t, const char *s);
void mysql_text_free(struct mysql_text *t);
/* Take the text out (NUL-terminated, malloc'ed; NULL when empty). */
char *mysql_text_take(struct mysql_text *t, size_t *len);

/* A length-encoded integer; *null for 0xfb (a NULL column value). */
uint64_t mysql_lenenc(struct reader *r, bool *null);
/* A length-encoded string: its bytes (valid while the packet is) and length. */
const uint8_t *mysql_lenenc_str(struct reader *r, uint64_t *len);

/* A prepared statement of one connection. */
struct mysql_stmt {
	struct mysql_stmt *next;
	uint32_t id;
	uint16_t nparams, ncols;
	uint8_t *ptypes; /* 2 * nparams: type, flags (0x80 unsigned) as the last EXECUTE bound them, or NULL */
	uint8_t *ctypes; /* 2 * ncols from the PREPARE response's column definitions, or NULL */
	uint64_t long_data; /* parameters 0..63 sent by SEND_LONG_DATA since the last EXECUTE */
	char *query;
	size_t qlen;
	char *header, *path; /* the CSV header line and path of its columns, or NULL */
	size_t header_len, path_len;
	uint64_t used; /* ns: last PREPARE/EXECUTE */
};

struct mysql_stmts {
	struct mysql_stmt *head;
	size_t n;
	uint32_t last_id; /* the latest prepared (MariaDB's EXECUTE of id 0xffffffff) */
};

struct mysql_stmt *mysql_stmt_find(struct mysql_stmts *s, uint32_t id);
/* Keep a new statement (its query copied); the least recently used goes first past MYSQL_STMTS_MAX or timeout. */
struct mysql_stmt *mysql_stmt_add(struct conn *c, struct mysql_stmts *s, uint32_t id, uint16_t nparams, uint16_t ncols,
				  const char *query, size_t qlen, uint64_t ts);
void mysql_stmt_del(struct mysql_stmts *s, uint32_t id);
void mysql_stmts_free(struct mysql_stmts *s);

/*
 * The parameters of an EXECUTE (r at its null bitmap) as a JSON array in
 * out. Returns false when the packet does not hold what the statement's
 * parameters say (wrong length, unknown type, no types ever bound).
 */
bool mysql_exec_params(struct reader *r, struct mysql_stmt *st, struct mysql_text *out);
/* One binary-protocol value of type (flags 0x80: unsigned) as text; false on a short or unknown value. */
bool mysql_bin_value(struct reader *r, uint8_t type, uint8_t flags, struct mysql_text *out);

/* The decoded request (msg->priv). */
struct mysql_req {
	uint8_t cmd;
	char method[32]; /* the statement's first word, upper-case */
	uint32_t stmt_id;
	char *query; /* statement text, owned */
	size_t qlen;
	char *params; /* JSON array text, owned, or NULL */
	size_t plen;
	char *user, *db; /* of the connection, owned, or NULL */
};

/* The decoded response (msg->priv). */
struct mysql_res {
	uint64_t affected_rows, insert_id, num_rows, num_fields;
	bool error;
	uint16_t error_code;
	char *error_message; /* "SQLSTATE: message", owned */
	char *path; /* owned */
};

/* A response being assembled, packet by packet. */
enum mysql_rstate {
	MYSQL_RS_FIRST, /* at the first packet of a result (or of the whole response) */
	MYSQL_RS_COLS, /* column definitions of a result set */
	MYSQL_RS_COLS_END, /* their EOF, or (CLIENT_DEPRECATE_EOF) the first row */
	MYSQL_RS_ROWS,
	MYSQL_RS_PARAMS_DEF, /* PREPARE_OK's parameter definitions */
	MYSQL_RS_PARAMS_END,
	MYSQL_RS_PCOLS_DEF, /* PREPARE_OK's column definitions */
	MYSQL_RS_PCOLS_END,
	MYSQL_RS_FIELDS, /* COM_FIELD_LIST: column definitions until EOF */
	MYSQL_RS_AUTH, /* COM_CHANGE_USER: auth switch / more data until OK or ERR */
};

struct mysql_resp {
	enum mysql_rstate st;
	struct msg *m; /* started at the first packet, NULL between responses */
	struct mysql_res *res;
	uint8_t cmd; /* the command answered (0: unknown) */
	bool binary; /* rows of the binary protocol */
	uint64_t left; /* column definitions still to come */
	uint64_t ncols; /* of the current result set */
	uint8_t *ctypes; /* 2 * ncols kept (binary rows), or NULL */
	size_t nctypes;
	/* PREPARE_OK */
	uint32_t stmt_id;
	uint16_t nparams, pcols;
	struct mysql_text path, csv;
	bool header_done; /* the CSV header line is written */
	uint64_t rows_kept;
};

struct mysql_conn;
/* One packet of the server in the command phase (payload prefix p[0..n) of plen). */
void mysql_resp_packet(struct conn *c, struct mysql_conn *mc, const uint8_t *p, size_t n, uint32_t plen, uint64_t ts);
/* Forget the response being assembled (its request stays queued). */
void mysql_resp_reset(struct mysql_resp *rs);

/* Per-connection state (mysql.c). */
enum mysql_phase {
	MYSQL_PH_UNKNOWN, /* capture started mid-connection: commands recognised as they come */
	MYSQL_PH_LOGIN, /* greeting seen: the handshake response comes next */
	MYSQL_PH_AUTH, /* authentication exchange until the server's OK or ERR */
	MYSQL_PH_COMMAND,
	MYSQL_PH_OPAQUE, /* TLS or compressed: counted, not parsed */
};

struct mysql_dir {
	uint32_t skip; /* payload bytes of the current packet still to pass over */
	bool cont; /* the last packet was MYSQL_PKT_FULL long: the next one continues it */
	bool resync; /* after a gap: wait for a plausible packet header */
	uint64_t lost; /* bytes of the message being assembled lost in gaps */
};

struct mysql_conn {
	enum mysql_phase phase;
	uint32_t server_caps, caps; /* caps: what both sides agreed on (0 until the handshake response) */
	bool caps_known;
	char *user, *db;
	struct mysql_dir d[2];
	struct msg *req; /* a request whose payload continues in the next packet */
	struct mysql_resp r;
	struct mysql_stmts stmts;
};

/* Packet-level helpers shared by mysql.c and mysql_resp.c. */
const struct mysql_cfg *mysql_cfg_of(const struct conn *c);
bool mysql_is_eof(const uint8_t *p, size_t n, uint32_t plen);

#endif
