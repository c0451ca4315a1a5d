/*
 * Levels and selectors (include/log.h). The settings are written once, by
 * log_setup before the threads start, and only read afterwards.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"

#define SEL_MAX 32
#define SEL_LEN 48

static enum log_level min_level = LOG_LVL_INFO;
static bool all_selectors;
static char selectors[SEL_MAX][SEL_LEN];
static size_t nselectors;

static const char *const level_names[] = { "debug", "info", "warning", "error", "critical" };

static int parse_level(const char *name, enum log_level *lv)
{
	if (!name) {
		*lv = LOG_LVL_INFO;
		return 0;
	}
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (!strcmp(name, level_names[i])) {
			*lv = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* One selector, spaces around it trimmed; longer than any module name: cannot match, dropped. */
static void add_selector(const char *s, size_t len)
{
	while (len && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (!len || len >= SEL_LEN)
		return;
	if (len == 1 && *s == '*')
		all_selectors = true;
	if (nselectors == SEL_MAX)
		return;
	memcpy(selectors[nselectors], s, len);
	selectors[nselectors++][len] = '\0';
}

static void add_list(const char *list)
{
	const char *comma;

	while ((comma = strchr(list, ','))) {
		add_selector(list, (size_t)(comma - list));
		list = comma + 1;
	}
	add_selector(list, strlen(list));
}

int log_setup(const char *level, const struct strlist *sel, const char *cli)
{
	enum log_level lv;

	if (parse_level(level, &lv))
		return -EINVAL;
	all_selectors = false;
	nselectors = 0;
	for (size_t i = 0; sel && i < sel->n; i++)
		add_list(sel->v[i]);
	if (cli) {
		add_list(cli);
		lv = LOG_LVL_DEBUG;
	}
	if (lv == LOG_LVL_DEBUG && !nselectors)
		all_selectors = true;
	min_level = lv;
	return 0;
}

bool log_on(enum log_level lv)
{
	return lv >= min_level;
}

bool log_debug_on(const char *sel)
{
	if (min_level > LOG_LVL_DEBUG)
		return false;
	if (all_selectors)
		return true;
	for (size_t i = 0; i < nselectors; i++)
		if (!strcmp(selectors[i], sel))
			return true;
	return false;
}

/* One fwrite under the stream lock: a line is never split by another thread's. */
static void emit(const char *text, size_t len)
{
	flockfile(stderr);
	fwrite(text, 1, len, stderr);
	fflush(stderr);
	funlockfile(stderr);
}

void log_text(enum log_level lv, const char *text)
{
	if (log_on(lv))
		emit(text, strlen(text));
}

static int prefix(char *buf, size_t cap, enum log_level lv, const char *sel)
{
	if (lv == LOG_LVL_DEBUG)
		return snprintf(buf, cap, "xdpbeat: debug [%s]: ", sel ? sel : "*");
	return snprintf(buf, cap, "xdpbeat: %s", lv == LOG_LVL_WARN ? "warning: " : "");
}

void log_msg(enum log_level lv, const char *sel, const char *fmt, ...)
{
	char line[2048], *text = line;
	int head, n;
	va_list ap;

	if (!log_on(lv) || (lv == LOG_LVL_DEBUG && !log_debug_on(sel ? sel : "*")))
		return;
	head = prefix(line, sizeof(line), lv, sel);
	va_start(ap, fmt);
	n = vsnprintf(line + head, sizeof(line) - (size_t)head, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)head + (size_t)n + 1 >= sizeof(line)) { /* a long one: the whole of it, allocated */
		text = malloc((size_t)head + (size_t)n + 2);
		if (!text) {
			text = line;
			n = (int)(sizeof(line) - (size_t)head - 2);
		} else {
			memcpy(text, line, (size_t)head);
			va_start(ap, fmt);
			vsnprintf(text + head, (size_t)n + 1, fmt, ap);
			va_end(ap);
		}
	}
	text[head + n] = '\n';
	emit(text, (size_t)head + (size_t)n + 1);
	if (text != line)
		free(text);
}
