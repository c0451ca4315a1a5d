/*
 * Attaching the capture programs to interfaces.
 *
 * XDP (ingress) and TC (egress) are attached through bpf_links, which the
 * kernel removes when the daemon's file descriptors close — on exit and on
 * a crash (kill -9) alike, so nothing is left behind. Kernels without tcx
 * (< 6.6) fall back to a clsact filter at a fixed handle/priority that a
 * restart replaces. Programs attached the legacy way by an earlier xdpbeat
 * are detached before attaching (recognised by program name).
 * Loopback gets XDP only: generic XDP on lo sees every packet once.
 */
#include <errno.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "capture_int.h"

#define ARPHRD_ETHER_ 1
#define ARPHRD_LOOPBACK_ 772
/* enum bpf_attach_type values newer than the installed uapi headers. */
#define XB_ATTACH_TCX_EGRESS 47

/* Read /sys/class/net/<name>/<attr> as a number (base 0). -1 if missing. */
static long sysfs_num(const char *name, const char *attr)
{
	char path[128], buf[32];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", name, attr);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f))
		v = strtol(buf, NULL, 0);
	fclose(f);
	return v;
}

static bool iface_listed(const struct capture_ifaces *l, int ifindex)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].ifindex == ifindex)
			return true;
	return false;
}

static int iface_add(struct capture_ifaces *l, const char *name, int ifindex, long type)
{
	struct capture_iface *v, *it;

	if (iface_listed(l, ifindex))
		return 0;
	v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	l->v = v;
	it = &v[l->n++];
	memset(it, 0, sizeof(*it));
	snprintf(it->name, sizeof(it->name), "%s", name);
	it->ifindex = ifindex;
	it->loopback = type == ARPHRD_LOOPBACK_;
	it->xdp_link = -1;
	it->tc_link = -1;
	return 0;
}

static bool type_supported(long type)
{
	return type == ARPHRD_ETHER_ || type == ARPHRD_LOOPBACK_;
}

/* "any": every interface that is up and has Ethernet framing (lo included). */
static int resolve_any(struct capture_ifaces *l, char *err, size_t errlen)
{
	struct if_nameindex *all, *p;
	int ret = 0;

	all = if_nameindex();
	if (!all) {
		snprintf(err, errlen, "cannot list interfaces: %s", strerror(errno));
		return -errno;
	}
	for (p = all; p->if_index && !ret; p++) {
		long flags = sysfs_num(p->if_name, "flags");

		if (flags < 0 || !(flags & IFF_UP) || !type_supported(sysfs_num(p->if_name, "type")))
			continue;
		ret = iface_add(l, p->if_name, (int)p->if_index, sysfs_num(p->if_name, "type"));
	}
	if_freenameindex(all);
	if (!ret && l->n == 0) {
		snprintf(err, errlen, "interfaces: any: no interface is up");
		ret = -ENODEV;
	}
	return ret;
}

int capture_ifaces_resolve(struct capture_ifaces *l, const struct strlist *names, char *err, size_t errlen)
{
	int ret;

	if (!names || names->n == 0 || strlist_has(names, "any", true))
		return resolve_any(l, err, errlen);
	for (size_t i = 0; i < names->n; i++) {
		const char *name = names->v[i];
		unsigned idx = if_nametoindex(name);
		long type;

		if (!idx) {
			snprintf(err, errlen, "interface '%s' not found", name);
			return -ENODEV;
		}
		type = sysfs_num(name, "type");
		if (!type_supported(type)) {
			snprintf(err, errlen, "interface '%s': link type %ld has no Ethernet framing (not supported)",
				 name, type);
			return -EOPNOTSUPP;
		}
		ret = iface_add(l, name, (int)idx, type);
		if (ret) {
			snprintf(err, errlen, "out of memory");
			return ret;
		}
	}
	return 0;
}

/* Name of the program with this id ("" if gone). */
static void prog_name(__u32 id, char *buf, size_t len)
{
	struct bpf_prog_info info;
	__u32 ilen = sizeof(info);
	int fd;

	buf[0] = '\0';
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return;
	memset(&info, 0, sizeof(info));
	if (!bpf_obj_get_info_by_fd(fd, &info, &ilen))
		snprintf(buf, len, "%s", info.name);
	close(fd);
}

/*
 * Detach a legacy-attached xdpbeat XDP program (left by an older daemon).
 * -EBUSY + err when a foreign program holds the interface.
 */
static int xdp_clear_stale(const struct capture_iface *it, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct {
		__u32 id;
		__u32 mode;
	} att[2];
	char name[BPF_OBJ_NAME_LEN];

	if (bpf_xdp_query(it->ifindex, 0, &q))
		return 0;
	att[0].id = q.skb_prog_id;
	att[0].mode = XDP_FLAGS_SKB_MODE;
	att[1].id = q.drv_prog_id;
	att[1].mode = XDP_FLAGS_DRV_MODE;
	for (int i = 0; i < 2; i++) {
		if (!att[i].id)
			continue;
		prog_name(att[i].id, name, sizeof(name));
		if (strcmp(name, CAPTURE_XDP_PROG_NAME)) {
			snprintf(err, errlen, "%s: an XDP program is already attached ('%s', id %u); not replacing it",
				 it->name, name, att[i].id);
			return -EBUSY;
		}
		/* Fails with EBUSY when a live daemon holds it through a link. */
		if (bpf_xdp_detach(it->ifindex, att[i].mode, NULL)) {
			snprintf(err, errlen, "%s: another xdpbeat is attached (XDP prog id %u)", it->name,
				 att[i].id);
			return -EBUSY;
		}
		fprintf(stderr, "xdpbeat: %s: detached a stale xdpbeat XDP program (id %u)\n", it->name, att[i].id);
	}
	return 0;
}

static int xdp_attach(struct capture_iface *it, int prog_fd, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts);
	int fd, ret;

	ret = xdp_clear_stale(it, err, errlen);
	if (ret)
		return ret;
	/* Native mode where the driver has it; generic (SKB) otherwise. */
	opts.flags = it->loopback ? XDP_FLAGS_SKB_MODE : 0;
	fd = bpf_link_create(prog_fd, it->ifindex, BPF_XDP, &opts);
	if (fd < 0 && !it->loopback) {
		opts.flags = XDP_FLAGS_SKB_MODE;
		fd = bpf_link_create(prog_fd, it->ifindex, BPF_XDP, &opts);
	}
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot attach XDP: %s", it->name, strerror(-fd));
		return fd;
	}
	it->xdp_link = fd;
	return 0;
}

/* Remove an xdpbeat filter at our clsact handle/priority (legacy attach or crashed fallback). */
static void tc_clear_stale(const struct capture_iface *it, bool *hook_exists)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = it->ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = CAPTURE_TC_HANDLE, .priority = CAPTURE_TC_PRIO);
	char name[BPF_OBJ_NAME_LEN];

	*hook_exists = false;
	if (bpf_tc_query(&hook, &q))
		return;
	*hook_exists = true;
	prog_name(q.prog_id, name, sizeof(name));
	if (strcmp(name, CAPTURE_TC_PROG_NAME))
		return;
	q.prog_id = 0;
	q.prog_fd = 0;
	q.flags = 0;
	if (!bpf_tc_detach(&hook, &q))
		fprintf(stderr, "xdpbeat: %s: detached a stale xdpbeat tc filter\n", it->name);
}

/* Fallback for kernels without tcx: clsact egress filter, replaced if present. */
static int tc_attach_netlink(struct capture_iface *it, int prog_fd, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = it->ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = CAPTURE_TC_HANDLE, .priority = CAPTURE_TC_PRIO,
		    .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE);
	int ret;

	ret = bpf_tc_hook_create(&hook);
	if (ret && ret != -EEXIST) {
		snprintf(err, errlen, "%s: cannot create clsact qdisc: %s", it->name, strerror(-ret));
		return ret;
	}
	it->tc_hook_created = ret == 0;
	ret = bpf_tc_attach(&hook, &opts);
	if (ret) {
		snprintf(err, errlen, "%s: cannot attach tc egress filter: %s", it->name, strerror(-ret));
		return ret;
	}
	it->tc_netlink = true;
	return 0;
}

static int tc_attach(struct capture_iface *it, int prog_fd, char *err, size_t errlen)
{
	bool hook_exists;
	int fd;

	tc_clear_stale(it, &hook_exists);
	fd = bpf_link_create(prog_fd, it->ifindex, XB_ATTACH_TCX_EGRESS, NULL);
	if (fd >= 0) {
		it->tc_link = fd;
		return 0;
	}
	return tc_attach_netlink(it, prog_fd, err, errlen);
}

static void tc_detach_netlink(struct capture_iface *it)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = it->ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = CAPTURE_TC_HANDLE, .priority = CAPTURE_TC_PRIO);

	bpf_tc_detach(&hook, &opts);
	if (it->tc_hook_created) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
	}
	it->tc_netlink = false;
	it->tc_hook_created = false;
}

static void iface_detach(struct capture_iface *it)
{
	if (it->xdp_link >= 0) {
		bpf_link_detach(it->xdp_link);
		close(it->xdp_link);
		it->xdp_link = -1;
	}
	if (it->tc_link >= 0) {
		bpf_link_detach(it->tc_link);
		close(it->tc_link);
		it->tc_link = -1;
	}
	if (it->tc_netlink)
		tc_detach_netlink(it);
}

int capture_ifaces_attach(struct capture_ifaces *l, int xdp_fd, int tc_fd, char *err, size_t errlen)
{
	int ret = 0;

	for (size_t i = 0; i < l->n && !ret; i++) {
		struct capture_iface *it = &l->v[i];

		ret = xdp_attach(it, xdp_fd, err, errlen);
		if (!ret && !it->loopback)
			ret = tc_attach(it, tc_fd, err, errlen);
	}
	if (ret)
		for (size_t i = 0; i < l->n; i++)
			iface_detach(&l->v[i]);
	return ret;
}

void capture_ifaces_free(struct capture_ifaces *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		iface_detach(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}
