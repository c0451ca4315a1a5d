/* URL helpers of the HTTP parser (protos/http_url.c). */
#ifndef XDPBEAT_HTTP_URL_H
#define XDPBEAT_HTTP_URL_H

#include <stdbool.h>
#include <stddef.h>

struct sbuf {
	char *p;
	size_t len, cap;
	bool err;
};

struct strlist;

/* Room for n more bytes (and the NUL): 0, or -ENOMEM (sticky, as for every append). */
int sb_reserve(struct sbuf *b, size_t n);
int sb_add(struct sbuf *b, const void *data, size_t n);
int sb_addc(struct sbuf *b, char c);
char *sb_take(struct sbuf *b);

char *http_unescape(const char *s, size_t n, bool plus_space, size_t *outlen);
/* The same, appended to b: -EINVAL (b unchanged) for a bad escape. */
int http_unescape_to(struct sbuf *b, const char *s, size_t n, bool plus_space);
/* Query string (and form body) parameters, hidden and re-encoded like Go's url.Values.Encode(), appended to b. */
void http_params_to(struct sbuf *b, const char *query, size_t qlen, const char *form, size_t flen,
		    const struct strlist *hide);
void http_split_target(const char *t, const char **path, size_t *plen, const char **query, size_t *qlen);
bool http_is_ip(const char *s);
/* Host header -> host appended to b, and port (0 when absent). */
int http_host_to(struct sbuf *b, const char *hdr, int *port);
char *http_full_url(const char *domain, int port, const char *path, size_t plen, const char *query);

#endif
