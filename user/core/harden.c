/* The start-up hook: privilege drop then seccomp, with the daemon's messages. */
#include <stdio.h>

#include "harden.h"
#include "log.h"

int harden_start(const struct config *cfg, bool live)
{
	const struct cfg_node *fp = cfg_get(cfg->tree, "output.file.path");
	const char *dirs[2];
	size_t nd = 0;
	char err[512];
	struct run_as_cfg ra = cfg->run_as;

	if (fp && fp->kind == CFG_N_SCALAR && fp->value)
		dirs[nd++] = fp->value;
	if (cfg->queue.disk_path)
		dirs[nd++] = cfg->queue.disk_path;
	ra.enabled = ra.enabled && live;
	if (privdrop_apply(&ra, dirs, nd, err, sizeof(err))) {
		log_error("privilege drop failed: %s", err);
		return -1;
	}
	if (seccomp_install(&cfg->seccomp, err, sizeof(err))) {
		log_error("%s", err);
		return -1;
	}
	if (ra.enabled)
		log_info("running as %s%s%s, no capabilities%s", ra.user ? ra.user : "nobody", ra.group ? ":" : "",
			 ra.group ? ra.group : "", cfg->seccomp.enabled ? ", seccomp on" : "");
	return 0;
}
