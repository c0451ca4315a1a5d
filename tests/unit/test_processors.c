/* Each Beats processor on its own, their order, if/then/else, counters and config errors. */
#include <criterion/criterion.h>
#include <string.h>

#include "json_buf.h"
#include "proc_testutil.h"
#include "processors/proc.h"

static const char *base = "{\"@timestamp\":\"2026-01-01T00:00:00.000Z\",\"type\":\"http\",\"status\":\"OK\","
			  "\"source\":{\"ip\":\"10.0.0.1\",\"port\":40000},\"destination\":{\"ip\":\"10.0.0.2\","
			  "\"port\":80},\"network\":{\"transport\":\"tcp\",\"community_id\":\"x\"},"
			  "\"http\":{\"request\":{\"method\":\"GET\"},\"response\":{\"status_code\":200}},"
			  "\"tags\":[\"a\"]}";

/* The event after the processors of yaml; the verdict in *v. */
static json_t *run(const char *yaml, enum proc_verdict *v, struct stats *st)
{
	struct config *c = pt_config(yaml);
	json_t *ev = pt_json(base);

	*v = pt_run(c, ev, st);
	config_free(c);
	return ev;
}

static json_t *run_keep(const char *yaml)
{
	enum proc_verdict v;
	json_t *ev = run(yaml, &v, NULL);

	cr_assert_eq(v, PROC_KEEP);
	return ev;
}

static void expect_json(json_t *ev, const char *path, const char *want)
{
	json_t *w = pt_json(want), *got = field_get(ev, path);
	char *gs = got ? json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

	cr_assert(got && json_equal(json_object_get(w, "v"), got), "%s: got %s, want %s", path, gs ? gs : "nothing",
		  want);
	free(gs);
	json_decref(w);
}

Test(processors, add_fields_target_root_and_types)
{
	json_t *ev =
		run_keep("  - add_fields:\n      target: project\n      fields: {name: p, id: 7, r: 1.5, on: true}\n"
			 "  - add_fields:\n      target: ''\n      fields: {http.request.x: \"1\"}\n"
			 "  - add_fields:\n      fields: {a: b}");

	expect_json(ev, "project", "{\"v\":{\"name\":\"p\",\"id\":7,\"r\":1.5,\"on\":true}}");
	expect_json(ev, "http.request", "{\"v\":{\"method\":\"GET\",\"x\":\"1\"}}"); /* merged, not replaced */
	expect_json(ev, "fields.a", "{\"v\":\"b\"}");
	json_decref(ev);
}

Test(processors, add_tags_appends_without_dedup_and_target)
{
	json_t *ev = run_keep("  - add_tags: {tags: [a, b]}\n  - add_tags: {tags: x, target: more.tags}");

	expect_json(ev, "tags", "{\"v\":[\"a\",\"a\",\"b\"]}");
	expect_json(ev, "more.tags", "{\"v\":[\"x\"]}");
	json_decref(ev);
}

Test(processors, add_tags_on_a_non_array_is_an_error)
{
	struct stats st = { 0 };
	enum proc_verdict v;
	json_t *ev = run("  - add_tags: {tags: [x], target: status}", &v, &st);

	cr_assert_eq(v, PROC_KEEP);
	cr_assert_eq(stats_get(&st, STAT_PROC_ERRORS), 1);
	cr_assert_str_eq(pt_str(ev, "status"), "OK");
	json_decref(ev);
}

Test(processors, add_labels_flattens)
{
	json_t *ev = run_keep("  - add_labels:\n      labels: {env: {tier: prod}, n: 1}");

	expect_json(ev, "labels", "{\"v\":{\"env.tier\":\"prod\",\"n\":1}}");
	json_decref(ev);
}

Test(processors, drop_fields_missing_and_protected)
{
	struct stats st = { 0 };
	enum proc_verdict v;
	json_t *ev = run("  - drop_fields: {fields: [http.request, type, '@timestamp', nope]}", &v, &st);

	cr_assert_null(field_get(ev, "http.request"));
	cr_assert_not_null(field_get(ev, "http.response"));
	cr_assert_str_eq(pt_str(ev, "type"), "http");
	cr_assert_not_null(field_get(ev, "@timestamp"));
	cr_assert_eq(stats_get(&st, STAT_PROC_ERRORS), 1, "missing field without ignore_missing");
	json_decref(ev);
	ev = run("  - drop_fields: {fields: [nope], ignore_missing: true}", &v, &st);
	cr_assert_eq(stats_get(&st, STAT_PROC_ERRORS), 1);
	json_decref(ev);
}

Test(processors, include_fields_keeps_timestamp_and_type)
{
	json_t *ev = run_keep("  - include_fields: {fields: [http.response.status_code, source, nope]}");
	const char *k;
	json_t *v;
	size_t n = 0;

	json_object_foreach(ev, k, v)
		n++;
	cr_assert_eq(n, 4, "@timestamp, type, http, source");
	expect_json(ev, "http", "{\"v\":{\"response\":{\"status_code\":200}}}");
	expect_json(ev, "source.port", "{\"v\":40000}");
	cr_assert_str_eq(pt_str(ev, "type"), "http");
	json_decref(ev);
}

Test(processors, drop_event_counts_and_stops_the_chain)
{
	struct stats st = { 0 };
	enum proc_verdict v;
	json_t *ev = run("  - drop_event:\n      when.equals.status: OK\n  - add_tags: {tags: never}", &v, &st);

	cr_assert_eq(v, PROC_DROP);
	cr_assert_eq(stats_get(&st, STAT_PROC_DROPPED), 1);
	expect_json(ev, "tags", "{\"v\":[\"a\"]}");
	json_decref(ev);
	ev = run("  - drop_event:\n      when.equals.status: Error", &v, &st);
	cr_assert_eq(v, PROC_KEEP);
	json_decref(ev);
}

Test(processors, rename_moves_and_fails_as_beats)
{
	struct stats st = { 0 };
	enum proc_verdict v;
	json_t *ev = run_keep("  - rename:\n      fields:\n        - {from: http.request.method, to: method}\n"
			      "        - {from: nope, to: x}\n      ignore_missing: true");

	cr_assert_str_eq(pt_str(ev, "method"), "GET");
	cr_assert_null(field_get(ev, "http.request.method"));
	json_decref(ev);
	/* fail_on_error (default): the event as it was, error.message says why */
	ev = run("  - rename:\n      fields:\n        - {from: http.request.method, to: method}\n"
		 "        - {from: status, to: type}",
		 &v, &st);
	cr_assert_str_eq(pt_str(ev, "http.request.method"), "GET");
	cr_assert_null(field_get(ev, "method"));
	cr_assert(strstr(pt_str(ev, "error.message"), "already exists"), "%s", pt_str(ev, "error.message"));
	cr_assert_eq(stats_get(&st, STAT_PROC_ERRORS), 1);
	json_decref(ev);
	/* without fail_on_error the other renames stay done */
	ev = run("  - rename:\n      fail_on_error: false\n      fields:\n        - {from: nope, to: x}\n"
		 "        - {from: status, to: st}",
		 &v, &st);
	cr_assert_str_eq(pt_str(ev, "st"), "OK");
	cr_assert_null(field_get(ev, "error"));
	json_decref(ev);
}

Test(processors, add_host_metadata_shape)
{
	json_t *ev = run_keep("  - add_host_metadata: ~");
	json_t *host = json_object_get(ev, "host");

	cr_assert(json_is_object(host));
	cr_assert(pt_str(ev, "host.hostname")[0]);
	cr_assert_str_eq(pt_str(ev, "host.name"), pt_str(ev, "host.hostname"));
	cr_assert(pt_str(ev, "host.architecture")[0]);
	cr_assert_str_eq(pt_str(ev, "host.os.type"), "linux");
	cr_assert(pt_str(ev, "host.os.kernel")[0]);
	cr_assert(json_is_boolean(field_get(ev, "host.containerized")));
	cr_assert(!field_get(ev, "host.ip") || json_is_array(field_get(ev, "host.ip")));
	json_decref(ev);
	ev = run_keep("  - add_host_metadata:\n      netinfo.enabled: false\n      cache.ttl: 1m");
	cr_assert_null(field_get(ev, "host.ip"));
	cr_assert_null(field_get(ev, "host.mac"));
	json_decref(ev);
}

Test(processors, add_host_metadata_replace_fields)
{
	struct config *c = pt_config("  - add_host_metadata: {replace_fields: false}");
	json_t *ev = pt_json("{\"host\":{\"name\":\"mine\"}}");

	cr_assert_eq(pt_run(c, ev, NULL), PROC_KEEP);
	expect_json(ev, "host", "{\"v\":{\"name\":\"mine\"}}");
	json_decref(ev);
	config_free(c);
}

Test(processors, add_locale_formats)
{
	char buf[16];
	json_t *ev = run_keep("  - add_locale: ~");
	const char *tz = pt_str(ev, "event.timezone");

	cr_assert(strlen(tz) == 6 && (tz[0] == '+' || tz[0] == '-') && tz[3] == ':', "%s", tz);
	json_decref(ev);
	ev = run_keep("  - add_locale: {format: abbreviation}");
	cr_assert(pt_str(ev, "event.timezone")[0] && pt_str(ev, "event.timezone")[0] != '+');
	json_decref(ev);
	proc_tz_offset(-(7 * 3600), buf, sizeof(buf));
	cr_assert_str_eq(buf, "-07:00");
	proc_tz_offset(5 * 3600 + 1800, buf, sizeof(buf));
	cr_assert_str_eq(buf, "+05:30");
}

Test(processors, add_network_direction_all_four)
{
	static const char *const cases[][3] = {
		{ "10.0.0.0/8", "10.0.0.0/8", "internal" },
		{ "10.0.0.1/32", "", "outbound" },
		{ "10.0.0.2/32", "", "inbound" },
		{ "192.0.2.0/24", "", "external" },
	};

	for (size_t i = 0; i < 4; i++) {
		char yaml[256];
		json_t *ev;

		snprintf(yaml, sizeof(yaml),
			 "  - add_network_direction:\n      source: source.ip\n      destination: destination.ip\n"
			 "      target: dir\n      internal_networks: [%s]",
			 cases[i][0]);
		ev = run_keep(yaml);
		cr_assert_str_eq(pt_str(ev, "dir"), cases[i][2], "%s", cases[i][0]);
		json_decref(ev);
	}
}

Test(processors, community_id_matches_the_published_vectors)
{
	/* Test vectors of the Community ID spec (corelight/community-id-spec baseline). */
	json_t *ev = run_keep("  - community_id: ~");

	cr_assert_str_neq(pt_str(ev, "network.community_id"), "x", "recomputed over the writer's value");
	json_decref(ev);
	{
		struct config *c = pt_config("  - community_id: ~\n  - community_id: {seed: 1, target: seeded}");
		json_t *e = pt_json("{\"source\":{\"ip\":\"128.232.110.120\",\"port\":34855},\"destination\":{\"ip\":"
				    "\"66.35.250.204\",\"port\":80},\"network\":{\"transport\":\"tcp\"}}");

		pt_run(c, e, NULL);
		cr_assert_str_eq(pt_str(e, "network.community_id"), "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
		cr_assert_str_eq(pt_str(e, "seeded"), "1:3V71V58M3Ksw/yuFALMcW0LAHvc=");
		json_decref(e);
		e = pt_json("{\"source\":{\"ip\":\"8.8.8.8\",\"port\":53},\"destination\":{\"ip\":\"192.168.1.52\","
			    "\"port\":54585},\"network\":{\"iana_number\":17}}");
		pt_run(c, e, NULL);
		cr_assert_str_eq(pt_str(e, "network.community_id"), "1:d/FP5EW3wiY1vCndhwleRRKHowQ=");
		json_decref(e);
		e = pt_json("{\"source\":{\"ip\":\"8.8.8.8\"},\"destination\":{\"ip\":\"1.1.1.1\"},"
			    "\"network\":{\"transport\":\"tcp\"}}");
		pt_run(c, e, NULL);
		cr_assert_null(field_get(e, "network.community_id"), "no ports: left alone");
		json_decref(e);
		config_free(c);
	}
}

Test(processors, detect_mime_type_signatures)
{
	static const char *const cases[][2] = {
		{ "  <!DOCTYPE html><html>", "text/html; charset=utf-8" },
		{ "<p>hi</p>", "text/html; charset=utf-8" },
		{ "<?xml version=\"1.0\"?>", "text/xml; charset=utf-8" },
		{ "%PDF-1.4", "application/pdf" },
		{ "GIF89a....", "image/gif" },
		{ "\x89PNG\r\n\x1a\n....", "image/png" },
		{ "PK\x03\x04....", "application/zip" },
		{ "{\"a\":1}", "text/plain; charset=utf-8" },
		{ "\x1f\x8b\x08\x00", "application/x-gzip" },
		{ "ab\x01\x02", "application/octet-stream" },
		{ "", "text/plain; charset=utf-8" },
	};
	static const unsigned char mp4[] = { 0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm',
					     0, 0, 2, 0,    'i', 's', 'o', 'm', 'm', 'p', '4', '1' };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_assert_str_eq(mime_sniff(cases[i][0], strlen(cases[i][0])), cases[i][1], "case %zu", i);
	cr_assert_str_eq(mime_sniff("RIFF\x10\x00\x00\x00WEBPVP8 ", 16), "image/webp");
	cr_assert_str_eq(mime_sniff("\x00\x00\x01\x00", 4), "image/x-icon");
	cr_assert_str_eq(mime_sniff(mp4, sizeof(mp4)), "video/mp4");
}

Test(processors, detect_mime_type_on_a_field)
{
	struct config *c = pt_config("  - detect_mime_type: {field: body, target: mime}");
	json_t *ev = pt_json("{\"body\":\"%PDF-1.7 ...\"}");
	struct stats st = { 0 };

	pt_run(c, ev, &st);
	cr_assert_str_eq(pt_str(ev, "mime"), "application/pdf");
	pt_run(c, ev, &st);
	cr_assert_eq(stats_get(&st, STAT_PROC_ERRORS), 1, "target exists");
	json_decref(ev);
	config_free(c);
}

Test(processors, if_then_else_and_when_on_any_processor)
{
	const char *yaml = "  - if.equals.status: OK\n    then:\n      - add_tags: {tags: ok}\n"
			   "    else:\n      - add_tags: {tags: bad}\n"
			   "  - add_fields:\n      when.equals.status: Error\n      fields: {never: 1}";
	json_t *ev = run_keep(yaml);

	expect_json(ev, "tags", "{\"v\":[\"a\",\"ok\"]}");
	cr_assert_null(field_get(ev, "fields"));
	json_decref(ev);
}

Test(processors, protocol_chain_runs_before_the_global_one)
{
	const char *yaml = "output.console.enabled: true\n"
			   "xdpbeat.protocols:\n  - type: http\n    ports: [80]\n    processors:\n"
			   "      - add_tags: {tags: proto}\n"
			   "processors:\n  - add_tags: {tags: global}\n";
	struct cfg_err err = { { 0 } };
	struct config *c = config_load_string(yaml, strlen(yaml), "p.yml", NULL, 0, &err);
	struct json_buf b = { 0 };
	bool meta;
	json_t *ev;

	cr_assert_not_null(c, "%s", err.msg);
	json_buf_puts(&b, "{\"type\":\"http\"}");
	cr_assert_eq(proc_apply_text(NULL, c->protos[0].processors, c->processors, &b, NULL, &meta), PROC_KEEP);
	ev = pt_json(b.p);
	expect_json(ev, "tags", "{\"v\":[\"proto\",\"global\"]}");
	json_decref(ev);
	b.len = 0;
	json_buf_puts(&b, "not json");
	cr_assert_eq(proc_apply_text(NULL, c->protos[0].processors, c->processors, &b, NULL, &meta), -EINVAL);
	cr_assert_str_eq(b.p, "not json", "left as it was");
	json_buf_free(&b);
	config_free(c);
}

Test(processors, inert_processors_are_accepted_and_not_run)
{
	struct config *c = pt_config("  - add_cloud_metadata: ~\n  - add_docker_metadata: ~\n"
				     "  - add_kubernetes_metadata: ~");

	cr_assert_null(c->processors, "nothing to run: the fast path stays");
	config_free(c);
}

Test(processors, config_errors_name_file_line_and_processor)
{
	const char *e = pt_config_error("  - add_feilds: {fields: {a: 1}}");

	cr_assert(strstr(e, "p.yml:3:") && strstr(e, "unknown processor \"add_feilds\""), "%s", e);
	e = pt_config_error("  - add_fields: {fields: {a: 1}, targett: x}");
	cr_assert(strstr(e, "unknown setting of add_fields") && strstr(e, "targett"), "%s", e);
	e = pt_config_error("  - add_fields: {target: x}");
	cr_assert(strstr(e, "needs fields"), "%s", e);
	e = pt_config_error("  - add_tags: {tags: [a]}\n    drop_event: ~");
	cr_assert(strstr(e, "one processor per list item"), "%s", e);
	e = pt_config_error("  - rename: {fields: [{from: a}]}");
	cr_assert(strstr(e, "from and to"), "%s", e);
	e = pt_config_error("  - add_locale: {format: long}");
	cr_assert(strstr(e, "offset or abbreviation"), "%s", e);
	e = pt_config_error("  - add_network_direction: {source: a, destination: b, internal_networks: [nowhere]}");
	cr_assert(strstr(e, "expected a CIDR"), "%s", e);
	e = pt_config_error("  - if.equals.a: 1");
	cr_assert(strstr(e, "if without then"), "%s", e);
	e = pt_config_error("  - community_id: {seed: 70000}");
	cr_assert(strstr(e, "seed"), "%s", e);
	e = pt_config_error("  - drop_fields: [a]");
	cr_assert(strstr(e, "as a map"), "%s", e);
}

/* The event text through the global processors of yaml, as text. */
static char *apply(const char *yaml, const char *event)
{
	struct config *c = pt_config(yaml);
	struct json_buf b = { 0 };
	bool meta;

	json_buf_puts(&b, event);
	cr_assert_eq(proc_apply_text(NULL, NULL, c->processors, &b, NULL, &meta), PROC_KEEP);
	config_free(c);
	return b.p;
}

Test(processors, text_fast_path_writes_what_the_tree_path_writes)
{
	/* the same processors, the second list with conditions that always hold: the tree path */
	const char *fast = "  - add_host_metadata: {netinfo.enabled: false}\n  - add_tags: {tags: [t]}\n"
			   "  - add_fields: {fields: {a: 1}}\n  - add_labels: {labels: {x: {y: z}}}";
	const char *tree = "  - add_host_metadata: {netinfo.enabled: false, when.has_fields: [type]}\n"
			   "  - add_tags: {tags: [t], when.has_fields: [type]}\n"
			   "  - add_fields: {fields: {a: 1}, when.has_fields: [type]}\n"
			   "  - add_labels: {labels: {x: {y: z}}, when.has_fields: [type]}";
	const char *ev = "{\"type\":\"http\",\"status\":\"OK\",\"url\":{\"full\":\"x\\\"host\\\":\"}}";
	char *a = apply(fast, ev), *b = apply(tree, ev);

	cr_assert_str_eq(a, b);
	cr_assert(strstr(a, "\"host\":{\"hostname\":"), "%s", a);
	free(a);
	free(b);
	/* an event that already has tags takes the tree path: appended to them */
	a = apply(fast, "{\"type\":\"http\",\"tags\":[\"old\"]}");
	cr_assert(strstr(a, "\"tags\":[\"old\",\"t\"]"), "%s", a);
	free(a);
	/* two processors with the same key: the tree path */
	a = apply("  - add_tags: {tags: [a]}\n  - add_tags: {tags: [b]}", "{\"type\":\"http\"}");
	cr_assert_str_eq(a, "{\"type\":\"http\",\"tags\":[\"a\",\"b\"]}");
	free(a);
}

Test(processors, default_config_chain_on_the_text_and_on_the_tree)
{
	const char *dflt = "  - if.contains.tags: forwarded\n    then:\n      - drop_fields:\n"
			   "          fields: [host]\n          ignore_missing: true\n"
			   "    else:\n      - add_host_metadata: {netinfo.enabled: false}";
	const char *tree = "  - add_host_metadata: {netinfo.enabled: false, when.has_fields: [type]}";
	char *a = apply(dflt, "{\"type\":\"http\"}"), *b = apply(tree, "{\"type\":\"http\"}");

	cr_assert_str_eq(a, b, "decided on the text: no tags, so add_host_metadata");
	free(a);
	free(b);
	a = apply(dflt, "{\"type\":\"http\",\"tags\":[\"forwarded\"],\"host\":{\"name\":\"tap\"}}");
	cr_assert_str_eq(a, "{\"type\":\"http\",\"tags\":[\"forwarded\"]}");
	free(a);
	a = apply(dflt, "{\"type\":\"http\",\"tags\":[\"other\"]}");
	cr_assert(strstr(a, "\"host\":{"), "%s", a);
	free(a);
	/* a condition on a field an earlier processor adds is not decided on the text */
	a = apply("  - add_tags: {tags: [x]}\n  - add_fields: {fields: {seen: true}, when.contains.tags: x}",
		  "{\"type\":\"http\"}");
	cr_assert_str_eq(a, "{\"type\":\"http\",\"tags\":[\"x\"],\"fields\":{\"seen\":true}}");
	free(a);
	a = apply("  - drop_event: {when.equals.nope: 1}\n  - add_tags: {tags: [y]}", "{\"type\":\"http\"}");
	cr_assert_str_eq(a, "{\"type\":\"http\",\"tags\":[\"y\"]}");
	free(a);
}

Test(processors, rename_chained_pairs_restore_the_event_on_failure)
{
	struct stats st = { 0 };
	enum proc_verdict v;
	json_t *ev = run_keep("  - rename:\n      fields:\n        - {from: status, to: s2}\n"
			      "        - {from: s2, to: s3}");

	cr_assert_str_eq(pt_str(ev, "s3"), "OK");
	cr_assert_null(field_get(ev, "s2"));
	cr_assert_null(field_get(ev, "status"));
	json_decref(ev);
	ev = run("  - rename:\n      fields:\n        - {from: status, to: s2}\n        - {from: s2, to: type}", &v,
		 &st);
	cr_assert_str_eq(pt_str(ev, "status"), "OK", "restored");
	cr_assert_null(field_get(ev, "s2"));
	cr_assert(strstr(pt_str(ev, "error.message"), "target field type already exists"));
	cr_assert_eq(stats_get(&st, STAT_PROC_ERRORS), 1);
	json_decref(ev);
}

Test(processors, json_parser_reads_what_the_writer_writes_and_refuses_the_rest)
{
	static const char *const bad[] = { "{",
					   "{\"a\":}",
					   "{\"a\":1,}",
					   "[1 2]",
					   "{\"a\":01}",
					   "{\"a\":\"\x01\"}",
					   "{\"a\":\"\\x\"}",
					   "{\"a\":\"\\ud800\"}",
					   "{} x",
					   "{\"a\":tru}",
					   "",
					   "{\"a\":1.}",
					   "{\"a\":-}",
					   "{\"\\u0000\":1}" };
	const char *good =
		"{\"s\":\"a\\\"b\\\\c\\/\\n\\u00e9\\ud83d\\ude00\xc3\xa9\",\"n\":-12,\"r\":1.5e3,"
		"\"big\":123456789012345678901234,\"t\":true,\"f\":false,\"z\":null,\"a\":[[],{},[1,{\"x\":[]}]]}";
	json_t *v = proc_json_parse(good, strlen(good)), *ref;

	cr_assert_null(json_loads(good, 0, NULL),
		       "jansson refuses integers beyond 64 bits; this parser makes them real");
	cr_assert_not_null(v);
	cr_assert(json_is_real(json_object_get(v, "big")));
	json_object_del(v, "big");
	ref = json_loads("{\"s\":\"a\\\"b\\\\c/\\n\xc3\xa9\xf0\x9f\x98\x80\xc3\xa9\",\"n\":-12,\"r\":1500.0,\"t\":true,"
			 "\"f\":false,\"z\":null,\"a\":[[],{},[1,{\"x\":[]}]]}",
			 0, NULL);
	cr_assert_not_null(ref);
	cr_assert(json_equal(v, ref));
	json_decref(v);
	json_decref(ref);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = proc_json_parse(bad[i], strlen(bad[i]));
		cr_assert_null(v, "accepted %s", bad[i]);
	}
	{
		char deep[600];

		memset(deep, '[', 300);
		memset(deep + 300, ']', 300);
		cr_assert_null(proc_json_parse(deep, 600), "nesting capped");
	}
}

Test(processors, json_parser_on_every_truncation_and_byte_flip)
{
	const char *good = "{\"a\":[1,-2.5e-3,\"x\\u00e9\\n\",{\"b\":null}],\"c\":{\"d\":true,\"e\":\"\xc3\xa9\"}}";
	size_t n = strlen(good), accepted = 0;
	char *buf = malloc(n);

	for (size_t len = 0; len < n; len++) { /* exactly-sized copies: ASan sees any overread */
		char *cut = malloc(len ? len : 1);

		memcpy(cut, good, len);
		cr_assert_null(proc_json_parse(cut, len), "a truncated text is refused (%zu)", len);
		free(cut);
	}
	for (size_t i = 0; i < n; i++) {
		for (int bit = 0; bit < 8; bit++) {
			json_t *v;

			memcpy(buf, good, n);
			buf[i] ^= (char)(1 << bit);
			v = proc_json_parse(buf, n);
			accepted += v != NULL;
			json_decref(v);
		}
	}
	cr_assert_gt(accepted, 0);
	free(buf);
}

Test(processors, drop_fields_by_pattern)
{
	json_t *ev = run_keep("  - drop_fields: {fields: ['/^http\\.re(quest|sponse)\\.[ms]/', '/^ty/', '/port$/']}");

	cr_assert_null(field_get(ev, "http.request.method"));
	cr_assert_null(field_get(ev, "http.response.status_code"));
	cr_assert_not_null(field_get(ev, "http.request"));
	cr_assert_str_eq(pt_str(ev, "type"), "http", "type is never dropped");
	cr_assert_null(field_get(ev, "source.port"));
	cr_assert_null(field_get(ev, "destination.port"));
	cr_assert_str_eq(pt_str(ev, "source.ip"), "10.0.0.1");
	json_decref(ev);
	cr_assert(strstr(pt_config_error("  - drop_fields: {fields: ['/(/']}"), "invalid regular expression"));
}

/* ---- the plan made once per protocol (proc_plan_new) ---- */

static bool none_but_type(void *ctx, const char *key, size_t n)
{
	(void)ctx;
	return n == 4 && !memcmp(key, "type", 4);
}

static bool tags_too(void *ctx, const char *key, size_t n)
{
	(void)ctx;
	return none_but_type(NULL, key, n) || (n == 4 && !memcmp(key, "tags", 4));
}

/* yaml's global chain on event with the plan from may_have; the text, and *meta. */
static char *apply_planned(const char *yaml, proc_key_fn may_have, const char *event, bool *fixed_same, bool *meta)
{
	struct config *c = pt_config(yaml);
	struct proc_plan *plan = proc_plan_new(NULL, c->processors, may_have, NULL);
	struct json_buf b = { 0 }, w = { 0 };
	bool m2;

	cr_assert_not_null(plan);
	json_buf_puts(&b, event);
	json_buf_puts(&w, event);
	cr_assert_eq(proc_apply_text(plan, NULL, c->processors, &b, NULL, meta), PROC_KEEP);
	cr_assert_eq(proc_apply_text(NULL, NULL, c->processors, &w, NULL, &m2), PROC_KEEP);
	*fixed_same = !strcmp(b.p, w.p) && *meta == m2;
	proc_plan_free(plan);
	json_buf_free(&w);
	config_free(c);
	return b.p;
}

Test(processors, a_plan_from_the_protocols_keys_writes_what_the_per_event_path_writes)
{
	const char *dflt = "  - if.contains.tags: forwarded\n    then:\n      - drop_fields: {fields: [host]}\n"
			   "    else:\n      - add_host_metadata: {netinfo.enabled: false}\n"
			   "  - add_fields: {target: '@metadata', fields: {raw_index: x}}";
	bool same, meta;
	char *t = apply_planned(dflt, none_but_type, "{\"type\":\"http\"}", &same, &meta);

	cr_assert(same, "%s", t);
	cr_assert(strstr(t, "\"host\":{") && strstr(t, "\"@metadata\":{\"raw_index\":\"x\"}"), "%s", t);
	cr_assert(meta, "an appended @metadata is reported");
	free(t);
	/* tags may be there: the plan cannot decide; each event's text does (a tagged one: the tree path) */
	t = apply_planned(dflt, tags_too, "{\"type\":\"http\",\"tags\":[\"forwarded\"],\"host\":{\"name\":\"h\"}}",
			  &same, &meta);
	cr_assert(same, "%s", t);
	cr_assert_null(strstr(t, "\"host\""), "dropped by the then branch: %s", t);
	free(t);
}

Test(processors, meta_tells_whether_the_result_holds_a_top_level_metadata)
{
	struct config *c = pt_config("  - add_fields: {target: '', fields: {x: 1}, when.has_fields: [type]}");
	struct json_buf b = { 0 };
	bool meta = true;

	json_buf_puts(&b, "{\"type\":\"http\"}");
	cr_assert_eq(proc_apply_text(NULL, NULL, c->processors, &b, NULL, &meta), PROC_KEEP);
	cr_assert_not(meta, "tree path, no @metadata: %s", b.p);
	b.len = 0;
	json_buf_puts(&b, "{\"type\":\"http\",\"@metadata\":{\"a\":1}}");
	cr_assert_eq(proc_apply_text(NULL, NULL, c->processors, &b, NULL, &meta), PROC_KEEP);
	cr_assert(meta, "%s", b.p);
	json_buf_free(&b);
	config_free(c);
}
