/*
 * HTTP/1.x parser: internal interface between protos/http.c (stream state
 * machine, options, ops table) and protos/http_fields.c (header section
 * parsing and the event fields of one message).
 */
#ifndef XDPBEAT_HTTP_H
#define XDPBEAT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json_buf.h"
#include "proto.h"

#define HTTP_HEAD_MAX (64 * 1024) /* request/status line + header fields */
#define HTTP_LINE_MAX (8 * 1024) /* request or status line */
#define HTTP_CHUNK_LINE_MAX 4096 /* chunk-size line with extensions */
#define HTTP_TRAILER_MAX (64 * 1024)
#define HTTP_DEFAULT_MAX_MESSAGE (10 * 1024 * 1024)
#define HTTP_NAME_MAX 256 /* header field name, cookie name */

/* Options of `type: http` besides the common ones. */
struct http_cfg {
	struct strlist send_headers;
	bool send_all_headers;
	bool split_cookie;
	char *real_ip_header;
	struct strlist include_body_for;
	struct strlist include_request_body_for;
	struct strlist include_response_body_for;
	uint64_t max_message_size;
	bool redact_authorization;
	struct strlist hide_keywords;
	struct strlist redact_headers;
	bool decode_body; /* inflate gzip/deflate Content-Encoding of published bodies */
};

/* A captured header field, or one cookie of a split Cookie / Set-Cookie header. */
struct http_hdr {
	char *name; /* lower case */
	char *val; /* valid UTF-8 (as json_strn makes it); NULL when split into cookies */
	size_t vlen;
	struct http_hdrs *cookies; /* split_cookie: the value's cookies */
};

/* Captured headers (or cookies): unique names, sorted. */
struct http_hdrs {
	struct http_hdr *v;
	size_t n;
};

/*
 * Facts about one message, taken from its header section. The strings
 * point into text (the section's copy, parsed in place), but for real_ip
 * and user, allocated on their own.
 */
struct http_head {
	uint8_t *text; /* the header section, unfolded, names lower case, NUL after each string kept */
	bool is_request;
	uint8_t major, minor;
	char method[32]; /* request; upper case */
	char *target; /* request-target, as sent */
	int status; /* response */
	char *phrase; /* response reason phrase, lower case */

	bool has_clen;
	uint64_t clen;
	bool chunked;
	bool te_other; /* Transfer-Encoding without chunked last: body until close */
	/* Framing that smuggling attempts use (conflicting lengths, odd codings): a note for error.message */
	const char *note;
	char *content_type;
	char *content_encoding;
	char *host;
	char *user_agent;
	char *referer;
	char *real_ip;
	char *user; /* user name of Basic credentials */
	struct http_hdrs headers; /* captured header fields, repeated ones joined with ", " */
	uint8_t *raw; /* header section as sent (Authorization starred), for send_request/response */
	size_t raw_len;
	size_t head_len; /* bytes of the header section on the wire */
};

/*
 * Parse a complete header section data[0..len) (ending with CRLF CRLF).
 * Returns 0 or -EINVAL for a malformed section. want_raw keeps a copy.
 */
int http_head_parse(struct http_head *h, const struct http_cfg *cfg, const uint8_t *data, size_t len, bool want_raw);
void http_head_clear(struct http_head *h);
/* Whether p[0..n) (no line end) is a request or status line http_head_parse accepts. */
bool http_start_line_ok(const uint8_t *p, size_t n);

/* Body facts of a finished message. */
struct http_body {
	uint64_t bytes; /* body bytes (de-chunked) */
	const uint8_t *data; /* captured body, or NULL */
	size_t len;
	bool send; /* include_body_for matched: publish body.content */
	bool decode; /* decode_body */
	bool lost; /* packet loss inside the body */
	uint64_t max; /* max_message_size: cap of a decoded body */
};

/*
 * A finished message's event members (protos/http_event.c): m->priv keeps
 * what the event needs, taking h's contents, and the generic slots point
 * into it (method, query, destination.domain, network.forwarded_ip); with
 * h->raw, m->raw is the header section followed by the published body
 * (body.content, decoded as it is), or by nothing when the body is not sent.
 */
void http_msg_set(struct msg *m, struct http_head *h, const struct http_body *b, const struct http_cfg *cfg,
		  const struct flow *f);
/* Request m's response was lost (its header section): the unanswered event says so. */
void http_msg_response_lost(struct msg *m);
/* Request method of a message set by http_msg_set ("" if unknown). */
const char *http_msg_method(const struct msg *m);
/* proto_ops.write_fields */
int http_write_fields(struct json_buf *b, const struct proto_cfg *cfg, const struct msg *req, const struct msg *resp);

/* ---- captured headers (protos/http_hdrs.c) ---- */

/* A header field as parsed: lower-case name and raw value, both in the parser's buffer. */
struct http_span {
	const char *name;
	const uint8_t *v;
	size_t vlen;
	size_t ord; /* order of appearance */
};

#define HTTP_SPANS_FIRST 16

/* Spans of one header section (or cookie header): the first ones need no allocation. */
struct http_spans {
	struct http_span *v; /* first, or allocated once more are pushed */
	size_t n, cap;
	struct http_span first[HTTP_SPANS_FIRST];
};

#define HTTP_SPANS_INIT(s) { .v = (s).first, .cap = HTTP_SPANS_FIRST }

int http_spans_push(struct http_spans *s, const char *name, const uint8_t *v, size_t n);
void http_spans_free(struct http_spans *s);
/*
 * l from the spans (sorted in place): one entry per name, values made valid
 * UTF-8, repeated names joined with ", " (last_wins: only the last value).
 */
int http_hdrs_build(struct http_hdrs *l, struct http_spans *s, bool last_wins);
struct http_hdr *http_hdrs_find(const struct http_hdrs *l, const char *name);
/* Replace the value (redaction). */
int http_hdr_set(struct http_hdr *h, const char *val);
/* split_cookie: the value becomes its cookies, "a=1; B=2" -> {"a":"1","b":"2"}. */
int http_hdr_split_cookies(struct http_hdr *h);
/* Members "name":value, a comma before each unless first. */
int http_hdrs_write(struct json_buf *b, const struct http_hdrs *l, bool first);
void http_hdrs_clear(struct http_hdrs *l);

/* Helpers exported for unit tests. */
bool http_content_type_match(const char *content_type, const struct strlist *list);
const char *http_sniff_mime(const uint8_t *data, size_t len);

#endif
