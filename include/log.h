/*
 * The daemon's messages, as libbeat's logp: levels debug < info < warning <
 * error < critical (logging.level, default info), and debug messages only
 * for the enabled selectors (logging.selectors, -d "sel,..."; "*" = all).
 * Every message is one "xdpbeat: ..." line on stderr, written whole, so
 * the worker threads' lines do not mix. A disabled debug message costs one
 * test: its arguments are not even evaluated.
 */
#ifndef XDPBEAT_LOG_H
#define XDPBEAT_LOG_H

#include <stdbool.h>

enum log_level { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERROR, LOG_LVL_CRIT };

struct strlist;

/*
 * Before the threads start. level: "debug" .. "critical" (NULL: info);
 * selectors from the config, then cli the -d list (NULL: none), which
 * also sets the level to debug, as Beats. At debug level with no selector
 * at all, every selector is on. 0 or -EINVAL (unknown level, nothing changed).
 */
int log_setup(const char *level, const struct strlist *selectors, const char *cli);

/* Would a message at this level be printed? */
bool log_on(enum log_level lv);
/* Would log_debug(sel, ...) print? */
bool log_debug_on(const char *sel);

/* "xdpbeat: " + the message (+ "warning: " for warnings, "debug [sel]: " for debug) + newline. */
void log_msg(enum log_level lv, const char *sel, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* text as it is (no prefix, the caller's newlines), when lv is on. */
void log_text(enum log_level lv, const char *text);

#define log_crit(...) log_msg(LOG_LVL_CRIT, NULL, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LVL_ERROR, NULL, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, NULL, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, NULL, __VA_ARGS__)
#define log_debug(sel, ...)                                       \
	do {                                                      \
		if (log_debug_on(sel))                            \
			log_msg(LOG_LVL_DEBUG, sel, __VA_ARGS__); \
	} while (0)

#endif
