#ifndef XDPBEAT_HARDEN_H
#define XDPBEAT_HARDEN_H

/*
 * Least privilege after start-up (user/core/privdrop.c, user/core/seccomp.c).
 * main() calls privdrop_apply() then seccomp_install() once the capture is
 * attached and the outputs are open; both are no-ops when disabled.
 */

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/*
 * Drop to c->user/c->group (when running as root and enabled): chown the
 * directories in chown_dirs (and their files) to it, setgroups to the
 * group alone, setresgid/setresuid, clear every capability and the bounding
 * set, PR_SET_NO_NEW_PRIVS and PR_SET_DUMPABLE 0. The last two are applied
 * even when no user change happens. 0, or -1 and err.
 */
int privdrop_apply(const struct run_as_cfg *c, const char *const *chown_dirs, size_t ndirs, char *err, size_t len);

/* Syscall number of name on this architecture, -1 if not in the table. */
long seccomp_syscall_nr(const char *name);
/* Parse an action name (errno, kill, kill_process, trap, log, allow), -1 if unknown. */
int seccomp_action_parse(const char *s);
/* Install the allowlist (default policy + c->allow - c->deny). 0, or -1 and err. */
int seccomp_install(const struct seccomp_cfg *c, char *err, size_t len);

/*
 * The start-up hook main() calls once inputs and outputs are open: live
 * capture drops to xdpbeat.run_as (the file output's and spool's
 * directories are chowned to it); pcap mode (-I) keeps its user, whose
 * file output may rotate into directories only it can enter, but gets the
 * rest. Then seccomp. Logs what it did.
 */
int harden_start(const struct config *cfg, bool live);

/* Config hooks (user/config/config.c). */
int config_set_seccomp_syscalls(void *base, const struct cfg_node *n, struct cfg_err *err);
void harden_cfg_free(struct run_as_cfg *r, struct seccomp_cfg *s);

#endif
