/*
 * Disk spool of the Elasticsearch output (queue.disk.path): events are
 * appended to NDJSON segment files "seg-NNNNNNNN.ndjson" as "<ts_ns> <json>\n"
 * lines and made durable before the publisher lets go of them; one sender
 * reads them back in order, and the position after the last acknowledged
 * event is kept in the file "ack" ("<seg> <offset>\n", replaced by rename).
 * On open, events after the ack position are replayed first; a torn last
 * line (crash mid-write) is cut off. Fully acknowledged segments are deleted.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "es.h"
#include "util/fs.h"

#define SEG_MAX_BYTES (32ULL * 1024 * 1024)
#define READ_CHUNK (4UL * 1024 * 1024)
#define LINE_MAX_BYTES (64UL * 1024 * 1024)

struct es_spool {
	char *dir;
	uint64_t max_size;
	pthread_mutex_t mu;
	pthread_cond_t readable, space;
	/* writer */
	uint32_t wseg;
	int wfd;
	uint64_t wsize; /* bytes in the write segment */
	uint64_t total; /* bytes in all live segments */
	uint64_t appended; /* events appended, not acked */
	/* reader */
	uint32_t rseg;
	uint64_t roff;
	/* ack */
	uint32_t aseg;
	uint64_t aoff;
	uint32_t first_seg; /* oldest live segment */
};

static void seg_path(const struct es_spool *s, uint32_t seg, char *out, size_t len)
{
	snprintf(out, len, "%s/seg-%08" PRIu32 ".ndjson", s->dir, seg);
}

static uint64_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : (uint64_t)st.st_size;
}

/* Lowest and highest segment numbers present; false if none. */
static bool scan_segments(const char *dir, uint32_t *lo, uint32_t *hi)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool any = false;

	if (!d)
		return false;
	while ((de = readdir(d))) {
		unsigned int n;
		char tail[16];

		if (sscanf(de->d_name, "seg-%8u.%15s", &n, tail) != 2 || strcmp(tail, "ndjson"))
			continue;
		if (!any || n < *lo)
			*lo = n;
		if (!any || n > *hi)
			*hi = n;
		any = true;
	}
	closedir(d);
	return any;
}

static void read_ack(struct es_spool *s)
{
	char path[4200];
	FILE *f;
	unsigned int seg;
	uint64_t off;

	snprintf(path, sizeof(path), "%s/ack", s->dir);
	f = fopen(path, "r");
	if (!f)
		return;
	if (fscanf(f, "%u %" SCNu64, &seg, &off) == 2) {
		s->aseg = seg;
		s->aoff = off;
	}
	fclose(f);
}

static int write_ack(struct es_spool *s)
{
	char path[4200], tmp[4300], line[64];
	int fd, n;

	snprintf(path, sizeof(path), "%s/ack", s->dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	n = snprintf(line, sizeof(line), "%" PRIu32 " %" PRIu64 "\n", s->aseg, s->aoff);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, line, (size_t)n) != n) {
		close(fd);
		return -EIO;
	}
	close(fd);
	return rename(tmp, path) ? -errno : 0;
}

/* Cut a torn last line (no newline) from the segment. */
static int trim_torn_tail(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	uint64_t size, keep = 0;
	char buf[4096];

	if (fd < 0)
		return -errno;
	size = file_size(path);
	for (uint64_t end = size; end > 0 && !keep;) {
		size_t n = end > sizeof(buf) ? sizeof(buf) : (size_t)end;
		ssize_t r = pread(fd, buf, n, (off_t)(end - n));

		if (r != (ssize_t)n)
			break;
		for (size_t i = n; i > 0; i--) {
			if (buf[i - 1] == '\n') {
				keep = end - n + i;
				break;
			}
		}
		end -= n;
	}
	if (keep != size && ftruncate(fd, (off_t)keep)) {
		close(fd);
		return -errno;
	}
	close(fd);
	return 0;
}

/* Number of lines in path from offset on. */
static uint64_t count_lines(const char *path, uint64_t from)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char buf[65536];
	uint64_t n = 0;
	off_t off = (off_t)from;
	ssize_t r;

	if (fd < 0)
		return 0;
	while ((r = pread(fd, buf, sizeof(buf), off)) > 0) {
		for (ssize_t i = 0; i < r; i++)
			n += buf[i] == '\n';
		off += r;
	}
	close(fd);
	return n;
}

static int open_write_seg(struct es_spool *s, uint32_t seg)
{
	char path[4200];

	if (s->wfd >= 0)
		close(s->wfd);
	seg_path(s, seg, path, sizeof(path));
	s->wfd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (s->wfd < 0)
		return -errno;
	s->wseg = seg;
	s->wsize = file_size(path);
	return 0;
}

static int recover(struct es_spool *s)
{
	uint32_t lo = 0, hi = 0;
	char path[4200];

	read_ack(s);
	if (!scan_segments(s->dir, &lo, &hi)) {
		lo = hi = s->aseg;
		s->aoff = 0;
	}
	if (s->aseg < lo || s->aseg > hi) { /* ack file lost or stale: replay all */
		s->aseg = lo;
		s->aoff = 0;
	}
	for (uint32_t g = lo; g < s->aseg; g++) { /* acked segments left by a crash */
		seg_path(s, g, path, sizeof(path));
		unlink(path);
	}
	seg_path(s, hi, path, sizeof(path));
	if (file_size(path))
		trim_torn_tail(path);
	s->first_seg = s->aseg;
	s->rseg = s->aseg;
	s->roff = s->aoff;
	for (uint32_t g = s->aseg; g <= hi; g++) {
		seg_path(s, g, path, sizeof(path));
		s->total += file_size(path);
		s->appended += count_lines(path, g == s->aseg ? s->aoff : 0);
	}
	return open_write_seg(s, hi);
}

struct es_spool *es_spool_open(const char *dir, uint64_t max_size, char *err, size_t errlen)
{
	struct es_spool *s = calloc(1, sizeof(*s));
	int rc;

	if (!s || !(s->dir = strdup(dir))) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->max_size = max_size;
	s->wfd = -1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->readable, NULL);
	pthread_cond_init(&s->space, NULL);
	rc = mkdir_p(dir, 0700);
	if (!rc)
		rc = recover(s);
	if (rc) {
		snprintf(err, errlen, "queue.disk.path %s: %s", dir, strerror(-rc));
		es_spool_close(s);
		errno = -rc;
		return NULL;
	}
	return s;
}

static uint64_t seg_limit(const struct es_spool *s)
{
	uint64_t lim = s->max_size ? s->max_size / 4 : SEG_MAX_BYTES;

	if (lim > SEG_MAX_BYTES)
		lim = SEG_MAX_BYTES;
	return lim < 65536 ? 65536 : lim;
}

static bool fits(const struct es_spool *s, size_t len)
{
	uint64_t used = s->total - (s->aoff <= s->total ? s->aoff : s->total);

	/* an empty spool always takes one event, however large */
	return !s->max_size || used + len <= s->max_size || s->appended == 0;
}

int es_spool_append(struct es_spool *s, const char *line, size_t len, uint64_t ts)
{
	char head[32];
	int hl = snprintf(head, sizeof(head), "%" PRIu64 " ", ts);
	size_t need = (size_t)hl + len + 1;
	int rc = 0;

	if (memchr(line, '\n', len))
		return -EINVAL; /* compact JSON never has one */
	pthread_mutex_lock(&s->mu);
	if (!fits(s, need)) {
		rc = -ENOSPC;
		goto out;
	}
	if (s->wsize >= seg_limit(s) && (rc = open_write_seg(s, s->wseg + 1)))
		goto out;
	{
		char *buf = malloc(need);
		ssize_t w;

		if (!buf) {
			rc = -ENOMEM;
			goto out;
		}
		memcpy(buf, head, (size_t)hl);
		memcpy(buf + hl, line, len);
		buf[need - 1] = '\n';
		w = write(s->wfd, buf, need);
		free(buf);
		if (w != (ssize_t)need) {
			/* cut what was written so the next line starts clean */
			if (w > 0 && ftruncate(s->wfd, (off_t)s->wsize) == 0)
				w = 0;
			rc = w < 0 ? -errno : -EIO;
			goto out;
		}
	}
	s->wsize += need;
	s->total += need;
	s->appended++;
out:
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int es_spool_commit(struct es_spool *s)
{
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	if (s->wfd >= 0 && fdatasync(s->wfd))
		rc = -errno;
	pthread_cond_broadcast(&s->readable);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static void deadline_in(struct timespec *ts, uint64_t ns)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ns += (uint64_t)ts->tv_nsec;
	ts->tv_sec += (time_t)(ns / 1000000000ULL);
	ts->tv_nsec = (long)(ns % 1000000000ULL);
}

bool es_spool_wait_space(struct es_spool *s, size_t len, uint64_t wait_ns)
{
	struct timespec ts;
	bool ok;

	deadline_in(&ts, wait_ns);
	pthread_mutex_lock(&s->mu);
	while (!(ok = fits(s, len + 22)))
		if (pthread_cond_timedwait(&s->space, &s->mu, &ts) == ETIMEDOUT)
			break;
	ok = fits(s, len + 22);
	pthread_mutex_unlock(&s->mu);
	return ok;
}

static int batch_push(struct es_spool_batch *b, size_t off, size_t len, uint64_t ts, uint64_t end)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		struct es_spool_doc *d = realloc(b->docs, cap * sizeof(*d));
		uint64_t *e;

		if (!d)
			return -ENOMEM;
		b->docs = d;
		e = realloc(b->ends, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		b->ends = e;
		b->cap = cap;
	}
	b->docs[b->n].line = (const char *)(uintptr_t)off; /* fixed up once data stops moving */
	b->docs[b->n].len = len;
	b->docs[b->n].ts = ts;
	b->ends[b->n++] = end;
	return 0;
}

/* Parse "<ts> <json>" lines of b->data; returns bytes consumed, damaged lines in *skipped. */
static size_t parse_lines(struct es_spool_batch *b, uint64_t base, size_t max, size_t *skipped)
{
	size_t pos = 0;

	*skipped = 0;
	while (b->n < max && pos < b->data.len) {
		char *nl = memchr(b->data.p + pos, '\n', b->data.len - pos);
		char *sp, *end;
		uint64_t ts;

		if (!nl)
			break;
		ts = strtoull(b->data.p + pos, &end, 10);
		sp = end;
		if (sp < nl && *sp == ' ' && sp + 1 < nl) {
			size_t off = (size_t)(sp + 1 - b->data.p);

			if (batch_push(b, off, (size_t)(nl - sp - 1), ts, base + (size_t)(nl - b->data.p) + 1))
				break;
		} else {
			(*skipped)++; /* a damaged line: never sent, acked with the next one */
		}
		pos = (size_t)(nl - b->data.p) + 1;
	}
	return pos;
}

/* Read from (seg, off) into b; 0 docs if the segment has nothing complete there. */
static int read_segment(struct es_spool *s, uint32_t seg, uint64_t off, struct es_spool_batch *b, size_t max,
			size_t *consumed, size_t *skipped)
{
	char path[4200];
	size_t want = READ_CHUNK;
	int fd;

	seg_path(s, seg, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t r;

		b->data.len = 0;
		b->n = 0;
		if (json_buf_reserve(&b->data, want)) {
			close(fd);
			return -ENOMEM;
		}
		r = pread(fd, b->data.p, want, (off_t)off);
		if (r < 0) {
			close(fd);
			return -errno;
		}
		b->data.len = (size_t)r;
		*consumed = parse_lines(b, off, max, skipped);
		/* a line longer than the chunk: read more at once */
		if (b->n || (size_t)r < want || want >= LINE_MAX_BYTES)
			break;
		want *= 2;
	}
	close(fd);
	for (size_t i = 0; i < b->n; i++)
		b->docs[i].line = b->data.p + (uintptr_t)b->docs[i].line;
	b->seg = seg;
	b->start = off;
	return 0;
}

int es_spool_read(struct es_spool *s, struct es_spool_batch *b, size_t max, uint64_t wait_ns)
{
	size_t consumed = 0, skipped = 0;
	struct timespec ts;
	uint32_t seg;
	uint64_t off;
	int rc;

	b->n = 0;
	deadline_in(&ts, wait_ns);
	pthread_mutex_lock(&s->mu);
	for (;;) {
		/* move past finished segments */
		while (s->rseg < s->wseg) {
			char path[4200];

			seg_path(s, s->rseg, path, sizeof(path));
			if (s->roff < file_size(path))
				break;
			s->rseg++;
			s->roff = 0;
		}
		if (s->rseg < s->wseg || s->roff < s->wsize)
			break;
		if (pthread_cond_timedwait(&s->readable, &s->mu, &ts) == ETIMEDOUT) {
			pthread_mutex_unlock(&s->mu);
			return 0;
		}
	}
	seg = s->rseg;
	off = s->roff;
	pthread_mutex_unlock(&s->mu);
	rc = read_segment(s, seg, off, b, max, &consumed, &skipped);
	if (rc)
		return rc;
	pthread_mutex_lock(&s->mu);
	s->appended -= skipped <= s->appended ? skipped : s->appended;
	if (b->n) {
		s->roff = b->ends[b->n - 1];
	} else if (consumed) {
		s->roff = off + consumed; /* only damaged lines: step over them */
	} else {
		/* nothing whole after off: skip damaged bytes of an older segment */
		if (seg < s->wseg) {
			s->rseg = seg + 1;
			s->roff = 0;
		}
	}
	pthread_mutex_unlock(&s->mu);
	return (int)b->n;
}

static void drop_acked_segments(struct es_spool *s)
{
	char path[4200];

	while (s->first_seg < s->aseg) {
		seg_path(s, s->first_seg, path, sizeof(path));
		s->total -= file_size(path) <= s->total ? file_size(path) : s->total;
		unlink(path);
		s->first_seg++;
	}
}

int es_spool_ack(struct es_spool *s, const struct es_spool_batch *b, size_t k)
{
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	if (k > b->n)
		k = b->n;
	if (k) {
		s->aseg = b->seg;
		s->aoff = b->ends[k - 1];
		s->appended -= k <= s->appended ? k : s->appended;
		/* a fully read older segment is acked as a whole */
		if (s->aseg < s->wseg) {
			char path[4200];

			seg_path(s, s->aseg, path, sizeof(path));
			if (s->aoff >= file_size(path)) {
				s->aseg++;
				s->aoff = 0;
			}
		}
		drop_acked_segments(s);
		rc = write_ack(s);
		pthread_cond_broadcast(&s->space);
	}
	if (k < b->n) { /* the rest is read again */
		s->rseg = b->seg;
		s->roff = k ? b->ends[k - 1] : b->start;
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

uint64_t es_spool_pending(struct es_spool *s)
{
	uint64_t n;

	pthread_mutex_lock(&s->mu);
	n = s->appended;
	pthread_mutex_unlock(&s->mu);
	return n;
}

void es_spool_batch_free(struct es_spool_batch *b)
{
	free(b->docs);
	free(b->ends);
	json_buf_free(&b->data);
	memset(b, 0, sizeof(*b));
}

void es_spool_close(struct es_spool *s)
{
	if (!s)
		return;
	if (s->wfd >= 0)
		close(s->wfd);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->readable);
	pthread_cond_destroy(&s->space);
	free(s->dir);
	free(s);
}
