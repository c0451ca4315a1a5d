/* The command line, as Packetbeat's: flags, --path.*, --strict.perms and the subcommands. */
#ifndef XDPBEAT_CLI_H
#define XDPBEAT_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "capture.h"
#include "config.h"

#define CLI_MAX_OVERRIDES 64
#include "version.h"

struct opts {
	const char *config; /* -c, resolved against --path.config */
	char config_buf[4096];
	const char *pcap;
	char *overrides[CLI_MAX_OVERRIDES];
	size_t noverrides;
	bool test_config; /* -t */
	bool log_stderr; /* -e */
	const char *selectors; /* -d "sel,..." (all the -d, comma-joined), NULL without -d */
	char selectors_buf[1024];
	const char *path_home, *path_config, *path_data, *path_logs;
	char data_buf[4096];
	bool strict_perms;
	bool ks_stdin, ks_force; /* keystore add --stdin / --force */
	char **args; /* subcommand words (argv after the options) */
	int nargs;
	struct capture_opts capture;
};

/* 0, or an exit status (2: usage) when parsing failed or the command line asked for help. */
int cli_parse(int argc, char **argv, struct opts *o, bool *done);
/* --strict.perms: the config file owned by us or root, not writable by group/others. 0 or -1 (message printed). */
int cli_check_perms(const struct opts *o);
/* Load the config with the keystore resolver in place, print its warnings. NULL (message printed) on error. */
struct config *cli_load_config(const struct opts *o);
/* Run a subcommand if the command line has one; *handled false for "run" / none. Returns the exit status. */
int cli_subcommand(struct opts *o, bool *handled);

/* logging.*: level and debug selectors (with -d), stderr to files (or nowhere). 0 or -1 (message printed). */
int cli_log_setup(struct opts *o, const struct config *cfg);
/* Debug (selector "config"): the protocols with their ports, the workers and the outputs of cfg. */
void cli_log_config(const struct config *cfg);

/* Subcommands, user/cli/cli_*.c */
int cli_keystore(struct opts *o);
int cli_test_output(const struct opts *o, const struct config *cfg);
int cli_export(const struct opts *o, const struct config *cfg);
int cli_devices(void);

#endif
