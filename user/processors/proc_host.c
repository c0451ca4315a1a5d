/*
 * add_host_metadata: host.{hostname, name, architecture, id, containerized,
 * os.{type, family, platform, name, version, codename, kernel}} and, with
 * netinfo.enabled (the default), host.ip and host.mac of every
 * non-loopback interface. Read from the system once per cache.ttl (5m);
 * workers share the cache under a lock and get their own copy.
 * replace_fields (true) replaces a host object the event already has.
 */
#include <ctype.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "json_buf.h"
#include "proc.h"

struct host_meta {
	uint64_t ttl; /* ns */
	bool netinfo;
	bool replace_fields;
	pthread_mutex_t lock;
	json_t *cached; /* the host object */
	struct json_buf text; /* `"host":` and the cached object as JSON text, made once per refresh */
	uint64_t cached_at; /* CLOCK_MONOTONIC ns */
};

/* clang-format off */
static const struct cfg_field netinfo_fields[] = {
	{ .key = "enabled", .type = CFG_BOOL, .offset = offsetof(struct host_meta, netinfo) },
	{ 0 },
};
static const struct cfg_field cache_fields[] = {
	{ .key = "ttl", .type = CFG_DURATION, .offset = offsetof(struct host_meta, ttl) },
	{ 0 },
};
static const struct cfg_field host_fields[] = {
	{ .key = "netinfo", .type = CFG_SECTION, .sub = netinfo_fields },
	{ .key = "cache", .type = CFG_SECTION, .sub = cache_fields },
	{ .key = "replace_fields", .type = CFG_BOOL, .offset = offsetof(struct host_meta, replace_fields) },
	{ 0 },
};
/* clang-format on */

/* First line of path without its newline, into buf; false if unreadable or empty. */
static bool read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	bool ok;

	if (!f)
		return false;
	ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\r\n")] = '\0';
	return ok && buf[0];
}

/* VALUE of KEY=VALUE in os-release text, quotes removed. */
static bool os_release_value(const char *text, const char *key, char *out, size_t len)
{
	size_t klen = strlen(key);

	for (const char *l = text; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
		size_t n;
		const char *v;

		if (strncmp(l, key, klen) || l[klen] != '=')
			continue;
		v = l + klen + 1;
		n = strcspn(v, "\n");
		if (n && (*v == '"' || *v == '\'')) {
			v++;
			n = n >= 2 ? n - 2 : 0;
		}
		if (n >= len)
			n = len - 1;
		memcpy(out, v, n);
		out[n] = '\0';
		return true;
	}
	return false;
}

/* Beats' os.family: the distribution family from ID / ID_LIKE. */
static const char *os_family(const char *id, const char *like)
{
	static const char *const fam[][2] = {
		{ "debian", "debian" },	   { "ubuntu", "debian" }, { "raspbian", "debian" }, { "rhel", "redhat" },
		{ "centos", "redhat" },	   { "fedora", "redhat" }, { "amzn", "redhat" },     { "rocky", "redhat" },
		{ "almalinux", "redhat" }, { "suse", "suse" },	   { "sles", "suse" },	     { "opensuse", "suse" },
		{ "arch", "arch" },
	};

	for (size_t i = 0; i < sizeof(fam) / sizeof(fam[0]); i++)
		if (!strcmp(id, fam[i][0]) || strstr(like, fam[i][0]))
			return fam[i][1];
	return id;
}

static int put_str(json_t *o, const char *path, const char *s)
{
	return s && s[0] ? field_put(o, path, json_string(s)) : 0;
}

static int add_os(json_t *host)
{
	char text[4096] = "", id[64] = "", like[128] = "", v[256];
	struct utsname u;
	FILE *f = fopen("/etc/os-release", "re");
	int rc = 0;

	if (!f)
		f = fopen("/usr/lib/os-release", "re");
	if (f) {
		size_t n = fread(text, 1, sizeof(text) - 1, f);

		text[n] = '\0';
		fclose(f);
	}
	os_release_value(text, "ID", id, sizeof(id));
	os_release_value(text, "ID_LIKE", like, sizeof(like));
	rc |= put_str(host, "os.type", "linux");
	rc |= put_str(host, "os.family", os_family(id, like));
	rc |= put_str(host, "os.platform", id);
	if (os_release_value(text, "NAME", v, sizeof(v)))
		rc |= put_str(host, "os.name", v);
	if (os_release_value(text, "VERSION", v, sizeof(v)))
		rc |= put_str(host, "os.version", v);
	if (os_release_value(text, "VERSION_CODENAME", v, sizeof(v)))
		rc |= put_str(host, "os.codename", v);
	if (!uname(&u))
		rc |= put_str(host, "os.kernel", u.release);
	return rc;
}

static bool containerized(void)
{
	static const char *const marks[] = { "docker", "kubepods", "lxc", "containerd", "libpod" };
	char line[512];
	bool found = !access("/.dockerenv", F_OK) || !access("/run/.containerenv", F_OK);
	FILE *f = found ? NULL : fopen("/proc/1/cgroup", "re");

	while (f && !found && fgets(line, sizeof(line), f))
		for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
			found |= strstr(line, marks[i]) != NULL;
	if (f)
		fclose(f);
	return found;
}

static bool array_has(json_t *arr, const char *s)
{
	size_t i;
	json_t *e;

	json_array_foreach(arr, i, e) {
		if (!strcmp(json_string_value(e), s))
			return true;
	}
	return false;
}

/* host.ip and host.mac ("AA-BB-..." as ECS) of interfaces other than loopback. */
static int add_netinfo(json_t *host)
{
	struct ifaddrs *ifs, *i;
	json_t *ips = json_array(), *macs = json_array();
	char buf[INET6_ADDRSTRLEN + 1];

	if (!ips || !macs || getifaddrs(&ifs)) {
		json_decref(ips);
		json_decref(macs);
		return ips && macs ? 0 : -ENOMEM; /* no interfaces listed: no netinfo */
	}
	for (i = ifs; i; i = i->ifa_next) {
		int fam = i->ifa_addr ? i->ifa_addr->sa_family : AF_UNSPEC;

		if (i->ifa_flags & IFF_LOOPBACK)
			continue;
		buf[0] = '\0';
		if (fam == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, buf, sizeof(buf));
		else if (fam == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, buf, sizeof(buf));
		if (buf[0] && !array_has(ips, buf))
			json_array_append_new(ips, json_string(buf));
		if (fam == AF_PACKET) {
			const struct sockaddr_ll *ll = (const struct sockaddr_ll *)i->ifa_addr;
			uint8_t any = 0;
			size_t n = 0;

			for (int b = 0; b < ll->sll_halen && b < 8; b++) {
				any |= ll->sll_addr[b];
				n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%02X", b ? "-" : "",
						      ll->sll_addr[b]);
			}
			if (any && !array_has(macs, buf))
				json_array_append_new(macs, json_string(buf));
		}
	}
	freeifaddrs(ifs);
	if (json_array_size(ips))
		field_put(host, "ip", json_incref(ips));
	if (json_array_size(macs))
		field_put(host, "mac", json_incref(macs));
	json_decref(ips);
	json_decref(macs);
	return 0;
}

/* The host object, read from the system. NULL on ENOMEM. */
json_t *proc_host_collect(bool netinfo)
{
	json_t *host = json_object();
	char name[256] = "", id[128];
	struct utsname u;
	int rc;

	if (!host)
		return NULL;
	gethostname(name, sizeof(name) - 1);
	rc = put_str(host, "hostname", name);
	rc |= put_str(host, "name", name);
	if (!uname(&u))
		rc |= put_str(host, "architecture", u.machine);
	rc |= add_os(host);
	if (read_line("/etc/machine-id", id, sizeof(id)) || read_line("/var/lib/dbus/machine-id", id, sizeof(id)))
		rc |= put_str(host, "id", id);
	rc |= field_put(host, "containerized", json_boolean(containerized()));
	if (netinfo)
		rc |= add_netinfo(host);
	if (rc) {
		json_decref(host);
		return NULL;
	}
	return host;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void host_free(void *state)
{
	struct host_meta *h = state;

	if (!h)
		return;
	json_decref(h->cached);
	json_buf_free(&h->text);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

static int host_parse(const struct cfg_node *args, void **state, struct cfg_err *err)
{
	struct host_meta *h = calloc(1, sizeof(*h));

	if (!h)
		return cfg_error(err, args, "out of memory");
	h->ttl = 300ull * 1000000000ull;
	h->netinfo = true;
	h->replace_fields = true;
	pthread_mutex_init(&h->lock, NULL);
	if (proc_args("add_host_metadata", host_fields, h, args, err)) {
		host_free(h);
		return -EINVAL;
	}
	*state = h;
	return 0;
}

/* Refresh the cache when older than the ttl; h->lock held. */
static void host_refresh(struct host_meta *h)
{
	uint64_t now = mono_ns();

	if (!h->cached || now - h->cached_at >= h->ttl) {
		json_t *fresh = proc_host_collect(h->netinfo);

		if (fresh) {
			json_decref(h->cached);
			h->cached = fresh;
			h->cached_at = now;
			h->text.len = 0;
			json_buf_lit(&h->text, "\"host\":");
			if (json_write(&h->text, fresh))
				h->text.len = 0;
		}
	}
}

/* A copy of the cached host object. */
static json_t *host_copy(struct host_meta *h)
{
	json_t *copy;

	pthread_mutex_lock(&h->lock);
	host_refresh(h);
	copy = h->cached ? json_deep_copy(h->cached) : NULL;
	pthread_mutex_unlock(&h->lock);
	return copy;
}

static int host_run(void *state, json_t *ev)
{
	struct host_meta *h = state;
	json_t *host;

	if (!h->replace_fields && json_object_get(ev, "host"))
		return PROC_KEEP;
	if (!(host = host_copy(h)))
		return -ENOMEM;
	return json_object_set_new(ev, "host", host) ? -ENOMEM : PROC_KEEP;
}

static const char *host_key(void *state)
{
	return "host"; /* an event that has one takes the tree path: replaced or kept there */
}

static int host_append(void *state, struct json_buf *b)
{
	struct host_meta *h = state;
	int rc = -ENOMEM;

	pthread_mutex_lock(&h->lock);
	host_refresh(h);
	if (h->text.len)
		rc = json_buf_put(b, h->text.p, h->text.len);
	pthread_mutex_unlock(&h->lock);
	return rc;
}

const struct proc_ops proc_add_host_metadata = {
	.name = "add_host_metadata",
	.parse = host_parse,
	.run = host_run,
	.free = host_free,
	.text_key = host_key,
	.append = host_append,
};
