/* Packetbeat drop-in config: ${VAR} expansion, packetbeat.* aliasing, warnings, interfaces forms, netlist. */
#include <arpa/inet.h>
#include <errno.h>
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"
#include "netlist.h"
#include "processors.h"

static struct config *load(const char *text, struct cfg_err *err)
{
	return config_load_string(text, strlen(text), "t.yml", NULL, 0, err);
}

static struct config *load_ok(const char *text)
{
	struct cfg_err err = { { 0 } };
	struct config *c = load(text, &err);

	cr_assert_not_null(c, "load failed: %s", err.msg);
	return c;
}

static void load_fails(const char *text, const char *want)
{
	struct cfg_err err = { { 0 } };
	struct config *c = load(text, &err);

	cr_assert_null(c, "<<%s>> should fail", text);
	cr_assert(strstr(err.msg, want), "message <<%s>> lacks <<%s>>", err.msg, want);
}

static bool has_warning(const struct config *c, const char *want)
{
	for (size_t i = 0; i < c->warnings.n; i++)
		if (strstr(c->warnings.v[i], want))
			return true;
	return false;
}

Test(config_env, forms)
{
	struct config *c;

	setenv("XB_T_NAME", "sensor-7", 1);
	unsetenv("XB_T_UNSET");
	c = load_ok("name: ${XB_T_NAME}\ntags: [\"${XB_T_UNSET:dflt}\", \"pre-${XB_T_NAME}-post\", \"$${literal}\"]\n");
	cr_assert_str_eq(c->name, "sensor-7");
	cr_assert_eq(c->tags.n, 3);
	cr_assert_str_eq(c->tags.v[0], "dflt");
	cr_assert_str_eq(c->tags.v[1], "pre-sensor-7-post");
	cr_assert_str_eq(c->tags.v[2], "${literal}");
	config_free(c);
}

Test(config_env, errors_name_file_line_key)
{
	unsetenv("XB_T_UNSET");
	load_fails("name: x\nxdpbeat.snaplen: ${XB_T_UNSET}\n", "t.yml:2: xdpbeat.snaplen: ${XB_T_UNSET}: not set");
	load_fails("name: ${XB_T_UNSET:?set it please}\n", "t.yml:1: name: ${XB_T_UNSET}: set it please");
	load_fails("name: ${XB_T_UNSET\n", "t.yml:1: name: expected \"}\"");
	load_fails("name: ${}\n", "expected a variable name");
}

Test(config_env, expanded_value_is_typed)
{
	struct config *c;

	setenv("XB_T_SNAP", "1500", 1);
	c = load_ok("xdpbeat.snaplen: ${XB_T_SNAP}\n");
	cr_assert_eq(c->snaplen, 1500);
	config_free(c);
	setenv("XB_T_SNAP", "lots", 1);
	load_fails("xdpbeat.snaplen: ${XB_T_SNAP}\n", "t.yml:1: xdpbeat.snaplen");
}

static const char *fake_keystore(void *ctx, const char *name)
{
	return !strcmp(name, "XB_T_SHADOW") ? "from-keystore" : NULL;
}

Test(config_env, keystore_wins_over_environment)
{
	struct cfg_resolver r = { .keystore = fake_keystore };
	struct config *c;

	setenv("XB_T_SHADOW", "from-env", 1);
	config_set_resolver(&r);
	c = load_ok("name: ${XB_T_SHADOW}\n");
	config_set_resolver(NULL);
	cr_assert_str_eq(c->name, "from-keystore");
	cr_assert(cfg_get(c->tree, "name")->secret);
	config_free(c);
}

Test(config_compat, packetbeat_alias)
{
	struct config *c =
		load_ok("packetbeat.snaplen: 1234\npacketbeat.protocols:\n  - type: http\n    ports: [81]\n");
	struct cfg_err err = { { 0 } };
	char *ov[] = { "packetbeat.snaplen=99" };

	cr_assert_eq(c->snaplen, 1234);
	cr_assert_eq(c->nprotos, 1);
	config_free(c);
	load_fails("xdpbeat.snaplen: 1\npacketbeat.snaplen: 2\n", "packetbeat.* and xdpbeat.*");
	/* a packetbeat -E onto an xdpbeat file is the same setting */
	c = config_load_string("xdpbeat.snaplen: 5\n", 18, "t.yml", ov, 1, &err);
	cr_assert_not_null(c, "%s", err.msg);
	cr_assert_eq(c->snaplen, 99);
	config_free(c);
}

Test(config_compat, alias_errors_name_what_file_says)
{
	load_fails("packetbeat.snaplen: huge\n", "t.yml:1: packetbeat.snaplen");
}

Test(config_compat, missing_protocols_one_warning)
{
	struct config *c = load_ok("xdpbeat.protocols:\n  - type: icmp\n  - type: tls\n    ports: [443]\n"
				   "  - type: dns\n    ports: [53]\n");

	cr_assert_eq(c->nprotos, 1);
	cr_assert_eq(c->warnings.n, 1);
	cr_assert(has_warning(c, "t.yml:1: xdpbeat.protocols: Packetbeat protocols"), "%s", c->warnings.v[0]);
	cr_assert(has_warning(c, "ignored: icmp, tls"));
	config_free(c);
	load_fails("xdpbeat.protocols:\n  - type: gopher\n", "unknown protocol type");
}

Test(config_compat, interfaces_map_form)
{
	struct config *c =
		load_ok("packetbeat.interfaces:\n  device: lo\n  type: af_packet\n  bpf_filter: tcp\n"
			"  buffer_size_mb: 30\n  snaplen: 1514\n  internal_networks: [private, 192.0.2.0/24]\n");
	uint8_t a[4];

	cr_assert_eq(c->interfaces.n, 1);
	cr_assert_str_eq(c->interfaces.v[0], "lo");
	cr_assert_eq(c->snaplen, 1514);
	cr_assert_eq(c->ring_size, 32ull << 20);
	cr_assert_eq(c->warnings.n, 1);
	cr_assert(has_warning(c, "(type, bpf_filter)"), "%s", c->warnings.v[0]);
	inet_pton(AF_INET, "192.0.2.9", a);
	cr_assert(netlist_contains(c->internal_networks, AF_INET, a));
	inet_pton(AF_INET, "8.8.8.8", a);
	cr_assert_not(netlist_contains(c->internal_networks, AF_INET, a));
	config_free(c);
	load_fails("packetbeat.interfaces:\n  device: lo\n  promisc: yes\n", "t.yml:3: packetbeat.interfaces.promisc");
	load_fails("packetbeat.interfaces:\n  device: lo\n  internal_networks: [10.0.0.0/33]\n", "10.0.0.0/33");
}

Test(config_compat, interfaces_list_forms)
{
	struct config *c = load_ok("packetbeat.interfaces:\n  - device: lo\n  - device: any\n");

	cr_assert_eq(c->interfaces.n, 2);
	cr_assert_str_eq(c->interfaces.v[1], "any");
	config_free(c);
	c = load_ok("xdpbeat.interfaces: [lo, eth9]\n");
	cr_assert_eq(c->interfaces.n, 2);
	config_free(c);
	load_fails("xdpbeat.interfaces: []\n", "at least one interface");
}

Test(config_compat, general_settings_stored)
{
	struct config *c = load_ok("name: n1\ntags: [x]\nfields: {env: t}\nfields_under_root: true\n"
				   "xdpbeat.protocols:\n  - type: http\n    ports: [81]\n    index: web\n"
				   "    tags: [w]\n    keep_null: true\n    fields: {svc: a}\n");

	cr_assert_str_eq(c->name, "n1");
	cr_assert_eq(c->tags.n, 1);
	cr_assert_not_null(cfg_get(c->fields, "env"));
	cr_assert(c->fields_under_root);
	cr_assert_str_eq(c->protos[0].index, "web");
	cr_assert_str_eq(c->protos[0].tags.v[0], "w");
	cr_assert(c->protos[0].keep_null);
	cr_assert_not_null(cfg_get(c->protos[0].fields, "svc"));
	config_free(c);
	load_fails("fields: [a]\n", "expected a map of fields");
}

Test(config_compat, setup_and_unused_sections)
{
	struct config *c = load_ok("setup.template.name: pb\nsetup.ilm.enabled: false\nsetup.kibana.host: k\n"
				   "monitoring.enabled: false\nhttp.enabled: false\npacketbeat.flows.enabled: false\n");

	cr_assert(has_warning(c, "t.yml:2: setup.ilm: accepted"));
	cr_assert(has_warning(c, "t.yml:3: setup.kibana"));
	cr_assert(has_warning(c, "t.yml:4: monitoring"));
	cr_assert(has_warning(c, "t.yml:5: http"));
	cr_assert(has_warning(c, "packetbeat.flows"));
	config_free(c);
	load_fails("setup.templat.name: x\n", "t.yml:1: setup.templat: unknown setting");
	load_fails("setup.template.nme: x\n", "setup.template.nme");
}

static bool has4(const char *net, const char *addr)
{
	struct netlist *nl = netlist_new();
	uint8_t a[16];
	int fam = strchr(addr, ':') ? AF_INET6 : AF_INET;
	bool r;

	cr_assert_eq(netlist_add(nl, net), 0, "%s", net);
	cr_assert_eq(inet_pton(fam, addr, a), 1);
	r = netlist_contains(nl, fam, a);
	netlist_free(nl);
	return r;
}

Test(netlist, names_and_cidrs)
{
	struct netlist *nl = netlist_new();

	cr_assert(has4("private", "10.1.2.3"));
	cr_assert(has4("private", "172.31.0.1"));
	cr_assert_not(has4("private", "172.32.0.1"));
	cr_assert(has4("private", "fd00::1"));
	cr_assert(has4("loopback", "127.0.0.5"));
	cr_assert(has4("loopback", "::1"));
	cr_assert(has4("loopback", "::ffff:127.0.0.1"));
	cr_assert(has4("multicast", "239.1.1.1"));
	cr_assert(has4("multicast", "ff02::1"));
	cr_assert_not(has4("unicast", "224.0.0.1"));
	cr_assert(has4("unicast", "8.8.8.8"));
	cr_assert(has4("public", "8.8.8.8"));
	cr_assert_not(has4("public", "192.168.1.1"));
	cr_assert(has4("2001:db8::/32", "2001:db8::5"));
	cr_assert_not(has4("2001:db8::/32", "2001:db9::5"));
	cr_assert(has4("10.0.0.0/7", "11.255.0.1"));
	cr_assert(has4("0.0.0.0/0", "1.2.3.4"));
	cr_assert_not(has4("1.2.3.4", "1.2.3.5"));
	cr_assert_eq(netlist_add(nl, "privat"), -EINVAL);
	cr_assert_eq(netlist_add(nl, "1.2.3.4/"), -EINVAL);
	cr_assert_eq(netlist_add(nl, "::/129"), -EINVAL);
	cr_assert_not(netlist_contains(nl, AF_INET, "\x01\x02\x03\x04"));
	cr_assert_not(netlist_contains(NULL, AF_INET, "\x01\x02\x03\x04"));
	netlist_free(nl);
}

Test(config_compat, general_settings_applied_before_processors)
{
	struct config *c = load_ok("name: \"n\\\"1\"\ntags: [x]\nfields: {env: {a: 1}}\nfields_under_root: true\n"
				   "processors:\n  - add_tags: {tags: [later]}\n"
				   "xdpbeat.protocols:\n  - type: http\n    ports: [81]\n    tags: [w]\n"
				   "    fields: {svc: a}\n");
	json_t *ev = json_object();
	char *s;

	cr_assert_eq(proc_chain_run(c->protos[0].processors, ev, NULL), PROC_KEEP);
	cr_assert_eq(proc_chain_run(c->processors, ev, NULL), PROC_KEEP);
	s = json_dumps(ev, JSON_SORT_KEYS | JSON_COMPACT);
	cr_assert_str_eq(s, "{\"agent\":{\"name\":\"n\\\"1\"},\"env\":{\"a\":1},\"fields\":{\"svc\":\"a\"},"
			    "\"tags\":[\"w\",\"x\",\"later\"]}");
	free(s);
	json_decref(ev);
	config_free(c);
}
