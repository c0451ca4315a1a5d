/*
 * The keystore: secrets for ${NAME} in the config, a JSON object of strings
 * in <path.data>/xdpbeat.keystore, mode 0600 and owned by the running user
 * (a group- or world-readable keystore is refused). Not obfuscated: the file
 * mode is the protection, as documented in README.
 */
#ifndef XDPBEAT_KEYSTORE_H
#define XDPBEAT_KEYSTORE_H

#include <stdbool.h>
#include <stddef.h>

struct keystore;

/*
 * Open path; a missing file is an empty keystore (*exists false), and so is one we may not read
 * (EACCES: why says so, for a warning). NULL + why on bad mode/owner/content.
 */
struct keystore *keystore_open(const char *path, bool *exists, char *why, size_t len);
void keystore_free(struct keystore *ks);
const char *keystore_get(const struct keystore *ks, const char *key);
int keystore_set(struct keystore *ks, const char *key, const char *value);
int keystore_remove(struct keystore *ks, const char *key); /* -ENOENT if absent */
/* Keys, sorted, one per call of fn. */
void keystore_keys(const struct keystore *ks, void (*fn)(void *ctx, const char *key), void *ctx);
/* Write atomically with mode 0600; 0 or -errno. */
int keystore_save(const struct keystore *ks, const char *path);
/* A resolver lookup for struct cfg_resolver (ctx: the keystore). */
const char *keystore_lookup(void *ctx, const char *name);

#endif
