/*
 * PostgreSQL parser internals shared by protos/pgsql*.c (not a public
 * interface). pgsql.c frames the v3 protocol (typed messages, the untyped
 * startup packets, the one-byte SSL answer) and writes the events;
 * pgsql_front.c handles what the client sends (queries, the extended
 * protocol's statements and portals, parameters), pgsql_back.c what the
 * server answers (results, errors, ReadyForQuery) and pairs them through
 * the replies the server owes (struct pgsql_owed); pgsql_sql.c splits a
 * simple query into its statements and names their method.
 */
#ifndef XDPBEAT_PROTOS_PGSQL_H
#define XDPBEAT_PROTOS_PGSQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "json_buf.h"
#include "proto.h"

#define PGSQL_DEFAULT_PORT 5432
#define PGSQL_MSG_MAX (1u << 20) /* a message longer than this is read from its head, the rest skipped */
#define PGSQL_HEAD_MAX (64u << 10) /* the head of a long message that is parsed */
#define PGSQL_NAME_MAX 64 /* user, database, application_name kept (NAMEDATALEN) */
#define PGSQL_STMTS_MAX 256 /* prepared statements / portals kept per connection */
#define PGSQL_TABLE_BYTES (1u << 20) /* what they keep in all per connection */
#define PGSQL_OWED_MAX 4096 /* replies awaited per connection */
#define PGSQL_SPLIT_MAX 1024 /* statements of one simple query told apart */
#define PGSQL_FIELDS_MAX 2048 /* columns whose name and format are kept */
#define PGSQL_PARAMS_MAX 256 /* parameters of a Bind rendered */
#define PGSQL_PARAM_TEXT_MAX 1024 /* bytes of one parameter rendered */
#define PGSQL_ERR_TEXT_MAX 2048 /* bytes of an error field kept */
#define PGSQL_CSV_MAX (1u << 20) /* response text kept */

/* Settings besides the common ones. */
struct pgsql_cfg {
	int64_t max_rows; /* rows of a result in the response text */
	int64_t max_row_length; /* bytes of a row's values in it */
};

/* Who is connected (StartupMessage): copied into every request. */
struct pgsql_session {
	char user[PGSQL_NAME_MAX], database[PGSQL_NAME_MAX], app[PGSQL_NAME_MAX];
};

/* A request's decoded part (msg->priv). */
struct pgsql_req {
	struct pgsql_session who;
	char method[32]; /* the statement's first keyword, upper-case */
	char *text; /* the query (a simple Query: all of it) */
	size_t len;
	char *params; /* Execute: the bound values as a JSON array, or NULL */
	size_t params_len;
	/* a simple Query's statements, answered one by one */
	uint32_t *split; /* pairs of offset, length into text */
	uint32_t nsplit, answered;
	uint64_t last_end; /* when the last answered statement's result ended */
};

/* A response's decoded part (msg->priv). */
struct pgsql_resp {
	uint64_t num_rows;
	uint64_t num_fields;
	bool error;
	char *code, *message, *severity; /* ErrorResponse C, M, S */
};

/* What the server owes for a client message, in order. */
enum pgsql_owed_kind {
	OWED_STARTUP, /* ... ReadyForQuery */
	OWED_QUERY, /* statement results ... ReadyForQuery */
	OWED_PARSE, /* ParseComplete */
	OWED_BIND, /* BindComplete */
	OWED_DESCRIBE, /* [ParameterDescription] RowDescription | NoData */
	OWED_EXECUTE, /* rows, CommandComplete | EmptyQueryResponse | PortalSuspended */
	OWED_CLOSE, /* CloseComplete */
	OWED_SYNC, /* ReadyForQuery */
	OWED_CALL, /* FunctionCallResponse, ReadyForQuery */
};

struct pgsql_owed {
	uint8_t kind;
	uint64_t id; /* OWED_QUERY / OWED_EXECUTE: the queued request's id */
};

struct pgsql_stmt; /* pgsql_front.c */

/* The result being read (server side). */
struct pgsql_result {
	bool open;
	uint64_t ts, bytes;
	uint64_t num_rows, num_fields;
	struct json_buf csv; /* response text: header and the first rows */
	uint64_t rows_kept;
	bool error;
	char *code, *message, *severity;
};

/* A RowDescription waiting for the Execute it describes. */
struct pgsql_desc {
	bool valid;
	uint32_t nfields;
	uint8_t *formats; /* PGSQL_FIELDS_MAX: 1 = binary */
	struct json_buf header; /* the CSV header line */
};

/* Per direction framing. */
struct pgsql_dir {
	bool resync; /* after a gap: wait for a plausible header */
	uint64_t start; /* ts of the first byte of a message still incomplete (0: none) */
	uint64_t skip; /* bytes of a long message still to pass over */
	uint64_t lost; /* of the request/response being assembled: lost in gaps, or before a parse error or reset */
};

/* Per connection. */
struct pgsql_conn {
	struct pgsql_dir dir[2];
	bool startup; /* the client's next message may be untyped (startup phase) */
	bool ssl_asked; /* SSLRequest / GSSENCRequest sent, the one-byte answer not yet seen */
	bool encrypted; /* answered S or G: TLS / GSSAPI follows, skipped */
	struct pgsql_session who;
	uint64_t next_id;
	/* client side */
	uint64_t req_bytes, req_ts; /* of the messages leading to the next request */
	struct pgsql_stmt *stmts, *portals;
	size_t nstmts, nportals, table_bytes;
	/* owed replies: a ring */
	struct pgsql_owed *owed;
	size_t owed_head, owed_n, owed_cap;
	/* server side */
	struct pgsql_result res;
	struct pgsql_desc desc;
	uint64_t resp_bytes; /* of the messages since the last result */
	uint64_t resp_ts;
};

/* A message as framed: type, payload (maybe only its head), when it started. */
struct pgsql_frame {
	char type; /* 0: untyped startup packet */
	const uint8_t *p;
	size_t len; /* payload bytes here */
	bool truncated; /* the payload is longer: only its head is here */
	uint64_t wire; /* bytes on the wire, header included */
	uint64_t ts, ts_end;
};

/* pgsql.c */
const struct pgsql_cfg *pgsql_cfg(const struct conn *c);
struct msg *pgsql_req_msg(struct conn *c, struct pgsql_req *pr, uint64_t ts, uint64_t bytes);
void pgsql_req_free(void *priv);

/* pgsql_front.c */
void pgsql_front(struct conn *c, struct pgsql_conn *pc, const struct pgsql_frame *f);
void pgsql_startup(struct conn *c, struct pgsql_conn *pc, const struct pgsql_frame *f);
void pgsql_tables_free(struct pgsql_conn *pc);
bool pgsql_owe(struct conn *c, struct pgsql_conn *pc, enum pgsql_owed_kind kind, uint64_t id);

/* pgsql_back.c */
void pgsql_back(struct conn *c, struct pgsql_conn *pc, const struct pgsql_frame *f);
void pgsql_back_free(struct pgsql_conn *pc);

/* pgsql_sql.c */
/* Statements of a simple query: up to max pairs of (offset, length), trimmed, empty ones left out. */
uint32_t pgsql_split(const char *q, size_t n, uint32_t *out, uint32_t max);
/* The first keyword of a statement, upper-case, into out (cap bytes); its length (0: none). */
size_t pgsql_method(const char *q, size_t n, char *out, size_t cap);
/* q[0..n) without the whitespace around it. */
void pgsql_trim(const char *q, size_t n, size_t *off, size_t *len);

#endif
