/* Subcommand dispatch: version, test config|output, export config|template, keystore, devices. */
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

static int with_config(const struct opts *o, int (*fn)(const struct opts *o, const struct config *cfg))
{
	struct config *cfg = cli_load_config(o);
	int rc;

	if (!cfg)
		return 1;
	rc = fn(o, cfg);
	config_free(cfg);
	return rc;
}

static int config_ok(const struct opts *o, const struct config *cfg)
{
	printf("Config OK\n");
	return 0;
}

static bool is(const struct opts *o, int i, const char *word)
{
	return o->nargs > i && !strcmp(o->args[i], word);
}

int cli_subcommand(struct opts *o, bool *handled)
{
	*handled = true;
	if (!o->nargs || is(o, 0, "run")) {
		*handled = false;
		return 0;
	}
	if (is(o, 0, "version")) {
		printf("xdpbeat version %s (Packetbeat 8 compatible configuration)\n", XDPBEAT_VERSION);
		return 0;
	}
	if (is(o, 0, "test") && is(o, 1, "config"))
		return with_config(o, config_ok);
	if (is(o, 0, "test") && is(o, 1, "output"))
		return with_config(o, cli_test_output);
	if (is(o, 0, "export") && (is(o, 1, "config") || is(o, 1, "template")))
		return with_config(o, cli_export);
	if (is(o, 0, "keystore"))
		return cli_keystore(o);
	if (is(o, 0, "devices"))
		return cli_devices();
	fprintf(stderr,
		"xdpbeat: unknown command '%s%s%s' (test config|output, export config|template, keystore, "
		"devices, version, run)\n",
		o->args[0], o->nargs > 1 ? " " : "", o->nargs > 1 ? o->args[1] : "");
	return 2;
}

/* /sys/class/net/<name>/<attr> first line into out ("" if missing). */
static void sysfs_attr(const char *name, const char *attr, char *out, size_t len)
{
	char path[128];
	FILE *f;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", name, attr);
	if ((f = fopen(path, "r"))) {
		if (fgets(out, (int)len, f))
			out[strcspn(out, "\n")] = '\0';
		fclose(f);
	}
}

/* What capture_open would attach (user/capture/capture_attach.c's rules). */
static const char *attach_plan(const char *name)
{
	char type[16], path[128];

	sysfs_attr(name, "type", type, sizeof(type));
	snprintf(path, sizeof(path), "/sys/class/net/%s/device", name);
	if (!strcmp(type, "772"))
		return "loopback: TC ingress only (each packet once)";
	if (strcmp(type, "1"))
		return "not Ethernet: cannot capture";
	if (!access(path, F_OK))
		return "physical: XDP native ingress (TC if the driver refuses), TC egress";
	return "virtual: TC ingress and egress (XDPBEAT_INGRESS=xdp forces generic XDP)";
}

int cli_devices(void)
{
	struct if_nameindex *ifs = if_nameindex();
	char state[32];

	if (!ifs) {
		perror("xdpbeat: devices");
		return 1;
	}
	for (size_t i = 0; ifs[i].if_index; i++) {
		sysfs_attr(ifs[i].if_name, "operstate", state, sizeof(state));
		printf("%u: %s (%s) %s\n", ifs[i].if_index, ifs[i].if_name, state[0] ? state : "unknown",
		       attach_plan(ifs[i].if_name));
	}
	if_freenameindex(ifs);
	return 0;
}
