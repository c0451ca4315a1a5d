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

#include "proto.h"

#define HTTP_HEAD_MAX (64 * 1024) /* request/status line + header fields */
#define HTTP_LINE_MAX (8 * 1024) /* request or status line */
#define HTTP_CHUNK_LINE_MAX 4096 /* chunk-size line with extensions */
#define HTTP_TRAILER_MAX (64 * 1024)
#define HTTP_DEFAULT_MAX_MESSAGE (10 * 1024 * 1024)

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

/* Facts about one message, taken from its header section. */
struct http_head {
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
	char *content_type;
	char *content_encoding;
	char *host;
	char *user_agent;
	char *referer;
	char *real_ip;
	char *user; /* user name of Basic credentials */
	json_t *headers; /* captured header fields (lower-case names) */
	uint8_t *raw; /* header section as sent (redacted), for send_request/response */
	size_t raw_len;
	size_t head_len; /* bytes of the header section on the wire */
};

/*
 * Parse a complete header section data[0..len) (ending with CRLF CRLF).
 * Returns 0 or -EINVAL for a malformed section. want_raw keeps a copy.
 */
int http_head_parse(struct http_head *h, const struct http_cfg *cfg, const uint8_t *data, size_t len,
		    bool want_raw);
void http_head_clear(struct http_head *h);

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

/* Event fields of a finished request / response. */
json_t *http_request_fields(const struct http_head *h, const struct http_body *b, const struct http_cfg *cfg,
			    const struct flow *f, uint64_t wire_bytes);
json_t *http_response_fields(const struct http_head *h, const struct http_body *b, uint64_t wire_bytes);

/* Helpers exported for unit tests. */
bool http_content_type_match(const char *content_type, const struct strlist *list);
const char *http_sniff_mime(const uint8_t *data, size_t len);
/* Query string (and form body) parameters, hidden and re-encoded like Go's url.Values.Encode(). */
char *http_params_encode(const char *query, size_t qlen, const char *form, size_t flen, const struct strlist *hide);

#endif
