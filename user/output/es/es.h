/*
 * Internals of the Elasticsearch output (user/es_*.c, output_elasticsearch.c):
 * bulk body building, per-item response parsing, index names, backoff, the
 * libcurl client, the index template and the disk spool. Not for other modules.
 */
#ifndef XDPBEAT_ES_H
#define XDPBEAT_ES_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "json_buf.h"

/* ---- index names: "xdpbeat-%{+yyyy.MM.dd}" ---- */

#define ES_INDEX_MAX 256

/* 0 if pattern only uses supported %{+date} tokens, else -EINVAL with why. */
int es_index_check(const char *pattern, char *why, size_t whylen);
/* Format the index for an event at ts_ns (UTC), lowercased. 0 or -EINVAL/-ENAMETOOLONG. */
int es_index_format(const char *pattern, uint64_t ts_ns, char *out, size_t outlen);

/* ---- bulk request bodies ---- */

enum es_op {
	ES_OP_INDEX,
	ES_OP_CREATE,
};

const char *es_op_name(enum es_op op);

/* SipHash-2-4 of data under key; outlen 8 or 16. */
void es_siphash(const uint8_t key[16], const void *data, size_t len, uint8_t *out, size_t outlen);

/* Document id derived from the content (SipHash-2-4-128, fixed key): same line, same id. */
#define ES_ID_LEN 20
void es_doc_id(const char *line, size_t len, char out[ES_ID_LEN + 1]);

/* One action line + document line. id and pipeline may be NULL. */
int es_bulk_append(struct json_buf *b, enum es_op op, const char *index, const char *id, const char *pipeline,
		   const char *line, size_t len);

/* Dead-letter document for a line that was rejected (caller frees). */
char *es_dead_letter_doc(const char *line, size_t len, int status, const char *type, const char *reason,
			 uint64_t now_ns);

/* ---- responses ---- */

enum es_verdict {
	ES_ACK, /* stored */
	ES_DUP, /* already stored (409 on create) */
	ES_RETRY, /* 429/5xx: send again later */
	ES_FAIL, /* rejected for good (mapping error, 400...) */
};

struct es_item {
	int status;
	enum es_verdict verdict;
	char type[64];
	char reason[256];
};

enum es_verdict es_item_verdict(int status, enum es_op op);

/*
 * Parse a _bulk response body for n items sent with op. Fills items[i].
 * -EBADMSG if the body is not a bulk response for exactly n items.
 */
int es_bulk_parse(const char *body, size_t len, enum es_op op, struct es_item *items, size_t n);

/* What to do with a whole request answered with HTTP status (0 = no answer). */
enum es_req_verdict {
	ES_REQ_OK, /* 2xx: read the items */
	ES_REQ_RETRY, /* connection error, 408, 429, 5xx, odd status */
	ES_REQ_AUTH, /* 401/403: retry with backoff, say it clearly */
	ES_REQ_SPLIT, /* 413/other 4xx: split the batch; a single doc fails */
};

enum es_req_verdict es_req_verdict(long status);

/* Error "type: reason" from an Elasticsearch error body, for messages. */
void es_error_summary(const char *body, size_t len, char *out, size_t outlen);

/* ---- backoff: exponential with jitter, in [d/2, d] for d = min(max, init*2^attempt) ---- */

uint64_t es_backoff_ns(uint64_t init, uint64_t max, unsigned attempt, uint64_t rnd);

/* ---- HTTP client (libcurl, one connection per worker) ---- */

enum es_verify {
	ES_VERIFY_FULL,
	ES_VERIFY_CERTIFICATE,
	ES_VERIFY_NONE,
};

struct es_client_cfg {
	const struct strlist *hosts;
	const char *username, *password;
	const char *api_key; /* "id:key" */
	const struct strlist *headers; /* "Name: value" */
	const struct strlist *ca_files; /* PEM files: the only CAs trusted (NULL/empty = system CAs) */
	const char *proxy_url; /* NULL = curl's default (http_proxy/no_proxy env) */
	bool proxy_disable; /* never use a proxy */
	enum es_verify verify;
	uint64_t timeout_ns;
	int compression_level; /* 0 = none */
	int conns;
};

struct es_req {
	/* in */
	const char *method;
	char path[512]; /* "/_bulk" */
	const char *body;
	size_t len;
	const char *ctype;
	bool compress;
	/* out */
	long status; /* 0 = no HTTP answer */
	int err; /* 0 or -errno (ECONNREFUSED, ETIMEDOUT, ECANCELED, EIO) */
	char errmsg[256];
	struct json_buf resp;
	uint64_t latency_us;
	size_t sent_bytes; /* body bytes on the wire */
	const char *host; /* which host answered */
};

struct es_client;

struct es_client *es_client_new(const struct es_client_cfg *cfg, char *err, size_t errlen);
/* Run n (<= conns) requests in parallel; returns when all finished or *stop. */
void es_client_run(struct es_client *c, struct es_req *const *reqs, size_t n, const atomic_bool *stop);
/* Hosts not marked down by a recent connection failure. */
size_t es_client_hosts_up(const struct es_client *c);
/* Normalized base URL of host i ("http://h:9200"). */
const char *es_client_host(const struct es_client *c, size_t i);
void es_client_free(struct es_client *c);
void es_req_reset(struct es_req *r);

/* Gzip data at level (1..9) into out. */
int es_gzip(const void *data, size_t len, int level, struct json_buf *out);

/*
 * The PEM files concatenated into out (each must hold a certificate; at most
 * 16 MiB in all). 0, or -errno with err naming the file and the reason.
 */
int es_ca_bundle(const struct strlist *files, struct json_buf *out, char *err, size_t errlen);
/*
 * The PEM text p (n bytes, from name) holds certificates, each a BEGIN/END
 * CERTIFICATE block whose base64 is one DER SEQUENCE: their count, or
 * -EINVAL with why.
 */
int es_pem_certs_check(const char *name, const char *p, size_t n, char *why, size_t whylen);

/* ---- index template ---- */

struct es_template_cfg {
	bool enabled;
	char *name;
	char *pattern;
	bool overwrite;
	char *path; /* JSON file; NULL = built in config/xdpbeat.template.json */
	bool data_stream; /* a data stream template ("data_stream": {}): writes are create only */
};

extern const struct cfg_field es_template_fields[];
/* The template body to PUT (index_patterns set to pattern). NULL + err. */
char *es_template_body(const struct es_template_cfg *t, char *err, size_t errlen);
/*
 * Install the template unless it exists and !overwrite. 0 when done,
 * -EAGAIN (retry later; err says why), -EINVAL (won't work; err says why).
 * With t->data_stream, an existing template without "data_stream" is kept
 * (not overwritten) but reported: 0 with a warning in err.
 */
int es_template_ensure(struct es_client *c, const struct es_template_cfg *t, const char *body, const atomic_bool *stop,
		       char *err, size_t errlen);

/* ---- disk spool: append-only NDJSON segments + ack offset ---- */

struct es_spool;

struct es_spool_doc {
	const char *line;
	size_t len;
	uint64_t ts;
};

struct es_spool_batch {
	struct es_spool_doc *docs;
	uint64_t *ends; /* offset in seg after doc i */
	size_t n, cap;
	uint32_t seg;
	uint64_t start; /* offset in seg of the first doc */
	struct json_buf data;
};

struct es_spool *es_spool_open(const char *dir, uint64_t max_size, char *err, size_t errlen);
/* Append one event line; -ENOSPC when max_size would be exceeded. */
int es_spool_append(struct es_spool *s, const char *line, size_t len, uint64_t ts);
/* Make appended events durable (fdatasync) and wake the reader. */
int es_spool_commit(struct es_spool *s);
/* Wait up to wait_ns for space of len bytes; true if there is. */
bool es_spool_wait_space(struct es_spool *s, size_t len, uint64_t wait_ns);
/* Next unread events (at most max), waiting up to wait_ns for some. 0 = none yet. */
int es_spool_read(struct es_spool *s, struct es_spool_batch *b, size_t max, uint64_t wait_ns);
/* The first k docs of b are handled: move the ack offset past them. */
int es_spool_ack(struct es_spool *s, const struct es_spool_batch *b, size_t k);
/* Events appended and not acked yet. */
uint64_t es_spool_pending(struct es_spool *s);
void es_spool_batch_free(struct es_spool_batch *b);
void es_spool_close(struct es_spool *s);

#endif
