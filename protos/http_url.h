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

int sb_add(struct sbuf *b, const void *data, size_t n);
int sb_addc(struct sbuf *b, char c);
char *sb_take(struct sbuf *b);

char *http_unescape(const char *s, size_t n, bool plus_space, size_t *outlen);
void http_split_target(const char *t, const char **path, size_t *plen, const char **query, size_t *qlen);
bool http_is_ip(const char *s);
char *http_split_host(const char *hdr, int *port);
char *http_full_url(const char *domain, int port, const char *path, size_t plen, const char *query);

#endif
