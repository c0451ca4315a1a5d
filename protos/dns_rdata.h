/*
 * Private to the DNS decoder: the rdata of one record while it is decoded
 * (dns_wire.c reads records and decodes most types; dns_dnssec.c the
 * DNSSEC ones), and the helpers both use.
 */
#ifndef XDPBEAT_DNS_RDATA_H
#define XDPBEAT_DNS_RDATA_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dns.h"
#include "json_buf.h"
#include "reader.h"

/* One record's rdata while it is decoded: what the decoders of each type share. */
struct rdata {
	const uint8_t *msg;
	size_t msglen;
	struct reader r; /* over msg, len = end of this rdata */
	uint16_t type;
	enum dns_section sec;
	struct json_buf *out; /* the record's object, still open: extra members go here */
	struct dns_sb data; /* dns.answers[].data */
	struct dns_sb pres; /* full presentation, if it differs from data */
	struct dns_message *m;
};

/* A (possibly compressed) name inside the rdata, in presentation form; 0 or -EINVAL. */
static inline int rd_name(struct rdata *x, char *out, size_t outlen)
{
	size_t off = x->r.pos;

	if (x->r.err || dns_read_name(x->msg, x->msglen, &off, out, outlen) || off > x->r.len)
		return -EINVAL;
	x->r.pos = off;
	return 0;
}

/* Members of the open record object: ,"key":value (keys are literals; decoder text is ASCII). */
static inline int obj_int(struct json_buf *o, const char *key, uint32_t v)
{
	json_buf_key(o, key, 0);
	json_buf_u64(o, v);
	return o->err;
}

static inline int obj_str(struct json_buf *o, const char *key, const char *s)
{
	json_buf_key(o, key, 0);
	json_buf_str(o, s, strlen(s));
	return o->err;
}

static inline int obj_uint_str(struct json_buf *o, const char *key, unsigned v)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%u", v);
	return obj_str(o, key, buf);
}

/* Hex (upper or lower case) / base64 of p[0..n) appended to sb. */
void dns_sb_hex(struct dns_sb *sb, const uint8_t *p, size_t n, bool upper);
void dns_sb_base64(struct dns_sb *sb, const uint8_t *in, size_t n);
/* DNSSEC algorithm (RFC 8624) and digest/hash (DS, NSEC3) mnemonics as Packetbeat prints them; else decimal in buf. */
const char *dns_algorithm_str(uint8_t alg, char *buf, size_t len);
const char *dns_digest_str(uint8_t d, char *buf, size_t len);

/*
 * DNSSEC records (RFC 4034, RFC 5155), in dns_dnssec.c: the type's members
 * into x->out, dns.*.data into x->data, the presentation form into x->pres.
 * 0, -EINVAL (malformed) or -ENOMEM.
 */
int dns_rr_ds(struct rdata *x);
int dns_rr_dnskey(struct rdata *x);
int dns_rr_rrsig(struct rdata *x);
int dns_rr_nsec(struct rdata *x);
int dns_rr_nsec3(struct rdata *x);
int dns_rr_nsec3param(struct rdata *x);

#endif
