/*
 * Privilege drop and seccomp: the real policy (user/core/seccomp.c) and
 * drop (user/core/privdrop.c) applied in a forked child, which reports
 * through its exit status.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harden.h"

static int in_child(int (*fn)(void))
{
	int st;
	pid_t p = fork();

	cr_assert(p >= 0);
	if (p == 0)
		_exit(fn());
	cr_assert(waitpid(p, &st, 0) == p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* "Key:\tvalue" line of /proc/self/status into buf. */
static int status_field(const char *key, char *buf, size_t len)
{
	char line[256];
	size_t kl = strlen(key);
	FILE *f = fopen("/proc/self/status", "r");
	int rc = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':') {
			snprintf(buf, len, "%s", line + kl + 1 + strspn(line + kl + 1, " \t"));
			buf[strcspn(buf, "\n")] = 0;
			rc = 0;
			break;
		}
	fclose(f);
	return rc;
}

static int exec_refused(void)
{
	struct seccomp_cfg c = { .enabled = true };
	char err[256], *argv[] = { "/bin/true", NULL };

	if (seccomp_install(&c, err, sizeof(err)))
		return 10;
	if (getpid() <= 0 || write(-1, "", 0) != -1 || errno != EBADF) /* allowed calls still work */
		return 11;
	execv("/bin/true", argv);
	return errno == EPERM ? 0 : 12;
}

Test(seccomp, default_policy_refuses_execve)
{
	cr_assert_eq(in_child(exec_refused), 0);
}

static int mode_two(void)
{
	struct seccomp_cfg c = { .enabled = true };
	char err[256], v[64];

	if (seccomp_install(&c, err, sizeof(err)) || status_field("Seccomp", v, sizeof(v)))
		return 10;
	if (strcmp(v, "2") || status_field("NoNewPrivs", v, sizeof(v)) || strcmp(v, "1"))
		return 11;
	return 0;
}

Test(seccomp, status_shows_filter_mode)
{
	cr_assert_eq(in_child(mode_two), 0);
}

static int kill_action(void)
{
	struct seccomp_cfg c = { .enabled = true, .default_action = "kill" };
	char err[256];

	if (seccomp_install(&c, err, sizeof(err)))
		return 10;
	syscall(__NR_personality, 0xffffffffUL);
	return 11; /* not reached */
}

Test(seccomp, kill_action_kills)
{
	cr_assert_eq(in_child(kill_action), 128 + SIGSYS);
}

static int deny_listed(void)
{
	char *names[] = { "getppid" };
	struct seccomp_cfg c = { .enabled = true, .deny = { names, 1 } };
	char err[256];

	if (seccomp_install(&c, err, sizeof(err)))
		return 10;
	errno = 0;
	return syscall(__NR_getppid) == -1 && errno == EPERM ? 0 : 11;
}

Test(seccomp, syscalls_entry_removes_a_call)
{
	cr_assert_eq(in_child(deny_listed), 0);
}

Test(seccomp, bad_settings_are_errors)
{
	char *names[] = { "no_such_call" };
	struct seccomp_cfg bad_name = { .enabled = true, .allow = { names, 1 } };
	struct seccomp_cfg bad_act = { .enabled = true, .default_action = "allow" };
	struct seccomp_cfg off = { .enabled = false };
	char err[256];

	cr_assert_eq(seccomp_install(&bad_name, err, sizeof(err)), -1);
	cr_assert(strstr(err, "no_such_call"), "%s", err);
	cr_assert_eq(seccomp_install(&bad_act, err, sizeof(err)), -1);
	cr_assert_eq(seccomp_install(&off, err, sizeof(err)), 0);
	cr_assert_eq(seccomp_syscall_nr("execve"), __NR_execve);
	cr_assert_eq(seccomp_action_parse("kill_process"), SECCOMP_ACT_KILL);
}

static int dropped(void)
{
	struct run_as_cfg c = { .enabled = true };
	char err[256], v[128];

	if (privdrop_apply(&c, NULL, 0, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 10;
	}
	if (getuid() != 65534 || geteuid() != 65534 || setuid(0) == 0)
		return 11;
	if (status_field("CapEff", v, sizeof(v)) || strcmp(v, "0000000000000000"))
		return 12;
	if (status_field("CapBnd", v, sizeof(v)) || strcmp(v, "0000000000000000"))
		return 13;
	if (status_field("NoNewPrivs", v, sizeof(v)) || strcmp(v, "1"))
		return 14;
	if (open("/etc/shadow", O_RDONLY) >= 0)
		return 15;
	return 0;
}

Test(privdrop, root_becomes_nobody_without_capabilities)
{
	if (geteuid() != 0)
		cr_skip_test("needs root");
	cr_assert_eq(in_child(dropped), 0);
}

static int no_user(void)
{
	struct run_as_cfg c = { .enabled = true, .user = "no-such-user-xb" };
	char err[256];

	return privdrop_apply(&c, NULL, 0, err, sizeof(err)) == -1 && strstr(err, "no-such-user-xb") ? 0 : 1;
}

Test(privdrop, unknown_user_is_an_error)
{
	if (geteuid() != 0)
		cr_skip_test("needs root");
	cr_assert_eq(in_child(no_user), 0);
}

Test(config, run_as_and_seccomp_keys)
{
	static const char y[] = "xdpbeat.run_as: {user: daemon, group: daemon}\n"
				"seccomp:\n  default_action: kill\n  syscalls:\n"
				"    - action: allow\n      names: [execve]\n"
				"    - action: errno\n      names: [getppid]\n";
	struct cfg_err err = { { 0 } };
	struct config *c = config_load_string(y, sizeof(y) - 1, "t.yml", NULL, 0, &err);

	cr_assert(c, "%s", err.msg);
	cr_assert(c->run_as.enabled && c->seccomp.enabled);
	cr_assert_str_eq(c->run_as.user, "daemon");
	cr_assert_str_eq(c->seccomp.default_action, "kill");
	cr_assert(strlist_has(&c->seccomp.allow, "execve", false));
	cr_assert(strlist_has(&c->seccomp.deny, "getppid", false));
	config_free(c);
	c = config_load_string("seccomp.syscalls: [{action: allow, names: [nope]}]\n", 51, "t.yml", NULL, 0, &err);
	cr_assert_null(c);
	cr_assert(strstr(err.msg, "unknown system call"), "%s", err.msg);
}
