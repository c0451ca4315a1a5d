/*
 * include/log.h: levels, selectors from the config and -d, "*", and the
 * line format; stderr is pointed at a temporary file and read back.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

static FILE *captured;
static int saved_fd = -1;

static void capture_start(void)
{
	fflush(stderr);
	captured = tmpfile();
	cr_assert(captured);
	saved_fd = dup(STDERR_FILENO);
	cr_assert(dup2(fileno(captured), STDERR_FILENO) == STDERR_FILENO);
}

/* What was written since capture_start (static buffer). */
static const char *captured_text(void)
{
	static char buf[8192];
	size_t n;

	fflush(stderr);
	rewind(captured);
	n = fread(buf, 1, sizeof(buf) - 1, captured);
	buf[n] = '\0';
	return buf;
}

static void capture_stop(void)
{
	fflush(stderr);
	dup2(saved_fd, STDERR_FILENO);
	close(saved_fd);
	fclose(captured);
	log_setup(NULL, NULL, NULL);
}

TestSuite(log, .init = capture_start, .fini = capture_stop);

static void say_all(void)
{
	log_debug("tcp", "d tcp %d", 1);
	log_debug("http", "d http");
	log_info("i %s", "x");
	log_warn("w");
	log_error("e");
	log_crit("c");
}

Test(log, default_is_info_without_debug)
{
	cr_assert_eq(log_setup(NULL, NULL, NULL), 0);
	say_all();
	cr_assert_str_eq(captured_text(), "xdpbeat: i x\nxdpbeat: warning: w\nxdpbeat: e\nxdpbeat: c\n");
	cr_assert(log_on(LOG_LVL_INFO));
	cr_assert_not(log_on(LOG_LVL_DEBUG));
}

Test(log, warning_hides_info)
{
	cr_assert_eq(log_setup("warning", NULL, NULL), 0);
	say_all();
	cr_assert_str_eq(captured_text(), "xdpbeat: warning: w\nxdpbeat: e\nxdpbeat: c\n");
}

Test(log, critical_only)
{
	cr_assert_eq(log_setup("critical", NULL, NULL), 0);
	say_all();
	cr_assert_str_eq(captured_text(), "xdpbeat: c\n");
}

Test(log, unknown_level_refused_and_nothing_changed)
{
	cr_assert_eq(log_setup("error", NULL, NULL), 0);
	cr_assert_eq(log_setup("verbose", NULL, NULL), -EINVAL);
	cr_assert_not(log_on(LOG_LVL_WARN));
}

Test(log, debug_level_without_selectors_shows_all)
{
	cr_assert_eq(log_setup("debug", NULL, NULL), 0);
	say_all();
	cr_assert(strstr(captured_text(),
			 "xdpbeat: debug [tcp]: d tcp 1\nxdpbeat: debug [http]: d http\nxdpbeat: i x\n"));
}

Test(log, config_selectors_pick_the_debug_lines)
{
	char *v[] = { "config", " tcp " };
	struct strlist sel = { .v = v, .n = 2 };

	cr_assert_eq(log_setup("debug", &sel, NULL), 0);
	say_all();
	cr_assert(strstr(captured_text(), "xdpbeat: debug [tcp]: d tcp 1\nxdpbeat: i x\n"));
	cr_assert_null(strstr(captured_text(), "[http]"));
	cr_assert(log_debug_on("config"));
	cr_assert_not(log_debug_on("conf"));
}

Test(log, selectors_without_debug_level_show_nothing)
{
	char *v[] = { "*" };
	struct strlist sel = { .v = v, .n = 1 };

	cr_assert_eq(log_setup("info", &sel, NULL), 0);
	cr_assert_not(log_debug_on("tcp"));
	cr_assert_not(log_debug_on("bpf"));
}

Test(log, star_selects_everything)
{
	char *v[] = { "http,*" };
	struct strlist sel = { .v = v, .n = 1 };

	cr_assert_eq(log_setup("debug", &sel, NULL), 0);
	cr_assert(log_debug_on("bpf"));
	cr_assert(log_debug_on("anything"));
}

Test(log, cli_selectors_add_to_the_config_and_set_debug)
{
	char *v[] = { "http" };
	struct strlist sel = { .v = v, .n = 1 };

	cr_assert_eq(log_setup("error", &sel, "tcp,bpf"), 0);
	cr_assert(log_on(LOG_LVL_INFO));
	cr_assert(log_debug_on("http"));
	cr_assert(log_debug_on("tcp"));
	cr_assert(log_debug_on("bpf"));
	cr_assert_not(log_debug_on("publisher"));
}

Test(log, cli_star)
{
	cr_assert_eq(log_setup(NULL, NULL, "*"), 0);
	cr_assert(log_debug_on("elasticsearch"));
}

static int side_effects;

static int bump(void)
{
	return ++side_effects;
}

Test(log, disabled_debug_does_not_evaluate_its_arguments)
{
	cr_assert_eq(log_setup("debug", NULL, "tcp"), 0);
	log_debug("http", "%d", bump());
	cr_assert_eq(side_effects, 0);
	log_debug("tcp", "%d", bump());
	cr_assert_eq(side_effects, 1);
}

Test(log, long_message_whole)
{
	char big[5000];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_error("%s|", big);
	const char *t = captured_text();

	cr_assert_eq(strlen(t), strlen("xdpbeat: ") + sizeof(big) - 1 + 2);
	cr_assert_str_eq(t + strlen(t) - 2, "|\n");
}

Test(log, text_is_written_as_is_at_its_level)
{
	cr_assert_eq(log_setup("warning", NULL, NULL), 0);
	log_text(LOG_LVL_INFO, "xdpbeat stats (final): x=1\n");
	log_text(LOG_LVL_ERROR, "raw\n");
	cr_assert_str_eq(captured_text(), "raw\n");
}
