/* Command line parsing, --path.*, --strict.perms, the keystore resolver. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "keystore.h"
#include "log.h"

enum {
	OPT_HOME = 256,
	OPT_CONFIG,
	OPT_DATA,
	OPT_LOGS,
	OPT_STRICT,
	OPT_STDIN,
	OPT_FORCE,
};

static const char *const subcommands[] = { "run", "version", "test", "export", "keystore", "devices", NULL };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: xdpbeat [flags] [run | version | test config|output | export config|template |\n"
		"                keystore create|add|list|remove | devices]\n"
		"  -c FILE            configuration file (default: built-in, see config/xdpbeat.yml),\n"
		"                     relative to --path.config\n"
		"  -E K=V             override one setting, e.g. -E output.console.enabled=false\n"
		"  -I FILE            read packets from a pcap file instead of capturing live\n"
		"  -u USER[:GROUP]    run as USER (GROUP) once started (default nobody; see README)\n"
		"  -t                 check the configuration and exit (with -I: replay, as -I always does)\n"
		"  -e                 log to stderr (disables logging.to_files)\n"
		"  -d SELECTORS       debug messages of these selectors (\"*\" or -d alone: all; \"bpf\": libbpf's);\n"
		"                     sets logging.level to debug\n"
		"  -V                 print the version\n"
		"  --path.home DIR    home (default: the working directory); data is DIR/data, logs DIR/logs\n"
		"  --path.config DIR  where -c is looked up\n"
		"  --path.data DIR    where the keystore lives (xdpbeat.keystore)\n"
		"  --path.logs DIR    default logging.files.path\n"
		"  --strict.perms=B   check the config file's owner and mode (default true)\n"
		"  keystore add KEY [--stdin] [--force]\n");
}

static bool is_subcommand(const char *s)
{
	for (size_t i = 0; subcommands[i]; i++)
		if (!strcmp(s, subcommands[i]))
			return true;
	return false;
}

static int parse_bool_arg(const char *v, bool *out)
{
	if (!v || !strcmp(v, "true") || !strcmp(v, "1")) {
		*out = true;
		return 0;
	}
	if (!strcmp(v, "false") || !strcmp(v, "0")) {
		*out = false;
		return 0;
	}
	return -1;
}

/* -u user[:group]: the same as -E xdpbeat.run_as.user=user -E xdpbeat.run_as.group=group. */
static int run_as_overrides(struct opts *o, const char *arg)
{
	static char user[300], group[300];
	const char *colon = strchr(arg, ':');
	int ulen = colon ? (int)(colon - arg) : (int)strlen(arg);

	if (o->noverrides + 2 > CLI_MAX_OVERRIDES || ulen == 0 || ulen > 256 || (colon && strlen(colon + 1) > 256)) {
		log_error("-u expects user[:group]");
		return -1;
	}
	snprintf(user, sizeof(user), "xdpbeat.run_as.user=%.*s", ulen, arg);
	o->overrides[o->noverrides++] = user;
	if (colon && colon[1]) {
		snprintf(group, sizeof(group), "xdpbeat.run_as.group=%s", colon + 1);
		o->overrides[o->noverrides++] = group;
	}
	return 0;
}

/* -d "sel,...", as many times as wanted: all of them, comma-joined. */
static int add_debug_selectors(struct opts *o, const char *list)
{
	size_t have = strlen(o->selectors_buf);

	if (have + strlen(list) + 2 > sizeof(o->selectors_buf)) {
		log_error("-d: too many selectors");
		return -1;
	}
	snprintf(o->selectors_buf + have, sizeof(o->selectors_buf) - have, "%s%s", have ? "," : "", list);
	o->selectors = o->selectors_buf;
	return 0;
}

static int set_opt(struct opts *o, int c, const char *arg)
{
	switch (c) {
	case 'c':
		o->config = arg;
		return 0;
	case 'E':
		if (o->noverrides == CLI_MAX_OVERRIDES) {
			log_error("too many -E options (max %d)", CLI_MAX_OVERRIDES);
			return -1;
		}
		o->overrides[o->noverrides++] = (char *)arg;
		return 0;
	case 'I':
		o->pcap = arg;
		return 0;
	case 'u':
		return run_as_overrides(o, arg);
	case 't':
		o->test_config = true;
		return 0;
	case 'e':
		o->log_stderr = true;
		return 0;
	case 'd':
		return add_debug_selectors(o, arg ? arg : "*");
	case OPT_HOME:
		o->path_home = arg;
		return 0;
	case OPT_CONFIG:
		o->path_config = arg;
		return 0;
	case OPT_DATA:
		o->path_data = arg;
		return 0;
	case OPT_LOGS:
		o->path_logs = arg;
		return 0;
	case OPT_STRICT:
		if (parse_bool_arg(arg, &o->strict_perms)) {
			log_error("--strict.perms expects true or false, got '%s'", arg);
			return -1;
		}
		return 0;
	case OPT_STDIN:
		o->ks_stdin = true;
		return 0;
	case OPT_FORCE:
		o->ks_force = true;
		return 0;
	}
	return -1;
}

/* -c relative to --path.config (else --path.home); --path.data defaults to home/data. */
static int resolve_paths(struct opts *o)
{
	const char *home = o->path_home ? o->path_home : ".";
	const char *cdir = o->path_config ? o->path_config : o->path_home;

	if (o->config && o->config[0] != '/' && cdir) {
		if (snprintf(o->config_buf, sizeof(o->config_buf), "%s/%s", cdir, o->config) >=
		    (int)sizeof(o->config_buf))
			return -1;
		o->config = o->config_buf;
	}
	if (!o->path_data) {
		if (snprintf(o->data_buf, sizeof(o->data_buf), "%s/data", home) >= (int)sizeof(o->data_buf))
			return -1;
		o->path_data = o->data_buf;
	}
	return 0;
}

int cli_parse(int argc, char **argv, struct opts *o, bool *done)
{
	static const struct option longs[] = {
		{ "path.home", required_argument, NULL, OPT_HOME },
		{ "path.config", required_argument, NULL, OPT_CONFIG },
		{ "path.data", required_argument, NULL, OPT_DATA },
		{ "path.logs", required_argument, NULL, OPT_LOGS },
		{ "strict.perms", optional_argument, NULL, OPT_STRICT },
		{ "stdin", no_argument, NULL, OPT_STDIN },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*done = false;
	o->strict_perms = true;
	while ((c = getopt_long(argc, argv, "c:E:I:u:ted::Vh", longs, NULL)) != -1) {
		char *arg = optarg;

		/* Packetbeat's "-d sel": the next word is -d's (optional) argument unless it is an option or subcommand */
		if (c == 'd' && !arg && optind < argc && argv[optind][0] != '-' && !is_subcommand(argv[optind]))
			arg = argv[optind++];
		if (c == 'V') {
			printf("xdpbeat version %s\n", XDPBEAT_VERSION);
			*done = true;
			return 0;
		}
		if (c == 'h') {
			usage(stdout);
			*done = true;
			return 0;
		}
		if (c == '?' || set_opt(o, c, arg ? arg : (c == OPT_STRICT ? "true" : NULL))) {
			usage(stderr);
			return 2;
		}
	}
	o->args = argv + optind;
	o->nargs = argc - optind;
	if (o->nargs && !is_subcommand(o->args[0])) {
		log_error("unexpected argument '%s'", o->args[0]);
		usage(stderr);
		return 2;
	}
	if (o->pcap)
		o->test_config = false; /* packetbeat -I file -t: replay without sleeping, as -I always does */
	if (resolve_paths(o)) {
		log_error("path too long");
		return 2;
	}
	return 0;
}

int cli_check_perms(const struct opts *o)
{
	struct stat st;

	if (!o->strict_perms || !o->config)
		return 0;
	if (stat(o->config, &st)) {
		log_error("configuration error: %s: %s", o->config, strerror(errno));
		return -1;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		log_error("configuration error: %s: owned by uid %u, must be owned by the running user (uid "
			  "%u) or root (--strict.perms=false skips this check)",
			  o->config, (unsigned)st.st_uid, (unsigned)geteuid());
		return -1;
	}
	if (st.st_mode & 022) {
		log_error("configuration error: %s: mode %03o, must not be writable by group or others (chmod "
			  "go-w %s; --strict.perms=false skips this check)",
			  o->config, (unsigned)(st.st_mode & 0777), o->config);
		return -1;
	}
	return 0;
}

/*
 * The keystore is read once, by the first load: a SIGHUP reload runs after
 * the privileges are dropped and uses the same values (a changed keystore
 * takes effect at the next start).
 */
static struct keystore *loaded_keystore;

struct config *cli_load_config(const struct opts *o)
{
	char path[4200], why[600];
	struct cfg_resolver r = { .keystore = keystore_lookup };
	struct config *cfg;
	struct cfg_err err;
	bool exists;

	if (cli_check_perms(o))
		return NULL;
	if (!loaded_keystore) {
		snprintf(path, sizeof(path), "%s/xdpbeat.keystore", o->path_data);
		why[0] = '\0';
		loaded_keystore = keystore_open(path, &exists, why, sizeof(why));
		if (!loaded_keystore) {
			log_error("keystore: %s", why);
			return NULL;
		}
		if (why[0])
			log_warn("keystore: %s", why);
	}
	r.ctx = loaded_keystore;
	config_set_resolver(&r);
	cfg = config_load(o->config, o->overrides, o->noverrides, &err);
	config_set_resolver(NULL);
	if (!cfg) {
		log_error("configuration error: %s", err.msg);
		return NULL;
	}
	for (size_t i = 0; i < cfg->warnings.n; i++)
		log_warn("%s", cfg->warnings.v[i]);
	return cfg;
}
