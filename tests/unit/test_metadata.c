/* @metadata in front of console/file lines: valid JSON, sizes as written, non-objects refused. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

static char *line_of(const char *ev, int *rc, size_t *written)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	*rc = event_write_line(f, ev, strlen(ev), false, written);
	fclose(f);
	return buf;
}

Test(metadata, in_front_of_every_line)
{
	const char *evs[] = { "{\"a\":1}", "{}", "{\"@timestamp\":\"x\",\"b\":[1,2]}" };

	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
		size_t written = 0;
		int rc;
		char *out = line_of(evs[i], &rc, &written);
		json_error_t err;
		json_t *doc;

		cr_assert_eq(rc, 0);
		cr_assert_eq(written, strlen(out));
		cr_assert_eq(written, event_line_size(evs[i], strlen(evs[i]), false));
		cr_assert_eq(out[written - 1], '\n');
		doc = json_loads(out, JSON_REJECT_DUPLICATES, &err);
		cr_assert_not_null(doc, "%s: %s", err.text, out);
		cr_assert_str_eq(json_string_value(json_object_get(json_object_get(doc, "@metadata"), "beat")),
				 "packetbeat");
		cr_assert_str_eq(json_string_value(json_object_get(json_object_get(doc, "@metadata"), "type")), "_doc");
		cr_assert_eq(json_object_size(doc), 1 + (i == 0 ? 1 : i == 1 ? 0 : 2));
		json_decref(doc);
		free(out);
	}
}

Test(metadata, not_an_object)
{
	int rc;
	char *out = line_of("[1]", &rc, NULL);

	cr_assert_eq(rc, -EINVAL);
	free(out);
}

Test(metadata, pretty_tree)
{
	json_t *doc = json_object();

	cr_assert_eq(event_add_metadata(doc), 0);
	cr_assert_not_null(json_object_get(json_object_get(doc, "@metadata"), "version"));
	json_decref(doc);
}

/* An event's own @metadata (a protocol's index): one object, ours first, sizes as written. */
Test(metadata, merged_with_the_events_own)
{
	const char *ev = "{\"a\":1,\"@metadata\":{\"raw_index\":\"web-%{+yyyy}\",\"type\":\"x\"},\"b\":\"c\"}";
	size_t written = 0;
	int rc;
	char *out = line_of(ev, &rc, &written);
	json_error_t err;
	json_t *doc, *meta;

	cr_assert_eq(rc, 0);
	cr_assert_eq(written, strlen(out));
	cr_assert_eq(written, event_line_size(ev, strlen(ev), false));
	doc = json_loads(out, JSON_REJECT_DUPLICATES, &err);
	cr_assert_not_null(doc, "%s: %s", err.text, out);
	meta = json_object_get(doc, "@metadata");
	cr_assert_str_eq(json_string_value(json_object_get(meta, "type")), "_doc");
	cr_assert_str_eq(json_string_value(json_object_get(meta, "raw_index")), "web-%{+yyyy}");
	cr_assert_eq(json_object_size(meta), 4);
	cr_assert_eq(json_object_size(doc), 3);
	cr_assert(strncmp(out, "{\"@metadata\":{\"beat\":", 21) == 0, "%s", out);
	json_decref(doc);
	free(out);
}

Test(metadata, pretty_tree_keeps_the_events_own)
{
	json_t *doc = json_pack("{s:{s:s}}", "@metadata", "raw_index", "web");

	cr_assert_eq(event_add_metadata(doc), 0);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(doc, "@metadata"), "raw_index")), "web");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(doc, "@metadata"), "beat")), "packetbeat");
	json_decref(doc);
}

/* The Elasticsearch output: the document without @metadata, and its raw_index. */
Test(metadata, stripped_for_elasticsearch)
{
	const char *ev = "{\"a\":1,\"@metadata\":{\"raw_index\":\"web-x\"},\"b\":[1,{\"c\":null}]}";
	const char *plain = "{\"a\":1,\"note\":\"@metadata\"}";
	struct json_buf b = { 0 };
	char raw[64] = "untouched";

	cr_assert_eq(event_strip_metadata(ev, strlen(ev), false, &b, raw, sizeof(raw)), 1);
	cr_assert_str_eq(b.p, "{\"a\":1,\"b\":[1,{\"c\":null}]}");
	cr_assert_str_eq(raw, "web-x");
	cr_assert_eq(event_strip_metadata(plain, strlen(plain), false, &b, raw, sizeof(raw)), 0);
	cr_assert_str_eq(raw, "web-x");
	ev = "{\"@metadata\":{\"other\":1}}";
	cr_assert_eq(event_strip_metadata(ev, strlen(ev), false, &b, raw, sizeof(raw)), 1);
	cr_assert_str_eq(b.p, "{}");
	cr_assert_str_eq(raw, "");
	json_buf_free(&b);
}

/* A plain event (the pipeline knows it has no @metadata) is not searched: written as it is. */
Test(metadata, a_plain_event_is_not_looked_into)
{
	const char *ev = "{\"a\":\"@metadata\",\"@metadata\":{\"raw_index\":\"x\"}}";
	struct json_buf b = { 0 };
	char raw[16] = "untouched";
	char *buf = NULL;
	size_t len = 0, written = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_eq(event_write_line(f, ev, strlen(ev), true, &written), 0);
	fclose(f);
	cr_assert_eq(written, event_line_size(ev, strlen(ev), true));
	cr_assert_eq(written, strlen(buf));
	cr_assert(strstr(buf, ",\"a\":\"@metadata\",\"@metadata\":{\"raw_index\":\"x\"}}"), "%s", buf);
	cr_assert_eq(event_strip_metadata(ev, strlen(ev), true, &b, raw, sizeof(raw)), 0);
	cr_assert_str_eq(raw, "untouched");
	free(buf);
	json_buf_free(&b);
}
