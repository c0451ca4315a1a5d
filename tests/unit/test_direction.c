/* network.direction (user/event/direction.c) and the event times' precision (user/util/timefmt.c). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "event/direction.h"
#include "netlist.h"
#include "util/timefmt.h"

static struct ip_addr addr(const char *s)
{
	struct ip_addr a = { .family = strchr(s, ':') ? 6 : 4 };

	cr_assert_eq(inet_pton(a.family == 6 ? AF_INET6 : AF_INET, s, a.a), 1, "%s", s);
	return a;
}

static struct netlist *list_of(const char *const *entries)
{
	struct netlist *nl = netlist_new();

	cr_assert_not_null(nl);
	for (; *entries; entries++)
		cr_assert_eq(netlist_add(nl, *entries), 0, "%s", *entries);
	return nl;
}

static const char *dir(const struct netlist *host, const struct netlist *internal, const char *src, const char *dst)
{
	struct ip_addr s = addr(src), d = addr(dst);

	return direction_of(host, internal, &s, &d);
}

/* A host with one address of its own, 192.0.2.7, besides what Packetbeat always counts as the host's. */
static struct netlist *test_host(void)
{
	static const char *const e[] = { "loopback", "link_local_unicast", "link_local_multicast", "192.0.2.7", NULL };

	return list_of(e);
}

Test(direction, the_host_side_first_ingress_before_egress)
{
	struct netlist *host = test_host();
	static const char *const priv[] = { "private", "192.0.2.0/24", NULL };
	struct netlist *internal = list_of(priv);

	cr_assert_str_eq(dir(host, NULL, "203.0.113.1", "192.0.2.7"), "ingress");
	cr_assert_str_eq(dir(host, NULL, "192.0.2.7", "203.0.113.1"), "egress");
	cr_assert_str_eq(dir(host, NULL, "127.0.0.1", "127.0.0.1"), "ingress",
			 "loopback to loopback: the destination wins");
	cr_assert_str_eq(dir(host, NULL, "127.0.0.1", "203.0.113.1"), "egress");
	cr_assert_str_eq(dir(host, NULL, "::1", "::1"), "ingress");
	cr_assert_str_eq(dir(host, NULL, "203.0.113.1", "169.254.1.1"), "ingress", "link-local unicast");
	cr_assert_str_eq(dir(host, NULL, "fe80::1", "2001:db8::1"), "egress", "link-local unicast v6");
	cr_assert_str_eq(dir(host, NULL, "203.0.113.1", "224.0.0.251"), "ingress", "link-local multicast");
	cr_assert_str_eq(dir(host, internal, "192.0.2.7", "192.0.2.8"), "egress",
			 "the host side wins over the perimeter");
	netlist_free(internal);
	netlist_free(host);
}

Test(direction, perimeter_only_with_internal_networks)
{
	struct netlist *host = test_host();
	static const char *const priv[] = { "private", NULL };
	struct netlist *internal = list_of(priv), *empty = netlist_new();

	cr_assert_str_eq(dir(host, NULL, "10.0.0.1", "203.0.113.1"), "unknown");
	cr_assert_str_eq(dir(host, empty, "10.0.0.1", "203.0.113.1"), "unknown", "an empty list is no perimeter");
	cr_assert_str_eq(dir(host, internal, "10.0.0.1", "203.0.113.1"), "outbound");
	cr_assert_str_eq(dir(host, internal, "203.0.113.1", "10.0.0.1"), "inbound");
	cr_assert_str_eq(dir(host, internal, "10.0.0.1", "192.168.1.1"), "internal");
	cr_assert_str_eq(dir(host, internal, "203.0.113.1", "198.51.100.1"), "external");
	cr_assert_str_eq(dir(host, internal, "fd00::1", "2001:db8::1"), "outbound", "IPv6 unique local is private");
	cr_assert_str_eq(dir(NULL, internal, "10.0.0.1", "10.0.0.2"), "internal", "no host list: perimeter only");
	netlist_free(empty);
	netlist_free(internal);
	netlist_free(host);
}

Test(direction, system_host_networks_hold_loopback_and_link_local)
{
	struct netlist *host = direction_host_networks();

	cr_assert_not_null(host);
	cr_assert_geq(netlist_len(host), 3);
	cr_assert_str_eq(dir(host, NULL, "203.0.113.1", "127.0.0.1"), "ingress");
	cr_assert_str_eq(dir(host, NULL, "fe80::2", "203.0.113.1"), "egress");
	netlist_free(host);
}

Test(direction, perimeter_names)
{
	cr_assert_str_eq(direction_perimeter(true, true), "internal");
	cr_assert_str_eq(direction_perimeter(true, false), "outbound");
	cr_assert_str_eq(direction_perimeter(false, true), "inbound");
	cr_assert_str_eq(direction_perimeter(false, false), "external");
}

static const char *fine(uint64_t ns)
{
	static char buf[TIMEFMT_FINE_MAX + 1];
	struct timefmt tf = { 0 };
	size_t n = timefmt_iso_fine(&tf, ns, buf);

	cr_assert_leq(n, TIMEFMT_FINE_MAX);
	buf[n] = '\0';
	return buf;
}

Test(timefmt, fine_keeps_the_digits_the_time_has)
{
	const uint64_t s = 1764700000ull * 1000000000ull; /* 2025-12-02T18:26:40Z */

	cr_assert_str_eq(fine(s + 123456789), "2025-12-02T18:26:40.123456789Z");
	cr_assert_str_eq(fine(s + 123456000), "2025-12-02T18:26:40.123456Z", "a pcap's microseconds");
	cr_assert_str_eq(fine(s + 123000000), "2025-12-02T18:26:40.123Z");
	cr_assert_str_eq(fine(s + 1000), "2025-12-02T18:26:40.000001Z");
	cr_assert_str_eq(fine(s), "2025-12-02T18:26:40.000Z", "at least milliseconds");
	cr_assert_str_eq(fine(s + 100), "2025-12-02T18:26:40.000000100Z");
}

Test(timefmt, iso_stays_milliseconds)
{
	char buf[TIMEFMT_LEN + 1];
	struct timefmt tf = { 0 };

	cr_assert_eq(timefmt_iso(&tf, 1764700000ull * 1000000000ull + 123456789, buf), TIMEFMT_LEN);
	buf[TIMEFMT_LEN] = '\0';
	cr_assert_str_eq(buf, "2025-12-02T18:26:40.123Z");
}
