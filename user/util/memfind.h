/* Substring search for short needles in event-sized texts. */
#ifndef XDPBEAT_MEMFIND_H
#define XDPBEAT_MEMFIND_H

#include <stdbool.h>
#include <stddef.h>

/*
 * pat[0, m) occurs in s[0, len). As memmem() != NULL, several times cheaper
 * for the few-byte patterns the processors look for in a 1-2 KiB event
 * (glibc's memmem sets up a two-way search on every call).
 */
bool mem_contains(const char *s, size_t len, const char *pat, size_t m);

#endif
