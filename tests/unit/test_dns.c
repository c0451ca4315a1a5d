/*
 * DNS tests: the decoder on crafted messages (every RR type, compression,
 * hostile names and counts, EDNS) and the protocol through the pipeline
 * (UDP pairing by flow + id, TCP framing split at every byte, several
 * messages per segment, config options).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "proto.h"
#include "testutil.h"

/* ---- message builder ---- */

struct mb {
	uint8_t b[8192];
	size_t n;
	size_t rdlen_at; /* where the open record's rdlength goes */
};

static void u8(struct mb *m, uint8_t v)
{
	cr_assert(m->n < sizeof(m->b));
	m->b[m->n++] = v;
}

static void u16(struct mb *m, uint16_t v)
{
	u8(m, (uint8_t)(v >> 8));
	u8(m, (uint8_t)v);
}

static void u32(struct mb *m, uint32_t v)
{
	u16(m, (uint16_t)(v >> 16));
	u16(m, (uint16_t)v);
}

static void raw(struct mb *m, const void *p, size_t n)
{
	cr_assert(m->n + n <= sizeof(m->b));
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

/* Uncompressed name from "a.b.c" ("" = root). */
static void name(struct mb *m, const char *s)
{
	while (*s) {
		const char *dot = strchr(s, '.');
		size_t n = dot ? (size_t)(dot - s) : strlen(s);

		u8(m, (uint8_t)n);
		raw(m, s, n);
		s += n + (dot ? 1 : 0);
	}
	u8(m, 0);
}

static void ptr(struct mb *m, uint16_t off)
{
	u16(m, 0xc000 | off);
}

/* Header: id, flags word, counts. */
static void hdr(struct mb *m, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar)
{
	m->n = 0;
	u16(m, id);
	u16(m, flags);
	u16(m, qd);
	u16(m, an);
	u16(m, ns);
	u16(m, ar);
}

static void question(struct mb *m, const char *qname, uint16_t type)
{
	name(m, qname);
	u16(m, type);
	u16(m, 1);
}

/* Start a record whose owner is a pointer to the question name (offset 12). */
static void rr_begin(struct mb *m, uint16_t type, uint32_t ttl)
{
	ptr(m, 12);
	u16(m, type);
	u16(m, 1);
	u32(m, ttl);
	m->rdlen_at = m->n;
	u16(m, 0);
}

static void rr_end(struct mb *m)
{
	size_t len = m->n - m->rdlen_at - 2;

	m->b[m->rdlen_at] = (uint8_t)(len >> 8);
	m->b[m->rdlen_at + 1] = (uint8_t)len;
}

#define QUERY_FLAGS 0x0100 /* RD */
#define RESP_FLAGS 0x8180 /* QR RD RA */

/* Decode from an exact-size heap copy so ASan sees any over-read. */
static int decode(const struct mb *m, bool text, struct dns_message *out)
{
	uint8_t *copy = malloc(m->n ? m->n : 1);
	int rc;

	memcpy(copy, m->b, m->n);
	rc = dns_decode(copy, m->n, text, out);
	free(copy);
	return rc;
}

/* Parsed JSON the decoder gave as text, kept until the end of the test. */
static json_t *parsed[16];
static size_t nparsed;

static void free_parsed(void)
{
	while (nparsed)
		json_decref(parsed[--nparsed]);
}

TestSuite(dns, .fini = free_parsed);

/* The text open + b + close parsed as JSON (the decoder writes JSON text). */
static json_t *as_json(const char *open, const struct json_buf *b, const char *close)
{
	char text[8192];
	json_error_t e;
	json_t *v;

	cr_assert_lt(b->len + 4, sizeof(text));
	snprintf(text, sizeof(text), "%s%s%s", open, b->len ? b->p : "", close);
	v = json_loads(text, 0, &e);
	cr_assert_not_null(v, "not JSON: %s (%s)", text, e.text);
	cr_assert_lt(nparsed, sizeof(parsed) / sizeof(parsed[0]));
	parsed[nparsed++] = v;
	return v;
}

/* One answer of type `type` with rdata built by the caller between rr_begin/rr_end. */
static json_t *first_answer(struct mb *m, struct dns_message *dm)
{
	json_t *answers;

	cr_assert_eq(decode(m, true, dm), 0);
	cr_assert_eq(dm->nsection[DNS_SEC_ANSWER], 1);
	answers = as_json("[", &dm->sections[DNS_SEC_ANSWER], "]");
	cr_assert_eq(json_array_size(answers), 1);
	return json_array_get(answers, 0);
}

static const char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	cr_assert(json_is_string(v), "%s is not a string", key);
	return json_string_value(v);
}

static json_int_t jint(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	cr_assert(json_is_integer(v), "%s is not an integer", key);
	return json_integer_value(v);
}

static void answer_msg(struct mb *m, uint16_t type)
{
	hdr(m, 0x1234, RESP_FLAGS, 1, 1, 0, 0);
	question(m, "www.example.com", type);
	rr_begin(m, type, 300);
}

/* ---- record types ---- */

Test(dns, rr_a_and_aaaa)
{
	struct mb m;
	struct dns_message dm;
	json_t *a;
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

	answer_msg(&m, DNS_T_A);
	raw(&m, "\xc0\x00\x02\x01", 4);
	rr_end(&m);
	a = first_answer(&m, &dm);
	cr_assert_str_eq(jstr(a, "data"), "192.0.2.1");
	cr_assert_str_eq(jstr(a, "name"), "www.example.com");
	cr_assert_str_eq(jstr(a, "type"), "A");
	cr_assert_str_eq(jstr(a, "class"), "IN");
	cr_assert_str_eq(jstr(a, "ttl"), "300"); /* a string, as Packetbeat */
	cr_assert_eq(dm.nresolved, 1);
	cr_assert_str_eq(json_string_value(json_array_get(as_json("[", &dm.resolved_ip, "]"), 0)), "192.0.2.1");
	dns_message_clear(&dm);

	answer_msg(&m, DNS_T_AAAA);
	raw(&m, v6, 16);
	rr_end(&m);
	a = first_answer(&m, &dm);
	cr_assert_str_eq(jstr(a, "data"), "2001:db8::1");
	cr_assert_str_eq(jstr(a, "type"), "AAAA");
	dns_message_clear(&dm);

	/* an A record of 5 bytes is malformed */
	answer_msg(&m, DNS_T_A);
	raw(&m, "\x01\x02\x03\x04\x05", 5);
	rr_end(&m);
	cr_assert_eq(decode(&m, false, &dm), -EINVAL);
}

Test(dns, rr_names_cname_ns_ptr)
{
	static const uint16_t types[] = { DNS_T_CNAME, DNS_T_NS, DNS_T_PTR };
	static const char *const names[] = { "CNAME", "NS", "PTR" };

	for (int i = 0; i < 3; i++) {
		struct mb m;
		struct dns_message dm;
		json_t *a;

		answer_msg(&m, types[i]);
		u8(&m, 4);
		raw(&m, "edge", 4);
		ptr(&m, 16); /* "example.com" inside the question */
		rr_end(&m);
		a = first_answer(&m, &dm);
		cr_assert_str_eq(jstr(a, "data"), "edge.example.com");
		cr_assert_str_eq(jstr(a, "type"), names[i]);
		cr_assert_eq(dm.nresolved, 0);
		cr_assert_eq(dm.resolved_ip.len, 0);
		dns_message_clear(&dm);
	}
}

Test(dns, rr_mx_txt_soa_srv)
{
	struct mb m;
	struct dns_message dm;
	json_t *a;

	answer_msg(&m, DNS_T_MX);
	u16(&m, 10);
	name(&m, "mail.example.com");
	rr_end(&m);
	a = first_answer(&m, &dm);
	cr_assert_str_eq(jstr(a, "data"), "mail.example.com");
	cr_assert_eq(jint(a, "preference"), 10);
	cr_assert(strstr(dm.text, "MX\t10 mail.example.com\n"), "%s", dm.text);
	dns_message_clear(&dm);

	answer_msg(&m, DNS_T_TXT);
	raw(&m, "\x05hello\x07wor\"ld\x01", 14);
	rr_end(&m);
	a = first_answer(&m, &dm);
	cr_assert_str_eq(jstr(a, "data"), "hello wor\\\"ld\\001");
	cr_assert(strstr(dm.text, "\"hello\" \"wor\\\"ld\\001\""), "%s", dm.text);
	dns_message_clear(&dm);

	answer_msg(&m, DNS_T_SOA);
	name(&m, "ns1.example.com");
	name(&m, "hostmaster.example.com");
	u32(&m, 2024010101);
	u32(&m, 7200);
	u32(&m, 3600);
	u32(&m, 1209600);
	u32(&m, 300);
	rr_end(&m);
	a = first_answer(&m, &dm);
	cr_assert_str_eq(jstr(a, "data"), "ns1.example.com");
	cr_assert_str_eq(jstr(a, "rname"), "hostmaster.example.com");
	cr_assert_eq(jint(a, "serial"), 2024010101);
	cr_assert_eq(jint(a, "refresh"), 7200);
	cr_assert_eq(jint(a, "retry"), 3600);
	cr_assert_eq(jint(a, "expire"), 1209600);
	cr_assert_eq(jint(a, "minimum"), 300);
	dns_message_clear(&dm);

	answer_msg(&m, DNS_T_SRV);
	u16(&m, 1);
	u16(&m, 5);
	u16(&m, 5060);
	name(&m, "sip.example.com");
	rr_end(&m);
	a = first_answer(&m, &dm);
	cr_assert_str_eq(jstr(a, "data"), "sip.example.com");
	cr_assert_eq(jint(a, "priority"), 1);
	cr_assert_eq(jint(a, "weight"), 5);
	cr_assert_eq(jint(a, "port"), 5060);
	dns_message_clear(&dm);
}

Test(dns, rr_caa_ds_dnskey)
{
	struct mb m;
	struct dns_message dm;
	json_t *a;

	answer_msg(&m, DNS_T_CAA);
	raw(&m, "\x00\x05issueletsencrypt.org", 22);
	rr_end(&m);
	a = first_answer(&m, &dm);
	cr_assert_str_eq(jstr(a, "data"), "0 issue \"letsencrypt.org\"");
	dns_message_clear(&dm);

	answer_msg(&m, DNS_T_DS);
	u16(&m, 20326);
	u8(&m, 8);
	u8(&m, 2);
	raw(&m, "\xe0\x6d\x44\xb8", 4);
	rr_end(&m);
	a = first_answer(&m, &dm);
	cr_assert_str_eq(jstr(a, "data"), "E06D44B8");
	cr_assert_str_eq(jstr(a, "key_tag"), "20326");
	cr_assert_str_eq(jstr(a, "algorithm"), "RSASHA256");
	cr_assert_str_eq(jstr(a, "digest_type"), "SHA256");
	dns_message_clear(&dm);

	answer_msg(&m, DNS_T_DNSKEY);
	u16(&m, 257);
	u8(&m, 3);
	u8(&m, 13);
	raw(&m, "hello", 5);
	rr_end(&m);
	a = first_answer(&m, &dm);
	cr_assert_str_eq(jstr(a, "data"), "aGVsbG8=");
	cr_assert_str_eq(jstr(a, "flags"), "257");
	cr_assert_str_eq(jstr(a, "protocol"), "3");
	cr_assert_str_eq(jstr(a, "algorithm"), "ECDSAP256SHA256");
	dns_message_clear(&dm);
}

Test(dns, rr_rrsig_nsec)
{
	struct mb m;
	struct dns_message dm;
	json_t *a;

	answer_msg(&m, DNS_T_RRSIG);
	u16(&m, DNS_T_A);
	u8(&m, 13);
	u8(&m, 3);
	u32(&m, 3600);
	u32(&m, 1700000000); /* 2023-11-14 22:13:20 */
	u32(&m, 1699000000); /* 2023-11-03 08:26:40 */
	u16(&m, 12345);
	ptr(&m, 16);
	raw(&m, "sig", 3);
	rr_end(&m);
	a = first_answer(&m, &dm);
	cr_assert_str_eq(jstr(a, "type_covered"), "A");
	cr_assert_str_eq(jstr(a, "algorithm"), "ECDSAP256SHA256");
	cr_assert_str_eq(jstr(a, "labels"), "3");
	cr_assert_str_eq(jstr(a, "original_ttl"), "3600");
	cr_assert_str_eq(jstr(a, "expiration"), "20231114221320");
	cr_assert_str_eq(jstr(a, "inception"), "20231103082640");
	cr_assert_str_eq(jstr(a, "key_tag"), "12345");
	cr_assert_str_eq(jstr(a, "signer_name"), "example.com");
	cr_assert_str_eq(jstr(a, "data"), "c2ln");
	dns_message_clear(&dm);

	answer_msg(&m, DNS_T_NSEC);
	name(&m, "z.example.com");
	/* window 0: A(1) NS(2) SOA(6) MX(15) RRSIG(46) NSEC(47); window 1: CAA(257) */
	raw(&m, "\x00\x06\x62\x01\x00\x00\x00\x03", 8);
	raw(&m, "\x01\x01\x40", 3);
	rr_end(&m);
	a = first_answer(&m, &dm);
	cr_assert_str_eq(jstr(a, "data"), "z.example.com");
	cr_assert_str_eq(jstr(a, "type_bits"), "A NS SOA MX RRSIG NSEC CAA");
	dns_message_clear(&dm);
}

/* RFC 5155 Appendix A: the example zone's NSEC3 chain (SHA-1, 12 iterations, salt aabbccdd). */
Test(dns, rr_nsec3_and_nsec3param)
{
	struct mb m;
	struct dns_message dm;
	json_t *a;

	answer_msg(&m, DNS_T_NSEC3);
	raw(&m, "\x01\x01\x00\x0c\x04\xaa\xbb\xcc\xdd", 9); /* SHA-1, opt-out, 12 iterations, salt */
	u8(&m, 20);
	raw(&m, "\x17\x4e\xb2\x40\x9f\xe2\x8b\xcb\x48\x87\xa1\x83\x6f\x95\x7f\x0a\x84\x25\xe2\x7b", 20);
	raw(&m, "\x00\x07\x22\x01\x00\x00\x00\x02\x90", 9); /* NS SOA MX RRSIG DNSKEY NSEC3PARAM */
	rr_end(&m);
	a = first_answer(&m, &dm);
	cr_assert_str_eq(jstr(a, "type"), "NSEC3");
	cr_assert_str_eq(jstr(a, "hash"), "SHA1");
	cr_assert_str_eq(jstr(a, "flags"), "1");
	cr_assert_str_eq(jstr(a, "iterations"), "12");
	cr_assert_str_eq(jstr(a, "salt"), "AABBCCDD");
	cr_assert_str_eq(jstr(a, "type_bits"), "NS SOA MX RRSIG DNSKEY NSEC3PARAM");
	cr_assert_str_eq(jstr(a, "data"), "2T7B4G4VSA5SMI47K61MV5BV1A22BOJR", "base32hex of the next hashed owner");
	cr_assert(strstr(dm.text, "NSEC3\t1 1 12 AABBCCDD 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR NS SOA MX RRSIG DNSKEY "
				  "NSEC3PARAM\n"),
		  "%s", dm.text);
	dns_message_clear(&dm);

	/* no salt, a hash that is not a multiple of 5 bytes (no padding), no types */
	answer_msg(&m, DNS_T_NSEC3);
	raw(&m, "\x01\x00\x00\x00\x00", 5);
	u8(&m, 7);
	raw(&m, "\x01\x02\x03\x04\x05\x06\x07", 7);
	rr_end(&m);
	a = first_answer(&m, &dm);
	cr_assert_str_eq(jstr(a, "salt"), "-");
	cr_assert_str_eq(jstr(a, "iterations"), "0");
	cr_assert_str_eq(jstr(a, "type_bits"), "");
	cr_assert_str_eq(jstr(a, "data"), "041061050O3G");
	dns_message_clear(&dm);

	answer_msg(&m, DNS_T_NSEC3PARAM);
	raw(&m, "\x01\x00\x00\x0c\x04\xaa\xbb\xcc\xdd", 9);
	rr_end(&m);
	a = first_answer(&m, &dm);
	cr_assert_str_eq(jstr(a, "type"), "NSEC3PARAM");
	cr_assert_str_eq(jstr(a, "hash"), "SHA1");
	cr_assert_str_eq(jstr(a, "flags"), "0");
	cr_assert_str_eq(jstr(a, "iterations"), "12");
	cr_assert_str_eq(jstr(a, "data"), "AABBCCDD", "the salt is the data");
	cr_assert_null(json_object_get(a, "salt"));
	cr_assert(strstr(dm.text, "NSEC3PARAM\t1 0 12 AABBCCDD\n"), "%s", dm.text);
	dns_message_clear(&dm);

	/* a salt longer than the rdata, and bytes after an NSEC3PARAM */
	answer_msg(&m, DNS_T_NSEC3PARAM);
	raw(&m, "\x01\x00\x00\x0c\x09\xaa", 6);
	rr_end(&m);
	cr_assert_eq(decode(&m, false, &dm), -EINVAL);
	answer_msg(&m, DNS_T_NSEC3PARAM);
	raw(&m, "\x01\x00\x00\x0c\x00\xff", 6);
	rr_end(&m);
	cr_assert_eq(decode(&m, false, &dm), -EINVAL);
	/* a next-owner length past the end */
	answer_msg(&m, DNS_T_NSEC3);
	raw(&m, "\x01\x00\x00\x00\x00\x14\x01", 7);
	rr_end(&m);
	cr_assert_eq(decode(&m, false, &dm), -EINVAL);
}

Test(dns, rr_https_and_unknown)
{
	struct mb m;
	struct dns_message dm;
	json_t *a;

	answer_msg(&m, DNS_T_HTTPS);
	u16(&m, 1);
	u8(&m, 0); /* target "." */
	u16(&m, 1); /* alpn h2,h3 */
	u16(&m, 6);
	raw(&m, "\x02h2\x02h3", 6);
	u16(&m, 3); /* port 8443 */
	u16(&m, 2);
	u16(&m, 8443);
	u16(&m, 4); /* ipv4hint */
	u16(&m, 8);
	raw(&m, "\xc0\x00\x02\x01\xc0\x00\x02\x02", 8);
	rr_end(&m);
	a = first_answer(&m, &dm);
	cr_assert_str_eq(jstr(a, "data"), "1 . alpn=h2,h3 port=8443 ipv4hint=192.0.2.1,192.0.2.2");
	cr_assert_str_eq(jstr(a, "type"), "HTTPS");
	dns_message_clear(&dm);

	answer_msg(&m, 65280);
	raw(&m, "\xde\xad\xbe\xef", 4);
	rr_end(&m);
	a = first_answer(&m, &dm);
	cr_assert_str_eq(jstr(a, "data"), "deadbeef");
	cr_assert_str_eq(jstr(a, "type"), "65280");
	cr_assert(strstr(dm.text, "\\# 4 deadbeef"), "%s", dm.text);
	dns_message_clear(&dm);
}

/* ---- names and hostile input ---- */

Test(dns, name_compression_and_escapes)
{
	uint8_t msg[64] = { 0 };
	char out[DNS_NAME_TEXT_MAX];
	size_t off;

	/* at 12: "a.b" ; at 17: "x" + ptr(12) ; at 21: ptr(17) */
	memcpy(msg + 12,
	       "\x01"
	       "a\x01"
	       "b\x00",
	       5);
	memcpy(msg + 17, "\x01x\xc0\x0c", 4);
	memcpy(msg + 21, "\xc0\x11", 2);
	off = 21;
	cr_assert_eq(dns_read_name(msg, 23, &off, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "x.a.b");
	cr_assert_eq(off, 23);

	/* escapes: a dot and a space inside a label */
	memcpy(msg + 30,
	       "\x03"
	       "a.b\x02"
	       "c \x00",
	       8);
	off = 30;
	cr_assert_eq(dns_read_name(msg, 38, &off, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "a\\.b.c\\032");

	/* root */
	msg[40] = 0;
	off = 40;
	cr_assert_eq(dns_read_name(msg, 41, &off, out, sizeof(out)), 0);
	cr_assert_str_eq(out, ".");
}

Test(dns, name_pointer_loop)
{
	struct mb m;
	struct dns_message dm;

	/* question name is a pointer to itself */
	hdr(&m, 1, QUERY_FLAGS, 1, 0, 0, 0);
	ptr(&m, 12);
	u16(&m, 1);
	u16(&m, 1);
	cr_assert_eq(decode(&m, false, &dm), -EINVAL);

	/* two names pointing at each other: label then pointer back to its own start */
	hdr(&m, 1, QUERY_FLAGS, 1, 0, 0, 0);
	u8(&m, 1);
	u8(&m, 'a');
	ptr(&m, 12);
	u16(&m, 1);
	u16(&m, 1);
	cr_assert_eq(decode(&m, false, &dm), -EINVAL);
}

Test(dns, name_pointer_out_of_range_or_forward)
{
	struct mb m;
	struct dns_message dm;

	hdr(&m, 1, QUERY_FLAGS, 1, 0, 0, 0);
	ptr(&m, 0x3fff); /* past the end */
	u16(&m, 1);
	u16(&m, 1);
	cr_assert_eq(decode(&m, false, &dm), -EINVAL);

	hdr(&m, 1, QUERY_FLAGS, 1, 0, 0, 0);
	ptr(&m, 18); /* forward, to a valid name */
	u16(&m, 1);
	u16(&m, 1);
	name(&m, "a");
	cr_assert_eq(decode(&m, false, &dm), -EINVAL);

	/* truncated pointer (one byte) */
	hdr(&m, 1, QUERY_FLAGS, 1, 0, 0, 0);
	u8(&m, 0xc0);
	cr_assert_eq(decode(&m, false, &dm), -EINVAL);
}

Test(dns, name_label_over_63_and_name_over_255)
{
	struct mb m;
	struct dns_message dm;
	char label[64];

	hdr(&m, 1, QUERY_FLAGS, 1, 0, 0, 0);
	u8(&m, 64);
	memset(label, 'a', sizeof(label));
	raw(&m, label, 64);
	u8(&m, 0);
	u16(&m, 1);
	u16(&m, 1);
	cr_assert_eq(decode(&m, false, &dm), -EINVAL);

	/* 5 labels of 63 = 320 bytes on the wire */
	hdr(&m, 1, QUERY_FLAGS, 1, 0, 0, 0);
	for (int i = 0; i < 5; i++) {
		u8(&m, 63);
		raw(&m, label, 63);
	}
	u8(&m, 0);
	u16(&m, 1);
	u16(&m, 1);
	cr_assert_eq(decode(&m, false, &dm), -EINVAL);

	/* 3 x 63 + 61 + root = 255 exactly: fine */
	hdr(&m, 1, QUERY_FLAGS, 1, 0, 0, 0);
	for (int i = 0; i < 3; i++) {
		u8(&m, 63);
		raw(&m, label, 63);
	}
	u8(&m, 61);
	raw(&m, label, 61);
	u8(&m, 0);
	u16(&m, 1);
	u16(&m, 1);
	cr_assert_eq(decode(&m, false, &dm), 0);
	cr_assert_eq(strlen(dm.qname), 63 * 3 + 61 + 3);
	dns_message_clear(&dm);
}

Test(dns, truncated_and_huge_counts)
{
	struct mb m, full;
	struct dns_message dm;

	/* shorter than a header */
	hdr(&m, 1, QUERY_FLAGS, 0, 0, 0, 0);
	m.n = 11;
	cr_assert_eq(decode(&m, false, &dm), -EINVAL);

	/* every prefix of a valid response is rejected (TC clear) */
	answer_msg(&full, DNS_T_MX);
	u16(&full, 10);
	name(&full, "mail.example.com");
	rr_end(&full);
	cr_assert_eq(decode(&full, false, &dm), 0);
	dns_message_clear(&dm);
	for (size_t n = 0; n < full.n; n++) {
		m = full;
		m.n = n;
		cr_assert_eq(decode(&m, false, &dm), -EINVAL, "prefix %zu accepted", n);
	}

	/* counts far beyond the message */
	hdr(&m, 1, RESP_FLAGS, 65535, 65535, 65535, 65535);
	question(&m, "a.example", 1);
	cr_assert_eq(decode(&m, false, &dm), -EINVAL);

	/* rdlength past the end */
	answer_msg(&m, DNS_T_A);
	raw(&m, "\x01\x02\x03\x04", 4);
	rr_end(&m);
	m.b[m.rdlen_at + 1] = 200;
	cr_assert_eq(decode(&m, false, &dm), -EINVAL);
}

Test(dns, truncated_flag_keeps_complete_records)
{
	struct mb m;
	struct dns_message dm;

	/* TC set, 2 answers announced, only one present */
	hdr(&m, 7, RESP_FLAGS | 0x0200, 1, 2, 0, 0);
	question(&m, "big.example.com", DNS_T_TXT);
	rr_begin(&m, DNS_T_TXT, 60);
	raw(&m,
	    "\x03"
	    "abc",
	    4);
	rr_end(&m);
	cr_assert_eq(decode(&m, false, &dm), 0);
	cr_assert(dm.tc);
	cr_assert_eq(dm.nsection[DNS_SEC_ANSWER], 1);
	dns_message_clear(&dm);
}

Test(dns, edns_opt)
{
	struct mb m;
	struct dns_message dm;

	hdr(&m, 9, RESP_FLAGS, 1, 0, 0, 1);
	question(&m, "example.com", DNS_T_A);
	u8(&m, 0); /* root */
	u16(&m, DNS_T_OPT);
	u16(&m, 1232); /* udp size */
	u32(&m, 0x01008000); /* ext rcode 1 (-> BADVERS with rcode 0), version 0, DO */
	u16(&m, 4 + 2 + 4 + 7);
	u16(&m, 3); /* NSID "ab" */
	u16(&m, 2);
	raw(&m, "ab", 2);
	u16(&m, 8); /* ECS 192.0.2.0/24/0 */
	u16(&m, 7);
	raw(&m, "\x00\x01\x18\x00\xc0\x00\x02", 7);
	cr_assert_eq(decode(&m, true, &dm), 0);
	cr_assert(dm.opt.present);
	cr_assert_eq(dm.opt.udp_size, 1232);
	cr_assert(dm.opt.do_bit);
	cr_assert_eq(dm.rcode, 16);
	cr_assert_eq(dm.nsection[DNS_SEC_ADDITIONAL], 0, "OPT is not an additional record");
	cr_assert_str_eq(jstr(as_json("{", &dm.opt.options, "}"), "nsid"), "6162");
	cr_assert_str_eq(jstr(as_json("{", &dm.opt.options, "}"), "subnet"), "192.0.2.0/24/0");
	cr_assert(strstr(dm.text, "; EDNS: version: 0, flags: do; udp: 1232"), "%s", dm.text);
	dns_message_clear(&dm);

	/* an option longer than the OPT rdata */
	m.b[m.n - 8] = 50;
	cr_assert_eq(decode(&m, false, &dm), -EINVAL);
}

Test(dns, etld_plus_one)
{
	const char *e, *s;

	cr_assert(dns_etld_plus_one("www.example.com", &e, &s));
	cr_assert_str_eq(e, "example.com");
	cr_assert_str_eq(s, "com");
	cr_assert(dns_etld_plus_one("a.b.bbc.co.uk", &e, &s));
	cr_assert_str_eq(e, "bbc.co.uk");
	cr_assert_str_eq(s, "co.uk");
	cr_assert(dns_etld_plus_one("1.0.0.127.in-addr.arpa", &e, &s));
	cr_assert_str_eq(e, "127.in-addr.arpa");
	cr_assert_not(dns_etld_plus_one("co.uk", &e, &s));
	cr_assert_not(dns_etld_plus_one("localhost", &e, &s));
	cr_assert_not(dns_etld_plus_one(".", &e, &s));
	/* country TLDs with generic second-level labels, beyond the built-in list */
	cr_assert(dns_etld_plus_one("x.gov.in", &e, &s));
	cr_assert_str_eq(e, "x.gov.in");
	cr_assert_str_eq(s, "gov.in");
	cr_assert(dns_etld_plus_one("foo.example.ac.kr", &e, &s));
	cr_assert_str_eq(e, "example.ac.kr");
	cr_assert(dns_etld_plus_one("x.y.nhs.uk", &e, &s));
	cr_assert_str_eq(e, "y.nhs.uk");
	cr_assert(dns_etld_plus_one("www.example.es", &e, &s));
	cr_assert_str_eq(e, "example.es");
	cr_assert_not(dns_etld_plus_one("com.es", &e, &s));
	/* an escaped dot inside a label: not derivable, left out */
	cr_assert_not(dns_etld_plus_one("a.b\\.c", &e, &s));
}

/* ---- through the pipeline ---- */

static struct tp *dns_tp(const char *extra)
{
	return tp_proto("dns", 53, extra);
}

static void query_msg(struct mb *m, uint16_t id, const char *qname, uint16_t type)
{
	hdr(m, id, QUERY_FLAGS, 1, 0, 0, 0);
	question(m, qname, type);
}

static void a_response(struct mb *m, uint16_t id, const char *qname, uint16_t rcode)
{
	hdr(m, id, RESP_FLAGS | rcode, 1, rcode ? 0 : 1, 0, 0);
	question(m, qname, DNS_T_A);
	if (!rcode) {
		rr_begin(m, DNS_T_A, 60);
		raw(m, "\xc0\x00\x02\x07", 4);
		rr_end(m);
	}
}

#define PSTAT(tp, id) ((tp)->st.proto[PROTO_DNS][PSTAT_##id])

Test(dns, udp_transaction_event)
{
	struct tp *tp = dns_tp(NULL);
	struct mb q, r;

	query_msg(&q, 0xbeef, "www.example.com", DNS_T_A);
	a_response(&r, 0xbeef, "www.example.com", 0);
	tp_udp(tp, 0, q.b, q.n);
	tp_udp(tp, 1, r.b, r.n);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(tp_str(tp, 0, "type"), "dns");
	cr_assert_str_eq(tp_str(tp, 0, "status"), "OK");
	cr_assert_str_eq(tp_str(tp, 0, "method"), "QUERY");
	cr_assert_str_eq(tp_str(tp, 0, "query"), "class IN, type A, www.example.com");
	cr_assert_str_eq(tp_str(tp, 0, "resource"), "www.example.com");
	cr_assert_eq(json_integer_value(tp_get(tp, 0, "dns.id")), 0xbeef);
	cr_assert_str_eq(tp_str(tp, 0, "dns.op_code"), "QUERY");
	cr_assert_str_eq(tp_str(tp, 0, "dns.response_code"), "NOERROR");
	cr_assert_str_eq(tp_str(tp, 0, "dns.type"), "answer");
	cr_assert(json_is_true(tp_get(tp, 0, "dns.flags.recursion_available")));
	cr_assert(json_is_false(tp_get(tp, 0, "dns.flags.authoritative")));
	cr_assert_eq(json_array_size(tp_get(tp, 0, "dns.header_flags")), 2);
	cr_assert_str_eq(tp_str(tp, 0, "dns.question.name"), "www.example.com");
	cr_assert_str_eq(tp_str(tp, 0, "dns.question.type"), "A");
	cr_assert_str_eq(tp_str(tp, 0, "dns.question.class"), "IN");
	cr_assert_str_eq(tp_str(tp, 0, "dns.question.etld_plus_one"), "example.com");
	cr_assert_str_eq(tp_str(tp, 0, "dns.question.subdomain"), "www");
	cr_assert_eq(json_integer_value(tp_get(tp, 0, "dns.answers_count")), 1);
	cr_assert_str_eq(json_string_value(json_array_get(tp_get(tp, 0, "dns.resolved_ip"), 0)), "192.0.2.7");
	cr_assert_null(tp_get(tp, 0, "dns.authorities"));
	cr_assert_str_eq(tp_str(tp, 0, "network.transport"), "udp");
	cr_assert_eq(json_integer_value(tp_get(tp, 0, "source.bytes")), (json_int_t)q.n);
	cr_assert_eq(json_integer_value(tp_get(tp, 0, "destination.bytes")), (json_int_t)r.n);
	cr_assert_null(tp_get(tp, 0, "request"));
	cr_assert_eq(PSTAT(tp, TXN), 1);
	tp_free(tp);
}

Test(dns, udp_error_status_and_unanswered)
{
	struct tp *tp = dns_tp(NULL);
	struct mb q, r;

	query_msg(&q, 1, "nope.example.com", DNS_T_A);
	a_response(&r, 1, "nope.example.com", 3);
	tp_udp(tp, 0, q.b, q.n);
	tp_udp(tp, 1, r.b, r.n);
	query_msg(&q, 2, "lost.example.com", DNS_T_A);
	tp_udp(tp, 0, q.b, q.n);
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 2);
	cr_assert_str_eq(tp_str(tp, 0, "status"), "Error");
	cr_assert_str_eq(tp_str(tp, 0, "dns.response_code"), "NXDOMAIN");
	cr_assert_str_eq(tp_str(tp, 1, "status"), "Error");
	cr_assert_str_eq(tp_str(tp, 1, "dns.type"), "query");
	cr_assert_str_eq(tp_str(tp, 1, "resource"), "lost.example.com");
	cr_assert_str_eq(tp_str(tp, 1, "error.message"), "No response to this query was received");
	cr_assert_null(tp_get(tp, 0, "error"), "an answered query has no note");
	cr_assert_eq(PSTAT(tp, UNANSWERED), 1);
	tp_free(tp);
}

/* A UDP datagram between client 10.0.0.<host>:port and 10.0.0.2:53. */
static void udp_from(struct tp *tp, uint8_t host, uint16_t port, int dir, const struct mb *m)
{
	struct packet p;

	memset(&p, 0, sizeof(p));
	p.src.family = p.dst.family = 4;
	p.src.a[0] = p.dst.a[0] = 10;
	p.src.a[3] = dir == 0 ? host : 2;
	p.dst.a[3] = dir == 0 ? 2 : host;
	p.sport = dir == 0 ? port : 53;
	p.dport = dir == 0 ? 53 : port;
	p.transport = IPPROTO_UDP;
	tp->ts += 1000000;
	p.ts = tp->ts;
	p.payload = m->b;
	p.payload_len = p.wire_len = (uint32_t)m->n;
	pipeline_packet(tp->pl, &p);
}

Test(dns, udp_same_id_from_two_clients)
{
	struct tp *tp = dns_tp(NULL);
	struct mb q1, q2, r1, r2;

	query_msg(&q1, 77, "one.example.com", DNS_T_A);
	query_msg(&q2, 77, "two.example.com", DNS_T_A);
	a_response(&r1, 77, "one.example.com", 0);
	a_response(&r2, 77, "two.example.com", 3);
	udp_from(tp, 1, 1111, 0, &q1);
	udp_from(tp, 3, 1111, 0, &q2);
	udp_from(tp, 3, 1111, 1, &r2);
	udp_from(tp, 1, 1111, 1, &r1);
	cr_assert_eq(tp_count(tp), 2);
	cr_assert_str_eq(tp_str(tp, 0, "resource"), "two.example.com");
	cr_assert_str_eq(tp_str(tp, 0, "dns.response_code"), "NXDOMAIN");
	cr_assert_str_eq(tp_str(tp, 0, "client.ip"), "10.0.0.3");
	cr_assert_str_eq(tp_str(tp, 1, "resource"), "one.example.com");
	cr_assert_str_eq(tp_str(tp, 1, "dns.response_code"), "NOERROR");
	cr_assert_str_eq(tp_str(tp, 1, "client.ip"), "10.0.0.1");
	tp_free(tp);
}

Test(dns, udp_malformed_counted)
{
	struct tp *tp = dns_tp(NULL);
	struct mb q;

	hdr(&q, 1, QUERY_FLAGS, 1, 0, 0, 0);
	ptr(&q, 12);
	u16(&q, 1);
	u16(&q, 1);
	tp_udp(tp, 0, q.b, q.n);
	tp_udp(tp, 0, "xyz", 3);
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 0);
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 2);
	tp_free(tp);
}

Test(dns, include_sections_and_raw_text)
{
	struct tp *tp = dns_tp("    include_authorities: true\n    include_additionals: true\n"
			       "    send_request: true\n    send_response: true\n");
	struct mb q, r;

	query_msg(&q, 5, "example.com", DNS_T_MX);
	hdr(&r, 5, RESP_FLAGS | 0x0400, 1, 1, 1, 1);
	question(&r, "example.com", DNS_T_MX);
	rr_begin(&r, DNS_T_MX, 60);
	u16(&r, 10);
	name(&r, "mx.example.com");
	rr_end(&r);
	rr_begin(&r, DNS_T_NS, 60);
	name(&r, "ns.example.com");
	rr_end(&r);
	rr_begin(&r, DNS_T_A, 60);
	raw(&r, "\x0a\x00\x00\x09", 4);
	rr_end(&r);
	tp_udp(tp, 0, q.b, q.n);
	tp_udp(tp, 1, r.b, r.n);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_eq(json_array_size(tp_get(tp, 0, "dns.authorities")), 1);
	cr_assert_eq(json_array_size(tp_get(tp, 0, "dns.additionals")), 1);
	cr_assert_eq(json_integer_value(tp_get(tp, 0, "dns.additionals_count")), 1);
	cr_assert(json_is_true(tp_get(tp, 0, "dns.flags.authoritative")));
	cr_assert_null(tp_get(tp, 0, "dns.resolved_ip"), "only answers resolve");
	cr_assert(strstr(tp_str(tp, 0, "request"), ";example.com\t\tIN\tMX"), "%s", tp_str(tp, 0, "request"));
	cr_assert(strstr(tp_str(tp, 0, "response"), ";; AUTHORITY SECTION:\nexample.com\t60\tIN\tNS\tns.example.com"),
		  "%s", tp_str(tp, 0, "response"));
	tp_free(tp);
}

/* ---- TCP ---- */

static size_t framed(const struct mb *m, uint8_t *out)
{
	out[0] = (uint8_t)(m->n >> 8);
	out[1] = (uint8_t)m->n;
	memcpy(out + 2, m->b, m->n);
	return m->n + 2;
}

/* The parts of an event that do not depend on packet timing. */
static char *stable_fields(struct tp *tp, size_t i)
{
	static const char *const keys[] = { "dns", "query", "status", "source", "destination", NULL };

	return tp_fields(tp, i, keys);
}

static char *tcp_exchange(size_t split_q, size_t split_r)
{
	struct tp *tp = dns_tp(NULL);
	struct mb q, r;
	uint8_t fq[512], fr[512];
	size_t nq, nr;
	char *s;

	query_msg(&q, 0x4242, "tcp.example.com", DNS_T_A);
	a_response(&r, 0x4242, "tcp.example.com", 0);
	nq = framed(&q, fq);
	nr = framed(&r, fr);
	tp_handshake(tp);
	tp_tcp_split(tp, 0, fq, nq, split_q);
	tp_tcp_split(tp, 1, fr, nr, split_r);
	cr_assert_eq(tp_count(tp), 1, "split %zu/%zu", split_q, split_r);
	cr_assert_str_eq(tp_str(tp, 0, "network.transport"), "tcp");
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0);
	s = stable_fields(tp, 0);
	tp_free(tp);
	return s;
}

Test(dns, tcp_split_at_every_byte)
{
	char *ref = tcp_exchange(0, 0);
	size_t nq = 2 + 12 + 17 + 4, nr = nq + 16;

	for (size_t i = 1; i < nq; i++) {
		char *s = tcp_exchange(i, 0);

		cr_assert_str_eq(s, ref, "query split at %zu", i);
		free(s);
	}
	for (size_t i = 1; i < nr; i++) {
		char *s = tcp_exchange(0, i);

		cr_assert_str_eq(s, ref, "response split at %zu", i);
		free(s);
	}
	free(ref);
}

Test(dns, tcp_two_messages_per_segment_and_id_check)
{
	struct tp *tp = dns_tp(NULL);
	struct mb q1, q2, r1, r2, bad;
	uint8_t buf[1024];
	size_t n;

	query_msg(&q1, 1, "a.example.com", DNS_T_A);
	query_msg(&q2, 2, "b.example.com", DNS_T_A);
	a_response(&r1, 1, "a.example.com", 0);
	a_response(&r2, 9, "b.example.com", 0); /* id differs from the query's */
	tp_handshake(tp);
	n = framed(&q1, buf);
	n += framed(&q2, buf + n);
	tp_tcp(tp, 0, 0, buf, n);
	/* a malformed message between the responses is skipped, framing continues */
	hdr(&bad, 3, RESP_FLAGS, 1, 0, 0, 0);
	ptr(&bad, 12);
	n = framed(&r1, buf);
	n += framed(&bad, buf + n);
	n += framed(&r2, buf + n);
	tp_tcp(tp, 1, 0, buf, n);
	cr_assert_eq(tp_count(tp), 2);
	cr_assert_str_eq(tp_str(tp, 0, "resource"), "a.example.com");
	cr_assert_str_eq(tp_str(tp, 1, "resource"), "b.example.com");
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 1);
	cr_assert_eq(PSTAT(tp, UNMATCHED), 1);
	tp_free(tp);
}

Test(dns, tcp_answers_out_of_order_pair_by_id)
{
	struct tp *tp = dns_tp(NULL);
	struct mb q1, q2, q3, r1, r2, r3;
	uint8_t buf[1024];
	size_t n;

	query_msg(&q1, 11, "one.example.com", DNS_T_A);
	query_msg(&q2, 12, "two.example.com", DNS_T_A);
	query_msg(&q3, 13, "three.example.com", DNS_T_A);
	a_response(&r1, 11, "one.example.com", 0);
	a_response(&r2, 12, "two.example.com", 3);
	a_response(&r3, 13, "three.example.com", 0);
	tp_handshake(tp);
	n = framed(&q1, buf);
	n += framed(&q2, buf + n);
	n += framed(&q3, buf + n);
	tp_tcp(tp, 0, 0, buf, n);
	/* RFC 7766: answered in the order 3, 1, 2 */
	n = framed(&r3, buf);
	n += framed(&r1, buf + n);
	n += framed(&r2, buf + n);
	tp_tcp(tp, 1, 0, buf, n);
	cr_assert_eq(tp_count(tp), 3);
	for (size_t i = 0; i < 3; i++)
		cr_assert_str_eq(tp_str(tp, i, "resource"), tp_str(tp, i, "dns.question.name"), "event %zu", i);
	cr_assert_str_eq(tp_str(tp, 0, "resource"), "three.example.com");
	cr_assert_str_eq(tp_str(tp, 2, "dns.response_code"), "NXDOMAIN");
	cr_assert_str_eq(tp_str(tp, 2, "status"), "Error");
	cr_assert_eq(PSTAT(tp, UNMATCHED), 0);
	tp_free(tp);
}

/* Client bytes lost: the stream goes on n bytes later (the server's ACK will say so). */
static void lose(struct tp *tp, int dir, size_t n)
{
	tp->seq[dir] += (uint32_t)n;
}

Test(dns, tcp_gap_resumes_at_a_message_start)
{
	struct tp *tp = dns_tp(NULL);
	struct mb q[4], r[4];
	static const char *const names[] = { "q0.example.com", "q1.example.com", "q2.example.com", "q3.example.com" };
	uint8_t buf[1024], q1f[256];
	size_t n, n1;

	for (int i = 0; i < 4; i++) {
		query_msg(&q[i], (uint16_t)(100 + i), names[i], DNS_T_A);
		a_response(&r[i], (uint16_t)(100 + i), names[i], 0);
	}
	tp_handshake(tp);
	n = framed(&q[0], buf);
	tp_tcp(tp, 0, 0, buf, n);
	n = framed(&r[0], buf);
	tp_tcp(tp, 1, 0, buf, n);
	/* q1 in two segments, the first lost; the second also carries q2 */
	n1 = framed(&q[1], q1f);
	lose(tp, 0, 9);
	memcpy(buf, q1f + 9, n1 - 9);
	n = n1 - 9 + framed(&q[2], buf + n1 - 9);
	tp_tcp(tp, 0, 0, buf, n);
	n = framed(&r[1], buf);
	n += framed(&r[2], buf + n);
	tp_tcp(tp, 1, 0, buf, n);
	/* the next query starts a segment: parsing resumes there */
	n = framed(&q[3], buf);
	tp_tcp(tp, 0, 0, buf, n);
	n = framed(&r[3], buf);
	tp_tcp(tp, 1, 0, buf, n);
	tp_flush(tp);
	/* q0, the answers to the lost q1 and q2 (published alone, as Packetbeat), then q3 */
	cr_assert_eq(tp_count(tp), 4);
	cr_assert_str_eq(tp_str(tp, 0, "resource"), "q0.example.com");
	for (size_t i = 1; i <= 2; i++) {
		cr_assert_str_eq(tp_str(tp, i, "resource"), names[i]);
		cr_assert_str_eq(tp_str(tp, i, "status"), "Error");
		cr_assert_str_eq(tp_str(tp, i, "error.message"), "Response: received without an associated Query");
		cr_assert_eq(json_integer_value(tp_get(tp, i, "source.bytes")), 0);
		cr_assert_null(tp_get(tp, i, "event.duration"));
	}
	cr_assert_str_eq(tp_str(tp, 3, "resource"), "q3.example.com");
	cr_assert_str_eq(tp_str(tp, 3, "status"), "OK");
	cr_assert_null(tp_get(tp, 3, "error"));
	cr_assert_eq(PSTAT(tp, GAPS), 1, "one gap; the rest of the cut segment skipped with it");
	cr_assert_eq(PSTAT(tp, UNMATCHED), 2, "the answers to the lost queries");
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0);
	tp_free(tp);
}

Test(dns, edns_cookie_do_flag_and_unknown_rcode)
{
	struct tp *tp = dns_tp(NULL);
	struct mb q, r;

	query_msg(&q, 77, "c.example.com", DNS_T_A);
	hdr(&r, 77, RESP_FLAGS | 11, 1, 0, 0, 1); /* rcode 11: no name for it */
	question(&r, "c.example.com", DNS_T_A);
	u8(&r, 0);
	u16(&r, DNS_T_OPT);
	u16(&r, 1232);
	u32(&r, 0x00008000); /* DO */
	u16(&r, 4 + 8);
	u16(&r, 10); /* COOKIE: an 8-byte client cookie */
	u16(&r, 8);
	raw(&r, "\x01\x23\x45\x67\x89\xab\xcd\xef", 8);
	tp_udp(tp, 0, q.b, q.n);
	tp_udp(tp, 1, r.b, r.n);
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(tp_str(tp, 0, "dns.opt.cookie"), "0123456789abcdef");
	cr_assert_str_eq(tp_str(tp, 0, "dns.response_code"), "Unknown 11");
	cr_assert_str_eq(tp_str(tp, 0, "status"), "Error");
	cr_assert_str_eq(json_string_value(json_array_get(tp_get(tp, 0, "dns.header_flags"), 2)), "DO");
	tp_free(tp);
}

/* ---- mutations ---- */

/* A response with most record types, compression and EDNS, as the seed. */
static void rich_message(struct mb *m)
{
	answer_msg(m, DNS_T_A);
	m->b[7] = 6; /* ancount */
	m->b[9] = 1; /* nscount */
	m->b[11] = 1; /* arcount */
	raw(m, "\xc0\x00\x02\x01", 4);
	rr_end(m);
	rr_begin(m, DNS_T_MX, 60);
	u16(m, 10);
	u8(m, 2);
	raw(m, "mx", 2);
	ptr(m, 16);
	rr_end(m);
	rr_begin(m, DNS_T_TXT, 60);
	raw(m,
	    "\x03"
	    "abc\x02"
	    "de",
	    7);
	rr_end(m);
	rr_begin(m, DNS_T_RRSIG, 60);
	raw(m, "\x00\x01\x0d\x03\x00\x00\x0e\x10\x65\x53\xf1\x00\x65\x44\x9e\xc0\x30\x39", 18);
	ptr(m, 16);
	raw(m, "sig", 3);
	rr_end(m);
	rr_begin(m, DNS_T_HTTPS, 60);
	raw(m, "\x00\x01\x00\x00\x01\x00\x03\x02h2\x00\x04\x00\x04\xc0\x00\x02\x01", 18);
	rr_end(m);
	rr_begin(m, DNS_T_NSEC, 60);
	ptr(m, 16);
	raw(m, "\x00\x06\x62\x01\x00\x00\x00\x03", 8);
	rr_end(m);
	rr_begin(m, DNS_T_SOA, 60);
	ptr(m, 16);
	ptr(m, 12);
	raw(m, "\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00\x04\x00\x00\x00\x05", 20);
	rr_end(m);
	u8(m, 0);
	u16(m, DNS_T_OPT);
	u16(m, 1232);
	u32(m, 0x8000);
	u16(m, 11);
	raw(m, "\x00\x08\x00\x07\x00\x01\x18\x00\xc0\x00\x02", 11);
}

Test(dns, mutated_messages_never_crash)
{
	struct mb seed, m;
	struct dns_message dm;
	uint32_t rng = 12345;
	int accepted = 0;

	rich_message(&seed);
	cr_assert_eq(decode(&seed, true, &dm), 0);
	cr_assert_eq(dm.nsection[DNS_SEC_ANSWER], 6);
	cr_assert_eq(dm.nsection[DNS_SEC_AUTHORITY], 1);
	cr_assert(dm.opt.present);
	dns_message_clear(&dm);
	for (int i = 0; i < 20000; i++) {
		m = seed;
		for (int k = 0; k < 1 + i % 5; k++) {
			rng = rng * 1103515245u + 12345u;
			size_t pos = (rng >> 8) % m.n;

			switch ((rng >> 4) % 4) {
			case 0:
				m.b[pos] = (uint8_t)(rng >> 16);
				break;
			case 1:
				m.b[pos] ^= (uint8_t)(1u << ((rng >> 20) % 8));
				break;
			case 2:
				m.b[pos] = (rng >> 20) & 1 ? 0xc0 : 0x3f;
				break;
			default:
				m.n = pos + 1;
				break;
			}
		}
		int rc = decode(&m, i & 1, &dm);

		cr_assert(rc == 0 || rc == -EINVAL, "iteration %d: rc %d", i, rc);
		if (rc == 0) {
			accepted++;
			dns_message_clear(&dm);
		}
	}
	cr_assert_gt(accepted, 0);
}

Test(dns, udp_query_from_the_server_port_turns_the_flow)
{
	struct tp *tp = dns_tp(NULL);
	struct mb q, r;

	/* 10.0.0.2:53 asks 10.0.0.1:40000 (e.g. a server-to-server query) */
	query_msg(&q, 11, "back.example.com", DNS_T_A);
	a_response(&r, 11, "back.example.com", 0);
	tp_udp(tp, 1, q.b, q.n);
	tp_udp(tp, 0, r.b, r.n);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(tp_str(tp, 0, "client.ip"), "10.0.0.2");
	cr_assert_eq(json_integer_value(tp_get(tp, 0, "client.port")), 53);
	cr_assert_str_eq(tp_str(tp, 0, "status"), "OK");
	cr_assert_eq(PSTAT(tp, UNMATCHED), 0);
	tp_free(tp);
}

Test(dns, tcp_fin_inside_a_message)
{
	struct tp *tp = dns_tp(NULL);
	struct mb q;
	uint8_t fq[512];
	size_t nq;

	query_msg(&q, 3, "cut.example.com", DNS_T_A);
	nq = framed(&q, fq);
	tp_handshake(tp);
	tp_tcp(tp, 0, 0, fq, nq - 5);
	tp_tcp(tp, 0, XB_TCP_FIN, NULL, 0);
	tp_tcp(tp, 1, XB_TCP_FIN, NULL, 0);
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 0, "half a query is no transaction");
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0);
	tp_free(tp);
}

Test(dns, tcp_message_cut_at_close_is_unparsed)
{
	struct tp *tp = dns_tp(NULL);
	static const uint8_t half[] = { 0, 30, 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0 };

	tp_handshake(tp);
	tp_tcp(tp, 0, 0, half, sizeof(half)); /* 10 bytes of a 30-byte query */
	tp_flush(tp);
	tp_assert_tcp_bytes(tp, 0, 0, 0, sizeof(half));
	tp_free(tp);
}

Test(dns, tcp_tail_of_a_message_cut_by_a_gap_is_dropped_with_it)
{
	struct tp *tp = dns_tp(NULL);
	uint8_t head[12] = { 0, 60, 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0 }, tail[30];

	memset(tail, 0xff, sizeof(tail)); /* no plausible message starts here */
	tp_handshake(tp);
	tp_tcp(tp, 0, 0, head, sizeof(head)); /* 10 bytes of a 60-byte query */
	tp_tcp_at(tp, 0, 0, sizeof(head) + 20, tail, sizeof(tail)); /* 20 lost, then its last 30 */
	tp_flush(tp);
	tp_assert_tcp_bytes(tp, 0, 0, sizeof(head) + sizeof(tail), 0);
	tp_free(tp);
}

/* ---- Packetbeat's notes ---- */

/* A minimal EDNS OPT record (the caller counts it in ARCOUNT). */
static void opt_rr(struct mb *m)
{
	u8(m, 0);
	u16(m, DNS_T_OPT);
	u16(m, 1232);
	u32(m, 0);
	u16(m, 0);
}

static void query_edns(struct mb *m, uint16_t id, const char *qname, bool edns)
{
	hdr(m, id, QUERY_FLAGS, 1, 0, 0, edns ? 1 : 0);
	question(m, qname, DNS_T_A);
	if (edns)
		opt_rr(m);
}

/* A response with n A records, with or without EDNS. */
static void big_response(struct mb *m, uint16_t id, const char *qname, unsigned n, bool edns)
{
	hdr(m, id, RESP_FLAGS, 1, (uint16_t)n, 0, edns ? 1 : 0);
	question(m, qname, DNS_T_A);
	for (unsigned i = 0; i < n; i++) {
		rr_begin(m, DNS_T_A, 60);
		raw(m, "\xc0\x00\x02", 3);
		u8(m, (uint8_t)i);
		rr_end(m);
	}
	if (edns)
		opt_rr(m);
}

#define NOTE_DUP                                                                                             \
	"Another query with the same DNS ID from this client was received so this query was closed without " \
	"receiving a response"

Test(dns, udp_duplicate_query_id_closes_the_first)
{
	struct tp *tp = dns_tp(NULL);
	struct mb q1, q2, r;

	query_msg(&q1, 5, "first.example.com", DNS_T_A);
	query_msg(&q2, 5, "second.example.com", DNS_T_A);
	a_response(&r, 5, "second.example.com", 0);
	tp_udp(tp, 0, q1.b, q1.n);
	tp_udp(tp, 0, q2.b, q2.n);
	cr_assert_eq(tp_count(tp), 1, "the first query is closed when the second comes");
	cr_assert_str_eq(tp_str(tp, 0, "resource"), "first.example.com");
	cr_assert_str_eq(tp_str(tp, 0, "status"), "Error");
	cr_assert_str_eq(tp_str(tp, 0, "error.message"), NOTE_DUP, "the duplicate note alone");
	tp_udp(tp, 1, r.b, r.n);
	cr_assert_eq(tp_count(tp), 2);
	cr_assert_str_eq(tp_str(tp, 1, "resource"), "second.example.com");
	cr_assert_str_eq(tp_str(tp, 1, "status"), "OK");
	cr_assert_null(tp_get(tp, 1, "error"));
	tp_free(tp);
}

Test(dns, udp_edns_notes)
{
	struct tp *tp = dns_tp(NULL);
	struct mb q, r;

	/* EDNS query, a small answer without EDNS */
	query_edns(&q, 1, "a.example.com", true);
	big_response(&r, 1, "a.example.com", 1, false);
	tp_udp(tp, 0, q.b, q.n);
	tp_udp(tp, 1, r.b, r.n);
	/* plain query, an EDNS answer */
	query_edns(&q, 2, "b.example.com", false);
	big_response(&r, 2, "b.example.com", 1, true);
	tp_udp(tp, 0, q.b, q.n);
	tp_udp(tp, 1, r.b, r.n);
	/* EDNS on both sides, over 512 bytes: nothing to note */
	query_edns(&q, 3, "c.example.com", true);
	big_response(&r, 3, "c.example.com", 40, true);
	cr_assert_gt(r.n, 512);
	tp_udp(tp, 0, q.b, q.n);
	tp_udp(tp, 1, r.b, r.n);
	/* EDNS query, an answer over 512 bytes without EDNS: both notes, in Packetbeat's order */
	query_edns(&q, 4, "d.example.com", true);
	big_response(&r, 4, "d.example.com", 40, false);
	tp_udp(tp, 0, q.b, q.n);
	tp_udp(tp, 1, r.b, r.n);
	cr_assert_eq(tp_count(tp), 4);
	cr_assert_str_eq(tp_str(tp, 0, "error.message"), "Responder does not support EDNS");
	cr_assert_str_eq(tp_str(tp, 0, "status"), "OK", "a note does not change the status");
	cr_assert_str_eq(tp_str(tp, 1, "error.message"), "Unexpected EDNS answer");
	cr_assert_null(tp_get(tp, 2, "error"));
	cr_assert_eq(json_array_size(tp_get(tp, 3, "error.message")), 2);
	cr_assert_str_eq(tp_str(tp, 3, "error.message.0"), "Response: Non-EDNS packet has size greater than 512");
	cr_assert_str_eq(tp_str(tp, 3, "error.message.1"), "Responder does not support EDNS");
	tp_free(tp);
}

Test(dns, udp_query_over_512_without_edns)
{
	struct tp *tp = dns_tp(NULL);
	struct mb q, r;
	char qname[300];

	/* a name of four 63-byte labels and a long query section: past 512 only with extra questions */
	hdr(&q, 8, QUERY_FLAGS, 3, 0, 0, 0);
	memset(qname, 'x', sizeof(qname));
	for (int i = 63; i < 255; i += 64)
		qname[i] = '.';
	qname[250] = '\0';
	for (int i = 0; i < 3; i++)
		question(&q, qname, DNS_T_A);
	cr_assert_gt(q.n, 512);
	tp_udp(tp, 0, q.b, q.n);
	a_response(&r, 8, "other.example.com", 0);
	tp_udp(tp, 1, r.b, r.n);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(tp_str(tp, 0, "error.message"), "Non-EDNS packet has size greater than 512",
			 "the query's note stays when the answer has none");
	tp_free(tp);
}

/* TCP: the query, then server bytes that cannot be read; the query is published with the reason. */
static void tcp_bad_response(const void *s2c, size_t n, uint8_t flags, const char *note)
{
	struct tp *tp = dns_tp(NULL);
	struct mb q;
	uint8_t fq[512];
	size_t nq;

	query_msg(&q, 0x77, "bad.example.com", DNS_T_A);
	nq = framed(&q, fq);
	tp_handshake(tp);
	tp_tcp(tp, 0, 0, fq, nq);
	tp_tcp(tp, 1, flags, s2c, n);
	cr_assert_eq(tp_count(tp), 1, "%s", note);
	cr_assert_str_eq(tp_str(tp, 0, "resource"), "bad.example.com");
	cr_assert_str_eq(tp_str(tp, 0, "status"), "Error");
	cr_assert_str_eq(tp_str(tp, 0, "error.message"), note);
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1, "published once");
	tp_free(tp);
}

Test(dns, tcp_unreadable_responses_noted_on_the_query)
{
	static const uint8_t zero[] = { 0, 0 };
	static const uint8_t junk[] = { 0, 4, 1, 2, 3, 4 };
	struct mb r;
	uint8_t fr[512];
	size_t nr;

	tcp_bad_response(zero, sizeof(zero), 0, "Response: Message's length was set to zero");
	tcp_bad_response(junk, sizeof(junk), 0, "Response: Message's data could not be decoded as DNS");
	a_response(&r, 0x77, "bad.example.com", 0);
	nr = framed(&r, fr);
	tcp_bad_response(fr, nr - 3, XB_TCP_FIN, "Response: Message's data is incomplete");
}

Test(dns, tcp_gap_inside_a_response_notes_the_query)
{
	struct tp *tp = dns_tp(NULL);
	struct mb q, r;
	uint8_t fq[512], fr[512];
	size_t nq, nr;

	query_msg(&q, 0x78, "gap.example.com", DNS_T_A);
	a_response(&r, 0x78, "gap.example.com", 0);
	nq = framed(&q, fq);
	nr = framed(&r, fr);
	tp_handshake(tp);
	tp_tcp(tp, 0, 0, fq, nq);
	tp_tcp(tp, 1, 0, fr, 10);
	lose(tp, 1, 10);
	tp_tcp(tp, 1, 0, fr + 20, nr - 20);
	query_msg(&q, 0x79, "next.example.com", DNS_T_A);
	nq = framed(&q, fq);
	tp_tcp(tp, 0, 0, fq, nq); /* the client acknowledges past the hole: it is skipped */
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(tp_str(tp, 0, "error.message"), "Response: Message's data is incomplete");
	tp_free(tp);
}

Test(dns, tcp_duplicate_query_id)
{
	struct tp *tp = dns_tp(NULL);
	struct mb q1, q2, r;
	uint8_t buf[1024];
	size_t n;

	query_msg(&q1, 9, "one.example.com", DNS_T_A);
	query_msg(&q2, 9, "two.example.com", DNS_T_A);
	a_response(&r, 9, "two.example.com", 0);
	tp_handshake(tp);
	n = framed(&q1, buf);
	n += framed(&q2, buf + n);
	tp_tcp(tp, 0, 0, buf, n);
	n = framed(&r, buf);
	tp_tcp(tp, 1, 0, buf, n);
	cr_assert_eq(tp_count(tp), 2);
	cr_assert_str_eq(tp_str(tp, 0, "resource"), "one.example.com");
	cr_assert_str_eq(tp_str(tp, 0, "error.message"), NOTE_DUP);
	cr_assert_str_eq(tp_str(tp, 1, "resource"), "two.example.com");
	cr_assert_str_eq(tp_str(tp, 1, "status"), "OK");
	tp_free(tp);
}
