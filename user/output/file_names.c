/* Beats 8 file output names: <filename>-<yyyymmdd>[-N].ndjson, oldest removed past number_of_files. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file_names.h"

#define EXT ".ndjson"

static const char *digits(const char *p, size_t max, unsigned *v)
{
	size_t n = 0;

	*v = 0;
	while (n < max && p[n] >= '0' && p[n] <= '9')
		*v = *v * 10 + (unsigned)(p[n++] - '0');
	return n ? p + n : NULL;
}

int file_name_parse(const char *base, const char *entry, struct file_seq *s)
{
	size_t bl = strlen(base);
	const char *p = entry + bl, *q;
	struct file_seq v = { 0 };

	if (strncmp(entry, base, bl) || *p++ != '-' || !(q = digits(p, 8, &v.date)) || q - p != 8)
		return -1;
	if (*q == '-' && (!(q = digits(q + 1, 9, &v.index)) || !v.index))
		return -1;
	if (strcmp(q, EXT))
		return -1;
	*s = v;
	return 0;
}

int file_name_make(char *buf, size_t len, const char *dir, const char *base, const struct file_seq *s)
{
	int n = s->index ? snprintf(buf, len, "%s/%s-%08u-%u" EXT, dir, base, s->date, s->index)
			 : snprintf(buf, len, "%s/%s-%08u" EXT, dir, base, s->date);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int seq_cmp(const void *a, const void *b)
{
	const struct file_seq *x = a, *y = b;

	if (x->date != y->date)
		return x->date < y->date ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Every file of base's set in dir, oldest first (*out malloc'ed). */
static int list_set(const char *dir, const char *base, struct file_seq **out, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct file_seq *v = NULL, s;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		if (file_name_parse(base, e->d_name, &s))
			continue;
		if (*n == cap) {
			struct file_seq *nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));

			if (!nv) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
		}
		v[(*n)++] = s;
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof(*v), seq_cmp);
	*out = v;
	return 0;
}

int file_name_last(const char *dir, const char *base, unsigned date, struct file_seq *last, int *found)
{
	struct file_seq *v;
	size_t n;
	int rc = list_set(dir, base, &v, &n);

	*found = -1;
	for (size_t i = 0; !rc && i < n; i++)
		if (v[i].date == date) {
			*last = v[i];
			*found = 0;
		}
	free(v);
	return rc;
}

int file_names_purge(const char *dir, const char *base, size_t keep)
{
	struct file_seq *v;
	size_t n;
	char path[4096];
	int rc = list_set(dir, base, &v, &n);

	for (size_t i = 0; !rc && n > keep && i < n - keep; i++)
		if (!file_name_make(path, sizeof(path), dir, base, &v[i]) && unlink(path) && errno != ENOENT)
			rc = -errno;
	free(v);
	return rc;
}
