/*
 * HTTP client of the Elasticsearch output: libcurl multi with one easy
 * handle (keep-alive connection) per worker, hosts taken round-robin,
 * basic auth / ApiKey / custom headers, TLS verification modes, gzip bodies.
 * ssl.certificate_authorities: all the PEM files, concatenated in memory,
 * are the trusted CAs (CURLOPT_CAINFO_BLOB; no file is written).
 */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "es.h"
#include "base64.h"
#include "reader.h"

/* Largest response body we keep (a 1600-item bulk answer is ~500 KiB). */
#define ES_RESP_MAX (64UL * 1024 * 1024)
/* Largest CA bundle read from ssl.certificate_authorities (all files). */
#define ES_CA_MAX (16UL * 1024 * 1024)
/* Largest single certificate (DER) checked in it. */
#define ES_CERT_MAX (64UL * 1024)

struct es_conn {
	CURL *h;
	struct curl_slist *hdrs;
	struct es_req *req;
	size_t host;
	struct json_buf gz;
	char errbuf[CURL_ERROR_SIZE];
	uint64_t t0;
	bool busy;
};

struct es_host_state {
	uint64_t dead_until_us; /* monotonic: skip while other hosts are up */
	unsigned fails; /* consecutive connection failures */
};

struct es_client {
	CURLM *multi;
	char **urls;
	struct es_host_state *hs;
	size_t nurls;
	size_t next_host;
	struct curl_slist *base_hdrs; /* auth + custom headers */
	struct es_client_cfg cfg;
	char *username, *password, *proxy_url;
	struct json_buf ca; /* PEM bundle, until every handle has its copy */
	struct es_conn *conns;
	int nconns;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

/* "host:port" -> "http://host:port"; trailing slashes dropped. */
static char *normalize_url(const char *h)
{
	size_t n = strlen(h);
	char *u;

	while (n && h[n - 1] == '/')
		n--;
	if (!n)
		return NULL;
	if (strstr(h, "://"))
		return strndup(h, n);
	u = malloc(n + 8);
	if (u)
		snprintf(u, n + 8, "http://%.*s", (int)n, h);
	return u;
}

int es_gzip(const void *data, size_t len, int level, struct json_buf *out)
{
	z_stream z = { 0 };
	int rc;

	out->len = 0;
	if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	if (json_buf_reserve(out, deflateBound(&z, len))) {
		deflateEnd(&z);
		return -ENOMEM;
	}
	z.next_in = (Bytef *)data;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)out->p;
	z.avail_out = (uInt)(out->cap - 1);
	rc = deflate(&z, Z_FINISH);
	out->len = z.total_out;
	deflateEnd(&z);
	return rc == Z_STREAM_END ? 0 : -EIO;
}

static size_t on_body(char *p, size_t sz, size_t nm, void *ud)
{
	struct es_req *r = ud;
	size_t n = sz * nm;

	if (r->resp.len + n > ES_RESP_MAX || json_buf_put(&r->resp, p, n))
		return 0; /* curl reports a write error */
	return n;
}

static struct curl_slist *add_hdr(struct curl_slist *l, const char *h, bool *ok)
{
	struct curl_slist *n = curl_slist_append(l, h);

	if (!n)
		*ok = false;
	return n ? n : l;
}

static struct curl_slist *base_headers(const struct es_client_cfg *cfg, bool *ok)
{
	struct curl_slist *l = NULL;

	l = add_hdr(l, "Expect:", ok); /* no 100-continue round trip */
	if (cfg->api_key && *cfg->api_key) {
		size_t n = strlen(cfg->api_key);
		char *h = malloc(4 * ((n + 2) / 3) + 32);

		if (!h) {
			*ok = false;
			return l;
		}
		strcpy(h, "Authorization: ApiKey ");
		base64_encode(cfg->api_key, n, h + strlen(h));
		l = add_hdr(l, h, ok);
		free(h);
	}
	for (size_t i = 0; cfg->headers && i < cfg->headers->n; i++)
		l = add_hdr(l, cfg->headers->v[i], ok);
	return l;
}

static int conn_init(struct es_client *c, struct es_conn *k)
{
	CURL *h = curl_easy_init();

	if (!h)
		return -ENOMEM;
	k->h = h;
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, k->errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(c->cfg.timeout_ns / 1000000ULL));
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	if (c->username) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERNAME, c->username);
		curl_easy_setopt(h, CURLOPT_PASSWORD, c->password ? c->password : "");
	}
	if (c->ca.len) {
		struct curl_blob blob = { .data = c->ca.p, .len = c->ca.len, .flags = CURL_BLOB_COPY };

		/* only these CAs: neither the system bundle nor its directory */
		if (curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob) != CURLE_OK)
			return -ENOTSUP;
		curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
	}
	if (c->cfg.proxy_disable)
		curl_easy_setopt(h, CURLOPT_PROXY, "");
	else if (c->proxy_url)
		curl_easy_setopt(h, CURLOPT_PROXY, c->proxy_url);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, c->cfg.verify == ES_VERIFY_NONE ? 0L : 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, c->cfg.verify == ES_VERIFY_FULL ? 2L : 0L);
	return 0;
}

/* ---- CA files: PEM certificates, checked for shape before curl sees them ---- */

/* The base64 body of a PEM block (line breaks skipped) into der: its length, or -1. */
static long pem_decode(const char *p, size_t n, uint8_t *der, size_t cap)
{
	uint32_t acc = 0;
	int bits = 0, pad = 0;
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];
		int v;

		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
			continue;
		if (ch == '=') {
			pad++;
			continue;
		}
		v = base64_digit(ch);
		if (v < 0 || pad)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == cap)
				return -1;
			der[o++] = (uint8_t)(acc >> bits);
		}
	}
	return pad > 2 ? -1 : (long)o;
}

/* der is one DER SEQUENCE and nothing else (the outer shape of a certificate). */
static bool der_sequence(const uint8_t *d, size_t n)
{
	size_t len = 0, hdr = 2;

	if (n < 2 || d[0] != 0x30)
		return false;
	if (d[1] < 0x80) {
		len = d[1];
	} else {
		size_t k = d[1] & 0x7f;

		if (k == 0 || k > 3 || n < 2 + k)
			return false;
		for (size_t i = 0; i < k; i++)
			len = len << 8 | d[2 + i];
		hdr += k;
	}
	return hdr + len == n;
}

int es_pem_certs_check(const char *name, const char *p, size_t n, char *why, size_t whylen)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----", end[] = "-----END CERTIFICATE-----";
	const char *cur = p, *lim = p + n;
	uint8_t *der = malloc(ES_CERT_MAX);
	int count = 0, rc = 0;

	if (!der) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	while (n && cur < lim) { /* each round moves cur past one certificate */
		const char *b = memmem(cur, (size_t)(lim - cur), begin, sizeof(begin) - 1), *e;
		long len;

		if (!b)
			break;
		b += sizeof(begin) - 1;
		e = memmem(b, (size_t)(lim - b), end, sizeof(end) - 1);
		if (!e) {
			snprintf(why, whylen, "%s: certificate %d has no %s line", name, count + 1, end);
			rc = -EINVAL;
			break;
		}
		len = pem_decode(b, (size_t)(e - b), der, ES_CERT_MAX);
		if (len < 0 || !der_sequence(der, (size_t)len)) {
			snprintf(why, whylen, "%s: certificate %d is not base64 of a DER certificate", name, count + 1);
			rc = -EINVAL;
			break;
		}
		count++;
		cur = e + sizeof(end) - 1;
	}
	if (!rc && !count) {
		snprintf(why, whylen, "%s holds no PEM certificate (%s)", name, begin);
		rc = -EINVAL;
	}
	free(der);
	return rc ? rc : count;
}

static int ca_file_append(const char *path, struct json_buf *out, char *err, size_t errlen)
{
	size_t start = out->len;
	FILE *f = fopen(path, "rb");
	char buf[8192];
	size_t n;
	int rc = 0;

	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return rc;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (out->len + n > ES_CA_MAX) {
			snprintf(err, errlen, "%s: CA files larger than %lu MiB in all", path, ES_CA_MAX >> 20);
			rc = -EFBIG;
			goto out;
		}
		if (json_buf_put(out, buf, n)) {
			snprintf(err, errlen, "out of memory");
			rc = -ENOMEM;
			goto out;
		}
	}
	if (ferror(f)) {
		rc = -(errno ? errno : EIO);
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(-rc));
		goto out;
	}
	rc = es_pem_certs_check(path, out->p + start, out->len - start, err, errlen);
	if (rc < 0)
		goto out;
	rc = 0;
	/* the next file starts on its own line */
	if (json_buf_put(out, "\n", 1)) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
	}
out:
	fclose(f);
	return rc;
}

int es_ca_bundle(const struct strlist *files, struct json_buf *out, char *err, size_t errlen)
{
	out->len = 0;
	for (size_t i = 0; files && i < files->n; i++) {
		int rc = ca_file_append(files->v[i], out, err, errlen);

		if (rc)
			return rc;
	}
	return 0;
}

struct es_client *es_client_new(const struct es_client_cfg *cfg, char *err, size_t errlen)
{
	struct es_client *c = calloc(1, sizeof(*c));
	bool ok = true;
	char why[400];

	pthread_once(&curl_once, curl_init_once);
	if (!c)
		goto nomem;
	c->cfg = *cfg;
	c->nconns = cfg->conns > 0 ? cfg->conns : 1;
	if (!cfg->hosts || !cfg->hosts->n) {
		snprintf(err, errlen, "output.elasticsearch.hosts is empty");
		goto fail;
	}
	c->urls = calloc(cfg->hosts->n, sizeof(*c->urls));
	c->hs = calloc(cfg->hosts->n, sizeof(*c->hs));
	c->conns = calloc((size_t)c->nconns, sizeof(*c->conns));
	c->multi = curl_multi_init();
	if (!c->urls || !c->hs || !c->conns || !c->multi)
		goto nomem;
	for (size_t i = 0; i < cfg->hosts->n; i++) {
		c->urls[i] = normalize_url(cfg->hosts->v[i]);
		if (!c->urls[i]) {
			snprintf(err, errlen, "output.elasticsearch.hosts: bad host '%s'", cfg->hosts->v[i]);
			goto fail;
		}
		c->nurls++;
	}
	if (cfg->username && !(c->username = strdup(cfg->username)))
		goto nomem;
	if (cfg->password && !(c->password = strdup(cfg->password)))
		goto nomem;
	if (es_ca_bundle(cfg->ca_files, &c->ca, why, sizeof(why))) {
		snprintf(err, errlen, "output.elasticsearch.ssl.certificate_authorities: %s", why);
		goto fail;
	}
	if (cfg->proxy_url && !(c->proxy_url = strdup(cfg->proxy_url)))
		goto nomem;
	c->cfg.hosts = NULL;
	c->cfg.headers = NULL;
	c->cfg.ca_files = NULL;
	c->base_hdrs = base_headers(cfg, &ok);
	if (!ok)
		goto nomem;
	curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)(c->nconns * (long)c->nurls + 1));
	for (int i = 0; i < c->nconns; i++) {
		int rc = conn_init(c, &c->conns[i]);

		if (rc == -ENOTSUP) {
			snprintf(err, errlen,
				 "output.elasticsearch.ssl.certificate_authorities: this libcurl (%s) "
				 "cannot take CA certificates from memory (CURLOPT_CAINFO_BLOB)",
				 curl_version());
			goto fail;
		}
		if (rc)
			goto nomem;
	}
	json_buf_free(&c->ca); /* every handle has its copy */
	return c;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	es_client_free(c);
	errno = EINVAL;
	return NULL;
}

const char *es_client_host(const struct es_client *c, size_t i)
{
	return i < c->nurls ? c->urls[i] : NULL;
}

void es_req_reset(struct es_req *r)
{
	r->status = 0;
	r->err = 0;
	r->errmsg[0] = '\0';
	r->resp.len = 0;
	if (r->resp.p)
		r->resp.p[0] = '\0';
	r->latency_us = 0;
	r->sent_bytes = 0;
	r->host = NULL;
}

static struct curl_slist *req_headers(struct es_client *c, const struct es_req *r, bool gz, bool *ok)
{
	struct curl_slist *l = NULL;
	char ct[128];

	for (struct curl_slist *b = c->base_hdrs; b; b = b->next)
		l = add_hdr(l, b->data, ok);
	if (r->ctype) {
		snprintf(ct, sizeof(ct), "Content-Type: %s", r->ctype);
		l = add_hdr(l, ct, ok);
	}
	if (gz)
		l = add_hdr(l, "Content-Encoding: gzip", ok);
	return l;
}

/* Round-robin over hosts, skipping those that failed recently while others are up. */
static size_t pick_host(struct es_client *c)
{
	uint64_t now = mono_us();
	size_t best = c->next_host % c->nurls;

	for (size_t i = 0; i < c->nurls; i++) {
		size_t h = (c->next_host + i) % c->nurls;

		if (c->hs[h].dead_until_us <= now) {
			best = h;
			break;
		}
		if (c->hs[h].dead_until_us < c->hs[best].dead_until_us)
			best = h;
	}
	c->next_host = best + 1;
	return best;
}

static void host_result(struct es_client *c, size_t h, bool ok)
{
	struct es_host_state *s = &c->hs[h];

	if (ok) {
		s->fails = 0;
		s->dead_until_us = 0;
		return;
	}
	if (s->fails < 10)
		s->fails++;
	/* 0.5 s, 1 s, 2 s ... up to 30 s */
	s->dead_until_us =
		mono_us() + ((500000ULL << (s->fails - 1)) < 30000000ULL ? (500000ULL << (s->fails - 1)) : 30000000ULL);
}

size_t es_client_hosts_up(const struct es_client *c)
{
	uint64_t now = mono_us();
	size_t n = 0;

	for (size_t i = 0; i < c->nurls; i++)
		n += c->hs[i].dead_until_us <= now;
	return n;
}

static int start_req(struct es_client *c, struct es_conn *k, struct es_req *r)
{
	size_t host = pick_host(c);
	const char *url = c->urls[host];
	bool gz = r->compress && c->cfg.compression_level > 0 && r->len > 0;
	const char *body = r->body;
	size_t blen = r->len;
	bool ok = true;
	char full[1024];

	es_req_reset(r);
	r->host = url;
	if (gz) {
		if (es_gzip(r->body, r->len, c->cfg.compression_level, &k->gz))
			return -ENOMEM;
		body = k->gz.p;
		blen = k->gz.len;
	}
	snprintf(full, sizeof(full), "%s%s", url, r->path);
	curl_slist_free_all(k->hdrs);
	k->hdrs = req_headers(c, r, gz, &ok);
	if (!ok)
		return -ENOMEM;
	curl_easy_setopt(k->h, CURLOPT_URL, full);
	curl_easy_setopt(k->h, CURLOPT_HTTPHEADER, k->hdrs);
	curl_easy_setopt(k->h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(k->h, CURLOPT_NOBODY, strcmp(r->method, "HEAD") ? 0L : 1L);
	if (!strcmp(r->method, "GET") || !strcmp(r->method, "HEAD")) {
		curl_easy_setopt(k->h, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(k->h, CURLOPT_CUSTOMREQUEST, NULL);
		curl_easy_setopt(k->h, CURLOPT_NOBODY, strcmp(r->method, "HEAD") ? 0L : 1L);
	} else {
		curl_easy_setopt(k->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
		curl_easy_setopt(k->h, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(k->h, CURLOPT_CUSTOMREQUEST, strcmp(r->method, "POST") ? r->method : NULL);
	}
	r->sent_bytes = blen;
	k->host = host;
	k->errbuf[0] = '\0';
	k->req = r;
	k->t0 = mono_us();
	k->busy = true;
	if (curl_multi_add_handle(c->multi, k->h) != CURLM_OK) {
		k->busy = false;
		return -EIO;
	}
	return 0;
}

static int curl_errno(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
		return -EHOSTUNREACH;
	case CURLE_ABORTED_BY_CALLBACK:
		return -ECANCELED;
	default:
		return -EIO;
	}
}

static void finish_req(struct es_client *c, struct es_conn *k, CURLcode cc)
{
	struct es_req *r = k->req;

	r->latency_us = mono_us() - k->t0;
	if (cc == CURLE_OK) {
		curl_easy_getinfo(k->h, CURLINFO_RESPONSE_CODE, &r->status);
		host_result(c, k->host, true);
	} else {
		/* refused/unreachable: another host may take the next request */
		if (cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST)
			host_result(c, k->host, false);
		r->status = 0;
		r->err = curl_errno(cc);
		snprintf(r->errmsg, sizeof(r->errmsg), "%s", k->errbuf[0] ? k->errbuf : curl_easy_strerror(cc));
	}
	curl_multi_remove_handle(c->multi, k->h);
	k->busy = false;
	k->req = NULL;
}

static void abort_all(struct es_client *c)
{
	for (int i = 0; i < c->nconns; i++) {
		struct es_conn *k = &c->conns[i];

		if (!k->busy)
			continue;
		k->req->err = -ECANCELED;
		k->req->status = 0;
		snprintf(k->req->errmsg, sizeof(k->req->errmsg), "cancelled at shutdown");
		curl_multi_remove_handle(c->multi, k->h);
		k->busy = false;
		k->req = NULL;
	}
}

static struct es_conn *conn_of(struct es_client *c, CURL *h)
{
	for (int i = 0; i < c->nconns; i++)
		if (c->conns[i].h == h)
			return &c->conns[i];
	return NULL;
}

void es_client_run(struct es_client *c, struct es_req *const *reqs, size_t n, const atomic_bool *stop)
{
	int running = 0;

	if (n > (size_t)c->nconns)
		n = (size_t)c->nconns;
	for (size_t i = 0; i < n; i++) {
		int rc = start_req(c, &c->conns[i], reqs[i]);

		if (rc) {
			reqs[i]->err = rc;
			snprintf(reqs[i]->errmsg, sizeof(reqs[i]->errmsg), "cannot start request: %s", strerror(-rc));
		}
	}
	do {
		CURLMsg *m;
		int left;

		if (stop && atomic_load(stop)) {
			abort_all(c);
			return;
		}
		curl_multi_perform(c->multi, &running);
		while ((m = curl_multi_info_read(c->multi, &left))) {
			struct es_conn *k;

			if (m->msg != CURLMSG_DONE)
				continue;
			k = conn_of(c, m->easy_handle);
			if (k && k->busy)
				finish_req(c, k, m->data.result);
		}
		if (running)
			curl_multi_poll(c->multi, NULL, 0, 100, NULL);
	} while (running);
	abort_all(c); /* nothing should be left; be safe */
}

void es_client_free(struct es_client *c)
{
	if (!c)
		return;
	for (int i = 0; c->conns && i < c->nconns; i++) {
		struct es_conn *k = &c->conns[i];

		if (k->h) {
			if (k->busy)
				curl_multi_remove_handle(c->multi, k->h);
			curl_easy_cleanup(k->h);
		}
		curl_slist_free_all(k->hdrs);
		json_buf_free(&k->gz);
	}
	free(c->conns);
	if (c->multi)
		curl_multi_cleanup(c->multi);
	for (size_t i = 0; i < c->nurls; i++)
		free(c->urls[i]);
	free(c->urls);
	free(c->hs);
	curl_slist_free_all(c->base_hdrs);
	free(c->username);
	free(c->password);
	json_buf_free(&c->ca);
	free(c->proxy_url);
	free(c);
}
