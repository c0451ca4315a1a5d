/*
 * File output: NDJSON into path/<filename>-<yyyymmdd>.ndjson, rotated by
 * size into -1, -2, ... as Beats 8 (file_names.c), at most number_of_files
 * kept.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "file_names.h"
#include "log.h"
#include "output.h"
#include "util/fs.h"

struct file_cfg {
	char *path;
	char *filename;
	int64_t rotate_every_kb;
	int64_t number_of_files;
	int64_t permissions;
	bool rotate_on_startup;
};

struct file_out {
	const struct file_cfg *cfg;
	struct stats *st;
	char base[256]; /* filename without .ndjson */
	char cur[4096]; /* the file written now */
	FILE *f;
	uint64_t size;
};

static const struct cfg_field file_fields[] = {
	{ .key = "path", .type = CFG_STRING, .offset = offsetof(struct file_cfg, path) },
	{ .key = "filename", .type = CFG_STRING, .offset = offsetof(struct file_cfg, filename) },
	{ .key = "rotate_every_kb",
	  .type = CFG_INT,
	  .offset = offsetof(struct file_cfg, rotate_every_kb),
	  .min = 1,
	  .max = 1 << 30 },
	{ .key = "number_of_files",
	  .type = CFG_INT,
	  .offset = offsetof(struct file_cfg, number_of_files),
	  .min = 2,
	  .max = 1024 },
	{ .key = "permissions",
	  .type = CFG_INT,
	  .offset = offsetof(struct file_cfg, permissions),
	  .min = 0,
	  .max = 0777 },
	{ .key = "rotate_on_startup", .type = CFG_BOOL, .offset = offsetof(struct file_cfg, rotate_on_startup) },
	{ 0 },
};

static void *file_cfg_new(void)
{
	struct file_cfg *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->path = strdup("./data");
	c->filename = strdup("xdpbeat");
	c->rotate_every_kb = 10240;
	c->number_of_files = 7;
	c->permissions = 0600;
	c->rotate_on_startup = true;
	return c;
}

static void file_cfg_free(void *priv)
{
	if (!priv)
		return;
	cfg_fields_free(file_fields, priv);
	free(priv);
}

/* Today as yyyymmdd (local time, as Beats). */
static unsigned today(void)
{
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	return (unsigned)((tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday);
}

/*
 * Open today's newest file of the set to append to, or (next) a new one
 * numbered after it; then remove the oldest past number_of_files.
 */
static int file_reopen(struct file_out *o, bool next)
{
	struct file_seq last, cur = { .date = today() };
	struct stat sb;
	int fd, found, rc;

	if (o->f)
		fclose(o->f);
	o->f = NULL;
	if ((rc = file_name_last(o->cfg->path, o->base, cur.date, &last, &found)) != 0)
		return rc;
	if (!found)
		cur.index = last.index + (next ? 1 : 0);
	if (file_name_make(o->cur, sizeof(o->cur), o->cfg->path, o->base, &cur))
		return -ENAMETOOLONG;
	fd = open(o->cur, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, (mode_t)o->cfg->permissions);
	if (fd < 0)
		return -errno;
	o->f = fdopen(fd, "a");
	if (!o->f) {
		close(fd);
		return -errno;
	}
	/* Batches are flushed as a whole: a large buffer means few write calls. */
	setvbuf(o->f, NULL, _IOFBF, 1 << 20);
	o->size = fstat(fd, &sb) == 0 ? (uint64_t)sb.st_size : 0;
	if ((rc = file_names_purge(o->cfg->path, o->base, (size_t)o->cfg->number_of_files)) != 0)
		log_warn("output.file: removing old files in %s: %s", o->cfg->path, strerror(-rc));
	return 0;
}

static void file_close(void *out)
{
	struct file_out *o = out;

	if (!o)
		return;
	if (o->f)
		fclose(o->f);
	free(o);
}

static void *file_open(const void *priv, const struct config *cfg, struct stats *st)
{
	const struct file_cfg *fc = priv;
	struct file_out *o = calloc(1, sizeof(*o));
	size_t n = strlen(fc->filename);
	int rc;

	if (!o)
		return NULL;
	o->cfg = fc;
	o->st = st;
	if (n >= 7 && !strcmp(fc->filename + n - 7, ".ndjson")) /* the extension is added to every name */
		n -= 7;
	if (!n || n >= sizeof(o->base) || strchr(fc->filename, '/')) {
		log_error("output.file: filename must be a plain file name: \"%s\"", fc->filename);
		errno = EINVAL;
		goto err;
	}
	memcpy(o->base, fc->filename, n);
	rc = mkdir_p(fc->path, 0755);
	if (rc == 0)
		rc = file_reopen(o, fc->rotate_on_startup);
	if (rc) {
		log_error("output.file: cannot open %s/%s: %s", fc->path, o->base, strerror(-rc));
		errno = -rc;
		goto err;
	}
	return o;
err:
	file_close(o);
	return NULL;
}

/* Write one line, rotating first when it would pass the size limit. 0 or -errno. */
static int file_write(struct file_out *o, const struct event *e)
{
	uint64_t limit = (uint64_t)o->cfg->rotate_every_kb * 1024;
	int rc;

	if (!o->f && (rc = file_reopen(o, false)) != 0) /* an earlier reopen failed: try again */
		return rc;
	size_t n = event_line_size(e->line, e->len, e->plain);

	if (o->size > 0 && o->size + n > limit && (rc = file_reopen(o, true)) != 0)
		return rc;
	if ((rc = event_write_line(o->f, e->line, e->len, e->plain, NULL)) != 0)
		return rc;
	o->size += n;
	return 0;
}

/* Events count as acknowledged only once they were flushed to the file. */
static size_t file_publish(void *out, struct event *ev, size_t n, const atomic_bool *stop)
{
	struct file_out *o = out;
	size_t written = 0, failed = 0;

	for (size_t i = 0; i < n; i++) {
		if (!event_line(&ev[i]) || file_write(o, &ev[i]) != 0) {
			failed++;
			continue;
		}
		written++;
	}
	if (o->f && fflush(o->f) != 0) {
		failed += written;
		written = 0;
	}
	if (failed) {
		stats_add(o->st, STAT_OUTPUT_ERRORS, 1);
		stats_add(o->st, STAT_EVENTS_FAILED, failed);
	}
	stats_add(o->st, STAT_EVENTS_ACKED, written);
	return n;
}

const struct output_ops file_output_ops = {
	.name = "file",
	.cfg_fields = file_fields,
	.cfg_new = file_cfg_new,
	.cfg_free = file_cfg_free,
	.open = file_open,
	.publish = file_publish,
	.close = file_close,
};
