/*
 * seccomp-bpf allowlist installed after start-up, shaped like Beats'
 * seccomp settings: seccomp.enabled, seccomp.default_action and
 * seccomp.syscalls ({action, names} entries changing the default policy).
 * The filter is written by hand (no libseccomp): it checks the audit
 * architecture first (another ABI is killed), then compares the syscall
 * number with each allowed one; anything else gets the default action.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "harden.h"

#if defined(__x86_64__)
#define XB_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define XB_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

struct sc_name {
	const char *name;
	long nr;
	bool dflt; /* in the default policy */
};

/* LeakSanitizer stops the threads with ptrace at exit: allowed in SAN=1 builds only. */
#if defined(__SANITIZE_ADDRESS__)
#define IN_SAN true
#else
#define IN_SAN false
#endif

/* clang-format off */
#define ON(n) { #n, __NR_##n, true }
#define OFF(n) { #n, __NR_##n, false }
/* clang-format on */

/*
 * What the daemon does after start-up: ring buffer epoll and map updates
 * (bpf on open fds), threads (outputs, ES client), curl and TLS (sockets,
 * DNS, poll, getrandom), file output and spool (open, write, rename,
 * fsync), timers, signals, and what ASan/UBSan builds need at exit.
 */
static const struct sc_name table[] = {
	ON(read),
	ON(write),
	ON(readv),
	ON(writev),
	ON(pread64),
	ON(pwrite64),
	ON(close),
	ON(lseek),
	ON(openat),
	ON(newfstatat),
	ON(fstat),
	ON(statx),
	ON(fstatfs),
	ON(fcntl),
	ON(ioctl),
	ON(dup),
	ON(dup3),
	ON(pipe2),
	ON(getdents64),
	ON(readlinkat),
	ON(faccessat),
	ON(faccessat2),
	ON(renameat),
	ON(renameat2),
	ON(unlinkat),
	ON(mkdirat),
	ON(fsync),
	ON(fdatasync),
	ON(ftruncate),
	ON(fchmod),
	ON(fadvise64),
	ON(flock),
	ON(mmap),
	ON(munmap),
	ON(mprotect),
	ON(mremap),
	ON(madvise),
	ON(brk),
	ON(mlock),
	ON(munlock),
	ON(epoll_create1),
	ON(epoll_ctl),
	ON(epoll_pwait),
	ON(epoll_pwait2),
	ON(ppoll),
	ON(pselect6),
	ON(eventfd2),
	ON(timerfd_create),
	ON(timerfd_settime),
	ON(socket),
	ON(socketpair),
	ON(connect),
	ON(bind),
	ON(getsockname),
	ON(getpeername),
	ON(setsockopt),
	ON(getsockopt),
	ON(sendto),
	ON(recvfrom),
	ON(sendmsg),
	ON(recvmsg),
	ON(sendmmsg),
	ON(recvmmsg),
	ON(shutdown),
	ON(clone),
	ON(clone3),
	ON(exit),
	ON(exit_group),
	ON(futex),
	ON(set_robust_list),
	ON(get_robust_list),
	ON(rseq),
	ON(set_tid_address),
	ON(sched_yield),
	ON(sched_getaffinity),
	ON(gettid),
	ON(getpid),
	ON(getppid),
	ON(tgkill),
	ON(getuid),
	ON(geteuid),
	ON(getgid),
	ON(getegid),
	ON(getresuid),
	ON(getresgid),
	ON(prctl),
	ON(membarrier),
	ON(sigaltstack),
	ON(rt_sigaction),
	ON(rt_sigprocmask),
	ON(rt_sigreturn),
	ON(rt_sigtimedwait),
	ON(clock_gettime),
	ON(clock_getres),
	ON(clock_nanosleep),
	ON(nanosleep),
	ON(gettimeofday),
	ON(getrandom),
	ON(uname),
	ON(sysinfo),
	ON(getrusage),
	ON(getrlimit),
	ON(prlimit64),
	ON(restart_syscall),
	ON(bpf),
	ON(wait4),
	ON(sched_getparam),
	ON(sched_getscheduler),
#if defined(__x86_64__)
	ON(open),
	ON(stat),
	ON(lstat),
	ON(access),
	ON(poll),
	ON(select),
	ON(epoll_wait),
	ON(pipe),
	ON(dup2),
	ON(rename),
	ON(unlink),
	ON(mkdir),
	ON(readlink),
	ON(time),
	ON(arch_prctl),
	ON(getdents),
	ON(alarm),
	OFF(fork),
	OFF(vfork),
	OFF(chmod),
	OFF(chown),
#endif
	/* Never in the default policy; names accepted in seccomp.syscalls. */
	OFF(execve),
	OFF(execveat),
	{ "ptrace", __NR_ptrace, IN_SAN },
	OFF(process_vm_readv),
	OFF(process_vm_writev),
	OFF(mount),
	OFF(umount2),
	OFF(setuid),
	OFF(setgid),
	OFF(setresuid),
	OFF(setresgid),
	OFF(setgroups),
	OFF(capset),
	OFF(init_module),
	OFF(finit_module),
	OFF(delete_module),
	OFF(kexec_load),
	OFF(reboot),
	OFF(chroot),
	OFF(pivot_root),
	OFF(unshare),
	OFF(setns),
	OFF(kill),
	OFF(perf_event_open),
	OFF(listen),
	OFF(accept4),
	OFF(fchown),
	OFF(fchownat),
	OFF(fchmodat),
	OFF(personality),
	OFF(keyctl),
	OFF(add_key),
	OFF(request_key),
	OFF(userfaultfd),
	OFF(memfd_create),
	OFF(io_uring_setup),
};

long seccomp_syscall_nr(const char *name)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (!strcmp(table[i].name, name))
			return table[i].nr;
	return -1;
}

int seccomp_action_parse(const char *s)
{
	static const struct {
		const char *name;
		enum seccomp_action a;
	} names[] = {
		{ "errno", SECCOMP_ACT_ERRNO }, { "kill", SECCOMP_ACT_KILL }, { "kill_process", SECCOMP_ACT_KILL },
		{ "trap", SECCOMP_ACT_TRAP },	{ "log", SECCOMP_ACT_LOG },   { "allow", SECCOMP_ACT_ALLOW },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (s && !strcmp(s, names[i].name))
			return (int)names[i].a;
	return -1;
}

static __u32 ret_of(enum seccomp_action a)
{
	switch (a) {
	case SECCOMP_ACT_KILL:
		return SECCOMP_RET_KILL_PROCESS;
	case SECCOMP_ACT_TRAP:
		return SECCOMP_RET_TRAP;
	case SECCOMP_ACT_LOG:
		return SECCOMP_RET_LOG;
	case SECCOMP_ACT_ALLOW:
		return SECCOMP_RET_ALLOW;
	case SECCOMP_ACT_ERRNO:
	default:
		return SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA);
	}
}

static bool allowed(const struct seccomp_cfg *c, const struct sc_name *s)
{
	if (strlist_has(&c->deny, s->name, false))
		return false;
	return s->dflt || strlist_has(&c->allow, s->name, false);
}

static int check_names(const struct strlist *l, char *err, size_t len)
{
	for (size_t i = 0; i < l->n; i++)
		if (seccomp_syscall_nr(l->v[i]) < 0) {
			snprintf(err, len, "seccomp.syscalls: unknown system call \"%s\"", l->v[i]);
			return -1;
		}
	return 0;
}

int seccomp_install(const struct seccomp_cfg *c, char *err, size_t len)
{
#ifndef XB_AUDIT_ARCH
	if (!c->enabled)
		return 0;
	snprintf(err, len, "seccomp: no policy for this architecture (set seccomp.enabled: false)");
	return -1;
#else
	enum { NT = sizeof(table) / sizeof(table[0]) };
	struct sock_filter f[6 + 2 * NT + 1];
	struct sock_fprog prog;
	size_t n = 0;
	int act;

	if (!c->enabled)
		return 0;
	act = seccomp_action_parse(c->default_action ? c->default_action : "errno");
	if (act < 0 || act == SECCOMP_ACT_ALLOW) {
		snprintf(err, len,
			 "seccomp.default_action: expected errno, kill, kill_process, trap or log, got \"%s\"",
			 c->default_action);
		return -1;
	}
	if (check_names(&c->allow, err, len) || check_names(&c->deny, err, len))
		return -1;
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, XB_AUDIT_ARCH, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	/* x32 numbers (same audit arch on x86_64) are another ABI: killed too. */
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	for (size_t i = 0; i < NT; i++) {
		if (!allowed(c, &table[i]))
			continue;
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (__u32)table[i].nr, 0, 1);
		f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	}
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, ret_of((enum seccomp_action)act));
	prog.len = (unsigned short)n;
	prog.filter = f;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		snprintf(err, len, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -1;
	}
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog)) {
		snprintf(err, len, "seccomp: installing the filter failed: %s", strerror(errno));
		return -1;
	}
	return 0;
#endif
}

/* seccomp.syscalls: [{action: allow|errno|..., names: [...]}, ...] */
int config_set_seccomp_syscalls(void *base, const struct cfg_node *n, struct cfg_err *err)
{
	struct seccomp_cfg *s = base;

	if (n->kind != CFG_N_SEQ)
		return cfg_error(err, n, "expected a list of {action, names}");
	for (const struct cfg_node *e = n->child; e; e = e->next) {
		const struct cfg_node *a = e->kind == CFG_N_MAP ? cfg_get(e, "action") : NULL;
		const struct cfg_node *nm = e->kind == CFG_N_MAP ? cfg_get(e, "names") : NULL;
		struct strlist *to;
		int act;

		if (!a || !nm || a->kind != CFG_N_SCALAR || nm->kind != CFG_N_SEQ)
			return cfg_error(err, e, "expected {action: allow|errno|kill|trap|log, names: [...]}");
		act = seccomp_action_parse(a->value);
		if (act < 0)
			return cfg_error(err, a, "unknown action \"%s\"", a->value);
		to = act == SECCOMP_ACT_ALLOW || act == SECCOMP_ACT_LOG ? &s->allow : &s->deny;
		for (const struct cfg_node *x = nm->child; x; x = x->next) {
			char **v;

			if (x->kind != CFG_N_SCALAR || seccomp_syscall_nr(x->value) < 0)
				return cfg_error(err, x, "unknown system call");
			v = realloc(to->v, (to->n + 1) * sizeof(*v));
			if (!v)
				return cfg_error(err, x, "out of memory");
			to->v = v;
			if (!(v[to->n] = strdup(x->value)))
				return cfg_error(err, x, "out of memory");
			to->n++;
		}
	}
	return 0;
}

void harden_cfg_free(struct run_as_cfg *r, struct seccomp_cfg *s)
{
	free(r->user);
	free(r->group);
	free(s->default_action);
	strlist_free(&s->allow);
	strlist_free(&s->deny);
}
