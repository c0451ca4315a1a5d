/* Elasticsearch output: bulk bodies, index names, per-item results, backoff, spool. */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "base64.h"
#include "output/es/es.h"

/* 2026-01-02T03:04:05.678Z */
#define TS_2026 (1767323045ULL * 1000000000ULL + 678000000ULL)

/* ---- index names ---- */

Test(es, index_default_pattern)
{
	char out[ES_INDEX_MAX];

	cr_assert_eq(es_index_format("xdpbeat-%{+yyyy.MM.dd}", TS_2026, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "xdpbeat-2026.01.02");
}

Test(es, index_all_tokens_utc)
{
	char out[ES_INDEX_MAX];

	cr_assert_eq(es_index_format("a-%{+yy}-%{+yyyy-MM-dd'T'HH:mm:ss}", TS_2026, out, sizeof(out)), -EINVAL);
	cr_assert_eq(es_index_format("a-%{+yy}-%{+yyyy_MM_dd.HH.mm.ss}", TS_2026, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "a-26-2026_01_02.03.04.05");
}

Test(es, index_lowercased_and_static)
{
	char out[ES_INDEX_MAX];

	cr_assert_eq(es_index_format("MyBeat", TS_2026, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "mybeat");
}

Test(es, index_day_boundary_is_utc)
{
	char out[ES_INDEX_MAX];

	/* 2026-01-02T23:59:59.999Z and one ms later */
	cr_assert_eq(es_index_format("x-%{+yyyy.MM.dd}", 1767398399999000000ULL, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "x-2026.01.02");
	cr_assert_eq(es_index_format("x-%{+yyyy.MM.dd}", 1767398400000000000ULL, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "x-2026.01.03");
}

Test(es, index_rejects_bad_patterns)
{
	char why[200], out[16];

	cr_assert_eq(es_index_check("xdpbeat-%{+yyyy.MM.dd}", why, sizeof(why)), 0);
	cr_assert_eq(es_index_check("", why, sizeof(why)), -EINVAL);
	cr_assert_eq(es_index_check("x-%{[agent.version]}", why, sizeof(why)), -EINVAL);
	cr_assert_eq(es_index_check("x-%{+yyyy.QQ}", why, sizeof(why)), -EINVAL);
	cr_assert(strstr(why, "Q"));
	cr_assert_eq(es_index_check("x-%{+yyyy", why, sizeof(why)), -EINVAL);
	cr_assert_eq(es_index_check("a b", why, sizeof(why)), -EINVAL);
	cr_assert_eq(es_index_check("_hidden", why, sizeof(why)), -EINVAL);
	cr_assert_eq(es_index_check("a/b", why, sizeof(why)), -EINVAL);
	cr_assert_eq(es_index_format("a-very-long-index-name", TS_2026, out, sizeof(out)), -ENAMETOOLONG);
}

/* ---- bulk bodies ---- */

Test(es, bulk_create_with_id_and_pipeline)
{
	struct json_buf b = { 0 };
	const char *doc = "{\"a\":1}";

	cr_assert_eq(es_bulk_append(&b, ES_OP_CREATE, "xdpbeat-2026.01.02", "ID1", "geo", doc, strlen(doc)), 0);
	cr_assert_str_eq(b.p, "{\"create\":{\"_index\":\"xdpbeat-2026.01.02\",\"_id\":\"ID1\",\"pipeline\":\"geo\"}}\n"
			      "{\"a\":1}\n");
	json_buf_free(&b);
}

Test(es, bulk_index_without_id_and_appends)
{
	struct json_buf b = { 0 };

	cr_assert_eq(es_bulk_append(&b, ES_OP_INDEX, "i", NULL, NULL, "{}", 2), 0);
	cr_assert_eq(es_bulk_append(&b, ES_OP_INDEX, "i", NULL, NULL, "{\"b\":2}", 7), 0);
	cr_assert_str_eq(b.p, "{\"index\":{\"_index\":\"i\"}}\n{}\n{\"index\":{\"_index\":\"i\"}}\n{\"b\":2}\n");
	cr_assert_eq(b.len, strlen(b.p));
	json_buf_free(&b);
}

Test(es, bulk_body_is_valid_ndjson_with_escaping)
{
	struct json_buf b = { 0 };
	json_t *action;
	char *nl;

	cr_assert_eq(es_bulk_append(&b, ES_OP_CREATE, "we\"ird\\", "i\n1", NULL, "{}", 2), 0);
	nl = strchr(b.p, '\n');
	cr_assert(nl);
	action = json_loadb(b.p, (size_t)(nl - b.p), 0, NULL);
	cr_assert(action);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(action, "create"), "_index")), "we\"ird\\");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(action, "create"), "_id")), "i\n1");
	json_decref(action);
	json_buf_free(&b);
}

Test(es, doc_id_is_stable_and_content_derived)
{
	char a[ES_ID_LEN + 1], b[ES_ID_LEN + 1], c[ES_ID_LEN + 1];

	es_doc_id("{\"x\":1}", 7, a);
	es_doc_id("{\"x\":1}", 7, b);
	es_doc_id("{\"x\":2}", 7, c);
	cr_assert_eq(strlen(a), ES_ID_LEN);
	cr_assert_str_eq(a, b);
	cr_assert_str_neq(a, c);
	for (size_t i = 0; i < ES_ID_LEN; i++)
		cr_assert(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", a[i]));
}

/* The same traffic read by another start (a new agent.ephemeral_id) gets the same id; other fields still count. */
Test(es, doc_id_leaves_out_the_ephemeral_id)
{
	static const char e1[] = "{\"x\":1,\"agent\":{\"ephemeral_id\":\"11111111-aaaa\",\"id\":\"z\"}}";
	static const char e2[] = "{\"x\":1,\"agent\":{\"ephemeral_id\":\"22222222-bbbbbb\",\"id\":\"z\"}}";
	static const char e3[] = "{\"x\":2,\"agent\":{\"ephemeral_id\":\"11111111-aaaa\",\"id\":\"z\"}}";
	static const char cut[] = "{\"x\":1,\"agent\":{\"ephemeral_id\":\"1111";
	char a[ES_ID_LEN + 1], b[ES_ID_LEN + 1], c[ES_ID_LEN + 1], d[ES_ID_LEN + 1];

	es_doc_id(e1, sizeof(e1) - 1, a);
	es_doc_id(e2, sizeof(e2) - 1, b);
	es_doc_id(e3, sizeof(e3) - 1, c);
	es_doc_id(cut, sizeof(cut) - 1, d); /* no closing quote: hashed whole, no over-read */
	cr_assert_str_eq(a, b);
	cr_assert_str_neq(a, c);
	cr_assert_str_neq(a, d);
}

Test(es, siphash_reference_vectors)
{
	uint8_t key[16], msg[64], out[16];
	static const uint8_t empty64[8] = { 0x31, 0x0e, 0x0e, 0xdd, 0x47, 0xdb, 0x6f, 0x72 };
	static const uint8_t empty128[16] = { 0xa3, 0x81, 0x7f, 0x04, 0xba, 0x25, 0xa8, 0xe6,
					      0x6d, 0xf6, 0x72, 0x14, 0xc7, 0x55, 0x02, 0x93 };
	/* the paper's example: 15 bytes 00..0e */
	static const uint8_t paper64[8] = { 0xe5, 0x45, 0xbe, 0x49, 0x61, 0xca, 0x29, 0xa1 };

	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	es_siphash(key, msg, 0, out, 8);
	cr_assert_eq(memcmp(out, empty64, 8), 0);
	es_siphash(key, msg, 0, out, 16);
	cr_assert_eq(memcmp(out, empty128, 16), 0);
	es_siphash(key, msg, 15, out, 8);
	cr_assert_eq(memcmp(out, paper64, 8), 0);
}

Test(es, dead_letter_doc_keeps_original)
{
	char *d = es_dead_letter_doc("{\"a\":\"x\"}", 9, 400, "mapper_parsing_exception", "bad ip", TS_2026);
	json_t *j = json_loads(d, 0, NULL);

	cr_assert(j);
	cr_assert_str_eq(json_string_value(json_object_get(j, "message")), "{\"a\":\"x\"}");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "error"), "type")),
			 "mapper_parsing_exception");
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(j, "error"), "code")), 400);
	cr_assert_str_eq(json_string_value(json_object_get(j, "@timestamp")), "2026-01-02T03:04:05.678Z");
	json_decref(j);
	free(d);
}

Test(es, base64_api_key)
{
	char out[64];

	base64_encode("id:key", 6, out);
	cr_assert_str_eq(out, "aWQ6a2V5");
	base64_encode("a", 1, out);
	cr_assert_str_eq(out, "YQ==");
	base64_encode("ab", 2, out);
	cr_assert_str_eq(out, "YWI=");
}

Test(es, gzip_roundtrip)
{
	struct json_buf z = { 0 };
	char in[4096], back[4096];
	z_stream s = { 0 };

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (char)('a' + i % 7);
	cr_assert_eq(es_gzip(in, sizeof(in), 6, &z), 0);
	cr_assert_lt(z.len, sizeof(in) / 4);
	cr_assert_eq((unsigned char)z.p[0], 0x1f); /* gzip magic */
	cr_assert_eq((unsigned char)z.p[1], 0x8b);
	cr_assert_eq(inflateInit2(&s, 31), Z_OK);
	s.next_in = (Bytef *)z.p;
	s.avail_in = (uInt)z.len;
	s.next_out = (Bytef *)back;
	s.avail_out = sizeof(back);
	cr_assert_eq(inflate(&s, Z_FINISH), Z_STREAM_END);
	cr_assert_eq(s.total_out, sizeof(in));
	cr_assert_eq(memcmp(in, back, sizeof(in)), 0);
	inflateEnd(&s);
	json_buf_free(&z);
}

/* ---- responses ---- */

Test(es, item_verdicts)
{
	cr_assert_eq(es_item_verdict(201, ES_OP_CREATE), ES_ACK);
	cr_assert_eq(es_item_verdict(200, ES_OP_INDEX), ES_ACK);
	cr_assert_eq(es_item_verdict(409, ES_OP_CREATE), ES_DUP);
	cr_assert_eq(es_item_verdict(409, ES_OP_INDEX), ES_FAIL);
	cr_assert_eq(es_item_verdict(429, ES_OP_CREATE), ES_RETRY);
	cr_assert_eq(es_item_verdict(500, ES_OP_CREATE), ES_RETRY);
	cr_assert_eq(es_item_verdict(503, ES_OP_INDEX), ES_RETRY);
	cr_assert_eq(es_item_verdict(400, ES_OP_CREATE), ES_FAIL);
	cr_assert_eq(es_item_verdict(404, ES_OP_CREATE), ES_FAIL);
}

Test(es, request_verdicts)
{
	cr_assert_eq(es_req_verdict(200), ES_REQ_OK);
	cr_assert_eq(es_req_verdict(0), ES_REQ_RETRY);
	cr_assert_eq(es_req_verdict(429), ES_REQ_RETRY);
	cr_assert_eq(es_req_verdict(503), ES_REQ_RETRY);
	cr_assert_eq(es_req_verdict(408), ES_REQ_RETRY);
	cr_assert_eq(es_req_verdict(302), ES_REQ_RETRY);
	cr_assert_eq(es_req_verdict(401), ES_REQ_AUTH);
	cr_assert_eq(es_req_verdict(403), ES_REQ_AUTH);
	cr_assert_eq(es_req_verdict(413), ES_REQ_SPLIT);
	cr_assert_eq(es_req_verdict(400), ES_REQ_SPLIT);
}

Test(es, parse_all_ok)
{
	const char *r =
		"{\"took\":3,\"errors\":false,\"items\":[{\"create\":{\"_index\":\"x\",\"_id\":\"1\",\"status\":201,"
		"\"result\":\"created\"}},{\"create\":{\"_index\":\"x\",\"_id\":\"2\",\"status\":201}}]}";
	struct es_item it[2];

	cr_assert_eq(es_bulk_parse(r, strlen(r), ES_OP_CREATE, it, 2), 0);
	cr_assert_eq(it[0].status, 201);
	cr_assert_eq(it[0].verdict, ES_ACK);
	cr_assert_eq(it[1].verdict, ES_ACK);
}

Test(es, parse_mixed_items)
{
	const char *r =
		"{\"took\":3,\"errors\":true,\"items\":["
		"{\"create\":{\"status\":201}},"
		"{\"create\":{\"status\":409,\"error\":{\"type\":\"version_conflict_engine_exception\",\"reason\":\"exists\"}}},"
		"{\"create\":{\"status\":429,\"error\":{\"type\":\"es_rejected_execution_exception\",\"reason\":\"queue full\"}}},"
		"{\"create\":{\"status\":400,\"error\":{\"type\":\"mapper_parsing_exception\",\"reason\":\"failed to parse "
		"field [source.ip]\",\"caused_by\":{\"type\":\"x\",\"reason\":\"y\"}}}},"
		"{\"create\":{\"status\":503,\"error\":\"plain string error\"}},"
		"{\"create\":{\"_id\":\"no-status\"}}"
		"]}";
	struct es_item it[6];

	cr_assert_eq(es_bulk_parse(r, strlen(r), ES_OP_CREATE, it, 6), 0);
	cr_assert_eq(it[0].verdict, ES_ACK);
	cr_assert_eq(it[1].verdict, ES_DUP);
	cr_assert_eq(it[2].verdict, ES_RETRY);
	cr_assert_str_eq(it[2].type, "es_rejected_execution_exception");
	cr_assert_eq(it[3].verdict, ES_FAIL);
	cr_assert_eq(it[3].status, 400);
	cr_assert_str_eq(it[3].type, "mapper_parsing_exception");
	cr_assert_str_eq(it[3].reason, "failed to parse field [source.ip]");
	cr_assert_eq(it[4].verdict, ES_RETRY);
	cr_assert_str_eq(it[4].reason, "plain string error");
	cr_assert_eq(it[5].verdict, ES_RETRY); /* malformed item: resend */
	cr_assert_str_eq(it[5].type, "malformed_item");
}

Test(es, parse_rejects_malformed_bodies)
{
	struct es_item it[2];
	const char *two = "{\"items\":[{\"index\":{\"status\":201}},{\"index\":{\"status\":201}}]}";
	const char *cases[] = {
		"",
		"{\"took\": 3, \"errors\": fals<html>",
		"<html><body>502 Bad Gateway</body></html>",
		"{\"took\":1,\"errors\":false}",
		"{\"items\":{}}",
		"[1,2]",
		"{\"items\":[{\"index\":{\"status\":201}}]}", /* one item for two docs */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_assert_eq(es_bulk_parse(cases[i], strlen(cases[i]), ES_OP_INDEX, it, 2), -EBADMSG, "case %zu", i);
	cr_assert_eq(es_bulk_parse(two, strlen(two), ES_OP_INDEX, it, 2), 0);
	/* truncated mid-response */
	cr_assert_eq(es_bulk_parse(two, strlen(two) / 2, ES_OP_INDEX, it, 2), -EBADMSG);
}

Test(es, error_summary)
{
	const char *e = "{\"error\":{\"root_cause\":[{\"type\":\"security_exception\",\"reason\":\"bad creds\"}],"
			"\"type\":\"security_exception\",\"reason\":\"unable to authenticate\"},\"status\":401}";
	char out[200];

	es_error_summary(e, strlen(e), out, sizeof(out));
	cr_assert_str_eq(out, "security_exception: unable to authenticate");
	es_error_summary("<html>\n", 7, out, sizeof(out));
	cr_assert_str_eq(out, "<html>.");
	es_error_summary(NULL, 0, out, sizeof(out));
	cr_assert_str_eq(out, "");
}

/* ---- backoff ---- */

Test(es, backoff_grows_with_jitter_and_caps)
{
	const uint64_t s = 1000000000ULL;

	/* attempt 0: [init/2, init] */
	cr_assert_eq(es_backoff_ns(s, 60 * s, 0, 0), s / 2);
	cr_assert_eq(es_backoff_ns(s, 60 * s, 0, s / 2), s);
	cr_assert_leq(es_backoff_ns(s, 60 * s, 0, UINT64_MAX), s);
	/* doubles per attempt */
	cr_assert_eq(es_backoff_ns(s, 60 * s, 3, 0), 4 * s);
	cr_assert_eq(es_backoff_ns(s, 60 * s, 3, 4 * s), 8 * s);
	/* capped at max, even for huge attempts */
	cr_assert_eq(es_backoff_ns(s, 60 * s, 10, 30 * s), 60 * s);
	cr_assert_eq(es_backoff_ns(s, 60 * s, 1000, 0), 30 * s);
	for (uint64_t r = 0; r < 1000; r++) {
		uint64_t d = es_backoff_ns(s, 60 * s, 5, r * 7919 * 104729);

		cr_assert_geq(d, 16 * s);
		cr_assert_leq(d, 32 * s);
	}
	/* degenerate settings stay sane */
	cr_assert_leq(es_backoff_ns(0, 0, 5, 12345), 32);
}

/* ---- disk spool ---- */

static char *tmpdir(void)
{
	char *d = strdup("/tmp/xdpbeat-es-spool-XXXXXX");

	cr_assert(mkdtemp(d));
	return d;
}

static void rmdir_all(const char *d)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	cr_assert_eq(system(cmd), 0);
}

static struct es_spool *spool_open(const char *dir, uint64_t max)
{
	char err[256];
	struct es_spool *s = es_spool_open(dir, max, err, sizeof(err));

	cr_assert(s, "%s", err);
	return s;
}

Test(es, spool_append_read_ack)
{
	char *dir = tmpdir();
	struct es_spool *s = spool_open(dir, 0);
	struct es_spool_batch b = { 0 };

	cr_assert_eq(es_spool_append(s, "{\"n\":1}", 7, 11), 0);
	cr_assert_eq(es_spool_append(s, "{\"n\":2}", 7, 22), 0);
	cr_assert_eq(es_spool_append(s, "{\"n\":3}", 7, 33), 0);
	cr_assert_eq(es_spool_commit(s), 0);
	cr_assert_eq(es_spool_pending(s), 3);
	cr_assert_eq(es_spool_read(s, &b, 2, 0), 2);
	cr_assert_eq(b.docs[0].len, 7);
	cr_assert_eq(memcmp(b.docs[0].line, "{\"n\":1}", 7), 0);
	cr_assert_eq(b.docs[1].ts, 22);
	cr_assert_eq(es_spool_ack(s, &b, 2), 0);
	cr_assert_eq(es_spool_pending(s), 1);
	cr_assert_eq(es_spool_read(s, &b, 10, 0), 1);
	cr_assert_eq(memcmp(b.docs[0].line, "{\"n\":3}", 7), 0);
	cr_assert_eq(es_spool_ack(s, &b, 1), 0);
	cr_assert_eq(es_spool_pending(s), 0);
	cr_assert_eq(es_spool_read(s, &b, 10, 0), 0);
	es_spool_batch_free(&b);
	es_spool_close(s);
	rmdir_all(dir);
	free(dir);
}

Test(es, spool_replays_unacked_after_reopen)
{
	char *dir = tmpdir();
	struct es_spool *s = spool_open(dir, 0);
	struct es_spool_batch b = { 0 };
	char line[32];

	for (int i = 0; i < 10; i++) {
		int n = snprintf(line, sizeof(line), "{\"n\":%d}", i);

		cr_assert_eq(es_spool_append(s, line, (size_t)n, (uint64_t)i), 0);
	}
	es_spool_commit(s);
	cr_assert_eq(es_spool_read(s, &b, 4, 0), 4);
	cr_assert_eq(es_spool_ack(s, &b, 4), 0);
	cr_assert_eq(es_spool_read(s, &b, 4, 0), 4); /* read, never acked: "crash" */
	es_spool_close(s);

	s = spool_open(dir, 0);
	cr_assert_eq(es_spool_pending(s), 6);
	cr_assert_eq(es_spool_read(s, &b, 100, 0), 6);
	cr_assert_eq(memcmp(b.docs[0].line, "{\"n\":4}", 7), 0);
	cr_assert_eq(b.docs[5].ts, 9);
	/* a partial ack re-reads the rest */
	cr_assert_eq(es_spool_ack(s, &b, 2), 0);
	cr_assert_eq(es_spool_read(s, &b, 100, 0), 4);
	cr_assert_eq(memcmp(b.docs[0].line, "{\"n\":6}", 7), 0);
	cr_assert_eq(es_spool_ack(s, &b, 0), 0);
	cr_assert_eq(es_spool_read(s, &b, 100, 0), 4);
	cr_assert_eq(memcmp(b.docs[0].line, "{\"n\":6}", 7), 0);
	es_spool_batch_free(&b);
	es_spool_close(s);
	rmdir_all(dir);
	free(dir);
}

Test(es, spool_cuts_torn_tail)
{
	char *dir = tmpdir();
	struct es_spool *s = spool_open(dir, 0);
	struct es_spool_batch b = { 0 };
	char path[512];
	FILE *f;

	cr_assert_eq(es_spool_append(s, "{\"ok\":1}", 8, 1), 0);
	es_spool_close(s);
	snprintf(path, sizeof(path), "%s/seg-00000000.ndjson", dir);
	f = fopen(path, "a");
	cr_assert(f);
	fputs("2 {\"torn\":", f); /* crash mid-write */
	fclose(f);
	s = spool_open(dir, 0);
	cr_assert_eq(es_spool_pending(s), 1);
	cr_assert_eq(es_spool_append(s, "{\"ok\":2}", 8, 3), 0);
	cr_assert_eq(es_spool_read(s, &b, 10, 0), 2);
	cr_assert_eq(memcmp(b.docs[1].line, "{\"ok\":2}", 8), 0);
	es_spool_batch_free(&b);
	es_spool_close(s);
	rmdir_all(dir);
	free(dir);
}

Test(es, spool_full_until_acked)
{
	char *dir = tmpdir();
	struct es_spool *s = spool_open(dir, 110);
	struct es_spool_batch b = { 0 };
	char line[64];
	int n = snprintf(line, sizeof(line), "{\"pad\":\"%030d\"}", 0); /* 40 bytes + ts */

	cr_assert_eq(es_spool_append(s, line, (size_t)n, 1), 0);
	cr_assert_eq(es_spool_append(s, line, (size_t)n, 1), 0);
	cr_assert_eq(es_spool_append(s, line, (size_t)n, 1), -ENOSPC);
	cr_assert_not(es_spool_wait_space(s, (size_t)n, 0));
	cr_assert_eq(es_spool_read(s, &b, 1, 0), 1);
	cr_assert_eq(es_spool_ack(s, &b, 1), 0);
	cr_assert(es_spool_wait_space(s, (size_t)n, 0));
	cr_assert_eq(es_spool_append(s, line, (size_t)n, 1), 0);
	cr_assert_eq(es_spool_append(s, "x\ny", 3, 1), -EINVAL);
	es_spool_batch_free(&b);
	es_spool_close(s);
	rmdir_all(dir);
	free(dir);
}

Test(es, spool_rotates_segments_and_deletes_acked)
{
	char *dir = tmpdir();
	struct es_spool *s = spool_open(dir, 256 * 1024); /* segments of 64 KiB */
	struct es_spool_batch b = { 0 };
	char line[1100], path[512];
	size_t total = 0;

	memset(line, 'a', sizeof(line));
	memcpy(line, "{\"p\":\"", 6);
	memcpy(line + sizeof(line) - 2, "\"}", 2);
	for (int i = 0; i < 150; i++) /* ~165 KB: three segments */
		cr_assert_eq(es_spool_append(s, line, sizeof(line), (uint64_t)i), 0);
	es_spool_commit(s);
	snprintf(path, sizeof(path), "%s/seg-00000002.ndjson", dir);
	cr_assert_eq(access(path, F_OK), 0);
	for (int r; (r = es_spool_read(s, &b, 40, 0)) > 0;) {
		total += (size_t)r;
		cr_assert_eq(es_spool_ack(s, &b, (size_t)r), 0);
	}
	cr_assert_eq(total, 150);
	cr_assert_eq(es_spool_pending(s), 0);
	snprintf(path, sizeof(path), "%s/seg-00000000.ndjson", dir);
	cr_assert_neq(access(path, F_OK), 0);
	es_spool_batch_free(&b);
	es_spool_close(s);
	rmdir_all(dir);
	free(dir);
}

Test(es, spool_skips_damaged_lines)
{
	char *dir = tmpdir();
	struct es_spool *s;
	struct es_spool_batch b = { 0 };
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/seg-00000000.ndjson", dir);
	f = fopen(path, "w");
	cr_assert(f);
	fputs("garbage\n7 {\"ok\":1}\nnope\n", f);
	fclose(f);
	s = spool_open(dir, 0);
	cr_assert_eq(es_spool_pending(s), 3); /* lines, as far as it knows */
	cr_assert_eq(es_spool_read(s, &b, 10, 0), 1);
	cr_assert_eq(b.docs[0].ts, 7);
	cr_assert_eq(es_spool_ack(s, &b, 1), 0);
	/* only a damaged line left: stepped over, nothing pending, no busy loop */
	cr_assert_eq(es_spool_read(s, &b, 10, 0), 0);
	cr_assert_eq(es_spool_pending(s), 0);
	cr_assert_eq(es_spool_read(s, &b, 10, 0), 0);
	es_spool_batch_free(&b);
	es_spool_close(s);
	rmdir_all(dir);
	free(dir);
}

/* ---- index template ---- */

Test(es, template_builtin_matches_file_and_pattern_override)
{
	struct es_template_cfg t = { .enabled = true, .name = "xdpbeat", .pattern = NULL };
	char err[256], *a, *b;
	json_t *ja, *jb;

	a = es_template_body(&t, err, sizeof(err));
	cr_assert(a, "%s", err);
	t.path = "../config/xdpbeat.template.json"; /* unit tests run from tests/ */
	b = es_template_body(&t, err, sizeof(err));
	cr_assert(b, "%s", err);
	ja = json_loads(a, 0, NULL);
	jb = json_loads(b, 0, NULL);
	/* a mismatch means build/user/es_template.o is older than the JSON file: rebuild it */
	cr_assert(json_equal(ja, jb), "built-in template differs from config/xdpbeat.template.json");
	cr_assert(json_object_get(json_object_get(json_object_get(ja, "template"), "mappings"), "properties"));
	json_decref(ja);
	json_decref(jb);
	free(a);
	free(b);
	t.path = NULL;
	t.pattern = "net-*";
	a = es_template_body(&t, err, sizeof(err));
	ja = json_loads(a, 0, NULL);
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(ja, "index_patterns"), 0)), "net-*");
	cr_assert_eq(json_array_size(json_object_get(ja, "index_patterns")), 1);
	json_decref(ja);
	free(a);
	t.path = "/nonexistent/template.json";
	cr_assert_null(es_template_body(&t, err, sizeof(err)));
	cr_assert(strstr(err, "/nonexistent/template.json"));
}

Test(es, template_data_stream)
{
	struct es_template_cfg t = { .enabled = true, .name = "xdpbeat", .data_stream = true };
	char err[256], *a, path[] = "/tmp/xdpbeat-ds-tpl-XXXXXX";
	json_t *ja, *ds;
	FILE *f;
	int fd;

	a = es_template_body(&t, err, sizeof(err));
	cr_assert(a, "%s", err);
	ja = json_loads(a, 0, NULL);
	ds = json_object_get(ja, "data_stream");
	cr_assert(json_is_object(ds) && json_object_size(ds) == 0, "expected \"data_stream\": {}");
	json_decref(ja);
	free(a);
	/* a template file that is a data stream template needs the setting */
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	fputs("{\"index_patterns\": [\"x-*\"], \"data_stream\": {\"hidden\": false}}", f);
	fclose(f);
	t.path = path;
	a = es_template_body(&t, err, sizeof(err));
	cr_assert(a, "%s", err);
	ja = json_loads(a, 0, NULL);
	cr_assert(json_is_false(json_object_get(json_object_get(ja, "data_stream"), "hidden")),
		  "the file's data_stream is kept");
	json_decref(ja);
	free(a);
	t.data_stream = false;
	cr_assert_null(es_template_body(&t, err, sizeof(err)));
	cr_assert(strstr(err, "setup.template.data_stream: true"), "%s", err);
	unlink(path);
}

/* ---- CA files ---- */

/* A self-signed test certificate (openssl req -x509 -newkey ec), as openssl writes it. */
static const char test_pem[] = "-----BEGIN CERTIFICATE-----\n"
			       "MIIBijCCAS+gAwIBAgIUeJxK6AsB6ZYT2PxZ37JdIgUA7o0wCgYIKoZIzj0EAwIw\n"
			       "GjEYMBYGA1UEAwwPeGRwYmVhdCB0ZXN0IENBMB4XDTI2MTEyNTE3MDAwN1oXDTM2\n"
			       "MTEyMjE3MDAwN1owGjEYMBYGA1UEAwwPeGRwYmVhdCB0ZXN0IENBMFkwEwYHKoZI\n"
			       "zj0CAQYIKoZIzj0DAQcDQgAEaqJMH3phxiuM/6kl1EybNhia5l9dMv1ssOHM2rJ5\n"
			       "u9BNsJZI8qWX3ZsxLEsYiGuVENQBRGBf2je7G5JsfSzXgaNTMFEwHQYDVR0OBBYE\n"
			       "FNy3iMjfACqVdeW7+/CR99rvUryvMB8GA1UdIwQYMBaAFNy3iMjfACqVdeW7+/CR\n"
			       "99rvUryvMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSQAwRgIhAJs6EIKu\n"
			       "Oytgb9YQtBj/aURRs+fhlpFnOXeysZzo5TTQAiEAzLAmR47MMvmzDG80Ywq46OG5\n"
			       "VwnQFuHJT1dX9OdcD6I=\n"
			       "-----END CERTIFICATE-----\n";

Test(es, pem_certs_check)
{
	static const char key[] = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
	size_t n = strlen(test_pem);
	char why[300], *two, *bad, *last;

	cr_assert_eq(es_pem_certs_check("a.pem", test_pem, n, why, sizeof(why)), 1, "%s", why);
	two = malloc(2 * n + 1);
	memcpy(two, test_pem, n);
	memcpy(two + n, test_pem, n + 1);
	cr_assert_eq(es_pem_certs_check("b.pem", two, 2 * n, why, sizeof(why)), 2, "%s", why);
	cr_assert_eq(es_pem_certs_check("c.pem", "", 0, why, sizeof(why)), -EINVAL);
	cr_assert(strstr(why, "c.pem holds no PEM certificate"), "%s", why);
	cr_assert_eq(es_pem_certs_check("k.pem", key, strlen(key), why, sizeof(why)), -EINVAL);
	cr_assert(strstr(why, "k.pem holds no PEM certificate"), "%s", why);
	/* the second certificate cut short: no END line */
	cr_assert_eq(es_pem_certs_check("d.pem", two, n + 40, why, sizeof(why)), -EINVAL);
	cr_assert(strstr(why, "d.pem: certificate 2 has no -----END CERTIFICATE----- line"), "%s", why);
	/* a character that is not base64 */
	bad = strdup(test_pem);
	bad[40] = '*';
	cr_assert_eq(es_pem_certs_check("e.pem", bad, n, why, sizeof(why)), -EINVAL);
	cr_assert(strstr(why, "e.pem: certificate 1 is not base64 of a DER certificate"), "%s", why);
	/* the last base64 line dropped: shorter than its DER header says */
	memcpy(bad, test_pem, n + 1);
	last = strstr(bad, "\n-----END") - 1;
	while (last > bad && *last != '\n')
		last--;
	memmove(last, strstr(bad, "\n-----END"), strlen(strstr(bad, "\n-----END")) + 1);
	cr_assert_eq(es_pem_certs_check("f.pem", bad, strlen(bad), why, sizeof(why)), -EINVAL);
	cr_assert(strstr(why, "f.pem: certificate 1 is not base64"), "%s", why);
	free(bad);
	free(two);
}

/* ---- hostile input ---- */

static uint32_t xs(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

Test(es, parse_survives_mutated_responses)
{
	const char *base = "{\"took\":3,\"errors\":true,\"items\":[{\"create\":{\"_index\":\"x\",\"status\":201}},"
			   "{\"create\":{\"status\":429,\"error\":{\"type\":\"t\",\"reason\":\"r\",\"caused_by\":"
			   "{\"reason\":\"c\"}}}},{\"index\":{\"status\":409,\"error\":\"s\"}}]}";
	size_t len = strlen(base);
	uint32_t seed = 12345;
	struct es_item it[3];
	char buf[512], sum[64];

	for (int round = 0; round < 5000; round++) {
		size_t n = len;
		int rc;

		memcpy(buf, base, len);
		for (int k = 0, m = 1 + (int)(xs(&seed) % 4); k < m; k++) {
			size_t at = xs(&seed) % n;

			switch (xs(&seed) % 3) {
			case 0: /* flip a byte */
				buf[at] = (char)xs(&seed);
				break;
			case 1: /* cut */
				n = at;
				break;
			default: /* duplicate a slice */
				if (n + 16 < sizeof(buf)) {
					memmove(buf + at + 16, buf + at, n - at);
					n += 16;
				}
			}
			if (!n)
				n = 1;
		}
		rc = es_bulk_parse(buf, n, ES_OP_CREATE, it, 3);
		cr_assert(rc == 0 || rc == -EBADMSG);
		if (rc == 0)
			for (int i = 0; i < 3; i++)
				cr_assert(it[i].verdict <= ES_FAIL && strlen(it[i].reason) < sizeof(it[i].reason));
		es_error_summary(buf, n, sum, sizeof(sum));
		cr_assert_lt(strlen(sum), sizeof(sum));
	}
}

Test(es, spool_survives_random_segment)
{
	char *dir = tmpdir();
	struct es_spool *s;
	struct es_spool_batch b = { 0 };
	uint32_t seed = 777;
	char path[512];
	FILE *f;
	int r, reads = 0;

	snprintf(path, sizeof(path), "%s/seg-00000000.ndjson", dir);
	f = fopen(path, "w");
	cr_assert(f);
	for (int i = 0; i < 20000; i++) {
		uint32_t v = xs(&seed);

		fputc(v % 5 == 0 ? '\n' : v % 7 == 0 ? ' ' : (int)(v >> 8), f);
	}
	fclose(f);
	s = spool_open(dir, 0);
	while ((r = es_spool_read(s, &b, 64, 0)) > 0 && reads++ < 100000) {
		for (int i = 0; i < r; i++)
			cr_assert(b.docs[i].line + b.docs[i].len <= b.data.p + b.data.len);
		cr_assert_eq(es_spool_ack(s, &b, (size_t)r), 0);
	}
	cr_assert_geq(r, 0);
	cr_assert_eq(es_spool_pending(s), 0);
	es_spool_batch_free(&b);
	es_spool_close(s);
	rmdir_all(dir);
	free(dir);
}
