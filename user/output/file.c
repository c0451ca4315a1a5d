/*
 * File output: NDJSON into path/filename, rotated by size: the full file
 * becomes filename.1, older ones shift up, at most number_of_files kept.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
	char *base; /* path/filename */
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
	c->filename = strdup("xdpbeat.ndjson");
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

static void rotate(struct file_out *o)
{
	size_t n = strlen(o->base) + 16;
	char *from = malloc(n), *to = malloc(n);

	if (from && to) {
		snprintf(to, n, "%s.%lld", o->base, (long long)o->cfg->number_of_files - 1);
		unlink(to);
		for (int64_t i = o->cfg->number_of_files - 2; i >= 1; i--) {
			snprintf(from, n, "%s.%lld", o->base, (long long)i);
			snprintf(to, n, "%s.%lld", o->base, (long long)i + 1);
			rename(from, to);
		}
		snprintf(to, n, "%s.1", o->base);
		rename(o->base, to);
	}
	free(from);
	free(to);
}

static int file_reopen(struct file_out *o, bool rotate_first)
{
	struct stat sb;
	int fd;

	if (o->f)
		fclose(o->f);
	o->f = NULL;
	if (rotate_first && stat(o->base, &sb) == 0 && sb.st_size > 0)
		rotate(o);
	fd = open(o->base, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, (mode_t)o->cfg->permissions);
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
	return 0;
}

static void file_close(void *out)
{
	struct file_out *o = out;

	if (!o)
		return;
	if (o->f)
		fclose(o->f);
	free(o->base);
	free(o);
}

static void *file_open(const void *priv, const struct config *cfg, struct stats *st)
{
	const struct file_cfg *fc = priv;
	struct file_out *o = calloc(1, sizeof(*o));
	size_t n;
	int rc;

	if (!o)
		return NULL;
	o->cfg = fc;
	o->st = st;
	n = strlen(fc->path) + strlen(fc->filename) + 2;
	o->base = malloc(n);
	if (!o->base)
		goto err;
	snprintf(o->base, n, "%s/%s", fc->path, fc->filename);
	rc = mkdir_p(fc->path, 0755);
	if (rc == 0)
		rc = file_reopen(o, fc->rotate_on_startup);
	if (rc) {
		fprintf(stderr, "xdpbeat: output.file: cannot open %s: %s\n", o->base, strerror(-rc));
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
	size_t n = event_line_size(e->len);

	if (o->size > 0 && o->size + n > limit && (rc = file_reopen(o, true)) != 0)
		return rc;
	if ((rc = event_write_line(o->f, e->line, e->len, NULL)) != 0)
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
