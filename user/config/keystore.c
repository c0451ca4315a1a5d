/* The keystore file, include/keystore.h. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keystore.h"

#define KEYSTORE_MAX_BYTES (1u << 20)

struct keystore {
	json_t *obj;
};

static bool valid_key(const char *k)
{
	if (!*k || strlen(k) > 255)
		return false;
	for (const char *p = k; *p; p++)
		if (*p == '}' || *p == ':' || *p == '{' || *p == '$' || (unsigned char)*p < 0x21)
			return false;
	return true;
}

static struct keystore *ks_new(json_t *obj)
{
	struct keystore *ks = calloc(1, sizeof(*ks));

	if (!ks) {
		json_decref(obj);
		return NULL;
	}
	ks->obj = obj;
	return ks;
}

struct keystore *keystore_open(const char *path, bool *exists, char *why, size_t len)
{
	struct stat st;
	json_error_t jerr;
	json_t *obj, *v;
	const char *k;
	int fd;

	*exists = false;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT)
		return ks_new(json_object());
	if (fd < 0 && errno == EACCES) { /* e.g. a user that may not enter path.data: no keystore, said in why */
		snprintf(why, len, "%s: %s, not used", path, strerror(errno));
		return ks_new(json_object());
	}
	if (fd < 0) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return NULL;
	}
	*exists = true;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > KEYSTORE_MAX_BYTES) {
		snprintf(why, len, "%s: not a regular file of at most %u bytes", path, KEYSTORE_MAX_BYTES);
		close(fd);
		return NULL;
	}
	if (st.st_mode & 077) {
		snprintf(why, len, "%s: mode %03o lets group or others read it, expected 0600 (chmod 600 %s)", path,
			 (unsigned)(st.st_mode & 0777), path);
		close(fd);
		return NULL;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		snprintf(why, len, "%s: owned by uid %u, expected the running user (%u) or root", path,
			 (unsigned)st.st_uid, (unsigned)geteuid());
		close(fd);
		return NULL;
	}
	obj = json_loadfd(fd, JSON_REJECT_DUPLICATES, &jerr);
	close(fd);
	if (!obj || !json_is_object(obj)) {
		snprintf(why, len, "%s: not a keystore (%s)", path, obj ? "not a JSON object" : jerr.text);
		json_decref(obj);
		return NULL;
	}
	json_object_foreach(obj, k, v) {
		if (!json_is_string(v) || !valid_key(k)) {
			snprintf(why, len, "%s: key \"%s\" is not a valid name with a string value", path, k);
			json_decref(obj);
			return NULL;
		}
	}
	return ks_new(obj);
}

void keystore_free(struct keystore *ks)
{
	if (!ks)
		return;
	json_decref(ks->obj);
	free(ks);
}

const char *keystore_get(const struct keystore *ks, const char *key)
{
	return ks ? json_string_value(json_object_get(ks->obj, key)) : NULL;
}

const char *keystore_lookup(void *ctx, const char *name)
{
	return keystore_get(ctx, name);
}

int keystore_set(struct keystore *ks, const char *key, const char *value)
{
	if (!valid_key(key))
		return -EINVAL;
	return json_object_set_new(ks->obj, key, json_string(value)) ? -ENOMEM : 0;
}

int keystore_remove(struct keystore *ks, const char *key)
{
	return json_object_del(ks->obj, key) ? -ENOENT : 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void keystore_keys(const struct keystore *ks, void (*fn)(void *ctx, const char *key), void *ctx)
{
	size_t n = json_object_size(ks->obj), i = 0;
	const char **keys = calloc(n ? n : 1, sizeof(*keys));
	const char *k;
	json_t *v;

	if (!keys)
		return;
	json_object_foreach(ks->obj, k, v) {
		keys[i++] = k;
	}
	qsort(keys, n, sizeof(*keys), cmp_str);
	for (i = 0; i < n; i++)
		fn(ctx, keys[i]);
	free(keys);
}

int keystore_save(const struct keystore *ks, const char *path)
{
	char tmp[4096];
	int fd, rc = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (json_dumpfd(ks->obj, fd, JSON_SORT_KEYS | JSON_INDENT(2)) || fsync(fd))
		rc = -EIO;
	if (close(fd) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}
