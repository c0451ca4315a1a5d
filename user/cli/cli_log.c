/*
 * logging.*: which of xdpbeat's messages are printed (logging.level,
 * logging.selectors and -d, include/log.h) and where they go (stderr).
 * logging.to_files sends them to logging.files.path/name (mode
 * logging.files.permissions), the older files rotated to name.1 ..
 * name.<keepfiles-1> at start; -e keeps stderr. Selector "bpf" (or "*")
 * turns on libbpf's debug messages.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "log.h"
#include "output.h"
#include "proto.h"
#include "util/fs.h"

static void rotate(const char *base, int64_t keep)
{
	char from[4300], to[4300];

	for (int64_t i = keep - 1; i >= 1; i--) {
		snprintf(to, sizeof(to), "%s.%lld", base, (long long)i);
		if (i == 1)
			snprintf(from, sizeof(from), "%s", base);
		else
			snprintf(from, sizeof(from), "%s.%lld", base, (long long)(i - 1));
		rename(from, to);
	}
}

/* One debug line per enabled protocol (its ports), then the outputs: what this config watches. */
void cli_log_config(const struct config *cfg)
{
	char ports[256], outs[128];
	size_t used;

	if (!log_debug_on("config"))
		return;
	for (size_t i = 0; i < cfg->nprotos; i++) {
		const struct proto_cfg *pc = &cfg->protos[i];

		if (!pc->enabled)
			continue;
		used = 0;
		ports[0] = '\0';
		for (size_t k = 0; k < pc->ports.n && used < sizeof(ports) - 8; k++)
			used += (size_t)snprintf(ports + used, sizeof(ports) - used, "%s%u", k ? "," : "",
						 pc->ports.v[k]);
		log_debug("config", "%s: ports %s", pc->ops->name, pc->ports.n ? ports : "(none)");
	}
	used = 0;
	outs[0] = '\0';
	for (size_t i = 0; i < cfg->noutputs && used < sizeof(outs) - 32; i++)
		if (cfg->outputs[i].enabled)
			used += (size_t)snprintf(outs + used, sizeof(outs) - used, " %s", cfg->outputs[i].ops->name);
	log_debug("config", "%s: %lld worker(s), outputs:%s", cfg->file ? cfg->file : "(built-in config)",
		  (long long)cfg->workers, used ? outs : " none");
}

int cli_log_setup(struct opts *o, const struct config *cfg)
{
	const struct log_cfg *l = &cfg->log;
	char dir[4096], path[4200];
	int fd;

	if (log_setup(l->level, &l->selectors, o->selectors)) {
		log_error("logging.level: unknown level %s", l->level);
		return -1;
	}
	o->capture.debug = log_debug_on("bpf");
	if (o->selectors)
		log_debug("config", "logging.level debug (-d %s)", o->selectors);
	else
		log_debug("config", "logging.level %s", l->level ? l->level : "info");
	if (o->log_stderr || (!l->to_files && l->to_stderr))
		return 0;
	if (!l->to_files) { /* to_stderr: false and to_files: false: nowhere, as Beats */
		fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	} else {
		snprintf(dir, sizeof(dir), "%s", l->files_path ? l->files_path : o->path_logs ? o->path_logs : "logs");
		snprintf(path, sizeof(path), "%s/%s", dir, l->files_name ? l->files_name : "xdpbeat");
		if (mkdir_p(dir, 0750)) {
			log_error("logging.files.path %s: %s", dir, strerror(errno));
			return -1;
		}
		rotate(path, l->keepfiles);
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, (mode_t)l->permissions);
		if (fd >= 0)
			fchmod(fd, (mode_t)l->permissions);
	}
	if (fd < 0 || dup2(fd, STDERR_FILENO) < 0) {
		log_error("logging: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}
