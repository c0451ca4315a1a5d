/*
 * DNS message decoding: header, questions, resource records (rdata to
 * text per type), name decompression with loop and bounds checks, EDNS(0)
 * OPT, and an optional dig-like text dump. See dns.h for the contract.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "dns.h"
#include "dns_rdata.h"
#include "json_buf.h"
#include "proto.h"
#include "reader.h"

/* ---- capped string builder ---- */

static bool sb_reserve(struct dns_sb *sb, size_t n)
{
	size_t want, cap;
	char *p;

	if (sb->trunc)
		return false;
	if (n > DNS_TEXT_MAX || sb->len + n + 1 > DNS_TEXT_MAX) {
		sb->trunc = true;
		return false;
	}
	want = sb->len + n + 1;
	if (want <= sb->cap)
		return true;
	cap = sb->cap ? sb->cap : 128;
	while (cap < want)
		cap *= 2;
	p = realloc(sb->p, cap);
	if (!p) {
		sb->trunc = true;
		return false;
	}
	sb->p = p;
	sb->cap = cap;
	return true;
}

void dns_sb_putn(struct dns_sb *sb, const char *s, size_t n)
{
	if (!sb_reserve(sb, n))
		return;
	memcpy(sb->p + sb->len, s, n);
	sb->len += n;
	sb->p[sb->len] = '\0';
}

void dns_sb_puts(struct dns_sb *sb, const char *s)
{
	dns_sb_putn(sb, s, strlen(s));
}

void dns_sb_putc(struct dns_sb *sb, char c)
{
	dns_sb_putn(sb, &c, 1);
}

void dns_sb_printf(struct dns_sb *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !sb_reserve(sb, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(sb->p + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

const char *dns_sb_str(const struct dns_sb *sb)
{
	return sb->p ? sb->p : "";
}

void dns_sb_free(struct dns_sb *sb)
{
	free(sb->p);
	memset(sb, 0, sizeof(*sb));
}

void dns_sb_hex(struct dns_sb *sb, const uint8_t *p, size_t n, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";

	if (!sb_reserve(sb, n * 2))
		return;
	for (size_t i = 0; i < n; i++) {
		sb->p[sb->len++] = digits[p[i] >> 4];
		sb->p[sb->len++] = digits[p[i] & 15];
	}
	sb->p[sb->len] = '\0';
}

void dns_sb_base64(struct dns_sb *sb, const uint8_t *in, size_t n)
{
	if (!sb_reserve(sb, base64_len(n)))
		return;
	sb->len += base64_encode(in, n, sb->p + sb->len);
}

/* Character-string bytes: '"' and '\' escaped, non-printables as \DDD. */
static void sb_escaped(struct dns_sb *sb, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] < 0x20 || p[i] > 0x7e)
			dns_sb_printf(sb, "\\%03u", p[i]);
		else if (p[i] == '"' || p[i] == '\\')
			dns_sb_printf(sb, "\\%c", p[i]);
		else
			dns_sb_putc(sb, (char)p[i]);
	}
}

/* ---- mnemonics ---- */

struct dns_mnemonic {
	uint16_t v;
	const char *s;
};

static const struct dns_mnemonic dns_types[] = {
	{ 1, "A" },	      { 2, "NS" },	{ 3, "MD" },	    { 4, "MF" },       { 5, "CNAME" },
	{ 6, "SOA" },	      { 7, "MB" },	{ 8, "MG" },	    { 9, "MR" },       { 10, "NULL" },
	{ 11, "WKS" },	      { 12, "PTR" },	{ 13, "HINFO" },    { 14, "MINFO" },   { 15, "MX" },
	{ 16, "TXT" },	      { 17, "RP" },	{ 18, "AFSDB" },    { 19, "X25" },     { 20, "ISDN" },
	{ 21, "RT" },	      { 22, "NSAP" },	{ 23, "NSAP-PTR" }, { 24, "SIG" },     { 25, "KEY" },
	{ 26, "PX" },	      { 27, "GPOS" },	{ 28, "AAAA" },	    { 29, "LOC" },     { 30, "NXT" },
	{ 31, "EID" },	      { 32, "NIMLOC" }, { 33, "SRV" },	    { 34, "ATMA" },    { 35, "NAPTR" },
	{ 36, "KX" },	      { 37, "CERT" },	{ 38, "A6" },	    { 39, "DNAME" },   { 40, "SINK" },
	{ 41, "OPT" },	      { 42, "APL" },	{ 43, "DS" },	    { 44, "SSHFP" },   { 45, "IPSECKEY" },
	{ 46, "RRSIG" },      { 47, "NSEC" },	{ 48, "DNSKEY" },   { 49, "DHCID" },   { 50, "NSEC3" },
	{ 51, "NSEC3PARAM" }, { 52, "TLSA" },	{ 53, "SMIMEA" },   { 55, "HIP" },     { 56, "NINFO" },
	{ 57, "RKEY" },	      { 58, "TALINK" }, { 59, "CDS" },	    { 60, "CDNSKEY" }, { 61, "OPENPGPKEY" },
	{ 62, "CSYNC" },      { 63, "ZONEMD" }, { 64, "SVCB" },	    { 65, "HTTPS" },   { 99, "SPF" },
	{ 100, "UINFO" },     { 101, "UID" },	{ 102, "GID" },	    { 103, "UNSPEC" }, { 104, "NID" },
	{ 105, "L32" },	      { 106, "L64" },	{ 107, "LP" },	    { 108, "EUI48" },  { 109, "EUI64" },
	{ 249, "TKEY" },      { 250, "TSIG" },	{ 251, "IXFR" },    { 252, "AXFR" },   { 253, "MAILB" },
	{ 254, "MAILA" },     { 255, "ANY" },	{ 256, "URI" },	    { 257, "CAA" },    { 258, "AVC" },
	{ 260, "AMTRELAY" },  { 32768, "TA" },	{ 32769, "DLV" },
};

static const struct dns_mnemonic dns_classes[] = {
	{ 1, "IN" }, { 2, "CS" }, { 3, "CH" }, { 4, "HS" }, { 254, "NONE" }, { 255, "ANY" },
};

static const struct dns_mnemonic dns_rcodes[] = {
	{ 0, "NOERROR" },  { 1, "FORMERR" },  { 2, "SERVFAIL" },  { 3, "NXDOMAIN" },   { 4, "NOTIMP" },
	{ 5, "REFUSED" },  { 6, "YXDOMAIN" }, { 7, "YXRRSET" },	  { 8, "NXRRSET" },    { 9, "NOTAUTH" },
	{ 10, "NOTZONE" }, { 16, "BADSIG" },  { 17, "BADKEY" },	  { 18, "BADTIME" },   { 19, "BADMODE" },
	{ 20, "BADNAME" }, { 21, "BADALG" },  { 22, "BADTRUNC" }, { 23, "BADCOOKIE" },
};

static const struct dns_mnemonic dns_opcodes[] = {
	{ 0, "QUERY" }, { 1, "IQUERY" }, { 2, "STATUS" }, { 4, "NOTIFY" }, { 5, "UPDATE" },
};

static const struct dns_mnemonic dns_algorithms[] = {
	{ 1, "RSAMD5" },
	{ 2, "DH" },
	{ 3, "DSA" },
	{ 5, "RSASHA1" },
	{ 6, "DSA-NSEC3-SHA1" },
	{ 7, "RSASHA1-NSEC3-SHA1" },
	{ 8, "RSASHA256" },
	{ 10, "RSASHA512" },
	{ 12, "ECC-GOST" },
	{ 13, "ECDSAP256SHA256" },
	{ 14, "ECDSAP384SHA384" },
	{ 15, "ED25519" },
	{ 16, "ED448" },
	{ 252, "INDIRECT" },
	{ 253, "PRIVATEDNS" },
	{ 254, "PRIVATEOID" },
};

static const struct dns_mnemonic dns_digests[] = {
	{ 1, "SHA1" }, { 2, "SHA256" }, { 3, "GOST94" }, { 4, "SHA384" }, { 5, "SHA512" },
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char *mnemonic(const struct dns_mnemonic *tbl, size_t n, uint16_t v, char *buf, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (tbl[i].v == v)
			return tbl[i].s;
	snprintf(buf, len, "%u", v);
	return buf;
}

const char *dns_type_str(uint16_t type, char *buf, size_t len)
{
	return mnemonic(dns_types, ARRAY_LEN(dns_types), type, buf, len);
}

const char *dns_class_str(uint16_t cls, char *buf, size_t len)
{
	return mnemonic(dns_classes, ARRAY_LEN(dns_classes), cls, buf, len);
}

/* Unknown response codes read "Unknown 11", as Packetbeat prints them. */
const char *dns_rcode_str(uint16_t rcode, char *buf, size_t len)
{
	for (size_t i = 0; i < ARRAY_LEN(dns_rcodes); i++)
		if (dns_rcodes[i].v == rcode)
			return dns_rcodes[i].s;
	snprintf(buf, len, "Unknown %u", rcode);
	return buf;
}

const char *dns_opcode_str(uint8_t opcode, char *buf, size_t len)
{
	return mnemonic(dns_opcodes, ARRAY_LEN(dns_opcodes), opcode, buf, len);
}

const char *dns_algorithm_str(uint8_t alg, char *buf, size_t len)
{
	return mnemonic(dns_algorithms, ARRAY_LEN(dns_algorithms), alg, buf, len);
}

const char *dns_digest_str(uint8_t d, char *buf, size_t len)
{
	return mnemonic(dns_digests, ARRAY_LEN(dns_digests), d, buf, len);
}

/* ---- names ---- */

/* Append one label in presentation form. Returns the new length, or 0 when out would overflow. */
static size_t put_label(char *out, size_t o, size_t outlen, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];

		if (o + 5 >= outlen)
			return 0;
		if (c <= 0x20 || c > 0x7e)
			o += (size_t)snprintf(out + o, outlen - o, "\\%03u", c);
		else if (c == '.' || c == '\\')
			out[o++] = '\\', out[o++] = (char)c;
		else
			out[o++] = (char)c;
	}
	return o;
}

int dns_read_name(const uint8_t *msg, size_t msglen, size_t *off, char *out, size_t outlen)
{
	size_t pos = *off, limit = *off, end = 0, wire = 1, o = 0;
	unsigned hops = 0;

	if (outlen < 2)
		return -EINVAL;
	for (;;) {
		uint8_t c;

		if (pos >= msglen)
			return -EINVAL;
		c = msg[pos];
		if ((c & 0xc0) == 0xc0) {
			size_t target;

			if (pos + 1 >= msglen)
				return -EINVAL;
			target = (size_t)(c & 0x3f) << 8 | msg[pos + 1];
			if (!end)
				end = pos + 2;
			/* Strictly backwards, before everything read so far: no loops, no forward jumps. */
			if (target >= limit || ++hops > DNS_PTR_HOPS_MAX)
				return -EINVAL;
			pos = limit = target;
			continue;
		}
		if (c & 0xc0) /* label length 64..191: extended/obsolete label types */
			return -EINVAL;
		if (c == 0) {
			pos++;
			break;
		}
		wire += (size_t)c + 1;
		if (wire > DNS_NAME_WIRE_MAX || c > msglen - pos - 1)
			return -EINVAL;
		if (o)
			out[o++] = '.';
		o = put_label(out, o, outlen, msg + pos + 1, c);
		if (!o)
			return -EINVAL;
		pos += (size_t)c + 1;
	}
	if (!o)
		out[o++] = '.';
	out[o] = '\0';
	*off = end ? end : pos;
	return 0;
}

/* ---- rdata (the DNSSEC types in dns_dnssec.c) ---- */

/* One more element of a comma-separated list. */
static void list_sep(struct json_buf *b)
{
	if (b->len)
		json_buf_put(b, ",", 1);
}

static int rr_address(struct rdata *x, int family, size_t n)
{
	char buf[INET6_ADDRSTRLEN];
	const uint8_t *p = rd_bytes(&x->r, n);
	struct dns_message *m = x->m;

	if (!p)
		return -EINVAL;
	if (family == AF_INET)
		ipv4_str(p, buf);
	else if (!inet_ntop(family, p, buf, sizeof(buf)))
		return -EINVAL;
	dns_sb_puts(&x->data, buf);
	if (x->sec != DNS_SEC_ANSWER)
		return 0;
	list_sep(&m->resolved_ip);
	json_buf_str(&m->resolved_ip, buf, strlen(buf));
	m->nresolved++;
	return m->resolved_ip.err;
}

static int rr_name_only(struct rdata *x)
{
	char name[DNS_NAME_TEXT_MAX];

	if (rd_name(x, name, sizeof(name)))
		return -EINVAL;
	dns_sb_puts(&x->data, name);
	return 0;
}

static int rr_mx(struct rdata *x)
{
	char name[DNS_NAME_TEXT_MAX];
	uint16_t pref = rd_be16(&x->r);

	if (rd_name(x, name, sizeof(name)))
		return -EINVAL;
	dns_sb_puts(&x->data, name);
	dns_sb_printf(&x->pres, "%u %s", pref, name);
	return obj_int(x->out, "preference", pref);
}

static int rr_txt(struct rdata *x)
{
	bool first = true;

	while (rd_left(&x->r)) {
		uint8_t n = rd_u8(&x->r);
		const uint8_t *p = rd_bytes(&x->r, n);

		if (!p)
			return -EINVAL;
		if (!first) {
			dns_sb_putc(&x->data, ' ');
			dns_sb_putc(&x->pres, ' ');
		}
		first = false;
		sb_escaped(&x->data, p, n);
		dns_sb_putc(&x->pres, '"');
		sb_escaped(&x->pres, p, n);
		dns_sb_putc(&x->pres, '"');
	}
	if (first)
		dns_sb_puts(&x->pres, "\"\"");
	return 0;
}

static int rr_soa(struct rdata *x)
{
	char mname[DNS_NAME_TEXT_MAX], rname[DNS_NAME_TEXT_MAX];
	uint32_t v[5];
	static const char *const keys[5] = { "serial", "refresh", "retry", "expire", "minimum" };
	int err;

	if (rd_name(x, mname, sizeof(mname)) || rd_name(x, rname, sizeof(rname)))
		return -EINVAL;
	for (int i = 0; i < 5; i++)
		v[i] = rd_be32(&x->r);
	if (x->r.err)
		return -EINVAL;
	dns_sb_puts(&x->data, mname);
	dns_sb_printf(&x->pres, "%s %s %u %u %u %u %u", mname, rname, v[0], v[1], v[2], v[3], v[4]);
	err = obj_str(x->out, "rname", rname);
	for (int i = 0; i < 5 && !err; i++)
		err = obj_int(x->out, keys[i], v[i]);
	return err;
}

static int rr_srv(struct rdata *x)
{
	char target[DNS_NAME_TEXT_MAX];
	uint16_t prio = rd_be16(&x->r), weight = rd_be16(&x->r), port = rd_be16(&x->r);

	if (rd_name(x, target, sizeof(target)))
		return -EINVAL;
	dns_sb_puts(&x->data, target);
	dns_sb_printf(&x->pres, "%u %u %u %s", prio, weight, port, target);
	if (obj_int(x->out, "priority", prio) || obj_int(x->out, "weight", weight) || obj_int(x->out, "port", port))
		return -ENOMEM;
	return 0;
}

static int rr_caa(struct rdata *x)
{
	uint8_t flags = rd_u8(&x->r), taglen = rd_u8(&x->r);
	const uint8_t *tag = rd_bytes(&x->r, taglen);
	size_t vlen = rd_left(&x->r);
	const uint8_t *val = rd_bytes(&x->r, vlen);

	if (!tag || !val || taglen == 0)
		return -EINVAL;
	dns_sb_printf(&x->data, "%u ", flags);
	sb_escaped(&x->data, tag, taglen);
	dns_sb_puts(&x->data, " \"");
	sb_escaped(&x->data, val, vlen);
	dns_sb_putc(&x->data, '"');
	return 0;
}

static void svc_key_name(uint16_t key, struct dns_sb *sb)
{
	static const char *const names[] = { "mandatory", "alpn", "no-default-alpn", "port",
					     "ipv4hint",  "ech",  "ipv6hint" };

	if (key < ARRAY_LEN(names))
		dns_sb_puts(sb, names[key]);
	else
		dns_sb_printf(sb, "key%u", key);
}

static int svc_addresses(const uint8_t *v, size_t n, int family, size_t alen, struct dns_sb *sb)
{
	char buf[INET6_ADDRSTRLEN];

	if (n == 0 || n % alen)
		return -EINVAL;
	for (size_t i = 0; i < n; i += alen) {
		if (!inet_ntop(family, v + i, buf, sizeof(buf)))
			return -EINVAL;
		if (i)
			dns_sb_putc(sb, ',');
		dns_sb_puts(sb, buf);
	}
	return 0;
}

static int svc_value(uint16_t key, const uint8_t *v, size_t n, struct dns_sb *sb)
{
	struct reader r;

	rd_init(&r, v, n);
	switch (key) {
	case 0: /* mandatory: list of keys */
		if (n == 0 || n % 2)
			return -EINVAL;
		for (size_t i = 0; i < n; i += 2) {
			if (i)
				dns_sb_putc(sb, ',');
			svc_key_name(rd_be16(&r), sb);
		}
		return 0;
	case 1: /* alpn: length-prefixed ids */
		while (rd_left(&r)) {
			uint8_t len = rd_u8(&r);
			const uint8_t *id = rd_bytes(&r, len);

			if (!id || len == 0)
				return -EINVAL;
			if (r.pos > (size_t)len + 1)
				dns_sb_putc(sb, ',');
			sb_escaped(sb, id, len);
		}
		return n ? 0 : -EINVAL;
	case 3:
		if (n != 2)
			return -EINVAL;
		dns_sb_printf(sb, "%u", rd_be16(&r));
		return 0;
	case 4:
		return svc_addresses(v, n, AF_INET, 4, sb);
	case 5:
		dns_sb_base64(sb, v, n);
		return 0;
	case 6:
		return svc_addresses(v, n, AF_INET6, 16, sb);
	default:
		dns_sb_hex(sb, v, n, false);
		return 0;
	}
}

/* SVCB/HTTPS (RFC 9460): "priority target key=value ..." */
static int rr_svcb(struct rdata *x)
{
	char target[DNS_NAME_TEXT_MAX];
	uint16_t prio = rd_be16(&x->r);
	int last_key = -1;

	if (rd_name(x, target, sizeof(target)))
		return -EINVAL;
	dns_sb_printf(&x->data, "%u %s", prio, target);
	while (rd_left(&x->r)) {
		uint16_t key = rd_be16(&x->r), len = rd_be16(&x->r);
		const uint8_t *v = rd_bytes(&x->r, len);

		if (!v || (int)key <= last_key)
			return -EINVAL;
		last_key = key;
		dns_sb_putc(&x->data, ' ');
		svc_key_name(key, &x->data);
		if (key == 2) { /* no-default-alpn: no value */
			if (len)
				return -EINVAL;
			continue;
		}
		dns_sb_putc(&x->data, '=');
		if (svc_value(key, v, len, &x->data))
			return -EINVAL;
	}
	return obj_int(x->out, "priority", prio);
}

static int rr_unknown(struct rdata *x)
{
	size_t n = rd_left(&x->r);
	const uint8_t *p = rd_bytes(&x->r, n);

	if (!p)
		return -EINVAL;
	dns_sb_hex(&x->data, p, n, false);
	dns_sb_printf(&x->pres, "\\# %zu", n);
	if (n) {
		dns_sb_putc(&x->pres, ' ');
		dns_sb_puts(&x->pres, dns_sb_str(&x->data));
	}
	return 0;
}

static int rdata_decode(struct rdata *x)
{
	switch (x->type) {
	case DNS_T_A:
		return rr_address(x, AF_INET, 4);
	case DNS_T_AAAA:
		return rr_address(x, AF_INET6, 16);
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR:
	case DNS_T_DNAME:
		return rr_name_only(x);
	case DNS_T_MX:
		return rr_mx(x);
	case DNS_T_TXT:
	case DNS_T_SPF:
		return rr_txt(x);
	case DNS_T_SOA:
		return rr_soa(x);
	case DNS_T_SRV:
		return rr_srv(x);
	case DNS_T_CAA:
		return rr_caa(x);
	case DNS_T_DS:
	case DNS_T_CDS:
		return dns_rr_ds(x);
	case DNS_T_DNSKEY:
	case DNS_T_CDNSKEY:
		return dns_rr_dnskey(x);
	case DNS_T_RRSIG:
		return dns_rr_rrsig(x);
	case DNS_T_NSEC:
		return dns_rr_nsec(x);
	case DNS_T_NSEC3:
		return dns_rr_nsec3(x);
	case DNS_T_NSEC3PARAM:
		return dns_rr_nsec3param(x);
	case DNS_T_SVCB:
	case DNS_T_HTTPS:
		return rr_svcb(x);
	default:
		return rr_unknown(x);
	}
}

/* ---- EDNS(0) ---- */

static int opt_addr_subnet(const uint8_t *v, size_t n, struct dns_sb *sb)
{
	struct reader r;
	uint16_t family;
	uint8_t src, scope, addr[16] = { 0 };
	size_t alen;
	char buf[INET6_ADDRSTRLEN];

	rd_init(&r, v, n);
	family = rd_be16(&r);
	src = rd_u8(&r);
	scope = rd_u8(&r);
	alen = rd_left(&r);
	if (r.err || (family != 1 && family != 2) || alen > (family == 1 ? 4u : 16u))
		return -EINVAL;
	memcpy(addr, rd_ptr(&r), alen);
	if (!inet_ntop(family == 1 ? AF_INET : AF_INET6, addr, buf, sizeof(buf)))
		return -EINVAL;
	dns_sb_printf(sb, "%s/%u/%u", buf, src, scope);
	return 0;
}

static void opt_algorithms(const uint8_t *v, size_t n, struct dns_sb *sb)
{
	for (size_t i = 0; i < n; i++) {
		char buf[16];

		if (i)
			dns_sb_putc(sb, ' ');
		dns_sb_puts(sb, dns_algorithm_str(v[i], buf, sizeof(buf)));
	}
}

/* One option as Packetbeat's dns.opt key (NULL = not shown) and its text. */
static const char *opt_option(uint16_t code, const uint8_t *v, size_t n, struct dns_sb *sb)
{
	struct reader r;

	rd_init(&r, v, n);
	switch (code) {
	case 1:
		dns_sb_hex(sb, v, n, false);
		return "llq";
	case 2:
		dns_sb_printf(sb, "%u", n >= 4 ? rd_be32(&r) : 0);
		return "ul";
	case 3:
		dns_sb_hex(sb, v, n, false);
		return "nsid";
	case 5:
		opt_algorithms(v, n, sb);
		return "dau";
	case 6:
		opt_algorithms(v, n, sb);
		return "dhu";
	case 7:
		opt_algorithms(v, n, sb);
		return "n3u";
	case 8:
		return opt_addr_subnet(v, n, sb) ? NULL : "subnet";
	case 9:
		if (n == 4)
			dns_sb_printf(sb, "%u", rd_be32(&r));
		return "expire";
	case 10: /* RFC 7873: client cookie (8 bytes) and server cookie, in hex */
		dns_sb_hex(sb, v, n, false);
		return "cookie";
	default:
		if (code >= 65001 && code <= 65534) {
			dns_sb_printf(sb, "%u:0x", code);
			dns_sb_hex(sb, v, n, false);
			return "local";
		}
		return NULL;
	}
}

static int opt_decode(const uint8_t *msg, size_t rdoff, uint16_t rdlen, uint16_t cls, uint32_t ttl,
		      struct dns_message *m, struct dns_sb *text)
{
	struct reader r;
	struct dns_opt *o = &m->opt;

	o->present = true;
	o->udp_size = cls;
	o->ext_rcode = (uint8_t)(ttl >> 24);
	o->version = (uint8_t)(ttl >> 16);
	o->do_bit = ttl & 0x8000;
	if (text)
		dns_sb_printf(text, "; EDNS: version: %u, flags:%s; udp: %u\n", o->version, o->do_bit ? " do" : "",
			      o->udp_size);
	rd_init(&r, msg + rdoff, rdlen);
	while (rd_left(&r)) {
		uint16_t code = rd_be16(&r), n = rd_be16(&r);
		const uint8_t *v = rd_bytes(&r, n);
		struct dns_sb val = { 0 };
		const char *key;

		if (!v)
			return -EINVAL;
		key = opt_option(code, v, n, &val);
		if (text && key) {
			dns_sb_printf(text, "; %s: %s\n", key, dns_sb_str(&val));
		} else if (text) {
			dns_sb_printf(text, "; OPTION %u: ", code);
			dns_sb_hex(text, v, n, false);
			dns_sb_putc(text, '\n');
		}
		if (key) {
			list_sep(&o->options);
			json_buf_key(&o->options, key, 1);
			json_buf_str(&o->options, dns_sb_str(&val), val.len);
		}
		dns_sb_free(&val);
		if (o->options.err)
			return -ENOMEM;
	}
	return 0;
}

/* ---- records and message ---- */

struct decoder {
	const uint8_t *msg;
	size_t len;
	size_t off;
	struct dns_message *m;
	struct dns_sb *text[DNS_SEC_MAX]; /* per-section dump, NULL when not wanted */
	struct dns_sb *opt_text;
};

static void text_record(struct dns_sb *sb, const char *name, uint32_t ttl, const char *cls, const char *type,
			const struct dns_sb *rdata)
{
	dns_sb_printf(sb, "%s\t%u\t%s\t%s\t", name, ttl, cls, type);
	dns_sb_puts(sb, dns_sb_str(rdata));
	dns_sb_putc(sb, '\n');
}

/* Cut b back to len bytes (undo a partly written element). */
static void buf_cut(struct json_buf *b, size_t len)
{
	b->len = len;
	if (b->p)
		b->p[len] = '\0';
}

/* One record appended to its section as {"name","type","class","ttl",<type's own>,"data"}. */
static int record_write(struct decoder *d, enum dns_section sec, const char *name, uint16_t type, uint16_t cls,
			uint32_t ttl, size_t rdoff, uint16_t rdlen)
{
	char tb[16], cb[16];
	const char *ts = dns_type_str(type, tb, sizeof(tb)), *cs = dns_class_str(cls, cb, sizeof(cb));
	struct json_buf *out = &d->m->sections[sec], *ips = &d->m->resolved_ip;
	size_t out_len = out->len, ips_len = ips->len, nips = d->m->nresolved;
	struct rdata x = { .msg = d->msg, .msglen = d->len, .type = type, .sec = sec, .m = d->m, .out = out };
	int err;

	rd_init(&x.r, d->msg, rdoff + rdlen);
	x.r.pos = rdoff;
	list_sep(out);
	json_buf_put(out, "{\"name\":", 8);
	json_buf_str(out, name, strlen(name));
	obj_str(out, "type", ts);
	obj_str(out, "class", cs);
	{
		char t[12]; /* a string, as Packetbeat writes it (the template maps it as long) */

		snprintf(t, sizeof(t), "%u", (unsigned)ttl);
		obj_str(out, "ttl", t);
	}
	err = rdata_decode(&x);
	if (!err && (x.r.err || x.r.pos != x.r.len))
		err = -EINVAL; /* rdata shorter or longer than its fields */
	if (!err) {
		json_buf_key(out, "data", 0);
		json_buf_str(out, dns_sb_str(&x.data), x.data.len);
		json_buf_put(out, "}", 1);
		err = out->err || ips->err ? -ENOMEM : 0;
	}
	if (!err && d->text[sec])
		text_record(d->text[sec], name, ttl, cs, ts, x.pres.len ? &x.pres : &x.data);
	if (!err) {
		d->m->nsection[sec]++;
	} else {
		buf_cut(out, out_len); /* a truncated message keeps the records before this one */
		buf_cut(ips, ips_len);
		d->m->nresolved = nips;
	}
	dns_sb_free(&x.data);
	dns_sb_free(&x.pres);
	return err;
}

static int record_read(struct decoder *d, enum dns_section sec)
{
	char name[DNS_NAME_TEXT_MAX];
	struct reader r;
	uint16_t type, cls, rdlen;
	uint32_t ttl;
	size_t rdoff;

	if (dns_read_name(d->msg, d->len, &d->off, name, sizeof(name)))
		return -EINVAL;
	rd_init(&r, d->msg, d->len);
	r.pos = d->off;
	type = rd_be16(&r);
	cls = rd_be16(&r);
	ttl = rd_be32(&r);
	rdlen = rd_be16(&r);
	if (!rd_skip(&r, rdlen))
		return -EINVAL;
	rdoff = d->off + 10;
	d->off = r.pos;
	if (type == DNS_T_OPT) {
		if (sec != DNS_SEC_ADDITIONAL)
			return -EINVAL;
		if (d->m->opt.present) /* a second OPT: keep the first */
			return 0;
		return opt_decode(d->msg, rdoff, rdlen, cls, ttl, d->m, d->opt_text);
	}
	return record_write(d, sec, name, type, cls, ttl, rdoff, rdlen);
}

static int question_read(struct decoder *d, struct dns_sb *text)
{
	char name[DNS_NAME_TEXT_MAX], tb[16], cb[16];
	struct reader r;
	uint16_t type, cls;

	if (dns_read_name(d->msg, d->len, &d->off, name, sizeof(name)))
		return -EINVAL;
	rd_init(&r, d->msg, d->len);
	r.pos = d->off;
	type = rd_be16(&r);
	cls = rd_be16(&r);
	if (r.err)
		return -EINVAL;
	d->off = r.pos;
	if (!d->m->has_question) {
		d->m->has_question = true;
		memcpy(d->m->qname, name, sizeof(name));
		d->m->qtype = type;
		d->m->qclass = cls;
	}
	if (text)
		dns_sb_printf(text, ";%s\t\t%s\t%s\n", name, dns_class_str(cls, cb, sizeof(cb)),
			      dns_type_str(type, tb, sizeof(tb)));
	return 0;
}

static void header_read(const uint8_t *p, struct dns_message *m)
{
	m->id = (uint16_t)(p[0] << 8 | p[1]);
	m->qr = p[2] & 0x80;
	m->opcode = (p[2] >> 3) & 0x0f;
	m->aa = p[2] & 0x04;
	m->tc = p[2] & 0x02;
	m->rd = p[2] & 0x01;
	m->ra = p[3] & 0x80;
	m->ad = p[3] & 0x20;
	m->cd = p[3] & 0x10;
	m->rcode = p[3] & 0x0f;
	m->qdcount = (uint16_t)(p[4] << 8 | p[5]);
	m->ancount = (uint16_t)(p[6] << 8 | p[7]);
	m->nscount = (uint16_t)(p[8] << 8 | p[9]);
	m->arcount = (uint16_t)(p[10] << 8 | p[11]);
}

static void text_header(const struct dns_message *m, struct dns_sb *sb)
{
	char ob[16], rb[16];

	dns_sb_printf(sb, ";; ->>HEADER<<- opcode: %s, status: %s, id: %u\n", dns_opcode_str(m->opcode, ob, sizeof(ob)),
		      dns_rcode_str(m->rcode, rb, sizeof(rb)), m->id);
	dns_sb_printf(sb, ";; flags:%s%s%s%s%s%s%s; QUERY: %u, ANSWER: %u, AUTHORITY: %u, ADDITIONAL: %u\n",
		      m->qr ? " qr" : "", m->aa ? " aa" : "", m->tc ? " tc" : "", m->rd ? " rd" : "",
		      m->ra ? " ra" : "", m->ad ? " ad" : "", m->cd ? " cd" : "", m->qdcount, m->ancount, m->nscount,
		      m->arcount);
}

/* Assemble the dig-like dump from its parts into m->text. */
static int text_assemble(struct dns_message *m, struct dns_sb *q, struct dns_sb *opt, struct dns_sb *sec)
{
	static const char *const titles[DNS_SEC_MAX] = { "ANSWER", "AUTHORITY", "ADDITIONAL" };
	struct dns_sb out = { 0 };

	text_header(m, &out);
	if (opt->len) {
		dns_sb_puts(&out, "\n;; OPT PSEUDOSECTION:\n");
		dns_sb_puts(&out, dns_sb_str(opt));
	}
	if (q->len) {
		dns_sb_puts(&out, "\n;; QUESTION SECTION:\n");
		dns_sb_puts(&out, dns_sb_str(q));
	}
	for (int i = 0; i < DNS_SEC_MAX; i++) {
		if (!sec[i].len)
			continue;
		dns_sb_printf(&out, "\n;; %s SECTION:\n", titles[i]);
		dns_sb_puts(&out, dns_sb_str(&sec[i]));
	}
	if (out.trunc)
		dns_sb_puts(&out, "...\n");
	if (!out.p)
		return -ENOMEM;
	m->text = out.p;
	m->text_len = out.len;
	return 0;
}

/* All records of one section; a truncated (TC) message may end early. */
static int section_read(struct decoder *d, enum dns_section sec, uint16_t count)
{
	for (uint16_t i = 0; i < count; i++) {
		size_t start = d->off;
		int err;

		if (d->m->tc && d->off >= d->len)
			return 1;
		err = record_read(d, sec);
		if (err == -EINVAL && d->m->tc) {
			d->off = start;
			return 1; /* cut by the sender: keep what came before */
		}
		if (err)
			return err;
	}
	return 0;
}

static int body_read(struct decoder *d, struct dns_sb *qtext)
{
	const struct dns_message *m = d->m;
	const uint16_t counts[DNS_SEC_MAX] = { m->ancount, m->nscount, m->arcount };
	int err;

	for (uint16_t i = 0; i < m->qdcount; i++)
		if (question_read(d, qtext))
			return -EINVAL;
	for (int s = 0; s < DNS_SEC_MAX; s++) {
		err = section_read(d, (enum dns_section)s, counts[s]);
		if (err)
			return err > 0 ? 0 : err;
	}
	return 0;
}

void dns_message_clear(struct dns_message *m)
{
	for (int i = 0; i < DNS_SEC_MAX; i++)
		json_buf_free(&m->sections[i]);
	json_buf_free(&m->resolved_ip);
	json_buf_free(&m->opt.options);
	free(m->text);
	memset(m, 0, sizeof(*m));
}

int dns_decode(const uint8_t *buf, size_t len, bool want_text, struct dns_message *m)
{
	struct dns_sb qtext = { 0 }, opt = { 0 }, sec[DNS_SEC_MAX] = { { 0 } };
	struct decoder d = { .msg = buf, .len = len, .off = DNS_HEADER_LEN, .m = m };
	int err = 0;

	memset(m, 0, sizeof(*m));
	if (len < DNS_HEADER_LEN)
		return -EINVAL;
	header_read(buf, m);
	m->len = len;
	for (int i = 0; i < DNS_SEC_MAX; i++)
		d.text[i] = want_text ? &sec[i] : NULL;
	d.opt_text = want_text ? &opt : NULL;
	if (!err)
		err = body_read(&d, want_text ? &qtext : NULL);
	if (!err && m->opt.present)
		m->rcode |= (uint16_t)m->opt.ext_rcode << 4;
	if (!err && want_text)
		err = text_assemble(m, &qtext, &opt, sec);
	dns_sb_free(&qtext);
	dns_sb_free(&opt);
	for (int i = 0; i < DNS_SEC_MAX; i++)
		dns_sb_free(&sec[i]);
	if (err)
		dns_message_clear(m);
	return err;
}

/* ---- registered domain ---- */

/* Multi-label public suffixes worth knowing; everything else uses the last label. */
/* clang-format off */
#define SFX(s) { s, sizeof(s) - 1 }
/* clang-format on */
static const struct {
	const char *s;
	size_t len;
} dns_suffixes[] = {
	SFX("co.uk"),
	SFX("org.uk"),
	SFX("ac.uk"),
	SFX("gov.uk"),
	SFX("ltd.uk"),
	SFX("plc.uk"),
	SFX("me.uk"),
	SFX("net.uk"),
	SFX("com.au"),
	SFX("net.au"),
	SFX("org.au"),
	SFX("edu.au"),
	SFX("gov.au"),
	SFX("co.nz"),
	SFX("org.nz"),
	SFX("net.nz"),
	SFX("co.jp"),
	SFX("ne.jp"),
	SFX("or.jp"),
	SFX("ac.jp"),
	SFX("go.jp"),
	SFX("co.kr"),
	SFX("or.kr"),
	SFX("com.br"),
	SFX("net.br"),
	SFX("org.br"),
	SFX("gov.br"),
	SFX("com.cn"),
	SFX("net.cn"),
	SFX("org.cn"),
	SFX("gov.cn"),
	SFX("edu.cn"),
	SFX("com.hk"),
	SFX("com.tw"),
	SFX("com.sg"),
	SFX("co.in"),
	SFX("net.in"),
	SFX("org.in"),
	SFX("co.za"),
	SFX("org.za"),
	SFX("com.mx"),
	SFX("com.ar"),
	SFX("com.tr"),
	SFX("com.ru"),
	SFX("co.il"),
	SFX("com.pl"),
	SFX("co.id"),
	SFX("com.my"),
	SFX("com.ph"),
	SFX("com.vn"),
	SFX("in-addr.arpa"),
	SFX("ip6.arpa"),
	SFX("github.io"),
	SFX("gitlab.io"),
	SFX("herokuapp.com"),
	SFX("appspot.com"),
	SFX("blogspot.com"),
	SFX("cloudfront.net"),
	SFX("azurewebsites.net"),
	SFX("pages.dev"),
	SFX("netlify.app"),
	SFX("vercel.app"),
	SFX("s3.amazonaws.com"),
	SFX("compute.amazonaws.com"),
	SFX("elb.amazonaws.com"),
};
#undef SFX

/* name (n bytes) is "<label>.suffix"; the last bytes are compared first, most names differ there. */
static bool name_ends_with(const char *name, size_t n, const char *suffix, size_t s)
{
	return n > s && (name[n - 1] | 0x20) == suffix[s - 1] && name[n - s - 1] == '.' &&
	       strncasecmp(name + n - s, suffix, s) == 0;
}

/*
 * Outside the list, a country TLD whose registry sells names under generic
 * second-level labels (gov.in, ac.kr, com.es, nhs.uk...): "<label>.<cc>" is
 * the suffix. tld points at the dot before the last label (tlen bytes).
 * Returns the suffix length.
 */
static size_t cc_second_level(const char *name, const char *tld, size_t tlen)
{
	static const char *const generic[] = { "ac",  "co",  "com", "edu", "gob",  "gov",   "go",  "govt",
					       "gv",  "ltd", "mil", "ne",  "net",  "nhs",   "nic", "or",
					       "org", "plc", "sch", "nom", "gouv", "police" };
	const char *l = tld;

	if (tlen != 2)
		return tlen;
	while (l > name && l[-1] != '.')
		l--;
	for (size_t i = 0; i < ARRAY_LEN(generic); i++) {
		size_t g = strlen(generic[i]);

		if ((size_t)(tld - l) == g && strncasecmp(l, generic[i], g) == 0)
			return g + 1 + tlen;
	}
	return tlen;
}

bool dns_etld_plus_one(const char *name, const char **etld1, const char **suffix)
{
	size_t n = strlen(name), slen = 0;
	const char *dot;

	if (n && name[n - 1] == '.')
		return false; /* root or an escaped trailing dot: not a plain host name */
	if (strchr(name, '\\'))
		return false; /* an escaped byte (maybe a dot inside a label): labels are not plain */
	for (size_t i = 0; i < ARRAY_LEN(dns_suffixes); i++) {
		size_t s = dns_suffixes[i].len;

		if (s == n && strcasecmp(name, dns_suffixes[i].s) == 0)
			return false; /* a public suffix itself */
		if (s > slen && name_ends_with(name, n, dns_suffixes[i].s, s))
			slen = s;
	}
	if (!slen) {
		dot = strrchr(name, '.');
		if (!dot || dot == name)
			return false;
		slen = n - (size_t)(dot - name) - 1;
		slen = cc_second_level(name, dot, slen);
	}
	if (slen + 1 >= n)
		return false;
	*suffix = name + n - slen;
	/* the label before the suffix */
	dot = *suffix - 1;
	while (dot > name && dot[-1] != '.')
		dot--;
	if (dot == *suffix - 1)
		return false; /* empty label */
	*etld1 = dot;
	return true;
}
