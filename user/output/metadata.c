/*
 * Beats' @metadata in the console and file outputs (Logstash reads it from
 * there); the Elasticsearch output leaves it out of the document. An event
 * may carry an @metadata object of its own (a protocol's `index` as
 * raw_index, processors writing under @metadata): the console and file
 * outputs merge it after beat/type/version, the Elasticsearch output takes
 * it out (and routes by its raw_index).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "version.h"

#define METADATA_MEMBERS "\"beat\":\"packetbeat\",\"type\":\"_doc\",\"version\":\"" XDPBEAT_VERSION "\""
#define METADATA "\"@metadata\":{" METADATA_MEMBERS "}"
#define KEY "\"@metadata\""

/* The line parsed when it has a top-level @metadata object, else NULL; a plain one has none. */
static json_t *with_metadata(const char *line, size_t len, bool plain)
{
	json_t *doc;

	if (plain || !memmem(line, len, KEY, sizeof(KEY) - 1))
		return NULL;
	doc = json_loadb(line, len, 0, NULL);
	if (json_is_object(json_object_get(doc, "@metadata")))
		return doc;
	json_decref(doc);
	return NULL;
}

static const char *const skip_meta[] = { "@metadata", NULL };

/* doc (with @metadata) as a console/file line, no newline: ours first, then the event's. */
static int merged(struct json_buf *b, const json_t *doc)
{
	static const char *const ours[] = { "beat", "type", "version", NULL };
	const json_t *meta = json_object_get(doc, "@metadata");
	int rc = json_buf_put(b, "{" KEY ":{" METADATA_MEMBERS, sizeof("{" KEY ":{" METADATA_MEMBERS) - 1);

	rc |= json_write_members(b, meta, 0, ours);
	rc |= json_buf_put(b, "}", 1);
	rc |= json_write_members(b, doc, 0, skip_meta);
	rc |= json_buf_put(b, "}", 1);
	return rc || b->err ? -ENOMEM : 0;
}

int event_write_line(FILE *f, const char *line, size_t len, bool plain, size_t *written)
{
	static const char meta[] = "{" METADATA;
	size_t rest = len > 1 ? len - 1 : 0; /* after the opening brace */
	bool empty = len == 2; /* "{}" */
	json_t *doc;

	if (!len || line[0] != '{')
		return -EINVAL;
	if ((doc = with_metadata(line, len, plain))) {
		struct json_buf b = { 0 };
		int rc = merged(&b, doc);

		json_decref(doc);
		if (!rc && (fwrite(b.p, 1, b.len, f) != b.len || fputc('\n', f) == EOF))
			rc = -EIO;
		if (!rc && written)
			*written = b.len + 1;
		json_buf_free(&b);
		return rc;
	}
	if (fwrite(meta, 1, sizeof(meta) - 1, f) != sizeof(meta) - 1 || (!empty && fputc(',', f) == EOF) ||
	    fwrite(line + 1, 1, rest, f) != rest || fputc('\n', f) == EOF)
		return -EIO;
	if (written)
		*written = event_line_size(line, len, plain);
	return 0;
}

int event_add_metadata(json_t *doc)
{
	json_t *m = json_pack("{s:s,s:s,s:s}", "beat", "packetbeat", "type", "_doc", "version", XDPBEAT_VERSION);
	json_t *own = json_object_get(doc, "@metadata");

	if (m && json_is_object(own) && json_object_update_missing(m, own)) {
		json_decref(m);
		return -ENOMEM;
	}
	return m && !json_object_set_new(doc, "@metadata", m) ? 0 : -ENOMEM;
}

/* The bytes event_write_line writes for this line (the size limit of rotated files). */
size_t event_line_size(const char *line, size_t len, bool plain)
{
	json_t *doc = line && len ? with_metadata(line, len, plain) : NULL;
	size_t n;

	if (doc) {
		struct json_buf b = { 0 };

		n = merged(&b, doc) ? len : b.len + 1;
		json_decref(doc);
		json_buf_free(&b);
		return n;
	}
	return sizeof("{" METADATA) - 1 + (len != 2) + (len > 1 ? len - 1 : 0) + 1;
}

int event_strip_metadata(const char *line, size_t len, bool plain, struct json_buf *b, char *raw_index, size_t outlen)
{
	json_t *doc = with_metadata(line, len, plain);
	const char *ri;
	int rc;

	if (!doc)
		return 0;
	ri = json_string_value(json_object_get(json_object_get(doc, "@metadata"), "raw_index"));
	snprintf(raw_index, outlen, "%s", ri ? ri : "");
	b->len = 0;
	b->err = 0;
	rc = json_buf_put(b, "{", 1);
	rc |= json_write_members(b, doc, 1, skip_meta);
	rc |= json_buf_put(b, "}", 1);
	json_decref(doc);
	return rc || b->err ? -ENOMEM : 1;
}
