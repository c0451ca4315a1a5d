/* Base64 (RFC 4648, padded), user/util/base64.c. */
#ifndef XDPBEAT_BASE64_H
#define XDPBEAT_BASE64_H

#include <stddef.h>

#define base64_len(len) (((len) + 2) / 3 * 4)
/* len bytes into out, which holds base64_len(len) + 1 bytes (NUL added); returns the length. */
size_t base64_encode(const void *in, size_t len, char *out);

#endif
