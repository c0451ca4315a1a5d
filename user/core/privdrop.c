/*
 * Least privilege after start-up: once the BPF programs are attached, the
 * maps and ring buffers mapped and the outputs open, the daemon needs no
 * privilege (SIGHUP rewrites the ports maps through the open map fds). It
 * becomes run_as.user, keeps no capability and can never regain one.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "harden.h"

#define DEFAULT_USER "nobody"

static int fail(char *err, size_t len, const char *what, const char *arg, int e)
{
	snprintf(err, len, "%s%s%s: %s", what, arg ? " " : "", arg ? arg : "", strerror(e));
	return -1;
}

/* The directory and the entries right inside it belong to uid:gid (files the outputs rotate or replace). */
static int chown_dir(const char *dir, uid_t uid, gid_t gid, char *err, size_t len)
{
	struct dirent *de;
	DIR *d;
	int rc = 0;

	if (chown(dir, uid, gid))
		return errno == ENOENT ? 0 : fail(err, len, "chown", dir, errno);
	d = opendir(dir);
	if (!d)
		return fail(err, len, "opendir", dir, errno);
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fchownat(dirfd(d), de->d_name, uid, gid, AT_SYMLINK_NOFOLLOW)) {
			rc = fail(err, len, "chown in", dir, errno);
			break;
		}
	}
	closedir(d);
	return rc;
}

static int lookup(const struct run_as_cfg *c, uid_t *uid, gid_t *gid, char *err, size_t len)
{
	const char *user = c->user && c->user[0] ? c->user : DEFAULT_USER;
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(user);
	if (!pw)
		return fail(err, len, "xdpbeat.run_as.user: no such user", user, errno ? errno : ENOENT);
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (c->group && c->group[0]) {
		struct group *gr;

		errno = 0;
		gr = getgrnam(c->group);
		if (!gr)
			return fail(err, len, "xdpbeat.run_as.group: no such group", c->group, errno ? errno : ENOENT);
		*gid = gr->gr_gid;
	}
	if (*uid == 0)
		return fail(err, len, "xdpbeat.run_as.user is root; set xdpbeat.run_as.enabled: false to keep root",
			    NULL, EINVAL);
	return 0;
}

/* Empty the bounding set (needs CAP_SETPCAP: before the uid change). */
static int drop_bounding(char *err, size_t len)
{
	for (int cap = 0; cap < 64; cap++) {
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0)
			break; /* past the kernel's last capability */
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EINVAL)
			return fail(err, len, "PR_CAPBSET_DROP", NULL, errno);
	}
	return 0;
}

static int clear_caps(char *err, size_t len)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capset, &h, d))
		return fail(err, len, "capset", NULL, errno);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL)
		return fail(err, len, "PR_CAP_AMBIENT_CLEAR_ALL", NULL, errno);
	return 0;
}

int privdrop_apply(const struct run_as_cfg *c, const char *const *chown_dirs, size_t ndirs, char *err, size_t len)
{
	uid_t uid;
	gid_t gid;

	if (c->enabled && geteuid() == 0) {
		if (lookup(c, &uid, &gid, err, len))
			return -1;
		for (size_t i = 0; i < ndirs; i++)
			if (chown_dirs[i] && chown_dir(chown_dirs[i], uid, gid, err, len))
				return -1;
		if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0))
			return fail(err, len, "PR_SET_KEEPCAPS", NULL, errno);
		if (drop_bounding(err, len))
			return -1;
		if (setgroups(1, &gid))
			return fail(err, len, "setgroups", NULL, errno);
		if (setresgid(gid, gid, gid))
			return fail(err, len, "setresgid", NULL, errno);
		if (setresuid(uid, uid, uid))
			return fail(err, len, "setresuid", NULL, errno);
		if (setuid(0) == 0) /* must be impossible now */
			return fail(err, len, "privilege drop did not hold", NULL, EPERM);
		if (clear_caps(err, len))
			return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return fail(err, len, "PR_SET_NO_NEW_PRIVS", NULL, errno);
	/* No core files, no ptrace by the user: secrets in memory stay there. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		return fail(err, len, "PR_SET_DUMPABLE", NULL, errno);
	return 0;
}
