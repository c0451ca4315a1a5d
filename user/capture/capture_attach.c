/*
 * Attaching the capture programs to interfaces.
 *
 * Ingress: XDP in native mode on physical NICs (the program runs before any
 * skb exists). On virtual devices (veth, lo, bridges...) "native" XDP means
 * converting every skb and generic XDP copies every cloned or non-linear
 * skb: measured on this machine, iperf3 over a veth pair fell from 15 to 4
 * Gbit/s (native) and loopback from 24 to 17 Gbit/s (generic), while a TC
 * ingress program cost nothing measurable. So virtual devices, and NICs whose
 * driver refuses native XDP, get the TC program on ingress instead.
 * XDPBEAT_INGRESS=xdp forces XDP (native, else generic), =tc forces TC.
 * Egress: TC. Loopback: one hook only (ingress sees every packet once).
 *
 * Programs are attached through bpf_links (XDP, tcx), which the kernel
 * removes when the daemon's file descriptors close — on exit and on a crash
 * (kill -9) alike. Kernels without tcx (< 6.6) fall back to clsact filters
 * at a fixed handle/priority that a restart replaces. Programs left attached
 * the legacy way by an earlier xdpbeat are detached first (by program name).
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
#include "log.h"

#define ARPHRD_ETHER_ 1
#define ARPHRD_LOOPBACK_ 772
/* enum bpf_attach_type values newer than the installed uapi headers. */
#define XB_ATTACH_TCX_INGRESS 46
#define XB_ATTACH_TCX_EGRESS 47
/* tcx (bpf_mprog) placement flags, newer than the installed uapi headers too. */
#define XB_F_BEFORE (1U << 3)

enum ingress_mode {
	INGRESS_AUTO,
	INGRESS_XDP,
	INGRESS_TC,
};

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

/* A device backed by hardware (PCI, virtio...) has a sysfs "device" link. */
static bool is_physical(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/class/net/%s/device", name);
	return access(path, F_OK) == 0;
}

static enum ingress_mode ingress_mode(void)
{
	const char *e = getenv("XDPBEAT_INGRESS");

	if (e && !strcmp(e, "xdp"))
		return INGRESS_XDP;
	if (e && !strcmp(e, "tc"))
		return INGRESS_TC;
	return INGRESS_AUTO;
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
	it->physical = is_physical(name);
	it->xdp_link = -1;
	it->tc[CAPTURE_TC_IN].link = -1;
	it->tc[CAPTURE_TC_OUT].link = -1;
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
		long type = sysfs_num(p->if_name, "type");

		if (flags < 0 || !(flags & IFF_UP) || !type_supported(type))
			continue;
		ret = iface_add(l, p->if_name, (int)p->if_index, type);
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

/* ---- XDP ---- */

/*
 * Detach a legacy-attached xdpbeat XDP program (left by an older daemon).
 * -EBUSY + err when another program holds the interface.
 */
static int xdp_clear_stale(const struct capture_iface *it, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	__u32 ids[2], modes[2] = { XDP_FLAGS_SKB_MODE, XDP_FLAGS_DRV_MODE };
	char name[BPF_OBJ_NAME_LEN];

	if (bpf_xdp_query(it->ifindex, 0, &q))
		return 0;
	ids[0] = q.skb_prog_id;
	ids[1] = q.drv_prog_id;
	for (int i = 0; i < 2; i++) {
		if (!ids[i])
			continue;
		prog_name(ids[i], name, sizeof(name));
		if (strcmp(name, CAPTURE_XDP_PROG_NAME)) {
			snprintf(err, errlen, "%s: an XDP program is already attached ('%s', id %u); not replacing it",
				 it->name, name, ids[i]);
			return -EBUSY;
		}
		/* Fails with EBUSY when a live daemon holds it through a link. */
		if (bpf_xdp_detach(it->ifindex, modes[i], NULL)) {
			snprintf(err, errlen, "%s: another xdpbeat is attached (XDP program id %u)", it->name, ids[i]);
			return -EBUSY;
		}
		log_warn("%s: detached a stale xdpbeat XDP program (id %u)", it->name, ids[i]);
	}
	return 0;
}

/* XDP link in native mode; generic mode too when allowed. */
static int xdp_attach(struct capture_iface *it, int prog_fd, bool allow_generic, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts);
	int fd, ret;

	ret = xdp_clear_stale(it, err, errlen);
	if (ret)
		return ret;
	opts.flags = it->loopback ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	fd = bpf_link_create(prog_fd, it->ifindex, BPF_XDP, &opts);
	if (fd < 0 && allow_generic && !it->loopback) {
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

/* ---- TC ---- */

static enum bpf_tc_attach_point tc_point(int dir)
{
	return dir == CAPTURE_TC_IN ? BPF_TC_INGRESS : BPF_TC_EGRESS;
}

/* Remove an xdpbeat filter at our clsact handle/priority (legacy attach or crashed fallback). */
static void tc_clear_stale(const struct capture_iface *it, int dir)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = it->ifindex, .attach_point = tc_point(dir));
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = CAPTURE_TC_HANDLE, .priority = CAPTURE_TC_PRIO);
	char name[BPF_OBJ_NAME_LEN];

	if (bpf_tc_query(&hook, &q))
		return;
	prog_name(q.prog_id, name, sizeof(name));
	if (strcmp(name, CAPTURE_TC_PROG_NAME))
		return;
	q.prog_id = 0;
	q.prog_fd = 0;
	q.flags = 0;
	if (!bpf_tc_detach(&hook, &q))
		log_warn("%s: detached a stale xdpbeat tc filter", it->name);
}

/* Fallback for kernels without tcx: clsact filter, replaced if present. */
static int tc_attach_netlink(struct capture_iface *it, int dir, int prog_fd, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = it->ifindex, .attach_point = tc_point(dir));
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = CAPTURE_TC_HANDLE, .priority = CAPTURE_TC_PRIO, .prog_fd = prog_fd,
		    .flags = BPF_TC_F_REPLACE);
	int ret;

	ret = bpf_tc_hook_create(&hook);
	if (ret && ret != -EEXIST) {
		snprintf(err, errlen, "%s: cannot create clsact qdisc: %s", it->name, strerror(-ret));
		return ret;
	}
	if (ret == 0)
		it->clsact_created = true;
	ret = bpf_tc_attach(&hook, &opts);
	if (ret) {
		snprintf(err, errlen, "%s: cannot attach tc %s filter: %s", it->name,
			 dir == CAPTURE_TC_IN ? "ingress" : "egress", strerror(-ret));
		return ret;
	}
	it->tc[dir].netlink = true;
	return 0;
}

/*
 * tcx: on ingress first in the chain (see packets before other programs
 * redirect or drop them), on egress last (see them as they leave). The
 * program returns TCX_NEXT, so the others run as before.
 */
static int tc_attach(struct capture_iface *it, int dir, int prog_fd, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = dir == CAPTURE_TC_IN ? XB_F_BEFORE : 0);
	int fd;

	tc_clear_stale(it, dir);
	fd = bpf_link_create(prog_fd, it->ifindex, dir == CAPTURE_TC_IN ? XB_ATTACH_TCX_INGRESS : XB_ATTACH_TCX_EGRESS,
			     &opts);
	if (fd >= 0) {
		it->tc[dir].link = fd;
		return 0;
	}
	return tc_attach_netlink(it, dir, prog_fd, err, errlen);
}

static void tc_detach_netlink(struct capture_iface *it, int dir)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = it->ifindex, .attach_point = tc_point(dir));
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = CAPTURE_TC_HANDLE, .priority = CAPTURE_TC_PRIO);

	bpf_tc_detach(&hook, &opts);
	it->tc[dir].netlink = false;
}

/* ---- per interface ---- */

static int ingress_attach(struct capture_iface *it, int xdp_fd, int tc_fd, char *err, size_t errlen)
{
	enum ingress_mode mode = ingress_mode();
	int ret;

	if (mode == INGRESS_TC || (mode == INGRESS_AUTO && !it->physical)) {
		char ignored[256];

		/* A stale xdpbeat XDP program would report every packet twice. */
		xdp_clear_stale(it, ignored, sizeof(ignored));
		return tc_attach(it, CAPTURE_TC_IN, tc_fd, err, errlen);
	}
	ret = xdp_attach(it, xdp_fd, mode == INGRESS_XDP, err, errlen);
	if (ret && mode == INGRESS_AUTO && ret != -EBUSY) {
		/* The driver has no native XDP: TC ingress costs less than generic XDP. */
		err[0] = '\0';
		ret = tc_attach(it, CAPTURE_TC_IN, tc_fd, err, errlen);
	}
	return ret;
}

static void iface_detach(struct capture_iface *it)
{
	if (it->xdp_link >= 0) {
		bpf_link_detach(it->xdp_link);
		close(it->xdp_link);
		it->xdp_link = -1;
	}
	for (int dir = 0; dir < 2; dir++) {
		if (it->tc[dir].link >= 0) {
			bpf_link_detach(it->tc[dir].link);
			close(it->tc[dir].link);
			it->tc[dir].link = -1;
		}
		if (it->tc[dir].netlink)
			tc_detach_netlink(it, dir);
	}
	if (it->clsact_created) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = it->ifindex, .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

		bpf_tc_hook_destroy(&hook);
		it->clsact_created = false;
	}
}

int capture_ifaces_attach(struct capture_ifaces *l, int xdp_fd, int tc_fd, char *err, size_t errlen)
{
	int ret = 0;

	for (size_t i = 0; i < l->n && !ret; i++) {
		struct capture_iface *it = &l->v[i];

		ret = ingress_attach(it, xdp_fd, tc_fd, err, errlen);
		if (!ret && !it->loopback)
			ret = tc_attach(it, CAPTURE_TC_OUT, tc_fd, err, errlen);
		log_debug("capture", "%s (ifindex %d): %s%s%s", it->name, it->ifindex, ret ? "attach failed: " : "",
			  ret		      ? err
			  : it->xdp_link >= 0 ? "XDP ingress"
					      : "tc ingress",
			  ret || it->loopback ? "" : ", tc egress");
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
