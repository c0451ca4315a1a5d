/*
 * DNSSEC records as Packetbeat 8 writes them: DS/CDS, DNSKEY/CDNSKEY,
 * RRSIG, NSEC (RFC 4034) and NSEC3/NSEC3PARAM (RFC 5155). Called by the
 * record decoder in dns_wire.c with the rdata's reader (dns_rdata.h).
 */
#include <time.h>

#include "dns_rdata.h"

int dns_rr_ds(struct rdata *x)
{
	char b1[16], b2[16];
	uint16_t tag = rd_be16(&x->r);
	uint8_t alg = rd_u8(&x->r), dt = rd_u8(&x->r);
	size_t n = rd_left(&x->r);
	const uint8_t *dig = rd_bytes(&x->r, n);

	if (!dig)
		return -EINVAL;
	dns_sb_hex(&x->data, dig, n, true);
	dns_sb_printf(&x->pres, "%u %u %u %s", tag, alg, dt, dns_sb_str(&x->data));
	if (obj_uint_str(x->out, "key_tag", tag) ||
	    obj_str(x->out, "algorithm", dns_algorithm_str(alg, b1, sizeof(b1))) ||
	    obj_str(x->out, "digest_type", dns_digest_str(dt, b2, sizeof(b2))))
		return -ENOMEM;
	return 0;
}

int dns_rr_dnskey(struct rdata *x)
{
	char b1[16];
	uint16_t flags = rd_be16(&x->r);
	uint8_t proto = rd_u8(&x->r), alg = rd_u8(&x->r);
	size_t n = rd_left(&x->r);
	const uint8_t *key = rd_bytes(&x->r, n);

	if (!key)
		return -EINVAL;
	dns_sb_base64(&x->data, key, n);
	dns_sb_printf(&x->pres, "%u %u %u ", flags, proto, alg);
	dns_sb_puts(&x->pres, dns_sb_str(&x->data));
	if (obj_uint_str(x->out, "flags", flags) || obj_uint_str(x->out, "protocol", proto) ||
	    obj_str(x->out, "algorithm", dns_algorithm_str(alg, b1, sizeof(b1))))
		return -ENOMEM;
	return 0;
}

static void time_str(uint32_t t, char *buf, size_t len)
{
	time_t sec = (time_t)t;
	struct tm tm;

	gmtime_r(&sec, &tm);
	strftime(buf, len, "%Y%m%d%H%M%S", &tm);
}

int dns_rr_rrsig(struct rdata *x)
{
	char signer[DNS_NAME_TEXT_MAX], tb[16], ab[16], exp[32], inc[32];
	uint16_t covered = rd_be16(&x->r);
	uint8_t alg = rd_u8(&x->r), labels = rd_u8(&x->r);
	uint32_t ottl = rd_be32(&x->r), expiration = rd_be32(&x->r), inception = rd_be32(&x->r);
	uint16_t tag = rd_be16(&x->r);
	const uint8_t *sig;
	size_t n;
	struct json_buf *o = x->out;

	if (rd_name(x, signer, sizeof(signer)))
		return -EINVAL;
	n = rd_left(&x->r);
	sig = rd_bytes(&x->r, n);
	if (!sig)
		return -EINVAL;
	time_str(expiration, exp, sizeof(exp));
	time_str(inception, inc, sizeof(inc));
	dns_sb_base64(&x->data, sig, n);
	dns_sb_printf(&x->pres, "%s %u %u %u %s %s %u %s ", dns_type_str(covered, tb, sizeof(tb)), alg, labels, ottl,
		      exp, inc, tag, signer);
	dns_sb_puts(&x->pres, dns_sb_str(&x->data));
	if (obj_str(o, "type_covered", dns_type_str(covered, tb, sizeof(tb))) ||
	    obj_str(o, "algorithm", dns_algorithm_str(alg, ab, sizeof(ab))) || obj_uint_str(o, "labels", labels) ||
	    obj_uint_str(o, "original_ttl", ottl) || obj_str(o, "expiration", exp) || obj_str(o, "inception", inc) ||
	    obj_uint_str(o, "key_tag", tag) || obj_str(o, "signer_name", signer))
		return -ENOMEM;
	return 0;
}

/* NSEC type bitmap (RFC 4034 4.1.2) as "A NS SOA ..." into sb. */
static int type_bitmap(struct reader *r, struct dns_sb *sb)
{
	int last_window = -1;

	while (rd_left(r)) {
		uint8_t window = rd_u8(r), n = rd_u8(r);
		const uint8_t *bits = rd_bytes(r, n);

		if (!bits || n == 0 || n > 32 || (int)window <= last_window)
			return -EINVAL;
		last_window = window;
		for (unsigned i = 0; i < n * 8u; i++) {
			char buf[16];

			if (!(bits[i / 8] & (0x80 >> (i % 8))))
				continue;
			if (sb->len)
				dns_sb_putc(sb, ' ');
			dns_sb_puts(sb, dns_type_str((uint16_t)(window << 8 | i), buf, sizeof(buf)));
		}
	}
	return 0;
}

int dns_rr_nsec(struct rdata *x)
{
	char next[DNS_NAME_TEXT_MAX];
	struct dns_sb bits = { 0 };
	int err;

	if (rd_name(x, next, sizeof(next)) || type_bitmap(&x->r, &bits)) {
		dns_sb_free(&bits);
		return -EINVAL;
	}
	dns_sb_puts(&x->data, next);
	dns_sb_printf(&x->pres, "%s ", next);
	dns_sb_puts(&x->pres, dns_sb_str(&bits));
	err = obj_str(x->out, "type_bits", dns_sb_str(&bits));
	dns_sb_free(&bits);
	return err;
}

/* RFC 4648 base32 "extended hex" alphabet, upper case, without padding (RFC 5155 3.3). */
static void sb_base32hex(struct dns_sb *sb, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUV";
	unsigned acc = 0, bits = 0;

	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8 | p[i]) & 0xfff;
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			dns_sb_putc(sb, digits[(acc >> bits) & 31]);
		}
	}
	if (bits)
		dns_sb_putc(sb, digits[(acc << (5 - bits)) & 31]);
}

/* NSEC3 / NSEC3PARAM salt: upper-case hex, "-" when empty (RFC 5155 3.3). */
static void sb_salt(struct dns_sb *sb, const uint8_t *salt, size_t n)
{
	if (n)
		dns_sb_hex(sb, salt, n, true);
	else
		dns_sb_putc(sb, '-');
}

/* NSEC3PARAM (RFC 5155 4.2), and the same leading fields of NSEC3: hash, flags, iterations, salt. */
static int nsec3_params(struct rdata *x, struct dns_sb *salt)
{
	char hb[16];
	uint8_t hash = rd_u8(&x->r), flags = rd_u8(&x->r);
	uint16_t iterations = rd_be16(&x->r);
	uint8_t n = rd_u8(&x->r);
	const uint8_t *p = rd_bytes(&x->r, n);

	if (!p)
		return -EINVAL;
	sb_salt(salt, p, n);
	dns_sb_printf(&x->pres, "%u %u %u %s", hash, flags, iterations, dns_sb_str(salt));
	if (obj_str(x->out, "hash", dns_digest_str(hash, hb, sizeof(hb))) || obj_uint_str(x->out, "flags", flags) ||
	    obj_uint_str(x->out, "iterations", iterations))
		return -ENOMEM;
	return 0;
}

/* NSEC3PARAM: the salt is the data, as Packetbeat puts it. */
int dns_rr_nsec3param(struct rdata *x)
{
	if (nsec3_params(x, &x->data) || rd_left(&x->r))
		return -EINVAL;
	return 0;
}

/* NSEC3 (RFC 5155 3.2): the next hashed owner name (base32hex) is the data. */
int dns_rr_nsec3(struct rdata *x)
{
	struct dns_sb salt = { 0 }, bits = { 0 };
	const uint8_t *next;
	uint8_t n;
	int err = -EINVAL;

	if (nsec3_params(x, &salt))
		goto out;
	n = rd_u8(&x->r);
	next = rd_bytes(&x->r, n);
	if (!next || type_bitmap(&x->r, &bits))
		goto out;
	sb_base32hex(&x->data, next, n);
	dns_sb_printf(&x->pres, " %s", dns_sb_str(&x->data));
	if (bits.len)
		dns_sb_printf(&x->pres, " %s", dns_sb_str(&bits));
	err = obj_str(x->out, "salt", dns_sb_str(&salt)) || obj_str(x->out, "type_bits", dns_sb_str(&bits)) ? -ENOMEM
													    : 0;
out:
	dns_sb_free(&salt);
	dns_sb_free(&bits);
	return err;
}
