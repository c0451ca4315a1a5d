/*
 * agent.* fields and the Beats meta.json ({"uuid":"...","first_start":"..."})
 * that keeps agent.id across restarts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "event/agent.h"
#include "json_buf.h"
#include "util/fs.h"

int agent_uuid(char *buf)
{
	unsigned char r[16];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -errno;
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	snprintf(buf, AGENT_UUID_LEN + 1, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0],
		 r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
	return 0;
}

static bool is_uuid(const char *s)
{
	for (int i = 0; i < AGENT_UUID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		char c = s[i];

		if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

/* The "uuid" value of a meta.json, or -EINVAL when there is none. */
static int read_meta(const char *path, char *id)
{
	char text[1024];
	const char *p;
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -errno;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = 0;
	p = strstr(text, "\"uuid\"");
	if (!p || !(p = strchr(p + 6, '"')) || strlen(p + 1) < AGENT_UUID_LEN + 1 || !is_uuid(p + 1) ||
	    p[1 + AGENT_UUID_LEN] != '"')
		return -EINVAL;
	memcpy(id, p + 1, AGENT_UUID_LEN);
	id[AGENT_UUID_LEN] = 0;
	return 0;
}

/* Write meta.json through a temp file renamed into place (as Beats). */
static int write_meta(const char *path, const char *id)
{
	char tmp[4200], when[32];
	time_t now = time(NULL);
	struct tm tm;
	int fd, rc = 0, len;
	char text[160];

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	len = snprintf(text, sizeof(text), "{\"uuid\":\"%s\",\"first_start\":\"%s\"}\n", id, when);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, text, (size_t)len) != len || fsync(fd))
		rc = errno ? -errno : -EIO;
	close(fd);
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}

static int keep_id(struct agent_info *a, const char *data_dir, char *err, size_t errlen)
{
	char path[4096];
	int rc;

	snprintf(path, sizeof(path), "%s/meta.json", data_dir);
	rc = read_meta(path, a->id);
	if (!rc)
		return 0;
	if (rc != -ENOENT) {
		snprintf(err, errlen, "%s: %s", path, rc == -EINVAL ? "no valid \"uuid\"" : strerror(-rc));
		return rc;
	}
	if ((rc = mkdir_p(data_dir, 0750)) || (rc = write_meta(path, a->id)))
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
	return rc;
}

int agent_load(struct agent_info *a, const char *data_dir, const char *name, const char *version, char *err,
	       size_t errlen)
{
	struct json_buf b = { 0 };
	int rc;

	memset(a, 0, sizeof(*a));
	if (err && errlen)
		err[0] = 0;
	if (name && *name)
		snprintf(a->name, sizeof(a->name), "%s", name);
	else if (gethostname(a->name, sizeof(a->name) - 1))
		snprintf(a->name, sizeof(a->name), "localhost");
	if ((rc = agent_uuid(a->id)) || (rc = agent_uuid(a->ephemeral_id))) {
		snprintf(err, errlen, "getrandom: %s", strerror(-rc));
		return rc;
	}
	rc = data_dir && *data_dir ? keep_id(a, data_dir, err, errlen) : 0;
	json_buf_lit(&b, ",\"agent\":{\"type\":\"packetbeat\"");
	json_buf_key(&b, "name", 0);
	json_buf_str(&b, a->name, strlen(a->name));
	json_buf_key(&b, "version", 0);
	json_buf_str(&b, version, strlen(version));
	json_buf_key(&b, "id", 0);
	json_buf_str(&b, a->id, strlen(a->id));
	json_buf_key(&b, "ephemeral_id", 0);
	json_buf_str(&b, a->ephemeral_id, strlen(a->ephemeral_id));
	json_buf_lit(&b, "}");
	if (!b.err && b.len < sizeof(a->json)) {
		memcpy(a->json, b.p, b.len);
		a->json_len = b.len;
	}
	json_buf_free(&b);
	return rc;
}
