/*
 * DNS (RFC 1035 and friends): the message decoder in dns_wire.c (the
 * DNSSEC record types in dns_dnssec.c), used by the protocol module in
 * dns.c (ops table, events, config).
 *
 * dns_decode() turns one whole message into a struct dns_message: header,
 * first question, and the answer/authority/additional sections already as
 * JSON text: comma-separated Packetbeat-shaped records ({name,type,class,
 * ttl,...,data}), ready to be written between brackets.
 * Malformed input (counts past the end, compression loops, forward or
 * out-of-range pointers, labels over 63 bytes, names over 255 bytes, rdata
 * that does not match its type) is rejected as a whole with -EINVAL.
 *
 * Names are given in presentation form without the trailing dot ("." for
 * the root), with '.' and '\' inside labels escaped by a backslash and
 * bytes outside 0x21..0x7e as \DDD, so every string is plain ASCII.
 */
#ifndef XDPBEAT_DNS_H
#define XDPBEAT_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json_buf.h"

#define DNS_HEADER_LEN 12
#define DNS_LABEL_MAX 63
#define DNS_NAME_WIRE_MAX 255
/* Presentation form: every byte may become \DDD. */
#define DNS_NAME_TEXT_MAX 1040
/* Compression pointers followed for one name (each must point backwards anyway). */
#define DNS_PTR_HOPS_MAX 128
/* Cap of one rendered string (rdata text, the dig-like dump). */
#define DNS_TEXT_MAX (256 * 1024)

enum dns_type {
	DNS_T_A = 1,
	DNS_T_NS = 2,
	DNS_T_CNAME = 5,
	DNS_T_SOA = 6,
	DNS_T_PTR = 12,
	DNS_T_MX = 15,
	DNS_T_TXT = 16,
	DNS_T_AAAA = 28,
	DNS_T_SRV = 33,
	DNS_T_DNAME = 39,
	DNS_T_OPT = 41,
	DNS_T_DS = 43,
	DNS_T_RRSIG = 46,
	DNS_T_NSEC = 47,
	DNS_T_DNSKEY = 48,
	DNS_T_NSEC3 = 50,
	DNS_T_NSEC3PARAM = 51,
	DNS_T_CDS = 59,
	DNS_T_CDNSKEY = 60,
	DNS_T_SVCB = 64,
	DNS_T_HTTPS = 65,
	DNS_T_SPF = 99,
	DNS_T_CAA = 257,
};

enum dns_section {
	DNS_SEC_ANSWER = 0,
	DNS_SEC_AUTHORITY,
	DNS_SEC_ADDITIONAL,
	DNS_SEC_MAX,
};

/* Growable string with a hard cap: output past DNS_TEXT_MAX is dropped and marked. */
struct dns_sb {
	char *p;
	size_t len, cap;
	bool trunc; /* something was dropped (cap reached or out of memory) */
};

void dns_sb_putn(struct dns_sb *sb, const char *s, size_t n);
void dns_sb_puts(struct dns_sb *sb, const char *s);
void dns_sb_putc(struct dns_sb *sb, char c);
void dns_sb_printf(struct dns_sb *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text so far ("" when empty); stays owned by sb. */
const char *dns_sb_str(const struct dns_sb *sb);
void dns_sb_free(struct dns_sb *sb);

/* EDNS(0) OPT pseudo-record. */
struct dns_opt {
	bool present;
	uint16_t udp_size;
	uint8_t ext_rcode; /* upper 8 bits of the 12-bit response code */
	uint8_t version;
	bool do_bit;
	struct json_buf options; /* Packetbeat's dns.opt.* options as JSON members "key":"text",... (owned) */
};

struct dns_message {
	uint16_t id;
	bool qr, aa, tc, rd, ra, ad, cd;
	uint8_t opcode;
	uint16_t rcode; /* header rcode | EDNS extended bits << 4 */
	uint16_t qdcount, ancount, nscount, arcount; /* as the header says */
	bool has_question;
	char qname[DNS_NAME_TEXT_MAX];
	uint16_t qtype, qclass;
	struct json_buf sections[DNS_SEC_MAX]; /* records as JSON objects, comma-separated (owned); no OPT */
	size_t nsection[DNS_SEC_MAX]; /* records in each section */
	struct json_buf resolved_ip; /* addresses of A/AAAA answers as JSON strings, comma-separated (owned) */
	size_t nresolved;
	struct dns_opt opt;
	char *text; /* dig-like dump when asked for (owned), else NULL */
	size_t text_len;
	size_t len; /* message bytes */
};

/*
 * Decode one message of len bytes. want_text: also build m->text.
 * Returns 0, -EINVAL (malformed) or -ENOMEM; on error m holds nothing.
 */
int dns_decode(const uint8_t *buf, size_t len, bool want_text, struct dns_message *m);
/* Free what dns_decode() allocated. Accepts a zeroed message. */
void dns_message_clear(struct dns_message *m);

/*
 * Read a possibly compressed name starting at *off of msg (msglen bytes):
 * the presentation form goes to out (outlen >= DNS_NAME_TEXT_MAX), *off is
 * advanced past the name's bytes in place. 0 or -EINVAL.
 */
int dns_read_name(const uint8_t *msg, size_t msglen, size_t *off, char *out, size_t outlen);

/* Mnemonics as Packetbeat prints them; unknown values as decimal in buf. */
const char *dns_type_str(uint16_t type, char *buf, size_t len);
const char *dns_class_str(uint16_t cls, char *buf, size_t len);
const char *dns_rcode_str(uint16_t rcode, char *buf, size_t len);
const char *dns_opcode_str(uint8_t opcode, char *buf, size_t len);

/*
 * Registered domain of name by a small built-in public-suffix subset: the
 * suffix is the longest listed multi-label suffix (co.uk, github.io, ...)
 * or else the last label. Returns false when name has no label before its
 * suffix. *etld1 and *suffix point into name.
 */
bool dns_etld_plus_one(const char *name, const char **etld1, const char **suffix);

#endif
